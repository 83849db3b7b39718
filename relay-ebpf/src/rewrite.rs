//! Writes a forwarded packet's headers: new Ethernet/IP/UDP headers at the start of the
//! (resized) frame with word stores. DSCP/ECN, IPv4 ID/DF and the IPv6 flow label are kept as
//! received; TTL / hop limit drop by one. Checksums are the directions' (see `csum`).

use aya_ebpf::{
    helpers::generated::{bpf_xdp_adjust_head, bpf_xdp_adjust_tail, bpf_xdp_load_bytes},
    programs::XdpContext,
};
use relay_common::{RouteCache, Verdict};

use crate::{
    csum::{wire16, Csum},
    ptr::{addr_of, addr_to_frame, ld, st, Family, CD_LEN, ETH_LEN, IPPROTO_UDP, UDP_LEN},
};

/// Bound for variable packet offsets the verifier must see (no single-buffer frame is larger).
const MAX_PAYLOAD: usize = 0x3fff;

/// What the forwarded packet keeps from the received IP header, read before anything is
/// written (the new headers overlap the old ones).
pub struct Kept {
    /// The first IP header word: IPv4 version/IHL and TOS (low half), IPv6 version, traffic
    /// class and flow label.
    pub first_word: u32,
    /// IPv4 identification, flags and fragment offset.
    pub id_frag: u32,
    /// IPv4 header checksum (native load).
    pub ip_check: u16,
    pub ttl: u8,
}

/// Reads [`Kept`] from the frame at `d`.
///
/// # Safety
/// `d` is a packet start checked for at least `F::L4` bytes.
#[inline(always)]
pub unsafe fn kept<F: Family>(d: usize, ttl: u32) -> Kept {
    // SAFETY: all offsets are inside the IP header.
    unsafe {
        Kept {
            first_word: ld::<u32>(d + ETH_LEN),
            id_frag: ld::<u32>(d + ETH_LEN + 4),
            ip_check: ld::<u16>(d + ETH_LEN + 10),
            ttl: ttl as u8,
        }
    }
}

impl Kept {
    /// IPv4's TTL/protocol word before and after the decrement (native loads).
    #[inline(always)]
    pub fn ttl_words(&self) -> (u16, u16) {
        (u16::from_ne_bytes([self.ttl, IPPROTO_UDP]), u16::from_ne_bytes([self.ttl - 1, IPPROTO_UDP]))
    }
}

/// The new IPv4 header checksum (0 for IPv6, which has none): the binding deltas of the address
/// rewrite (one per binding involved), the total length and the TTL.
#[inline(always)]
pub fn ip_check<F: Family>(k: &Kept, deltas: [u16; 2], old_tot: u16, new_tot: u16) -> u16 {
    if F::ADDR_LEN != 4 {
        return 0;
    }
    let mut c = Csum::new(k.ip_check);
    c.add(deltas[0]);
    c.add(deltas[1]);
    c.replace(wire16(old_tot), wire16(new_tot));
    let (ttl_old, ttl_new) = k.ttl_words();
    c.replace(ttl_old, ttl_new);
    c.finish()
}

/// The forwarded packet's addressing and lengths.
pub struct Headers<'a> {
    pub route: &'a RouteCache,
    /// Stored addresses (map memory, 16 bytes).
    pub src: &'a [u8; 16],
    pub dst: &'a [u8; 16],
    pub sport: u16,
    pub dport: u16,
    /// IPv4 total length (host order; unused for IPv6).
    pub ip_tot: u16,
    pub udp_len: u16,
    /// Finished checksums (native), IPv4 header and UDP.
    pub ip_check: u16,
    pub udp_check: u16,
}

