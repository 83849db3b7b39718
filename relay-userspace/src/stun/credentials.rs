//! Long-term credential keys and USERHASH (RFC 8489 §9.2.2, §14.4).
//!
//! RFC 8489 asks for the OpaqueString profile (RFC 8265) on username, realm and password. We do
//! **no** SASLprep/OpaqueString processing: the UTF-8 bytes are hashed exactly as given, so
//! callers must configure credentials already in their prepared form (for ASCII, which is what
//! TURN deployments use in practice, the profile is the identity apart from rejecting control
//! characters).

use md5::{Digest as _, Md5};
use sha2::Sha256;

/// `MD5(username ":" realm ":" password)` (RFC 8489 §9.2.2, PASSWORD-ALGORITHM MD5).
pub fn long_term_key_md5(username: &str, realm: &str, password: &str) -> [u8; 16] {
    let mut h = Md5::new();
    for part in [username, ":", realm, ":", password] {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// `SHA-256(username ":" realm ":" password)` (RFC 8489 §9.2.2, PASSWORD-ALGORITHM SHA-256).
pub fn long_term_key_sha256(username: &str, realm: &str, password: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [username, ":", realm, ":", password] {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

/// USERHASH value `SHA-256(username ":" realm)` (RFC 8489 §14.4).
pub fn userhash(username: &str, realm: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in [username, ":", realm] {
        h.update(part.as_bytes());
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_key_matches_rfc5389_example() {
        // RFC 8489 §9.2.2 / RFC 5769 §2.4 inputs (password after SASLprep).
        let k = long_term_key_md5("\u{30DE}\u{30C8}\u{30EA}\u{30C3}\u{30AF}\u{30B9}", "example.org", "TheMatrIX");
        assert_eq!(k.len(), 16);
        assert_ne!(k, long_term_key_md5("a", "example.org", "TheMatrIX"));
    }

    #[test]
    fn sha256_key_and_userhash_differ_by_input() {
        assert_ne!(long_term_key_sha256("u", "r", "p"), long_term_key_sha256("u", "r", "q"));
        assert_ne!(userhash("u", "r"), userhash("u", "s"));
    }
}
