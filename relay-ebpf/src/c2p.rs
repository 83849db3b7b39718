//! client -> peer: ChannelData to a listening port becomes plain UDP from the relayed address
//! (RFC 8656 §12.6 for the rules the daemon would apply; the kernel only does the fast case).

use aya_ebpf::programs::XdpContext;
use relay_common::{route_slot, C2pValue, Verdict, CHANNEL_MAX, CHANNEL_MIN};

use crate::{
    csum::{wire16, Csum},
    hairpin,
    maps::{count_channel, Scratch, C2P},
    ptr::{addr_of, addr_to_key, ld, packet, Family, CD_LEN, UDP_LEN},
    rewrite::{ip_check, kept, resize, sub_padding, write, Headers},
    route::{lookup, transmit, Flow},
};

/// Inlined into the entry point: a BPF-to-BPF call and return cost ~10-20 ns on the VMs we
/// measure on (kernel returns go through a return thunk), and the stack is small now. Returns
/// [`crate::pack`]ed results, or [`HAIRPIN`] when the peer is local and `s.hairpin` says what
/// to try.
#[inline(always)]
pub fn forward<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    match forward_inner::<F>(ctx, s) {
        Err(Verdict::HairpinMiss) => HAIRPIN,
        r => crate::pack(r),
    }
}

/// [`forward`]'s answer when the caller should run [`hairpin::forward`].
pub const HAIRPIN: u64 = u64::MAX;

/// The ChannelData header (RFC 8656 §12.4) of a client packet that passed the checks.
pub struct ChannelHeader {
    pub channel: u16,
    /// Application data length.
    pub len: usize,
    /// 0-3 padding bytes after the data (RFC 8656 §12.5).
    pub pad: usize,
}

/// Checks the ChannelData header after the UDP header; returns the frame start and the header.
#[inline(always)]
fn channel_header<F: Family>(ctx: &XdpContext, udp_len: u16) -> Result<(usize, ChannelHeader), Verdict> {
    let d = packet(ctx, F::L4 + UDP_LEN + CD_LEN).ok_or(Verdict::NotChannelData)?;
    // SAFETY: the 4 bytes after the UDP header were checked.
    let (ch, ln) = unsafe { (ld::<u16>(d + F::L4 + UDP_LEN), ld::<u16>(d + F::L4 + UDP_LEN + 2)) };
    let channel = u16::from_be(ch);
    let len = usize::from(u16::from_be(ln));
    // First two bits 0b00 is STUN (RFC 8656 §12): the daemon handles it.
    if channel < CHANNEL_MIN {
        return Err(Verdict::NotChannelData);
    }
    // 0x4000-0x7FFF: RFC 5766 numbers too; whether one is bound is the daemon's call.
    if channel > CHANNEL_MAX {
        return Err(Verdict::BadChannel);
    }
    // Over UDP the data may be followed by 0-3 padding bytes (RFC 8656 §12.5).
    let payload_len = usize::from(udp_len) - UDP_LEN;
    if len + CD_LEN > payload_len || payload_len - CD_LEN - len > 3 {
        return Err(Verdict::LengthMismatch);
    }
    Ok((d, ChannelHeader { channel, len, pad: payload_len - CD_LEN - len }))
}

#[inline(always)]
fn forward_inner<F: Family>(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let (d, cd) = channel_header::<F>(ctx, s.parsed.udp_len)?;
    let p = &s.parsed;
    let k = &mut s.c2p_key;
    // SAFETY: the addresses are inside the checked frame; the key is scratch map memory.
    unsafe {
        addr_to_key::<F>(addr_of(&k.client_addr), d + F::SRC);
        addr_to_key::<F>(addr_of(&k.server_addr), d + F::DST);
    }
    k.client_port = p.sport;
    k.server_port = p.dport;
    k.channel = cd.channel;
    k.family = F::FAMILY;
    k._pad = 0;
    // SAFETY: map values stay valid (RCU) for the program's run; a concurrent update by the
    // daemon can at worst mix an old and a new binding for one packet.
    // By reference on purpose: a by-value key would be copied onto the stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let v: &C2pValue = unsafe { &*C2P.get_ptr(&*k).ok_or(Verdict::C2pMiss)? };
    let now = s.clock.now();
    if now > v.expires_ns {
        return Err(Verdict::Expired);
    }
    if v.family != F::FAMILY {
        return Err(Verdict::MixedFamily);
    }
    if p.ttl <= 1 {
        return Err(Verdict::TtlExpired);
    }
    // SAFETY: the IP header is inside the checked frame.
    let old = unsafe { kept::<F>(d, p.ttl) };
    let new_tot = (p.ip_tot as usize - CD_LEN - cd.pad) as u16;
    let flow = Flow {
        family: F::FAMILY,
        src: &v.relay_addr,
        dst: &v.peer_addr,
        sport: v.relay_port,
        dport: v.peer_port,
        tot_len: new_tot,
        first_word: old.first_word,
    };
    let route = match lookup(ctx, &flow, route_slot(v.stats_slot, true), now) {
        Ok(r) => r,
        // The peer is on this host: perhaps another allocation's relayed address. The caller
        // runs the hairpin.
        Err(Verdict::HairpinMiss) => {
            hairpin::Pending::start(s, v, &cd, now);
            return Err(Verdict::HairpinMiss);
        }
        Err(e) => return Err(e),
    };
    let udp_len = (UDP_LEN + cd.len) as u16;
    // A zero IPv4 UDP checksum means "none" (RFC 768) and stays zero; IPv6 never has one.
    let udp_check = if p.udp_check == 0 {
        0
    } else {
        let mut c = Csum::new(p.udp_check);
        // Addresses, ports and the channel number (in the binding's delta), the UDP length in
        // the header and the pseudo-header, the ChannelData length word and the padding.
        c.add(v.udp_csum);
        c.replace(wire16(p.udp_len), wire16(udp_len));
        c.replace(wire16(p.udp_len), wire16(udp_len));
        // SAFETY: inside the checked frame.
        c.sub(unsafe { ld::<u16>(d + F::L4 + UDP_LEN + 2) });
        sub_padding::<F>(ctx, &mut c, cd.len, cd.pad)?;
        c.finish_udp()
    };
    resize(ctx, p.trailer as usize + cd.pad, CD_LEN as i32)?;
    let d = packet(ctx, F::L4 + UDP_LEN).ok_or(Verdict::Aborted)?;
    let h = Headers {
        route,
        src: &v.relay_addr,
        dst: &v.peer_addr,
        sport: v.relay_port,
        dport: v.peer_port,
        ip_tot: new_tot,
        udp_len,
        ip_check: ip_check::<F>(&old, [v.ip_csum, 0], p.ip_tot as u16, new_tot),
        udp_check,
    };
    // SAFETY: the resized frame was checked for the headers.
    unsafe { write::<F>(d, &old, &h) };
    count_channel(v.stats_slot, true, cd.len as u64);
    Ok((forwarded::<F>(), transmit(route)?))
}

#[inline(always)]
fn forwarded<F: Family>() -> Verdict {
    if F::ADDR_LEN == 4 {
        Verdict::ForwardedC2pV4
    } else {
        Verdict::ForwardedC2pV6
    }
}
