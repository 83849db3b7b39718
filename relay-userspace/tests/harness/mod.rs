//! Test harness: runs the real `relay` binary and real external tools, and cleans up by PID.
// Each test binary uses a different subset of the harness.
#![allow(dead_code)]
// Test helpers panic on failure by design (STYLE.md: tests panic rather than return Result).
#![allow(clippy::unwrap_used)]

pub mod relay;
pub mod tools;
pub mod turn_client;

/// A loopback address of its own for each test, so tests run in parallel without port clashes
/// (all of 127.0.0.0/8 is loopback on Linux).
pub fn loopback(n: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 42, n])
}
