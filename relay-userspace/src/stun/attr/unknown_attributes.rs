//! UNKNOWN-ATTRIBUTES (RFC 8489 §14.13): a list of 16-bit attribute types.

use super::AttrError;

/// At most 32767 entries (bounded by the attribute length).
pub fn decode_unknown_attributes(v: &[u8]) -> Result<Vec<u16>, AttrError> {
    if !v.len().is_multiple_of(2) {
        return Err(AttrError::BadLength(v.len()));
    }
    Ok(v.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect())
}

pub fn encode_unknown_attributes(types: &[u16], out: &mut Vec<u8>) {
    for t in types {
        out.extend_from_slice(&t.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut v = Vec::new();
        encode_unknown_attributes(&[0x7777, 0x0002, 0x0003], &mut v);
        assert_eq!(v.len(), 6);
        assert_eq!(decode_unknown_attributes(&v).unwrap(), vec![0x7777, 2, 3]);
        assert_eq!(decode_unknown_attributes(&[1, 2, 3]), Err(AttrError::BadLength(3)));
    }
}
