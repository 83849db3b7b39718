//! Hairpin: ChannelData from client A whose peer is client B's relayed address on this same
//! server (both ends of a call on one relay). Rather than sending UDP to ourselves and wrapping
//! it again on the way back in, the packet becomes the ChannelData client B would have got:
//! client->peer (RFC 8656 §12.6) and peer->client (§12.7) in one rewrite, using exactly the
//! peer->client entry a packet from A's relayed address to B's would hit. The 4-byte
//! ChannelData header stays; only its channel number changes.

use aya_ebpf::programs::XdpContext;
use relay_common::{route_slot, C2pValue, P2cValue, Verdict};

use crate::{
    c2p::ChannelHeader,
    csum::{wire16, Csum},
    maps::{count_channel, Scratch, P2C},
    ptr::{addr_of, ld, packet, set_family, st, Family, CD_LEN, UDP_LEN},
    rewrite::{ip_check, kept, resize, sub_padding, write, Headers},
    route::{lookup, transmit, Flow},
};

/// What client->peer found before handing over: client A's binding and the ChannelData
/// header. Plain integers only: values read back from a map must stay integers the verifier
/// can bound.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Pending {
    /// A's stats slot.
    pub a_slot: u32,
    /// 1 if the peer shares A's relayed IP (see [`Pending::miss`]).
    pub peer_on_relay_ip: u32,
    /// A's checksum deltas: with B's they make the whole rewrite's (B's peer is A's relayed
    /// address and B's relayed address is A's peer, so those terms cancel).
    pub a_ip_csum: u16,
    pub a_udp_csum: u16,
    pub channel: u16,
    /// Application data length.
    pub len: u16,
    /// 0-3 padding bytes after the data (RFC 8656 §12.5).
    pub pad: u16,
    pub _pad: u16,
    pub _pad2: u32,
    pub now: u64,
}

impl Pending {
    /// Fills `s.hairpin`, and `s.p2c_key` with the key the datagram A's allocation would send
    /// (from A's relayed address to its peer) hits in the peer->client map.
    #[inline(always)]
    pub fn start(s: &mut Scratch, a: &C2pValue, cd: &ChannelHeader, now: u64) {
        let k = &mut s.p2c_key;
        // Field by field with word copies: a struct literal would be built on the stack, where
        // byte arrays are not allowed (see `ptr`).
        // SAFETY: all four are 16-byte arrays in map memory.
        unsafe {
            copy16(addr_of(&k.peer_addr), addr_of(&a.relay_addr));
            copy16(addr_of(&k.relay_addr), addr_of(&a.peer_addr));
        }
        k.peer_port = a.relay_port;
        k.relay_port = a.peer_port;
        // SAFETY: family and the 3 padding bytes after it, inside the key (scratch map memory).
        unsafe { set_family(addr_of(&k.family), a.family) };
        s.hairpin = Pending {
            a_slot: a.stats_slot,
            peer_on_relay_ip: u32::from(same16(&a.peer_addr, &a.relay_addr)),
            a_ip_csum: a.ip_csum,
            a_udp_csum: a.udp_csum,
            channel: cd.channel,
            len: cd.len as u16,
            pad: cd.pad as u16,
            _pad: 0,
            _pad2: 0,
            now,
        };
    }

    /// Why a local peer without a binding back is passed: a peer on A's own relayed IP is
    /// surely one of our relayed addresses; otherwise the FIB's "not forwarded" may also mean
    /// "no route".
    #[inline(always)]
    fn miss(&self) -> Verdict {
        if self.peer_on_relay_ip != 0 {
            Verdict::HairpinMiss
        } else {
            Verdict::FibFailed
        }
    }
}

/// Runs after client->peer gave up on the route (inlined into the entry point, see c2p);
/// returns [`crate::pack`]ed results. `s.hairpin` and `s.p2c_key` were filled by
/// [`Pending::start`].
#[inline(always)]
pub fn forward<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    crate::pack(forward_inner::<F>(ctx, s))
}

