//! Constant-rate pacing without drift: how many packets should have left by `elapsed`.

#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    rate_per_s: u64,
}

impl Pacer {
    pub fn new(rate_per_s: u64) -> Self {
        Pacer { rate_per_s }
    }

    /// Packets due in total after `elapsed_ns` since the start.
    pub fn due(&self, elapsed_ns: u64) -> u64 {
        (u128::from(self.rate_per_s) * u128::from(elapsed_ns) / 1_000_000_000) as u64
    }

    /// Nanoseconds after the start at which packet number `n` (0-based) becomes due.
    pub fn due_at(&self, n: u64) -> u64 {
        if self.rate_per_s == 0 {
            return u64::MAX;
        }
        let ns = (u128::from(n) * 1_000_000_000).div_ceil(u128::from(self.rate_per_s));
        u64::try_from(ns).unwrap_or(u64::MAX)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn exact_over_a_second() {
        let p = Pacer::new(20_000);
        assert_eq!(p.due(0), 0);
        assert_eq!(p.due(1_000_000_000), 20_000);
        assert_eq!(p.due(49_999), 0);
        assert_eq!(p.due(50_000), 1);
        for n in [1u64, 2, 3, 19_999, 20_000] {
            assert_eq!(p.due(p.due_at(n)), n);
            assert_eq!(p.due(p.due_at(n) - 1), n - 1);
        }
        assert_eq!(Pacer::new(0).due_at(1), u64::MAX);
    }
}
