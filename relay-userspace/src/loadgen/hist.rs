//! Latency histogram with bounded memory and about 1% relative precision (log-linear buckets,
//! the HdrHistogram idea): exact below 128 ns, then 64 sub-buckets per power of two.

const SUB_BITS: u32 = 6;
const SUB: u64 = 1 << SUB_BITS;
/// Enough powers of two for any u64.
const BUCKETS: usize = ((64 - SUB_BITS as usize) + 1) * SUB as usize * 2;

#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], total: 0 }
    }
}

fn index(v: u64) -> usize {
    if v < 2 * SUB {
        return v as usize;
    }
    // v has `bits` significant bits; keep the top SUB_BITS+1 of them.
    let bits = 64 - v.leading_zeros();
    let shift = bits - SUB_BITS - 1;
    let top = v >> shift; // in [SUB, 2*SUB)
    (shift as usize + 1) * SUB as usize + (top - SUB) as usize
}

/// Lowest value that falls into bucket `i` (the inverse of [`index`]).
fn lower_bound(i: usize) -> u64 {
    let i = i as u64;
    if i < 2 * SUB {
        return i;
    }
    let shift = i / SUB - 1;
    (SUB + i % SUB) << shift
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        // index() < BUCKETS for every u64 (see BUCKETS).
        if let Some(c) = self.counts.get_mut(index(v)) {
            *c += 1;
            self.total += 1;
        }
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.total += other.total;
    }

    /// The value at quantile `q` in [0, 1] (lower bucket bound); 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return lower_bound(i);
            }
        }
        0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in (0..200_000u64).chain([u64::MAX / 3, u64::MAX]) {
            let i = index(v);
            assert!(i < BUCKETS);
            assert!(i >= last || v > 200_000);
            last = i;
            let lb = lower_bound(i);
            assert!(lb <= v);
            assert!(v - lb <= v / 64 + 1, "v={v} lb={lb}");
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        assert_eq!(h.count(), 1000);
        let p50 = h.quantile(0.5);
        assert!((490_000..=500_000).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((975_000..=990_000).contains(&p99), "{p99}");
        assert_eq!(Histogram::default().quantile(0.5), 0);
    }
}
