//! peer -> client: UDP to a relayed address becomes ChannelData from the server address
//! (RFC 8656 §12.7 for the rules the daemon would apply).

use aya_ebpf::{helpers::bpf_ktime_get_ns, programs::XdpContext};
use relay_common::{route_slot, P2cKey, P2cValue, Verdict, FAMILY_V4};

use crate::{
    c2p::tos_flow,
    maps::{count_channel, Scratch, P2C},
    ptr::UDP_LEN,
    rewrite::{emit_v4, emit_v6, Delta, Target},
    route::{lookup, transmit, Flow},
};

/// Separate BPF function (own 512-byte stack frame); returns [`crate::pack`]ed results.
#[inline(never)]
pub fn forward(ctx: &XdpContext, s: &mut Scratch) -> u64 {
    crate::pack(forward_inner(ctx, s))
}

#[inline(always)]
fn forward_inner(ctx: &XdpContext, s: &mut Scratch) -> Result<(Verdict, u32), Verdict> {
    let p = &s.parsed;
    s.p2c_key = P2cKey {
        peer_addr: p.src,
        relay_addr: p.dst,
        peer_port: p.sport,
        relay_port: p.dport,
        family: p.family,
        _pad: [0; 3],
    };
    // SAFETY: map values stay valid (RCU) for the program's run; a concurrent update by the
    // daemon can at worst mix an old and a new binding for one packet.
    // By reference on purpose: a by-value key would be copied onto the 512-byte stack.
    #[allow(clippy::needless_borrows_for_generic_args)]
    let v: &P2cValue = unsafe { &*P2C.get_ptr(&s.p2c_key).ok_or(Verdict::P2cMiss)? };
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
    let data_len = p.udp_len - UDP_LEN as u16;
    let new_tot = p.ip_tot + 4;
    if new_tot > 0xffff {
        return Err(Verdict::MtuExceeded);
    }
    let (tos, flowinfo) = tos_flow(ctx, p);
    let flow = Flow {
        family: p.family,
        src: &v.server_addr,
        dst: &v.client_addr,
        sport: v.server_port,
        dport: v.client_port,
        tot_len: new_tot as u16,
        tos,
        flowinfo,
    };
    let route = lookup(ctx, &flow, route_slot(v.stats_slot, false), now).map_err(|e| match e {
        // A client on this host: no hairpin in this direction, the stack delivers it.
        Verdict::HairpinMiss => Verdict::FibFailed,
        e => e,
    })?;
    let t = Target {
        src: &v.server_addr,
        dst: &v.client_addr,
        sport: v.server_port,
        dport: v.client_port,
        udp_len: p.udp_len + 4,
        route,
    };
    // The ChannelData header (RFC 8656 §12.4) joins the UDP payload; no padding over UDP.
    let d = Delta {
        sub: [0; 5],
        add: [v.channel, data_len],
        head: -4,
        tail: p.trailer,
        chdata: [(v.channel >> 8) as u8, v.channel as u8, (data_len >> 8) as u8, data_len as u8],
    };
    let (verdict, rc) = if p.family == FAMILY_V4 {
        (Verdict::ForwardedP2cV4, emit_v4(ctx, p, &t, &d, &mut s.v4))
    } else {
        (Verdict::ForwardedP2cV6, emit_v6(ctx, p, &t, &d, &mut s.v6))
    };
    if rc != 0 {
        return Err(crate::verdict_from(rc));
    }
    count_channel(v.stats_slot, false, u64::from(data_len));
    Ok((verdict, transmit(&t.route)?))
}
