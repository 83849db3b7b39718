//! USERHASH (RFC 8489 §14.4): SHA-256(username ":" realm), 32 bytes; see
//! [`crate::stun::userhash`] to compute it. Encode with `add_raw`.

use super::{fixed, AttrError};

pub fn decode_userhash(v: &[u8]) -> Result<[u8; 32], AttrError> {
    fixed::<32>(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_is_checked() {
        assert!(decode_userhash(&[0; 32]).is_ok());
        assert_eq!(decode_userhash(&[0; 20]), Err(AttrError::BadLength(20)));
    }
}
