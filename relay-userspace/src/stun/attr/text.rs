//! UTF-8 text attributes: USERNAME (RFC 8489 §14.3), REALM (§14.9), NONCE (§14.10),
//! SOFTWARE (§14.14), ALTERNATE-DOMAIN (§14.16). No SASLprep/OpaqueString is applied.

use super::AttrError;
use crate::stun::attr_type;

/// Byte limit for parsing a text attribute. USERNAME: senders must stay under 509 bytes, but
/// RFC 8489 §14.3 says a receiver "MUST be able to parse a UTF-8-encoded sequence of 763 or
/// fewer octets" (RFC 5389 compatibility), so we accept 763. REALM, NONCE, SOFTWARE: fewer than
/// 128 characters = at most 763 bytes (§14.9, §14.10, §14.14). ALTERNATE-DOMAIN: 255 (a DNS
/// name, §14.16). Anything else: the 16-bit attribute length.
pub fn text_limit(typ: u16) -> usize {
    match typ {
        attr_type::USERNAME | attr_type::REALM | attr_type::NONCE | attr_type::SOFTWARE => 763,
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
        assert_eq!(decode_text(attr_type::USERNAME, &[b'a'; 763]).unwrap().len(), 763);
        assert!(matches!(
            decode_text(attr_type::USERNAME, &[b'a'; 764]),
            Err(AttrError::TooLong { len: 764, max: 763 })
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
