//! client -> peer: ChannelData to a listening port becomes plain UDP from the relayed address
//! (RFC 8656 §12.6 for the rules the daemon would apply; the kernel only does the fast case).

use aya_ebpf::{
    helpers::{bpf_ktime_get_ns, generated::bpf_xdp_load_bytes},
    programs::XdpContext,
};
use relay_common::{route_slot, C2pKey, C2pValue, Verdict, CHANNEL_MAX, CHANNEL_MIN, FAMILY_V4};

use crate::{
    hairpin,
    maps::{count_channel, Scratch, C2P},
    parse::Parsed,
    ptr::{be16, read_at, UDP_LEN},
    rewrite::{emit_v4, emit_v6, Delta, Target},
    route::{lookup, transmit, Flow},
};

/// Bound for variable packet offsets the verifier must see (no single-buffer frame is larger).
const MAX_PAYLOAD: usize = 0x3fff;

/// Separate BPF function (own stack frame); returns [`crate::pack`]ed results, or
/// [`HAIRPIN`] when the peer is local and `s.hairpin` says what to try.
#[inline(never)]
pub fn forward(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    match forward_inner(ctx, s) {
        Err(Verdict::HairpinMiss) => HAIRPIN,
        r => crate::pack(r),
    }
}

/// [`forward`]'s answer when the caller should run [`hairpin::forward`].
pub const HAIRPIN: u64 = u64::MAX;

#[inline(always)]
fn forward_inner(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let p = &s.parsed;
    let payload_len = usize::from(p.udp_len) - UDP_LEN;
    let hdr: [u8; 4] = read_at(ctx, p.l4_off() + UDP_LEN).ok_or(Verdict::NotChannelData)?;
    let channel = be16([hdr[0], hdr[1]]);
    let len = usize::from(be16([hdr[2], hdr[3]]));
    // First two bits 0b00 is STUN (RFC 8656 §12): the daemon handles it.
    if channel < CHANNEL_MIN {
        return Err(Verdict::NotChannelData);
    }
    // 0x4000-0x7FFF: RFC 5766 numbers too; whether one is bound is the daemon's call.
    if channel > CHANNEL_MAX {
        return Err(Verdict::BadChannel);
    }
    // Over UDP the data may be followed by 0-3 padding bytes (RFC 8656 §12.5).
    if len + 4 > payload_len || payload_len - 4 - len > 3 {
        return Err(Verdict::LengthMismatch);
    }
    let pad = payload_len - 4 - len;
    s.c2p_key = C2pKey {
        client_addr: p.src,
        server_addr: p.dst,
        client_port: p.sport,
        server_port: p.dport,
        channel,
        family: p.family,
        _pad: 0,
    };
    // SAFETY: map values stay valid (RCU) for the program's run; a concurrent update by the
    // daemon can at worst mix an old and a new binding for one packet.
    // By reference on purpose: a by-value key would be copied onto the 512-byte stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let v: &C2pValue = unsafe { &*C2P.get_ptr(&s.c2p_key).ok_or(Verdict::C2pMiss)? };
    // SAFETY: helper without preconditions.
    let now = unsafe { bpf_ktime_get_ns() };
    if now > v.expires_ns {
        return Err(Verdict::Expired);
    }
    if v.family != p.family {
        return Err(Verdict::MixedFamily);
    }
    if p.ttl <= 1 {
        return Err(Verdict::TtlExpired);
    }
    let new_tot = p.ip_tot - 4 - pad;
    let (tos, flowinfo) = tos_flow(ctx, p);
    let flow = Flow {
        family: p.family,
        src: &v.relay_addr,
        dst: &v.peer_addr,
        sport: v.relay_port,
        dport: v.peer_port,
        tot_len: new_tot as u16,
        tos,
        flowinfo,
    };
    let route = match lookup(ctx, &flow, route_slot(v.stats_slot, true), now) {
        // The peer is on this host: perhaps another allocation's relayed address. The caller
        // runs the hairpin from a fresh frame (the BPF stack is 512 bytes for the whole chain).
        Err(Verdict::HairpinMiss) => {
            hairpin::Pending::start(s, v, channel, len as u16, pad as u16, now);
            return Err(Verdict::HairpinMiss);
        }
        r => r?,
    };
    let pad_words = pad_contribution(ctx, p, len, pad)?;
    let t = Target {
        src: &v.relay_addr,
        dst: &v.peer_addr,
        sport: v.relay_port,
        dport: v.peer_port,
        udp_len: (UDP_LEN + len) as u16,
        route,
    };
    // The ChannelData header words and the padding leave the UDP payload.
    let d = Delta {
        sub: [channel, len as u16, pad_words[0], pad_words[1], pad_words[2]],
        add: [0, 0],
        head: 4,
        tail: p.trailer + pad,
        chdata: [0; 4],
    };
    let (verdict, rc) = if p.family == FAMILY_V4 {
        (Verdict::ForwardedC2pV4, emit_v4(ctx, p, &t, &d, &mut s.v4))
    } else {
        (Verdict::ForwardedC2pV6, emit_v6(ctx, p, &t, &d, &mut s.v6))
    };
    if rc != 0 {
        return Err(crate::verdict_from(rc));
    }
    count_channel(v.stats_slot, true, len as u64);
    Ok((verdict, transmit(&t.route)?))
}

/// IPv4 TOS, or the IPv6 first word, for the FIB lookup.
#[inline(always)]
pub fn tos_flow(ctx: &XdpContext, p: &Parsed) -> (u8, [u8; 4]) {
    let w: [u8; 4] = read_at(ctx, crate::ptr::ETH_LEN).unwrap_or([0; 4]);
    if p.family == FAMILY_V4 {
        (w[1], [0; 4])
    } else {
        (0, w)
    }
}

/// The padding bytes as checksum words: 16-bit words are aligned to the UDP header, and the
/// 4-byte ChannelData header keeps the payload's parity, so a byte at an even payload offset is
/// a high byte. One word per padding byte (a byte can be split from its word: ones' complement
/// addition is associative). Read with `bpf_xdp_load_bytes`: a variable packet offset is not
/// something the verifier can bound through a plain pointer.
#[inline(always)]
pub fn pad_contribution(ctx: &XdpContext, p: &Parsed, len: usize, pad: usize) -> Result<[u16; 3], Verdict> {
    let mut bytes = [0u8; 4];
    let off = (p.l4_off() + UDP_LEN + 4 + (len & MAX_PAYLOAD)) as u32;
    let buf = bytes.as_mut_ptr().cast();
    // SAFETY: ctx.ctx is the live xdp_md; buf has room for 4 bytes and each size is <= 3;
    // the helper checks the offset against the packet itself.
    let rc = unsafe {
        match pad {
            0 => 0,
            1 => bpf_xdp_load_bytes(ctx.ctx, off, buf, 1),
            2 => bpf_xdp_load_bytes(ctx.ctx, off, buf, 2),
            _ => bpf_xdp_load_bytes(ctx.ctx, off, buf, 3),
        }
    };
    if rc != 0 {
        return Err(Verdict::LengthMismatch);
    }
    let mut words = [0u16; 3];
    let mut i = 0;
    while i < 3 {
        let b = u16::from(bytes[i]);
        words[i] = if (len + i) & 1 == 0 { b << 8 } else { b };
        i += 1;
    }
    Ok(words)
}
