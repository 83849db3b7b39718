//! `Instant` -> CLOCK_MONOTONIC nanoseconds, the clock the XDP program reads (through
//! `bpf_ktime_get_coarse_ns` once per tick: at most two ticks behind).
//!
//! std's `Instant` is CLOCK_MONOTONIC on Linux but opaque, so we pair it with one
//! `clock_gettime` reading and carry the offset.

use std::time::Instant;

/// Nanoseconds on CLOCK_MONOTONIC right now.
pub fn monotonic_now_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: ts is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// `at` on the monotonic ns clock, given a pairing of `now` with `now_ns` (pure, testable).
pub fn to_monotonic_ns(at: Instant, now: Instant, now_ns: u64) -> u64 {
    if at >= now {
        let ahead = u64::try_from((at - now).as_nanos()).unwrap_or(u64::MAX);
        now_ns.saturating_add(ahead)
    } else {
        let behind = u64::try_from((now - at).as_nanos()).unwrap_or(u64::MAX);
        now_ns.saturating_sub(behind)
    }
}

/// `at` on the monotonic ns clock, using the real clock.
pub fn instant_to_monotonic_ns(at: Instant) -> u64 {
    to_monotonic_ns(at, Instant::now(), monotonic_now_ns())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn future_and_past_offsets() {
        let now = Instant::now();
        assert_eq!(to_monotonic_ns(now + Duration::from_secs(2), now, 10_000_000_000), 12_000_000_000);
        assert_eq!(to_monotonic_ns(now - Duration::from_secs(2), now, 10_000_000_000), 8_000_000_000);
        assert_eq!(to_monotonic_ns(now - Duration::from_secs(20), now, 10_000_000_000), 0);
    }

    #[test]
    fn real_clock_is_close_to_instant() {
        let at = Instant::now() + Duration::from_secs(60);
        let ns = instant_to_monotonic_ns(at);
        let now_ns = monotonic_now_ns();
        assert!(ns > now_ns + 59_000_000_000 && ns < now_ns + 61_000_000_000);
    }
}
