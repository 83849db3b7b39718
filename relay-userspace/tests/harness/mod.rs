//! Test harness: runs the real `relay` binary and real external tools, and cleans up by PID.
#![allow(dead_code)] // each test binary uses a different subset

pub mod relay;
pub mod tools;
pub mod turn_client;

/// A loopback address of its own for each test, so tests run in parallel without port clashes
/// (all of 127.0.0.0/8 is loopback on Linux).
pub fn loopback(n: u8) -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 42, n])
}
