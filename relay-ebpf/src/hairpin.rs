//! Hairpin: ChannelData from client A whose peer is client B's relayed address on this same
//! server (both ends of a call on one relay). Rather than sending UDP to ourselves and wrapping
//! it again on the way back in, the packet becomes the ChannelData client B would have got:
//! client->peer (RFC 8656 §12.6) and peer->client (§12.7) in one rewrite, using exactly the
//! peer->client entry a packet from A's relayed address to B's would hit.

use aya_ebpf::programs::XdpContext;
use relay_common::{route_slot, C2pValue, P2cKey, P2cValue, Verdict, FAMILY_V4};

use crate::{
    c2p::{pad_contribution, tos_flow},
    maps::{count_channel, Scratch, P2C},
    ptr::UDP_LEN,
    rewrite::{emit_v4, emit_v6, Delta, Target},
    route::{lookup, transmit, Flow},
};

/// What client->peer found before handing over: client A's binding (as the key the reverse
/// direction would see) and the ChannelData header (RFC 8656 §12.4).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Pending {
    /// A's stats slot.
    pub a_slot: u32,
    pub channel: u16,
    /// Application data length.
    pub len: u16,
    /// 0-3 padding bytes after the data (RFC 8656 §12.5).
    pub pad: u16,
    /// 1 if the peer shares A's relayed IP (see [`Pending::miss`]). Not a `Verdict`: a value
    /// read back from a map must stay a plain integer for the verifier to bound it.
    pub peer_on_relay_ip: u32,
    pub now: u64,
}

impl Pending {
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

    /// Also sets `s.p2c_key` to the key the datagram A's allocation would send (from A's
    /// relayed address to its peer) hits in the peer->client map.
    #[inline(always)]
    pub fn start(s: &mut Scratch, a: &C2pValue, channel: u16, len: u16, pad: u16, now: u64) {
        s.p2c_key = P2cKey {
            peer_addr: a.relay_addr,
            relay_addr: a.peer_addr,
            peer_port: a.relay_port,
            relay_port: a.peer_port,
            family: a.family,
            _pad: [0; 3],
        };
        let peer_on_relay_ip = u32::from(same16(&a.peer_addr, &a.relay_addr));
        s.hairpin = Pending { a_slot: a.stats_slot, channel, len, pad, peer_on_relay_ip, now };
    }
}

/// Separate BPF function called from the entry point (not from client->peer, whose frame
/// would count against the same 512-byte stack); returns [`crate::pack`]ed results.
/// `s.hairpin` and `s.p2c_key` were filled by [`Pending::start`].
#[inline(never)]
pub fn forward(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    crate::pack(forward_inner(ctx, s))
}

#[inline(always)]
fn forward_inner(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let cd = s.hairpin;
    // SAFETY: map values stay valid (RCU) for the program's run (see c2p).
    // By reference on purpose: a by-value key would be copied onto the stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let b: &P2cValue = unsafe { &*P2C.get_ptr(&s.p2c_key).ok_or(cd.miss())? };
    let now = cd.now;
    if now > b.expires_ns {
        return Err(Verdict::Expired);
    }
    let p = &s.parsed;
    if b.family != p.family {
        return Err(Verdict::MixedFamily);
    }
    let len = usize::from(cd.len);
    let pad = usize::from(cd.pad);
    let (tos, flowinfo) = tos_flow(ctx, p);
    let flow = Flow {
        family: p.family,
        src: &b.server_addr,
        dst: &b.client_addr,
        sport: b.server_port,
        dport: b.client_port,
        tot_len: (p.ip_tot - pad) as u16,
        tos,
        flowinfo,
    };
    let route = lookup(ctx, &flow, route_slot(b.stats_slot, false), now).map_err(|e| match e {
        // Client B on this host itself: the stack delivers it.
        Verdict::HairpinMiss => Verdict::FibFailed,
        e => e,
    })?;
    let pad_words = pad_contribution(ctx, p, len, pad)?;
    let t = Target {
        src: &b.server_addr,
        dst: &b.client_addr,
        sport: b.server_port,
        dport: b.client_port,
        udp_len: (UDP_LEN + 4 + len) as u16,
        route,
    };
    // Inside the payload only the channel number changes; the padding leaves (RFC 8656 §12.5
    // makes it optional over UDP). A zero word is neutral in ones' complement.
    let d = Delta {
        sub: [cd.channel, pad_words[0], pad_words[1], pad_words[2], 0],
        add: [b.channel, 0],
        head: 0,
        tail: p.trailer + pad,
        chdata: [(b.channel >> 8) as u8, b.channel as u8, (cd.len >> 8) as u8, cd.len as u8],
    };
    let (verdict, rc) = if p.family == FAMILY_V4 {
        (Verdict::ForwardedHairpinV4, emit_v4(ctx, p, &t, &d, &mut s.v4))
    } else {
        (Verdict::ForwardedHairpinV6, emit_v6(ctx, p, &t, &d, &mut s.v6))
    };
    if rc != 0 {
        return Err(crate::verdict_from(rc));
    }
    // Both allocations relayed the data: A to its peer, B to its client.
    count_channel(cd.a_slot, true, len as u64);
    count_channel(b.stats_slot, false, len as u64);
    Ok((verdict, transmit(&t.route)?))
}

/// Word-wise compare (a slice compare could become a `memcmp` call, which BPF lacks).
#[inline(always)]
fn same16(x: &[u8; 16], y: &[u8; 16]) -> bool {
    let w = |a: &[u8; 16], i: usize| u32::from_ne_bytes([a[i], a[i + 1], a[i + 2], a[i + 3]]);
    (w(x, 0) ^ w(y, 0)) | (w(x, 4) ^ w(y, 4)) | (w(x, 8) ^ w(y, 8)) | (w(x, 12) ^ w(y, 12)) == 0
}
