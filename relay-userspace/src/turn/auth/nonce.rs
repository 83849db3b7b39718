//! Stateless nonces (RFC 8489 §9.2): nothing is stored per challenge, so a flood of
//! unauthenticated requests costs no memory.
//!
//! Format: `obMatJos2` (the nonce cookie, §9.2) + 4 base64 chars of the 24-bit security
//! feature set (§18.1, bit 0 = most significant) + base64url(expiry ‖ tag), where expiry is a
//! u32 count of seconds since the server's epoch and tag is the first 16 bytes of
//! HMAC-SHA256(server_secret, expiry ‖ client IP). Bound to the client IP, not the port, so a
//! client that reconnects over TCP keeps its nonce.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// RFC 8489 §9.2: prefix that tells RFC 8489 clients a security feature set follows.
pub(crate) const NONCE_COOKIE: &str = "obMatJos2";
/// Security feature bit 0: password algorithms (RFC 8489 §18.1).
pub(crate) const FEATURE_PASSWORD_ALGORITHMS: u32 = 1 << 23;
/// Security feature bit 1: username anonymity (USERHASH).
pub(crate) const FEATURE_USERNAME_ANONYMITY: u32 = 1 << 22;

const TAG_LEN: usize = 16;

#[derive(Debug)]
pub(crate) struct NonceMinter {
    secret: [u8; 32],
    lifetime: Duration,
    epoch: Instant,
    features: u32,
}

impl NonceMinter {
    pub(crate) fn new(secret: [u8; 32], lifetime: Duration, epoch: Instant, features: u32) -> Self {
        NonceMinter { secret, lifetime, epoch, features }
    }

    fn tag(&self, expiry: u32, ip: IpAddr) -> [u8; TAG_LEN] {
        // Hmac accepts keys of any length, so new_from_slice cannot fail.
        #[allow(clippy::unwrap_used)]
        let mut mac = <Hmac<Sha256>>::new_from_slice(&self.secret).unwrap();
        mac.update(&expiry.to_be_bytes());
        match ip.to_canonical() {
            IpAddr::V4(a) => mac.update(&a.octets()),
            IpAddr::V6(a) => mac.update(&a.octets()),
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(&full[..TAG_LEN]);
        out
    }

    fn secs_since_epoch(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.epoch).as_secs()
    }

    /// A fresh nonce for `ip`, valid for the configured lifetime.
    pub(crate) fn issue(&self, ip: IpAddr, now: Instant) -> String {
        let expiry = self.secs_since_epoch(now) + self.lifetime.as_secs().max(1);
        let expiry = u32::try_from(expiry).unwrap_or(u32::MAX);
        let mut body = [0u8; 4 + TAG_LEN];
        body[..4].copy_from_slice(&expiry.to_be_bytes());
        body[4..].copy_from_slice(&self.tag(expiry, ip));
        let f = self.features.to_be_bytes();
        format!("{NONCE_COOKIE}{}{}", STANDARD.encode(&f[1..4]), URL_SAFE_NO_PAD.encode(body))
    }

    /// Whether `nonce` was issued by us for `ip` and has not expired (RFC 8489 §9.2.4: else 438).
    pub(crate) fn is_valid(&self, nonce: &str, ip: IpAddr, now: Instant) -> bool {
        let Some(rest) = nonce.strip_prefix(NONCE_COOKIE) else {
            return false;
        };
        let Some(body) = rest.get(4..) else {
            return false;
        };
        let mut buf = [0u8; 4 + TAG_LEN];
        match URL_SAFE_NO_PAD.decode_slice(body, &mut buf) {
            Ok(n) if n == buf.len() => {}
            _ => return false,
        }
        let expiry = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let want = self.tag(expiry, ip);
        // Constant-time comparison: the tag is a MAC.
        let diff = want.iter().zip(&buf[4..]).fold(0u8, |d, (a, b)| d | (a ^ b));
        diff == 0 && u64::from(expiry) > self.secs_since_epoch(now)
    }
}

/// The security feature set a nonce advertises, if it carries the cookie (RFC 8489 §9.2).
pub(crate) fn features_of(nonce: &str) -> Option<u32> {
    let chars = nonce.strip_prefix(NONCE_COOKIE)?.get(..4)?;
    let mut b = [0u8; 3];
    match STANDARD.decode_slice(chars, &mut b) {
        Ok(3) => Some(u32::from_be_bytes([0, b[0], b[1], b[2]])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minter(t0: Instant) -> NonceMinter {
        NonceMinter::new(
            [7; 32],
            Duration::from_secs(600),
            t0,
            FEATURE_PASSWORD_ALGORITHMS | FEATURE_USERNAME_ANONYMITY,
        )
    }

    #[test]
    fn cookie_and_feature_bits() {
        let t0 = Instant::now();
        let n = minter(t0).issue("192.0.2.1".parse().unwrap(), t0);
        assert!(n.starts_with("obMatJos2wAAA"), "{n}");
        assert_eq!(features_of(&n), Some(FEATURE_PASSWORD_ALGORITHMS | FEATURE_USERNAME_ANONYMITY));
        assert!(n.len() < 128, "NONCE must stay short (RFC 8489 §14.10)");
        assert!(n.bytes().all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\'));
    }

    #[test]
    fn valid_until_expiry_and_bound_to_ip() {
        let t0 = Instant::now();
        let m = minter(t0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let n = m.issue(ip, t0);
        assert!(m.is_valid(&n, ip, t0 + Duration::from_secs(599)));
        assert!(!m.is_valid(&n, ip, t0 + Duration::from_secs(600)));
        assert!(!m.is_valid(&n, "192.0.2.2".parse().unwrap(), t0));
        assert!(m.is_valid(&n, "::ffff:192.0.2.1".parse().unwrap(), t0));
    }

    #[test]
    fn forged_or_foreign_nonces_are_invalid() {
        let t0 = Instant::now();
        let m = minter(t0);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let mut n = m.issue(ip, t0).into_bytes();
        let last = n.len() - 1;
        n[last] = if n[last] == b'A' { b'B' } else { b'A' };
        assert!(!m.is_valid(std::str::from_utf8(&n).unwrap(), ip, t0));
        assert!(!m.is_valid("", ip, t0));
        assert!(!m.is_valid("obMatJos2", ip, t0));
        assert!(!m.is_valid("f//499k954d6OL34oL9FSTvy64sA", ip, t0));
        let other = NonceMinter::new([8; 32], Duration::from_secs(600), t0, 0);
        assert!(!m.is_valid(&other.issue(ip, t0), ip, t0));
    }
}
