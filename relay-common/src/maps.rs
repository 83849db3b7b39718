//! Map keys and values. All `#[repr(C)]`, padding explicit, sizes asserted.

/// How long the program reuses a FIB result cached in a binding before looking up again.
/// A route or neighbour change reaches a forwarded flow within this time.
pub const ROUTE_CACHE_NS: u64 = 1_000_000_000;

/// A `bpf_fib_lookup` result cached per binding and direction (the lookup is most of the
/// forwarding cost), at index [`route_slot`] of the routes array. Written by whichever CPU
/// looked up last (a benign race: every writer stores the same route); userspace zeroes both
/// slots whenever it installs or refreshes a binding. The MACs come first, in Ethernet header
/// order, so the program copies them into the frame with two loads.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RouteCache {
    pub dmac: [u8; 6],
    pub smac: [u8; 6],
    /// Egress interface.
    pub ifindex: u32,
    /// Ingress interface the lookup was made for.
    pub ingress: u32,
    /// Largest IP total length the FIB accepted for the egress MTU since `checked_ns`.
    pub max_len: u16,
    /// What to do with the packet: one of [`route_kind`].
    pub kind: u16,
    /// CLOCK_MONOTONIC (coarse) ns of the lookup; 0 = nothing cached.
    pub checked_ns: u64,
}

/// [`RouteCache::kind`] values.
pub mod route_kind {
    /// The destination is an address of this host (or the FIB would not forward it at all):
    /// a client->peer hairpin candidate.
    pub const LOCAL: u16 = 0;
    /// Out of the interface the packet came in on (`XDP_TX`).
    pub const TX: u16 = 1;
    /// Out of another interface, through the devmap (`XDP_REDIRECT`).
    pub const REDIRECT: u16 = 2;
    /// Out of an interface the daemon did not attach to (not in the devmap): passed.
    pub const NO_DEVMAP: u16 = 3;
}

/// Index of a binding's cached route: two per stats slot, client->peer first.
pub const fn route_slot(stats_slot: u32, client_to_peer: bool) -> u32 {
    stats_slot * 2 + if client_to_peer { 0 } else { 1 }
}

/// Ones' complement sum (RFC 1071) of `new` minus `old`, folded to 16 bits: what a checksum
/// changes by when the words of `old` are replaced by those of `new` (RFC 1624 eqn. 3 without
/// the complements). Words are 16-bit units of the wire bytes read in *native* byte order, the
/// way the program loads them (the sum is byte-order independent, RFC 1071 §2(B)); each slice
/// has an even length. The daemon computes the constant part of every rewrite once per binding
/// (Katran's trick), so the program adds one number instead of summing addresses.
pub fn csum_delta(old: &[&[u8]], new: &[&[u8]]) -> u16 {
    let mut acc: u64 = 0;
    for (words, negate) in [(old, true), (new, false)] {
        for bytes in words {
            for w in bytes.chunks_exact(2) {
                let v = u16::from_ne_bytes([w[0], w[1]]);
                acc += u64::from(if negate { !v } else { v });
            }
        }
    }
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// client -> peer key: the client's 5-tuple as the server sees it, plus the channel number.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct C2pKey {
    /// Client address (network order; IPv4 in the first 4 bytes, rest zero).
    pub client_addr: [u8; 16],
    /// Server (listening) address the client sent to.
    pub server_addr: [u8; 16],
    /// Client UDP port, host order.
    pub client_port: u16,
    /// Server UDP port, host order.
    pub server_port: u16,
    /// Channel number, host order (RFC 8656 §12).
    pub channel: u16,
    /// [`crate::FAMILY_V4`] or [`crate::FAMILY_V6`] of the client leg.
    pub family: u8,
    pub _pad: u8,
}

/// client -> peer value: where to send the stripped payload.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct C2pValue {
    /// Peer address (network order).
    pub peer_addr: [u8; 16],
    /// Relayed transport address (the allocation's), used as the source.
    pub relay_addr: [u8; 16],
    /// Peer UDP port, host order.
    pub peer_port: u16,
    /// Relay UDP port, host order.
    pub relay_port: u16,
    /// Family of the peer leg; differs from the key's for mixed-family bindings.
    pub family: u8,
    pub _pad: [u8; 3],
    /// Index into the per-channel stats array.
    pub stats_slot: u32,
    /// IPv4 header checksum delta of the address rewrite (see [`csum_delta`]); 0 for IPv6.
    pub ip_csum: u16,
    /// UDP checksum delta of the address and port rewrite and the channel number leaving the
    /// payload (see [`csum_delta`]).
    pub udp_csum: u16,
    /// CLOCK_MONOTONIC ns after which the entry is ignored. The program reads the coarse
    /// variant of that clock once per tick (relay-ebpf's `clock`), so an entry may still
    /// forward for at most two ticks (2-8 ms) past this.
    pub expires_ns: u64,
}

