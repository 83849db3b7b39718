//! min / median / max of repeated figures.
use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize)]
pub struct Summary {
    pub min: f64,
    pub median: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    /// `None` when there is no finite value.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 };
        Some(Summary { min: v[0], median, max: v[n - 1], n })
    }

    /// The same summary with `d` subtracted from every figure.
    pub fn minus(self, d: f64) -> Summary {
        Summary { min: self.min - d, median: self.median - d, max: self.max - d, ..self }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn summarises() {
        let s = Summary::of([3.0, 1.0, f64::NAN, 2.0]).unwrap();
        assert_eq!((s.min, s.median, s.max, s.n), (1.0, 2.0, 3.0, 3));
        assert_eq!(Summary::of([4.0, 1.0]).unwrap().median, 2.5);
        assert!(Summary::of([f64::NAN]).is_none());
        assert_eq!(s.minus(1.0).median, 1.0);
    }
}
