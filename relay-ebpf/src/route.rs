//! Egress decision: `bpf_fib_lookup` for MACs and interface, then XDP_TX or a devmap redirect.

use aya_ebpf::{
    bindings::{bpf_fib_lookup as FibParams, xdp_action},
    helpers::generated::bpf_fib_lookup,
    programs::XdpContext,
};
use relay_common::{RouteCache, Verdict, FAMILY_V4, ROUTE_CACHE_NS, ROUTE_LOCAL};

use crate::maps::{DEVMAP, ROUTES};

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

// BPF_FIB_LKUP_RET_* (include/uapi/linux/bpf.h).
const FIB_SUCCESS: i64 = 0;
const FIB_NOT_FWDED: i64 = 4;
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

/// Where the rewritten packet goes: the binding's cached FIB result when it is younger than
/// `ROUTE_CACHE_NS`, was made for this ingress interface and accepted a packet at least this
/// large; otherwise a fresh `bpf_fib_lookup`, cached on success. Any failure is a pass reason
/// and the packet is still untouched. A destination on this host is cached too and reported as
/// [`Verdict::HairpinMiss`]: client->peer tries a hairpin then, peer->client passes.
#[inline(always)]
pub fn lookup(ctx: &XdpContext, flow: &Flow, route_slot: u32, now: u64) -> Result<Route, Verdict> {
    let ingress = ctx.ingress_ifindex() as u32;
    let cache = ROUTES.get_ptr_mut(route_slot);
    // SAFETY: a live map value; a concurrent writer stores the same route (see RouteCache).
    let cached = cache.map(|c| unsafe { *c }).unwrap_or_default();
    let fresh = cached.checked_ns != 0
        && now.wrapping_sub(cached.checked_ns) < ROUTE_CACHE_NS
        && cached.ingress == ingress
        && flow.tot_len <= cached.max_len;
    let mut route = Route { smac: cached.smac, dmac: cached.dmac, ifindex: cached.ifindex, action: 0 };
    if !fresh {
        match lookup_into(ctx, flow, &mut route) {
            0 => {}
            v => return Err(crate::verdict_from(v)),
        }
        if let Some(c) = cache {
            let entry = RouteCache {
                smac: route.smac,
                dmac: route.dmac,
                ifindex: route.ifindex,
                ingress,
                // Locality does not depend on the size.
                max_len: if route.ifindex == ROUTE_LOCAL { u16::MAX } else { flow.tot_len },
                _pad: [0; 2],
                checked_ns: now,
            };
            // SAFETY: as above.
            unsafe { *c = entry };
        }
    }
    if route.ifindex == ROUTE_LOCAL {
        return Err(Verdict::HairpinMiss);
    }
    route.action = if route.ifindex == ingress {
        xdp_action::XDP_TX
    } else if DEVMAP.get_ifindex(route.ifindex).is_some() {
        xdp_action::XDP_REDIRECT
    } else {
        return Err(Verdict::NoDevmapEntry);
    };
    Ok(route)
}

/// The FIB lookup proper, as its own BPF function (its 64-byte parameter block gets its own
/// frame); 0 or a pass verdict.
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
        // Not forwarded: a local destination (also no route at all, or broadcast): marked for
        // the cache; the caller tells these apart.
        FIB_NOT_FWDED => return Ok(Route { smac: [0; 6], dmac: [0; 6], ifindex: ROUTE_LOCAL, action: 0 }),
        FIB_FRAG_NEEDED => return Err(Verdict::MtuExceeded),
        FIB_NO_NEIGH => return Err(Verdict::FibNoNeighbour),
        FIB_FWD_DISABLED => return Err(Verdict::FibForwardingDisabled),
        _ => return Err(Verdict::FibFailed),
    }
    Ok(Route { smac: p.smac, dmac: p.dmac, ifindex: p.ifindex, action: 0 })
}

/// Sends the already rewritten packet; a failed redirect here means the packet is lost.
#[inline(always)]
pub fn transmit(route: &Route) -> Result<u32, Verdict> {
    if route.action == xdp_action::XDP_TX {
        return Ok(xdp_action::XDP_TX);
    }
    DEVMAP.redirect(route.ifindex, 0).map_err(|_| Verdict::Aborted)
}