/// Writes Ethernet, IP and UDP headers at `d`.
///
/// # Safety
/// `d` is a packet start checked for at least `F::L4 + UDP_LEN` bytes.
#[inline(always)]
pub unsafe fn write<F: Family>(d: usize, k: &Kept, h: &Headers) {
    let r = addr_of(h.route);
    // SAFETY: the caller checked the frame; `r`, `src` and `dst` are map values (RouteCache
    // starts with dmac, smac: the first 12 bytes of the Ethernet header).
    unsafe {
        st::<u64>(d, ld::<u64>(r));
        st::<u32>(d + 8, ld::<u32>(r + 8));
        st::<u16>(d + 12, F::ETHERTYPE);
        if F::ADDR_LEN == 4 {
            // Version/IHL and TOS kept, as the first half of the first word.
            st::<u16>(d + ETH_LEN, first_half(k));
            st::<u16>(d + ETH_LEN + 2, wire16(h.ip_tot));
            st::<u32>(d + ETH_LEN + 4, k.id_frag);
            st::<u16>(d + ETH_LEN + 8, k.ttl_words().1);
            st::<u16>(d + ETH_LEN + 10, h.ip_check);
        } else {
            st::<u32>(d + ETH_LEN, k.first_word);
            st::<u16>(d + ETH_LEN + 4, wire16(h.udp_len));
            st::<u16>(d + ETH_LEN + 6, u16::from_ne_bytes([IPPROTO_UDP, k.ttl - 1]));
        }
        addr_to_frame::<F>(d + F::SRC, addr_of(h.src));
        addr_to_frame::<F>(d + F::DST, addr_of(h.dst));
        st::<u16>(d + F::L4, wire16(h.sport));
        st::<u16>(d + F::L4 + 2, wire16(h.dport));
        st::<u16>(d + F::L4 + 4, wire16(h.udp_len));
        st::<u16>(d + F::L4 + 6, h.udp_check);
    }
}

/// The first two bytes of the first IP word (IPv4 version/IHL and TOS) as a native word.
#[inline(always)]
fn first_half(k: &Kept) -> u16 {
    let b = k.first_word.to_ne_bytes();
    u16::from_ne_bytes([b[0], b[1]])
}

/// Trims `tail` bytes from the end, then moves the packet start by `head` (+4 strips the
/// ChannelData header, -4 makes room for it, 0 keeps it). Every packet pointer must be
/// re-derived after. Nothing has been written when this fails early.
#[inline(always)]
pub fn resize(ctx: &XdpContext, tail: usize, head: i32) -> Result<(), Verdict> {
    if tail > 0 {
        // SAFETY: ctx.ctx is the live xdp_md; shrinking by less than the packet length.
        if unsafe { bpf_xdp_adjust_tail(ctx.ctx.cast(), -(tail as i32)) } != 0 {
            return Err(Verdict::AdjustFailed);
        }
    }
    if head == 0 {
        return Ok(());
    }
    // SAFETY: as above; XDP guarantees 256 bytes of headroom for the 4-byte grow.
    if unsafe { bpf_xdp_adjust_head(ctx.ctx.cast(), head) } != 0 {
        // The tail may already be trimmed: the packet is no longer what arrived.
        return Err(if tail > 0 { Verdict::Aborted } else { Verdict::AdjustFailed });
    }
    Ok(())
}

/// Subtracts the 0-3 ChannelData padding bytes after `len` data bytes (RFC 8656 §12.5) from
/// `c`. Checksum words are aligned to the UDP header and the 4-byte ChannelData header keeps
/// the payload's parity, so a byte at an even data offset is the first byte of its word. Read
/// with `bpf_xdp_load_bytes`: a variable packet offset is not something the verifier can
/// bound through a plain pointer.
#[inline(always)]
pub fn sub_padding<F: Family>(ctx: &XdpContext, c: &mut Csum, len: usize, pad: usize) -> Result<(), Verdict> {
    if pad == 0 {
        return Ok(());
    }
    let mut word: u32 = 0;
    let off = (F::L4 + UDP_LEN + CD_LEN + (len & MAX_PAYLOAD)) as u32;
    let buf = (&mut word as *mut u32).cast();
    // SAFETY: ctx.ctx is the live xdp_md; `word` has room for 4 bytes and each size is <= 3;
    // the helper checks the offset against the packet itself.
    let rc = unsafe {
        match pad {
            1 => bpf_xdp_load_bytes(ctx.ctx, off, buf, 1),
            2 => bpf_xdp_load_bytes(ctx.ctx, off, buf, 2),
            _ => bpf_xdp_load_bytes(ctx.ctx, off, buf, 3),
        }
    };
    if rc != 0 {
        return Err(Verdict::LengthMismatch);
    }
    let bytes = word.to_ne_bytes();
    let mut i = 0;
    while i < 3 {
        let b = bytes[i];
        // Absent bytes are zero: subtracting a zero word changes nothing.
        c.sub(if (len + i) & 1 == 0 { u16::from_ne_bytes([b, 0]) } else { u16::from_ne_bytes([0, b]) });
        i += 1;
    }
    Ok(())
}
