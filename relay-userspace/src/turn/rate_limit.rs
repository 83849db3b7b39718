//! Per-source token buckets for requests that are not (yet) authenticated.
//!
//! The table is bounded: two generations of at most `max_sources / 2` entries each. When the
//! current generation fills, the previous one is dropped and the current one takes its place.
//! A source that is quiet for two generations forgets its bucket, which only ever makes the
//! limiter more lenient; a flood of spoofed sources costs O(1) per packet and bounded memory.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

/// Token bucket parameters for unauthenticated requests per source IP (IPv6: per /64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests a source may send at once.
    pub burst: u32,
    /// Sustained requests per second per source.
    pub per_second: u32,
    /// Upper bound of sources tracked at once (memory bound).
    pub max_sources: usize,
}

impl Default for RateLimitConfig {
    /// Generous enough for many browsers behind one carrier-grade NAT.
    fn default() -> Self {
        RateLimitConfig { burst: 100, per_second: 50, max_sources: 65_536 }
    }
}

/// Milli-tokens, so refill needs no floating point.
const MILLI: u64 = 1000;

#[derive(Clone, Copy, Debug)]
struct Bucket {
    milli_tokens: u64,
    at: Instant,
}

#[derive(Debug)]
pub(crate) struct RateLimiter {
    cfg: RateLimitConfig,
    current: HashMap<IpAddr, Bucket>,
    previous: HashMap<IpAddr, Bucket>,
}

/// IPv6 sources are grouped by /64: one host controls a whole /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

impl RateLimiter {
    pub(crate) fn new(cfg: RateLimitConfig) -> Self {
        RateLimiter { cfg, current: HashMap::new(), previous: HashMap::new() }
    }

    fn refilled(&self, b: Bucket, now: Instant) -> Bucket {
        let ms = now.saturating_duration_since(b.at).as_millis();
        let add = u64::try_from(ms).unwrap_or(u64::MAX).saturating_mul(u64::from(self.cfg.per_second));
        let cap = u64::from(self.cfg.burst).saturating_mul(MILLI);
        Bucket { milli_tokens: b.milli_tokens.saturating_add(add).min(cap), at: now }
    }

    fn lookup(&self, key: &IpAddr) -> Option<Bucket> {
        self.current.get(key).or_else(|| self.previous.get(key)).copied()
    }

    /// Whether `ip` still has a token. Stores nothing.
    pub(crate) fn allows(&self, ip: IpAddr, now: Instant) -> bool {
        match self.lookup(&source_key(ip)) {
            Some(b) => self.refilled(b, now).milli_tokens >= MILLI,
            None => self.cfg.burst > 0,
        }
    }

    /// Takes one token from `ip` (a request that did not authenticate).
    pub(crate) fn charge(&mut self, ip: IpAddr, now: Instant) {
        let key = source_key(ip);
        let full = Bucket { milli_tokens: u64::from(self.cfg.burst).saturating_mul(MILLI), at: now };
        let b = self.lookup(&key).map_or(full, |b| self.refilled(b, now));
        self.previous.remove(&key);
        if !self.current.contains_key(&key) && self.current.len() >= (self.cfg.max_sources / 2).max(1) {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(key, Bucket { milli_tokens: b.milli_tokens.saturating_sub(MILLI), at: now });
    }

    #[cfg(test)]
    pub(crate) fn tracked(&self) -> usize {
        self.current.len() + self.previous.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn cfg(burst: u32, per_second: u32, max_sources: usize) -> RateLimitConfig {
        RateLimitConfig { burst, per_second, max_sources }
    }

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(cfg(3, 2, 100));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for _ in 0..3 {
            assert!(l.allows(ip, t0));
            l.charge(ip, t0);
        }
        assert!(!l.allows(ip, t0));
        assert!(l.allows("192.0.2.2".parse().unwrap(), t0), "others unaffected");
        assert!(!l.allows(ip, t0 + Duration::from_millis(400)));
        assert!(l.allows(ip, t0 + Duration::from_millis(500)), "2/s refills one token in 500 ms");
        assert!(l.allows(ip, t0 + Duration::from_secs(3600)));
    }

    #[test]
    fn ipv6_sources_share_a_slash_64() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(cfg(1, 1, 100));
        l.charge("2001:db8:1:2::1".parse().unwrap(), t0);
        assert!(!l.allows("2001:db8:1:2:ffff::9".parse().unwrap(), t0));
        assert!(l.allows("2001:db8:1:3::1".parse().unwrap(), t0));
    }

    #[test]
    fn table_stays_bounded_under_spoofed_flood() {
        let t0 = Instant::now();
        let mut l = RateLimiter::new(cfg(5, 1, 1000));
        for i in 0..100_000u32 {
            l.charge(IpAddr::V4(i.into()), t0);
        }
        assert!(l.tracked() <= 1000);
    }
}
