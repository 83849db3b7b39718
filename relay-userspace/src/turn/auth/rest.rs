//! The "TURN REST API" shared-secret scheme (draft-uberti-behave-turn-rest, as in coturn's
//! `--use-auth-secret`): username `<unix-expiry><sep><user>`, password
//! base64(HMAC-SHA1(secret, username)). The web app mints them; the relay only recomputes.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha1::Sha1;

/// The password the relay expects for a REST `username` under `secret`.
pub fn rest_password(secret: &str, username: &str) -> String {
    // Hmac accepts keys of any length, so new_from_slice cannot fail.
    #[allow(clippy::unwrap_used)]
    let mut mac = <Hmac<Sha1>>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A REST username valid until `expiry_unix` (seconds since the Unix epoch).
pub fn rest_username(expiry_unix: u64, user: &str, sep: char) -> String {
    if user.is_empty() {
        expiry_unix.to_string()
    } else {
        format!("{expiry_unix}{sep}{user}")
    }
}

/// Splits a REST username into (expiry, user); `None` if it is not one. A bare number is a
/// username without user part (coturn accepts those too).
pub(crate) fn parse_rest_username(username: &str, sep: char) -> Option<(u64, &str)> {
    let (ts, user) = username.split_once(sep).unwrap_or((username, ""));
    if ts.is_empty() || !ts.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((ts.parse().ok()?, user))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_matches_coturn_formula() {
        // base64(HMAC-SHA1("secret", "1700000000:alice")), computed independently with
        // `printf %s 1700000000:alice | openssl dgst -sha1 -hmac secret -binary | base64`.
        let u = rest_username(1_700_000_000, "alice", ':');
        assert_eq!(u, "1700000000:alice");
        assert_eq!(rest_password("secret", &u), "d8soP47RbdIKLDUOpnJPVQyq5Ts=");
    }

    #[test]
    fn username_parsing() {
        assert_eq!(parse_rest_username("123:bob", ':'), Some((123, "bob")));
        assert_eq!(parse_rest_username("123:bob:x", ':'), Some((123, "bob:x")));
        assert_eq!(parse_rest_username("123", ':'), Some((123, "")));
        assert_eq!(parse_rest_username("123|bob", '|'), Some((123, "bob")));
        assert_eq!(parse_rest_username("bob:123", ':'), None);
        assert_eq!(parse_rest_username("", ':'), None);
        assert_eq!(parse_rest_username("99999999999999999999999:x", ':'), None);
    }
}
