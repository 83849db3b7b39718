//! UTF-8 text attributes: USERNAME (RFC 8489 §14.3), REALM (§14.9), NONCE (§14.10),
//! SOFTWARE (§14.14), ALTERNATE-DOMAIN (§14.16). No SASLprep/OpaqueString is applied.

use super::AttrError;
use crate::stun::attr_type;

/// Byte limit for a text attribute. USERNAME: 512 (RFC 5389 §15.3 "less than 513 bytes";
/// RFC 8489 §14.3 tightened it to fewer than 509, we accept the older bound for
/// interoperability). REALM, NONCE, SOFTWARE: fewer than 128 characters = at most 763 bytes.
/// ALTERNATE-DOMAIN: 255 (a DNS name). Anything else: the 16-bit attribute length.
pub fn text_limit(typ: u16) -> usize {
    match typ {
        attr_type::USERNAME => 512,
        attr_type::REALM | attr_type::NONCE | attr_type::SOFTWARE => 763,
        attr_type::ALTERNATE_DOMAIN => 255,
        _ => usize::from(u16::MAX),
    }
}

/// Checks the length limit of `typ` and UTF-8.
pub fn decode_text(typ: u16, v: &[u8]) -> Result<&str, AttrError> {
    let max = text_limit(typ);
    if v.len() > max {
        return Err(AttrError::TooLong { len: v.len(), max });
    }
    std::str::from_utf8(v).map_err(|_| AttrError::InvalidUtf8)
}

/// Longest prefix of `s` of at most `max` bytes that ends on a character boundary.
pub fn truncate_utf8(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1; // terminates: 0 is always a boundary
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert_eq!(decode_text(attr_type::USERNAME, &[b'a'; 512]).unwrap().len(), 512);
        assert!(matches!(
            decode_text(attr_type::USERNAME, &[b'a'; 513]),
            Err(AttrError::TooLong { len: 513, max: 512 })
        ));
        assert!(decode_text(attr_type::REALM, &[b'a'; 763]).is_ok());
        assert!(decode_text(attr_type::NONCE, &[b'a'; 764]).is_err());
        assert_eq!(decode_text(attr_type::SOFTWARE, &[0xC3, 0x28]), Err(AttrError::InvalidUtf8));
    }

    #[test]
    fn truncation_respects_boundaries() {
        assert_eq!(truncate_utf8("héllo", 2), "h");
        assert_eq!(truncate_utf8("héllo", 3), "hé");
        assert_eq!(truncate_utf8("abc", 10), "abc");
        assert_eq!(truncate_utf8("é", 0), "");
    }
}
