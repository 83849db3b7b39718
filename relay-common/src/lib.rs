//! Types shared between the XDP program (`relay-ebpf`) and the daemon (`relay-userspace`).
//!
//! Every struct is `#[repr(C)]` with explicit padding fields and a `const` size assert, so the
//! kernel and userspace agree byte for byte and BTF shows named fields.
//!
//! # One map per direction, both families in it
//! Keys and values hold 16-byte address arrays plus a family byte (IPv4 uses the first 4 bytes,
//! the rest is zero) instead of separate v4 and v6 maps. Why: a value carries the *other* leg's
//! family, so the program detects a mixed-family binding (v4 client, v6 peer) with the same
//! single lookup and counts it; operators dump, count and pin two maps instead of four; and
//! userspace has one code path. The price is hashing a 40-byte key for IPv4 too, a few ns.
//!
//! # Byte order
//! Addresses are stored in network order (as on the wire). Ports and channel numbers are stored
//! in host order, so `bpftool map dump` shows them as plain numbers; the program swaps them.
#![no_std]

mod maps;
mod verdict;

pub use maps::*;
pub use verdict::*;

/// bpffs directory where the daemon pins the maps.
pub const PIN_DIR: &str = "/sys/fs/bpf/relay";

/// `family` value for IPv4 (`AF_INET`'s meaning, not its numeric value).
pub const FAMILY_V4: u8 = 4;
/// `family` value for IPv6.
pub const FAMILY_V6: u8 = 6;

/// ChannelData header length (RFC 8656 §12.4): channel number + length.
pub const CHANNEL_DATA_HEADER_LEN: usize = 4;
/// Lowest valid channel number (RFC 8656 §12).
pub const CHANNEL_MIN: u16 = 0x4000;
/// Highest channel number the fast path forwards: the whole ChannelData range of RFC 5766
/// §11 (first two bits 0b01). RFC 8656 §12 narrowed valid numbers to 0x4000-0x4FFF, but the
/// TURN core still binds RFC 5766 numbers by default (coturn's clients and others use them), and
/// which numbers are acceptable is the daemon's decision: only bound channels have map entries.
pub const CHANNEL_MAX: u16 = 0x7FFF;

/// Name of the XDP program in the object file.
pub const PROGRAM_NAME: &str = "relay_xdp";

/// Map names, as in the object file and as pinned under [`PIN_DIR`].
pub mod map_names {
    /// client -> peer bindings: [`crate::C2pKey`] -> [`crate::C2pValue`].
    pub const C2P: &str = "RELAY_C2P";
    /// peer -> client bindings: [`crate::P2cKey`] -> [`crate::P2cValue`].
    pub const P2C: &str = "RELAY_P2C";
    /// UDP ports the relay listens on for client traffic: an array indexed by port (host
    /// order), 1 = listening. An array lookup is inlined by the JIT; a hash lookup is not.
    pub const LISTEN_PORTS: &str = "RELAY_PORTS";
    /// Per-CPU verdict counters indexed by [`crate::Verdict`].
    pub const VERDICTS: &str = "RELAY_VERDICTS";
    /// Per-CPU per-channel counters indexed by a binding's `stats_slot`.
    pub const CHANNEL_STATS: &str = "RELAY_CHAN_STATS";
    /// Egress interfaces for `bpf_redirect_map`: ifindex -> ifindex.
    pub const DEVMAP: &str = "RELAY_DEVMAP";
    /// Interfaces the daemon attached to and how: index -> [`crate::AttachRecord`].
    pub const ATTACH: &str = "RELAY_ATTACH";
    /// FIB results cached per binding and direction: [`crate::route_slot`] -> [`crate::RouteCache`].
    pub const ROUTES: &str = "RELAY_ROUTES";

    /// Every map the daemon pins, for status tools and cleanup.
    pub const ALL: [&str; 8] = [C2P, P2C, LISTEN_PORTS, VERDICTS, CHANNEL_STATS, DEVMAP, ATTACH, ROUTES];
}

/// Map sizes. Userspace relies on these when allocating stats slots.
pub mod limits {
    /// Bindings per direction (one channel = one entry in each map).
    pub const MAX_BINDINGS: u32 = 16384;
    /// Channel stats slots; equal to [`MAX_BINDINGS`] so every binding has one.
    pub const MAX_STATS_SLOTS: u32 = MAX_BINDINGS;
    /// One flag per UDP port.
    pub const PORT_FLAGS: u32 = 65536;
    /// Interfaces the daemon can attach to / redirect between.
    pub const MAX_INTERFACES: u32 = 64;
}
