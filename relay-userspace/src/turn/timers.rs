//! Every deadline of the core in one ordered set, so `poll_timeout` is O(log n) and nothing
//! stale piles up: each object has at most one entry, moved when its expiry moves.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Instant;

/// Allocations are numbered so timer keys stay small and ordered.
pub(crate) type AllocId = u64;

/// What expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKey {
    /// RFC 8656 §7: allocation lifetime.
    Allocation(AllocId),
    /// RFC 8656 §9: permission lifetime (per peer IP).
    Permission(AllocId, IpAddr),
    /// RFC 8656 §12: channel binding lifetime.
    Channel(AllocId, u16),
    /// RFC 8656 §7.2: reserved odd port held for a RESERVATION-TOKEN.
    Reservation(u64),
}

#[derive(Debug, Default)]
pub(crate) struct Timers {
    set: BTreeSet<(Instant, TimerKey)>,
}

impl Timers {
    pub(crate) fn schedule(&mut self, key: TimerKey, at: Instant) {
        self.set.insert((at, key));
    }

    pub(crate) fn cancel(&mut self, key: TimerKey, at: Instant) {
        self.set.remove(&(at, key));
    }

    /// Moves `key` from `old` to `new`.
    pub(crate) fn reschedule(&mut self, key: TimerKey, old: Instant, new: Instant) {
        if old != new {
            self.cancel(key, old);
            self.schedule(key, new);
        }
    }

    pub(crate) fn next(&self) -> Option<Instant> {
        self.set.first().map(|(at, _)| *at)
    }

    /// Removes and returns the earliest key due at `now`.
    pub(crate) fn pop_due(&mut self, now: Instant) -> Option<TimerKey> {
        match self.set.first() {
            Some((at, _)) if *at <= now => self.set.pop_first().map(|(_, k)| k),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.set.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn ordered_and_rescheduled() {
        let t0 = Instant::now();
        let mut t = Timers::default();
        t.schedule(TimerKey::Allocation(1), t0 + Duration::from_secs(10));
        t.schedule(TimerKey::Channel(1, 0x4000), t0 + Duration::from_secs(5));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(5)));
        t.reschedule(TimerKey::Channel(1, 0x4000), t0 + Duration::from_secs(5), t0 + Duration::from_secs(20));
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(10)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(9)), None);
        assert_eq!(t.pop_due(t0 + Duration::from_secs(10)), Some(TimerKey::Allocation(1)));
        assert_eq!(t.pop_due(t0 + Duration::from_secs(10)), None);
    }
}
