//! RESERVATION-TOKEN (RFC 8656 §18.10): an 8-byte opaque token. Encode with `add_raw`.

use super::{fixed, AttrError};

pub const RESERVATION_TOKEN_LEN: usize = 8;

pub fn decode_reservation_token(v: &[u8]) -> Result<[u8; RESERVATION_TOKEN_LEN], AttrError> {
    fixed::<RESERVATION_TOKEN_LEN>(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_checked() {
        assert_eq!(decode_reservation_token(&[7; 8]).unwrap(), [7; 8]);
        assert_eq!(decode_reservation_token(&[7; 4]), Err(AttrError::BadLength(4)));
    }
}
