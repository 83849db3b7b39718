//! Map keys and values. All `#[repr(C)]`, padding explicit, sizes asserted.

/// How long the program reuses a FIB result cached in a binding before looking up again.
/// A route or neighbour change reaches a forwarded flow within this time.
pub const ROUTE_CACHE_NS: u64 = 1_000_000_000;

/// A `bpf_fib_lookup` result cached per binding and direction (the lookup is most of the
/// forwarding cost), at index [`route_slot`] of the routes array. Written by whichever CPU
/// looked up last (a benign race: every writer stores the same route); userspace zeroes both
/// slots whenever it installs or refreshes a binding.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RouteCache {
    pub smac: [u8; 6],
    pub dmac: [u8; 6],
    /// Egress interface; [`ROUTE_LOCAL`] when the destination is an address of this host
    /// (a client->peer hairpin candidate).
    pub ifindex: u32,
    /// Ingress interface the lookup was made for.
    pub ingress: u32,
    /// Largest IP total length the FIB accepted for the egress MTU since `checked_ns`.
    pub max_len: u16,
    pub _pad: [u8; 2],
    /// CLOCK_MONOTONIC ns of the lookup; 0 = nothing cached.
    pub checked_ns: u64,
}

/// [`RouteCache::ifindex`] of a destination the FIB calls local (no interface has index 0).
pub const ROUTE_LOCAL: u32 = 0;

/// Index of a binding's cached route: two per stats slot, client->peer first.
pub const fn route_slot(stats_slot: u32, client_to_peer: bool) -> u32 {
    stats_slot * 2 + if client_to_peer { 0 } else { 1 }
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
    pub _pad2: u32,
    /// CLOCK_MONOTONIC ns (what `bpf_ktime_get_ns` reads) after which the entry is ignored.
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
    pub _pad2: u32,
    /// CLOCK_MONOTONIC ns after which the entry is ignored.
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
