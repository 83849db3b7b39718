//! Egress decision: `bpf_fib_lookup` for MACs and interface, cached per binding, then XDP_TX
//! or a devmap redirect.

use aya_ebpf::{
    bindings::{bpf_fib_lookup as FibParams, xdp_action},
    helpers::generated::bpf_fib_lookup,
    programs::XdpContext,
};
use relay_common::{route_kind, RouteCache, Verdict, FAMILY_V4, ROUTE_CACHE_NS};

use crate::{
    maps::{fib_scratch, DEVMAP, ROUTES},
    ptr::{addr_of, ld},
};

const AF_INET: u8 = 2;
const AF_INET6: u8 = 10;

// BPF_FIB_LKUP_RET_* (include/uapi/linux/bpf.h).
const FIB_SUCCESS: i64 = 0;
const FIB_NOT_FWDED: i64 = 4;
const FIB_FWD_DISABLED: i64 = 5;
const FIB_NO_NEIGH: i64 = 7;
const FIB_FRAG_NEEDED: i64 = 8;

/// The new packet's addressing, as the FIB sees it.
pub struct Flow<'a> {
    pub family: u8,
    /// Stored addresses (16 bytes, IPv4 in the first 4) in map memory.
    pub src: &'a [u8; 16],
    pub dst: &'a [u8; 16],
    pub sport: u16,
    pub dport: u16,
    /// IP total length after the rewrite; the kernel checks it against the egress MTU.
    pub tot_len: u16,
    /// The first IP header word as loaded from the frame (IPv4 TOS, IPv6 traffic class and
    /// flow label).
    pub first_word: u32,
}

/// Where the rewritten packet goes: the binding's cached FIB result (map memory, valid for the
/// program's run) when it is younger than `ROUTE_CACHE_NS`, was made for this ingress
/// interface and accepted a packet at least this large; otherwise a fresh `bpf_fib_lookup`,
/// cached on success. Any failure is a pass reason and the packet is still untouched. A
/// destination the FIB will not forward to (an address of this host, or no route) is cached
/// too and reported as [`Verdict::HairpinMiss`]: client->peer tries a hairpin then.
#[inline(always)]
pub fn lookup(ctx: &XdpContext, flow: &Flow, route_slot: u32, now: u64) -> Result<&'static RouteCache, Verdict> {
    let ingress = ctx.ingress_ifindex() as u32;
    let c = ROUTES.get_ptr_mut(route_slot).ok_or(Verdict::FibFailed)?;
    // SAFETY: a live map value; a concurrent writer stores the same route (see RouteCache).
    let cached = unsafe { &mut *c };
    let fresh = cached.checked_ns != 0
        && now.wrapping_sub(cached.checked_ns) < ROUTE_CACHE_NS
        && cached.ingress == ingress
        && flow.tot_len <= cached.max_len;
    if !fresh {
        match fill(ctx, flow, ingress, now, cached) {
            0 => {}
            v => return Err(crate::verdict_from(v)),
        }
    }
    match cached.kind {
        route_kind::TX | route_kind::REDIRECT => Ok(cached),
        route_kind::NO_DEVMAP => Err(Verdict::NoDevmapEntry),
        _ => Err(Verdict::HairpinMiss),
    }
}

/// The FIB lookup proper, as its own BPF function, writing `out`; 0 or a pass verdict.
#[inline(never)]
fn fill(ctx: &XdpContext, flow: &Flow, ingress: u32, now: u64, out: &mut RouteCache) -> u32 {
    match try_fill(ctx, flow, ingress, now, out) {
        Ok(()) => 0,
        Err(v) => v as u32,
    }
}

#[inline(always)]
fn try_fill(ctx: &XdpContext, flow: &Flow, ingress: u32, now: u64, out: &mut RouteCache) -> Result<(), Verdict> {
    // In map memory rather than on the stack: 64 bytes of byte arrays.
    let p = fib_scratch().ok_or(Verdict::FibFailed)?;
    // SAFETY: bpf_fib_lookup is plain old data; all-zero is its documented "unset" state.
    *p = unsafe { core::mem::zeroed() };
    p.l4_protocol = 17;
    // Ports are __be16: keep the wire byte order.
    p.sport = flow.sport.to_be();
    p.dport = flow.dport.to_be();
    p.__bindgen_anon_1.tot_len = flow.tot_len;
    p.ifindex = ingress;
    let (src, dst) = (addr_of(flow.src), addr_of(flow.dst));
    // SAFETY: src and dst are 16-byte map values.
    let word = |a: usize, i: usize| unsafe { ld::<u32>(a + 4 * i) };
    if flow.family == FAMILY_V4 {
        p.family = AF_INET;
        p.__bindgen_anon_2.tos = flow.first_word.to_ne_bytes()[1];
        p.__bindgen_anon_3.ipv4_src = word(src, 0);
        p.__bindgen_anon_4.ipv4_dst = word(dst, 0);
    } else {
        p.family = AF_INET6;
        // Traffic class and flow label without the version nibble, still in wire order.
        p.__bindgen_anon_2.flowinfo = flow.first_word & u32::from_ne_bytes([0x0f, 0xff, 0xff, 0xff]);
        p.__bindgen_anon_3.ipv6_src = [word(src, 0), word(src, 1), word(src, 2), word(src, 3)];
        p.__bindgen_anon_4.ipv6_dst = [word(dst, 0), word(dst, 1), word(dst, 2), word(dst, 3)];
    }
    // SAFETY: ctx.ctx is the live xdp_md; p is a correctly sized, initialised parameter block.
    let rc = unsafe { bpf_fib_lookup(ctx.ctx.cast(), p, core::mem::size_of::<FibParams>() as i32, 0) };
    let kind = match rc {
        FIB_SUCCESS if p.ifindex == ingress => route_kind::TX,
        FIB_SUCCESS if DEVMAP.get_ifindex(p.ifindex).is_some() => route_kind::REDIRECT,
        FIB_SUCCESS => route_kind::NO_DEVMAP,
        // A local destination, a broadcast one, or no route at all: the caller tells them apart.
        FIB_NOT_FWDED => route_kind::LOCAL,
        FIB_FRAG_NEEDED => return Err(Verdict::MtuExceeded),
        FIB_NO_NEIGH => return Err(Verdict::FibNoNeighbour),
        FIB_FWD_DISABLED => return Err(Verdict::FibForwardingDisabled),
        _ => return Err(Verdict::FibFailed),
    };
    out.dmac = p.dmac;
    out.smac = p.smac;
    out.ifindex = p.ifindex;
    out.ingress = ingress;
    // Locality does not depend on the size.
    out.max_len = if kind == route_kind::LOCAL { u16::MAX } else { flow.tot_len };
    out.kind = kind;
    out.checked_ns = now;
    Ok(())
}

/// Sends the already rewritten packet; a failed redirect here means the packet is lost.
#[inline(always)]
pub fn transmit(route: &RouteCache) -> Result<u32, Verdict> {
    if route.kind == route_kind::TX {
        return Ok(xdp_action::XDP_TX);
    }
    DEVMAP.redirect(route.ifindex, 0).map_err(|_| Verdict::Aborted)
}
