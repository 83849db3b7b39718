//! Packet access: one bounds check per packet (or per resized packet), then word-sized loads
//! and stores at constant offsets from its start.
//!
//! Header fields sit at 2-byte offsets (IP starts at 14), so accesses are unaligned reads and
//! writes; the crate is built with `allows-misaligned-mem-access` so LLVM emits one load or
//! store per word instead of one per byte. The kernel accepts misaligned packet and map-value
//! accesses on the architectures XDP runs on; stack accesses must stay aligned, so no
//! byte-array struct lives on the stack (they live in the per-CPU scratch map instead).

use aya_ebpf::programs::XdpContext;

/// Start of the packet if it has at least `len` bytes. Every packet access in this crate is at
/// a constant offset below the `len` checked here, so the verifier sees one check shape.
#[inline(always)]
pub fn packet(ctx: &XdpContext, len: usize) -> Option<usize> {
    let start = ctx.data();
    if start + len > ctx.data_end() {
        return None;
    }
    Some(start)
}

/// Reads a `T` at `addr` (packet or map value memory), whatever its alignment.
///
/// # Safety
/// `addr .. addr + size_of::<T>()` must be readable: inside a packet checked by [`packet`], or
/// inside a map value.
#[inline(always)]
pub unsafe fn ld<T: Copy>(addr: usize) -> T {
    // SAFETY: the caller guarantees the range; read_unaligned has no alignment requirement.
    unsafe { core::ptr::read_unaligned(addr as *const T) }
}

/// Writes a `T` at `addr`, whatever its alignment.
///
/// # Safety
/// As [`ld`], and the memory must be writable (XDP packets and map values are).
#[inline(always)]
pub unsafe fn st<T>(addr: usize, value: T) {
    // SAFETY: as above.
    unsafe { core::ptr::write_unaligned(addr as *mut T, value) }
}

/// Address of a value, for [`ld`] / [`st`] at field offsets.
#[inline(always)]
pub fn addr_of<T>(v: &T) -> usize {
    v as *const T as usize
}

pub const ETH_LEN: usize = 14;
pub const IPV4_LEN: usize = 20;
pub const IPV6_LEN: usize = 40;
pub const UDP_LEN: usize = 8;
/// ChannelData header (RFC 8656 §12.4).
pub const CD_LEN: usize = 4;

pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_IPV6: u16 = 0x86DD;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_8021AD: u16 = 0x88A8;
pub const IPPROTO_UDP: u8 = 17;

/// Offsets that differ between IPv4 and IPv6 frames (from the start of the Ethernet header).
/// Constants per family keep every packet offset a constant for the verifier.
pub trait Family {
    /// `relay_common::FAMILY_V4` / `FAMILY_V6`.
    const FAMILY: u8;
    /// Ethertype as the native load of its wire bytes.
    const ETHERTYPE: u16;
    /// Source and destination address.
    const SRC: usize;
    const DST: usize;
    /// Address length on the wire.
    const ADDR_LEN: usize;
    /// UDP header.
    const L4: usize;
}

pub struct V4;
pub struct V6;

impl Family for V4 {
    const FAMILY: u8 = relay_common::FAMILY_V4;
    const ETHERTYPE: u16 = ETH_P_IP.to_be();
    const SRC: usize = ETH_LEN + 12;
    const DST: usize = ETH_LEN + 16;
    const ADDR_LEN: usize = 4;
    const L4: usize = ETH_LEN + IPV4_LEN;
}

impl Family for V6 {
    const FAMILY: u8 = relay_common::FAMILY_V6;
    const ETHERTYPE: u16 = ETH_P_IPV6.to_be();
    const SRC: usize = ETH_LEN + 8;
    const DST: usize = ETH_LEN + 24;
    const ADDR_LEN: usize = 16;
    const L4: usize = ETH_LEN + IPV6_LEN;
}

/// Copies an address as stored in the maps (16 bytes, IPv4 in the first 4, rest zero) from a
/// frame at `src` to `dst` (map memory).
///
/// # Safety
/// `src .. src + F::ADDR_LEN` readable, `dst .. dst + 16` writable.
#[inline(always)]
pub unsafe fn addr_to_key<F: Family>(dst: usize, src: usize) {
    // SAFETY: the caller guarantees both ranges.
    unsafe {
        if F::ADDR_LEN == 4 {
            st::<u32>(dst, ld::<u32>(src));
            st::<u32>(dst + 4, 0);
            st::<u64>(dst + 8, 0);
        } else {
            st::<u64>(dst, ld::<u64>(src));
            st::<u64>(dst + 8, ld::<u64>(src + 8));
        }
    }
}

/// Copies an address from map memory (see [`addr_to_key`]) into a frame.
///
/// # Safety
/// `src .. src + 16` readable, `dst .. dst + F::ADDR_LEN` writable.
#[inline(always)]
pub unsafe fn addr_to_frame<F: Family>(dst: usize, src: usize) {
    // SAFETY: the caller guarantees both ranges.
    unsafe {
        if F::ADDR_LEN == 4 {
            st::<u32>(dst, ld::<u32>(src));
        } else {
            st::<u64>(dst, ld::<u64>(src));
            st::<u64>(dst + 8, ld::<u64>(src + 8));
        }
    }
}

/// Writes a key's `family` byte and zeroes the 3 padding bytes after it with one store (a
/// `[0; 3]` assignment becomes a `memset` call, which costs a BPF-to-BPF call and return).
///
/// # Safety
/// `addr .. addr + 4` writable map memory.
#[inline(always)]
pub unsafe fn set_family(addr: usize, family: u8) {
    // SAFETY: the caller guarantees the range.
    unsafe { st::<u32>(addr, u32::from_ne_bytes([family, 0, 0, 0])) }
}
