//! TURN REST API credentials ("A REST API For Access To TURN Services", coturn's
//! `use-auth-secret`): username `<unix-expiry>:<user>`, password base64(HMAC-SHA1(secret, username)).

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// Username and password valid until `expiry` (Unix seconds).
pub fn credentials(secret: &str, user: &str, expiry: u64) -> (String, String) {
    let username = format!("{expiry}:{user}");
    (username.clone(), password(secret, &username))
}

pub fn password(secret: &str, username: &str) -> String {
    // HMAC accepts keys of any length, so new_from_slice cannot fail.
    #[allow(clippy::unwrap_used)]
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_value() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog") is
        // de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9 (RFC 2104 examples on Wikipedia).
        assert_eq!(password("key", "The quick brown fox jumps over the lazy dog"), "3nybhbi3iqa8ino29wqQcBydtNk=");
        let (u, p) = credentials("key", "alice", 1_700_000_000);
        assert_eq!(u, "1700000000:alice");
        assert_eq!(p, password("key", &u));
    }
}
