//! Why the program forwarded or passed a packet: one per-CPU counter slot each.

/// Index into the per-CPU verdict array. Every packet the program sees bumps exactly one slot.
///
/// `Forwarded*` slots count packets the kernel rewrote and transmitted; every other slot is a
/// reason a packet went up to the normal stack untouched (the daemon may still relay it).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// ChannelData from a client, forwarded to the peer as plain UDP over IPv4.
    ForwardedC2pV4 = 0,
    /// ChannelData from a client, forwarded to the peer as plain UDP over IPv6.
    ForwardedC2pV6 = 1,
    /// UDP from a peer, forwarded to the client as ChannelData over IPv4.
    ForwardedP2cV4 = 2,
    /// UDP from a peer, forwarded to the client as ChannelData over IPv6.
    ForwardedP2cV6 = 3,
    /// ChannelData from a client whose peer is another allocation's relayed address on this
    /// server (both ends of a call on one relay): forwarded straight to that allocation's
    /// client as ChannelData, over IPv4.
    ForwardedHairpinV4 = 4,
    /// As [`Verdict::ForwardedHairpinV4`], over IPv6.
    ForwardedHairpinV6 = 5,
    /// Not IPv4 or IPv6 (ARP, LLDP, ...).
    NotIp = 6,
    /// IP but not UDP (TCP, ICMP, ...): TCP/TLS TURN stays in userspace.
    NotUdp = 7,
    /// 802.1Q / 802.1ad tagged frame.
    Vlan = 8,
    /// IPv4 header with options (IHL > 5).
    IpOptions = 9,
    /// IPv4 fragment (MF set or offset non-zero) or IPv6 fragment header.
    Fragment = 10,
    /// IPv6 extension header before UDP.
    Ipv6ExtHeader = 11,
    /// Frame shorter than its headers, or IP/UDP lengths inconsistent with the frame.
    Malformed = 12,
    /// TTL / hop limit <= 1: the stack generates the ICMP time-exceeded.
    TtlExpired = 13,
    /// Client-port traffic that is not ChannelData (STUN requests, indications).
    NotChannelData = 14,
    /// Client-port traffic whose first two bits are neither 0b00 (STUN) nor 0b01 (ChannelData,
    /// 0x4000-0x7FFF, RFC 8656 §12 / RFC 5766 §11): not TURN at all.
    BadChannel = 15,
    /// ChannelData length disagrees with the UDP length beyond 0-3 padding bytes.
    LengthMismatch = 16,
    /// The rewritten packet would exceed the egress MTU.
    MtuExceeded = 17,
    /// ChannelData with no client->peer binding.
    C2pMiss = 18,
    /// Other UDP with no peer->client binding.
    P2cMiss = 19,
    /// ChannelData whose peer is an address of this host (the FIB says local) but no
    /// peer->client binding of ours answers for it: the stack delivers it and the daemon relays.
    HairpinMiss = 20,
    /// Binding found but past its expiry.
    Expired = 21,
    /// `bpf_fib_lookup` found no route (or another failure).
    FibFailed = 22,
    /// `bpf_fib_lookup` found a route but no neighbour entry; the stack resolves it.
    FibNoNeighbour = 23,
    /// IP forwarding is disabled on the ingress interface, which `bpf_fib_lookup` requires.
    FibForwardingDisabled = 24,
    /// Client and peer legs use different IP families: relayed in userspace.
    MixedFamily = 25,
    /// The egress interface is not in the redirect devmap (not attached by the daemon).
    NoDevmapEntry = 26,
    /// IPv6 UDP with a zero checksum (forbidden by RFC 8200 §8.1).
    Ipv6ZeroChecksum = 27,
    /// `bpf_xdp_adjust_head/tail` refused; the packet was not modified.
    AdjustFailed = 28,
    /// Failed after the packet was rewritten (should never happen): dropped.
    Aborted = 29,
}

impl Verdict {
    /// Number of verdict slots (size of the per-CPU array).
    pub const COUNT: u32 = 30;