/// peer -> client key: the peer's packet to the relayed address.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct P2cKey {
    /// Peer address (network order).
    pub peer_addr: [u8; 16],
    /// Relayed transport address (network order).
    pub relay_addr: [u8; 16],
    /// Peer UDP port, host order.
    pub peer_port: u16,
    /// Relay UDP port, host order.
    pub relay_port: u16,
    /// Family of the peer leg.
    pub family: u8,
    pub _pad: [u8; 3],
}

/// peer -> client value: where and under which channel to send the ChannelData.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct P2cValue {
    /// Client address (network order).
    pub client_addr: [u8; 16],
    /// Server address the client talks to, used as the source.
    pub server_addr: [u8; 16],
    /// Client UDP port, host order.
    pub client_port: u16,
    /// Server UDP port, host order.
    pub server_port: u16,
    /// Channel number, host order.
    pub channel: u16,
    /// Family of the client leg.
    pub family: u8,
    pub _pad: u8,
    /// Index into the per-channel stats array.
    pub stats_slot: u32,
    /// IPv4 header checksum delta of the address rewrite (see [`csum_delta`]); 0 for IPv6.
    pub ip_csum: u16,
    /// UDP checksum delta of the address and port rewrite and the channel number joining the
    /// payload (see [`csum_delta`]).
    pub udp_csum: u16,
    /// CLOCK_MONOTONIC ns after which the entry is ignored (see [`C2pValue::expires_ns`]).
    pub expires_ns: u64,
}

/// Per-channel counters, one per CPU per slot. Bytes are application data bytes (the
/// ChannelData payload, which is the peer-side UDP payload), the same in both directions.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ChannelStats {
    pub c2p_packets: u64,
    pub c2p_bytes: u64,
    pub p2c_packets: u64,
    pub p2c_bytes: u64,
}

/// Attach mode recorded in [`AttachRecord::mode`].
pub mod attach_mode {
    /// Slot unused.
    pub const NONE: u32 = 0;
    /// Native (driver) XDP.
    pub const NATIVE: u32 = 1;
    /// Generic (skb) XDP.
    pub const SKB: u32 = 2;
}

/// One interface the daemon attached to, so status tools can report it without the daemon.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct AttachRecord {
    pub ifindex: u32,
    /// One of [`attach_mode`].
    pub mode: u32,
    /// Interface name, NUL padded.
    pub name: [u8; 16],
}

const _: () = {
    assert!(core::mem::size_of::<C2pKey>() == 40);
    assert!(core::mem::size_of::<RouteCache>() == 32);
    assert!(core::mem::offset_of!(RouteCache, checked_ns) == 24);
    assert!(core::mem::size_of::<C2pValue>() == 56);
    assert!(core::mem::size_of::<P2cKey>() == 40);
    assert!(core::mem::size_of::<P2cValue>() == 56);
    assert!(core::mem::size_of::<ChannelStats>() == 32);
    assert!(core::mem::size_of::<AttachRecord>() == 24);
    assert!(core::mem::offset_of!(C2pValue, expires_ns) == 48);
    assert!(core::mem::offset_of!(P2cValue, expires_ns) == 48);
};

#[cfg(feature = "user")]
mod pod {
    // SAFETY: all are #[repr(C)], made only of integers and byte arrays, with every padding byte
    // an explicit field, so any bit pattern is valid and there is no uninitialised padding.
    unsafe impl aya::Pod for super::C2pKey {}
    unsafe impl aya::Pod for super::C2pValue {}
    unsafe impl aya::Pod for super::P2cKey {}
    unsafe impl aya::Pod for super::P2cValue {}
    unsafe impl aya::Pod for super::ChannelStats {}
    unsafe impl aya::Pod for super::AttachRecord {}
    unsafe impl aya::Pod for super::RouteCache {}
}
