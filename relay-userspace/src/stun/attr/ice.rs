//! 64-bit attributes: ICE-CONTROLLED / ICE-CONTROLLING tie-breakers (RFC 8445 §16.1).

use super::{fixed, AttrError};

pub fn decode_u64(v: &[u8]) -> Result<u64, AttrError> {
    Ok(u64::from_be_bytes(fixed::<8>(v)?))
}

pub fn encode_u64(v: u64) -> [u8; 8] {
    v.to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(decode_u64(&encode_u64(0x0102_0304_0506_0708)).unwrap(), 0x0102_0304_0506_0708);
        assert_eq!(decode_u64(&[0; 4]), Err(AttrError::BadLength(4)));
    }
}