#[inline(always)]
fn forward_inner<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let a = s.hairpin;
    // SAFETY: map values stay valid (RCU) for the program's run (see c2p).
    // By reference on purpose: a by-value key would be copied onto the stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let b: &P2cValue = unsafe { &*P2C.get_ptr(&s.p2c_key).ok_or(a.miss())? };
    if a.now > b.expires_ns {
        return Err(Verdict::Expired);
    }
    if b.family != F::FAMILY {
        return Err(Verdict::MixedFamily);
    }
    let p = &s.parsed;
    let (len, pad) = (usize::from(a.len), usize::from(a.pad));
    let d = packet(ctx, F::L4 + UDP_LEN + CD_LEN).ok_or(Verdict::Malformed)?;
    // SAFETY: the IP header is inside the checked frame.
    let old = unsafe { kept::<F>(d, p.ttl) };
    let new_tot = (p.ip_tot as usize - pad) as u16;
    let flow = Flow {
        family: F::FAMILY,
        src: &b.server_addr,
        dst: &b.client_addr,
        sport: b.server_port,
        dport: b.client_port,
        tot_len: new_tot,
        first_word: old.first_word,
    };
    let route = lookup(ctx, &flow, route_slot(b.stats_slot, false), a.now).map_err(|e| match e {
        // Client B on this host itself: the stack delivers it.
        Verdict::HairpinMiss => Verdict::FibFailed,
        e => e,
    })?;
    let udp_len = p.udp_len - pad as u16;
    let udp_check = if p.udp_check == 0 {
        0
    } else {
        // Addresses, ports, and A's channel number for B's (both deltas), the UDP length in
        // the header and the pseudo-header, and the padding leaving (RFC 8656 §12.5 makes it
        // optional over UDP).
        let mut c = Csum::new(p.udp_check);
        c.add(a.a_udp_csum);
        c.add(b.udp_csum);
        c.replace(wire16(p.udp_len), wire16(udp_len));
        c.replace(wire16(p.udp_len), wire16(udp_len));
        sub_padding::<F>(ctx, &mut c, len, pad)?;
        c.finish_udp()
    };
    let ip_tot = p.ip_tot as u16;
    resize(ctx, p.trailer as usize + pad, 0)?;
    let d = packet(ctx, F::L4 + UDP_LEN + CD_LEN).ok_or(Verdict::Aborted)?;
    let h = Headers {
        route,
        src: &b.server_addr,
        dst: &b.client_addr,
        sport: b.server_port,
        dport: b.client_port,
        ip_tot: new_tot,
        udp_len,
        ip_check: ip_check::<F>(&old, [a.a_ip_csum, b.ip_csum], ip_tot, new_tot),
        udp_check,
    };
    // SAFETY: the frame was checked for the headers and the ChannelData header.
    unsafe {
        write::<F>(d, &old, &h);
        st::<u16>(d + F::L4 + UDP_LEN, wire16(b.channel));
    }
    // Both allocations relayed the data: A to its peer, B to its client.
    count_channel(a.a_slot, true, len as u64);
    count_channel(b.stats_slot, false, len as u64);
    let verdict = if F::ADDR_LEN == 4 { Verdict::ForwardedHairpinV4 } else { Verdict::ForwardedHairpinV6 };
    Ok((verdict, transmit(route)?))
}

/// Copies 16 bytes.
///
/// # Safety
/// Both ranges are valid (map memory).
#[inline(always)]
unsafe fn copy16(dst: usize, src: usize) {
    // SAFETY: the caller guarantees both ranges.
    unsafe {
        st::<u64>(dst, ld::<u64>(src));
        st::<u64>(dst + 8, ld::<u64>(src + 8));
    }
}

/// Word-wise compare (a slice compare could become a `memcmp` call, which BPF lacks).
#[inline(always)]
fn same16(x: &[u8; 16], y: &[u8; 16]) -> bool {
    let (x, y) = (addr_of(x), addr_of(y));
    // SAFETY: both are 16-byte map values.
    let w = |a: usize, i: usize| unsafe { ld::<u64>(a + 8 * i) };
    (w(x, 0) ^ w(y, 0)) | (w(x, 1) ^ w(y, 1)) == 0
}
