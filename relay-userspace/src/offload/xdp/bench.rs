//! ns/packet of the program per direction and family, from BPF_PROG_TEST_RUN with repeat.
//! Runs in the calling thread's network namespace: the FIB lookup needs the routes and
//! neighbours the caller set up (the integration tests' namespace fixture does).

use std::time::Duration;

use super::{XdpError, XdpOffload};

/// One benchmark row.
#[derive(Clone, Debug)]
pub struct BenchResult {
    pub name: String,
    /// XDP action of the measured run (a forwarding benchmark must show TX or REDIRECT).
    pub action: u32,
    pub repeat: u32,
    /// Kernel-measured average per run.
    pub per_packet: Duration,
}

/// Runs each `(name, packet, ingress_ifindex)` `repeat` times.
pub fn bench(offload: &XdpOffload, cases: &[(&str, &[u8], u32)], repeat: u32) -> Result<Vec<BenchResult>, XdpError> {
    cases
        .iter()
        .map(|&(name, packet, ifindex)| {
            let r = offload.test_run(packet, ifindex, repeat)?;
            Ok(BenchResult { name: name.to_owned(), action: r.action, repeat, per_packet: r.duration })
        })
        .collect()
}
