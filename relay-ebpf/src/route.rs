//! Egress decision: `bpf_fib_lookup` for MACs and interface, then XDP_TX or a devmap redirect.

use aya_ebpf::{
    bindings::{bpf_fib_lookup as FibParams, xdp_action},
    helpers::generated::bpf_fib_lookup,
    programs::XdpContext,
};
use relay_common::{Verdict, FAMILY_V4};

use crate::maps::DEVMAP;

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

// BPF_FIB_LKUP_RET_* (include/uapi/linux/bpf.h).
const FIB_SUCCESS: i64 = 0;
const FIB_FWD_DISABLED: i64 = 5;
const FIB_NO_NEIGH: i64 = 7;
const FIB_FRAG_NEEDED: i64 = 8;

/// Where a rewritten packet goes.
pub struct Route {
    pub smac: [u8; 6],
    pub dmac: [u8; 6],
    pub ifindex: u32,
    /// `XDP_TX` (same interface) or `XDP_REDIRECT` (through [`DEVMAP`]).
    pub action: u32,
}

/// The new packet's addressing, as the FIB sees it.
pub struct Flow<'a> {
    pub family: u8,
    pub src: &'a [u8; 16],
    pub dst: &'a [u8; 16],
    pub sport: u16,
    pub dport: u16,
    /// IP total length after the rewrite; the kernel checks it against the egress MTU.
    pub tot_len: u16,
    /// IPv4 TOS byte, or IPv6 traffic class + flow label word as on the wire.
    pub tos: u8,
    pub flowinfo: [u8; 4],
}

#[inline(always)]
fn words(a: &[u8; 16]) -> [u32; 4] {
    [
        u32::from_ne_bytes([a[0], a[1], a[2], a[3]]),
        u32::from_ne_bytes([a[4], a[5], a[6], a[7]]),
        u32::from_ne_bytes([a[8], a[9], a[10], a[11]]),
        u32::from_ne_bytes([a[12], a[13], a[14], a[15]]),
    ]
}

/// Looks the rewritten packet up in the FIB; any failure is a pass reason, the packet untouched.
#[inline(always)]
pub fn lookup(ctx: &XdpContext, flow: &Flow) -> Result<Route, Verdict> {
    let mut route = Route { smac: [0; 6], dmac: [0; 6], ifindex: 0, action: 0 };
    match lookup_into(ctx, flow, &mut route) {
        0 => Ok(route),
        v => Err(crate::verdict_from(v)),
    }
}

/// Own BPF function (its 64-byte parameter block gets its own frame); 0 or a pass verdict.
#[inline(never)]
fn lookup_into(ctx: &XdpContext, flow: &Flow, out: &mut Route) -> u32 {
    match try_lookup(ctx, flow) {
        Ok(r) => {
            *out = r;
            0
        }
        Err(v) => v as u32,
    }
}

#[inline(always)]
fn try_lookup(ctx: &XdpContext, flow: &Flow) -> Result<Route, Verdict> {
    // SAFETY: bpf_fib_lookup is plain old data; all-zero is its documented "unset" state.
    let mut p: FibParams = unsafe { core::mem::zeroed() };
    p.l4_protocol = 17;
    // Ports are __be16: keep the wire byte order.
    p.sport = u16::from_ne_bytes(flow.sport.to_be_bytes());
    p.dport = u16::from_ne_bytes(flow.dport.to_be_bytes());
    p.__bindgen_anon_1.tot_len = flow.tot_len;
    p.ifindex = ctx.ingress_ifindex() as u32;
    let src = words(flow.src);
    let dst = words(flow.dst);
    if flow.family == FAMILY_V4 {
        p.family = AF_INET;
        p.__bindgen_anon_2.tos = flow.tos;
        p.__bindgen_anon_3.ipv4_src = src[0];
        p.__bindgen_anon_4.ipv4_dst = dst[0];
    } else {
        p.family = AF_INET6;
        let fi = u32::from_be_bytes(flow.flowinfo) & 0x0fff_ffff;
        p.__bindgen_anon_2.flowinfo = u32::from_ne_bytes(fi.to_be_bytes());
        p.__bindgen_anon_3.ipv6_src = src;
        p.__bindgen_anon_4.ipv6_dst = dst;
    }
    // SAFETY: ctx.ctx is the live xdp_md; p is a correctly sized, initialised parameter block.
    let rc = unsafe { bpf_fib_lookup(ctx.ctx.cast(), &mut p, core::mem::size_of::<FibParams>() as i32, 0) };
    match rc {
        FIB_SUCCESS => {}
        FIB_FRAG_NEEDED => return Err(Verdict::MtuExceeded),
        FIB_NO_NEIGH => return Err(Verdict::FibNoNeighbour),
        FIB_FWD_DISABLED => return Err(Verdict::FibForwardingDisabled),
        _ => return Err(Verdict::FibFailed),
    }
    let action = if p.ifindex == ctx.ingress_ifindex() as u32 {
        xdp_action::XDP_TX
    } else if DEVMAP.get_ifindex(p.ifindex).is_some() {
        xdp_action::XDP_REDIRECT
    } else {
        return Err(Verdict::NoDevmapEntry);
    };
    Ok(Route { smac: p.smac, dmac: p.dmac, ifindex: p.ifindex, action })
}

/// Sends the already rewritten packet; a failed redirect here means the packet is lost.
#[inline(always)]
pub fn transmit(route: &Route) -> Result<u32, Verdict> {
    if route.action == xdp_action::XDP_TX {
        return Ok(xdp_action::XDP_TX);
    }
    DEVMAP.redirect(route.ifindex, 0).map_err(|_| Verdict::Aborted)
}