    /// Every verdict, in slot order.
    pub const ALL: [Verdict; Verdict::COUNT as usize] = [
        Verdict::ForwardedC2pV4,
        Verdict::ForwardedC2pV6,
        Verdict::ForwardedP2cV4,
        Verdict::ForwardedP2cV6,
        Verdict::ForwardedHairpinV4,
        Verdict::ForwardedHairpinV6,
        Verdict::NotIp,
        Verdict::NotUdp,
        Verdict::Vlan,
        Verdict::IpOptions,
        Verdict::Fragment,
        Verdict::Ipv6ExtHeader,
        Verdict::Malformed,
        Verdict::TtlExpired,
        Verdict::NotChannelData,
        Verdict::BadChannel,
        Verdict::LengthMismatch,
        Verdict::MtuExceeded,
        Verdict::C2pMiss,
        Verdict::P2cMiss,
        Verdict::HairpinMiss,
        Verdict::Expired,
        Verdict::FibFailed,
        Verdict::FibNoNeighbour,
        Verdict::FibForwardingDisabled,
        Verdict::MixedFamily,
        Verdict::NoDevmapEntry,
        Verdict::Ipv6ZeroChecksum,
        Verdict::AdjustFailed,
        Verdict::Aborted,
    ];

    /// Stable snake_case name for status output and metrics.
    pub const fn name(self) -> &'static str {
        match self {
            Verdict::ForwardedC2pV4 => "forwarded_c2p_v4",
            Verdict::ForwardedC2pV6 => "forwarded_c2p_v6",
            Verdict::ForwardedP2cV4 => "forwarded_p2c_v4",
            Verdict::ForwardedP2cV6 => "forwarded_p2c_v6",
            Verdict::ForwardedHairpinV4 => "forwarded_hairpin_v4",
            Verdict::ForwardedHairpinV6 => "forwarded_hairpin_v6",
            Verdict::NotIp => "pass_not_ip",
            Verdict::NotUdp => "pass_not_udp",
            Verdict::Vlan => "pass_vlan",
            Verdict::IpOptions => "pass_ip_options",
            Verdict::Fragment => "pass_fragment",
            Verdict::Ipv6ExtHeader => "pass_ipv6_ext_header",
            Verdict::Malformed => "pass_malformed",
            Verdict::TtlExpired => "pass_ttl_expired",
            Verdict::NotChannelData => "pass_not_channel_data",
            Verdict::BadChannel => "pass_bad_channel",
            Verdict::LengthMismatch => "pass_length_mismatch",
            Verdict::MtuExceeded => "pass_mtu_exceeded",
            Verdict::C2pMiss => "pass_c2p_miss",
            Verdict::P2cMiss => "pass_p2c_miss",
            Verdict::HairpinMiss => "pass_hairpin_miss",
            Verdict::Expired => "pass_expired",
            Verdict::FibFailed => "pass_fib_failed",
            Verdict::FibNoNeighbour => "pass_fib_no_neighbour",
            Verdict::FibForwardingDisabled => "pass_fib_forwarding_disabled",
            Verdict::MixedFamily => "pass_mixed_family",
            Verdict::NoDevmapEntry => "pass_no_devmap_entry",
            Verdict::Ipv6ZeroChecksum => "pass_ipv6_zero_checksum",
            Verdict::AdjustFailed => "pass_adjust_failed",
            Verdict::Aborted => "drop_aborted",
        }
    }

    /// True for the forwarded slots (client->peer, peer->client, hairpin; both families).
    pub const fn is_forwarded(self) -> bool {
        (self as u32) <= Verdict::ForwardedHairpinV6 as u32
    }
}

// Slot order is the array index: ALL must list every variant in discriminant order.
const _: () = {
    let mut i = 0;
    while i < Verdict::ALL.len() {
        assert!(Verdict::ALL[i] as u32 == i as u32);
        i += 1;
    }
};
