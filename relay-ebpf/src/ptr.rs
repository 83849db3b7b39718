//! The one bounds-checked packet accessor, and the fixed-layout headers it reads.
//!
//! Headers are byte arrays (alignment 1): packet offsets are not aligned (IP starts at 14),
//! and byte arrays keep every read well-defined.

use aya_ebpf::programs::XdpContext;

/// Pointer to a `T` at `offset` from the start of the packet, if the packet is long enough.
/// Every packet access in this crate goes through here so the verifier sees one check shape.
#[inline(always)]
pub fn ptr_at<T>(ctx: &XdpContext, offset: usize) -> Option<*mut T> {
    let start = ctx.data();
    let end = ctx.data_end();
    if start + offset + core::mem::size_of::<T>() > end {
        return None;
    }
    Some((start + offset) as *mut T)
}

/// Reads a header by value (headers are byte arrays, so no alignment concerns).
#[inline(always)]
pub fn read_at<T: Copy>(ctx: &XdpContext, offset: usize) -> Option<T> {
    // SAFETY: ptr_at checked that size_of::<T>() bytes are inside the packet; T has alignment 1.
    ptr_at::<T>(ctx, offset).map(|p| unsafe { *p })
}

/// Writes a header at `offset`; `None` if the packet is too short (never after our own checks).
#[inline(always)]
pub fn write_at<T: Copy>(ctx: &XdpContext, offset: usize, value: T) -> Option<()> {
    // SAFETY: as in read_at; the packet is writable in XDP.
    ptr_at::<T>(ctx, offset).map(|p| unsafe { *p = value })
}

#[inline(always)]
pub fn be16(b: [u8; 2]) -> u16 {
    u16::from_be_bytes(b)
}

pub const ETH_LEN: usize = 14;
pub const IPV4_LEN: usize = 20;
pub const IPV6_LEN: usize = 40;
pub const UDP_LEN: usize = 8;

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86DD;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88A8;
pub const IPPROTO_UDP: u8 = 17;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct EthHdr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    pub proto: [u8; 2],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Ipv4Hdr {
    pub version_ihl: u8,
    pub tos: u8,
    pub tot_len: [u8; 2],
    pub id: [u8; 2],
    pub frag_off: [u8; 2],
    pub ttl: u8,
    pub protocol: u8,
    pub check: [u8; 2],
    pub src: [u8; 4],
    pub dst: [u8; 4],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Ipv6Hdr {
    /// Version, traffic class, flow label.
    pub vtc_flow: [u8; 4],
    pub payload_len: [u8; 2],
    pub next_hdr: u8,
    pub hop_limit: u8,
    pub src: [u8; 16],
    pub dst: [u8; 16],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct UdpHdr {
    pub src: [u8; 2],
    pub dst: [u8; 2],
    pub len: [u8; 2],
    pub check: [u8; 2],
}

/// Ethernet + IPv4 + UDP, read and written as one block.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct V4Frame {
    pub eth: EthHdr,
    pub ip: Ipv4Hdr,
    pub udp: UdpHdr,
}

/// Ethernet + IPv6 + UDP.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct V6Frame {
    pub eth: EthHdr,
    pub ip: Ipv6Hdr,
    pub udp: UdpHdr,
}

const _: () = {
    assert!(core::mem::size_of::<V4Frame>() == ETH_LEN + IPV4_LEN + UDP_LEN);
    assert!(core::mem::size_of::<V6Frame>() == ETH_LEN + IPV6_LEN + UDP_LEN);
};
