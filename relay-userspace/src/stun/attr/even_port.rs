//! EVEN-PORT (RFC 8656 §18.7): one byte, the top bit R asks to reserve the next port.

use super::AttrError;

pub fn decode_even_port(v: &[u8]) -> Result<bool, AttrError> {
    match v {
        [b] => Ok(b & 0x80 != 0),
        _ => Err(AttrError::BadLength(v.len())),
    }
}

pub fn encode_even_port(reserve: bool) -> [u8; 1] {
    [if reserve { 0x80 } else { 0 }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert!(decode_even_port(&encode_even_port(true)).unwrap());
        assert!(!decode_even_port(&encode_even_port(false)).unwrap());
        assert!(!decode_even_port(&[0x7F]).unwrap());
        assert_eq!(decode_even_port(&[]), Err(AttrError::BadLength(0)));
        assert_eq!(decode_even_port(&[0x80, 0, 0, 0]), Err(AttrError::BadLength(4)));
    }
}
