//! The relay daemon as a library: a sans-IO STUN/TURN core ([`stun`], [`turn`]) and the I/O
//! edges around it ([`net`], [`offload`]). `main.rs` only parses the command line.

pub mod cli;
pub mod loadgen;
pub mod net;
pub mod offload;
pub mod stun;
pub mod transport;
pub mod turn;

/// The compiled XDP program, built from `relay-ebpf/` by `build.rs` for this exact tree.
pub static XDP_OBJECT: &[u8] = aya::include_bytes_aligned!(concat!(env!("OUT_DIR"), "/relay-xdp.o"));
