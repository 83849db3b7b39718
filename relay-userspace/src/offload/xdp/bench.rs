//! ns/packet of the program per direction and family, from BPF_PROG_TEST_RUN.
//!
//! Why not one call with `repeat = N`: the kernel runs the N repetitions on the same buffer
//! without restoring it, so after the first rewrite every later run sees the *forwarded*
//! packet and takes a different path (a map miss). So each sample is its own call with
//! `repeat = 1`; the kernel's duration then also includes one `ktime_get_ns` and the
//! bh-disable around the run, which a baseline case (e.g. a non-IP frame, passed after a
//! two-byte check) measures so callers can subtract it.
//!
//! Runs in the calling thread's network namespace: the FIB lookup needs the routes and
//! neighbours the caller set up (the integration tests' namespace fixture does).

use std::time::Duration;

use super::{XdpError, XdpOffload};

/// One benchmark row.
#[derive(Clone, Debug)]
pub struct BenchResult {
    pub name: String,
    /// XDP action of the first run (a forwarding case must show TX or REDIRECT).
    pub action: u32,
    pub samples: u32,
    /// Median of the kernel-measured per-run durations.
    pub median: Duration,
    /// Mean of the same samples.
    pub mean: Duration,
}

/// Runs each `(name, packet, ingress_ifindex)` `samples` times (each a fresh copy of the
/// packet) and summarises the kernel-measured durations.
pub fn bench(offload: &XdpOffload, cases: &[(&str, &[u8], u32)], samples: u32) -> Result<Vec<BenchResult>, XdpError> {
    cases
        .iter()
        .map(|&(name, packet, ifindex)| {
            let samples = samples.max(1);
            let mut durations = Vec::with_capacity(samples as usize);
            let mut action = None;
            for _ in 0..samples {
                let r = offload.test_run(packet, ifindex, 1)?;
                action.get_or_insert(r.action);
                durations.push(r.duration);
            }
            durations.sort_unstable();
            let total: Duration = durations.iter().sum();
            Ok(BenchResult {
                name: name.to_owned(),
                action: action.unwrap_or_default(),
                samples,
                median: durations[durations.len() / 2],
                mean: total / samples,
            })
        })
        .collect()
}
