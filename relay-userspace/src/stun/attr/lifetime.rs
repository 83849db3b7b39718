//! 32-bit attributes: LIFETIME (RFC 8656 §18.2, seconds), also PRIORITY (RFC 8445 §16.1)
//! and CONNECTION-ID (RFC 6062 §6.2.1).

use super::{fixed, AttrError};

/// Any 4-byte big-endian value.
pub fn decode_u32(v: &[u8]) -> Result<u32, AttrError> {
    Ok(u32::from_be_bytes(fixed::<4>(v)?))
}

/// LIFETIME in seconds (RFC 8656 §18.2).
pub fn decode_lifetime(v: &[u8]) -> Result<u32, AttrError> {
    decode_u32(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_and_checks_length() {
        assert_eq!(decode_lifetime(&600u32.to_be_bytes()).unwrap(), 600);
        assert_eq!(decode_u32(&[0; 3]), Err(AttrError::BadLength(3)));
        assert_eq!(decode_u32(&[0; 8]), Err(AttrError::BadLength(8)));
    }
}
