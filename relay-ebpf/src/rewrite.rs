//! Writes a forwarded packet: new Ethernet/IP/UDP headers with checksums updated incrementally
//! (RFC 1624), the 4-byte ChannelData header removed or added. DSCP/ECN, IPv4 ID/DF and the
//! IPv6 flow label are kept as received.

use aya_ebpf::{
    helpers::generated::{bpf_xdp_adjust_head, bpf_xdp_adjust_tail},
    programs::XdpContext,
};
use relay_common::Verdict;

use crate::{
    csum::Csum,
    parse::Parsed,
    ptr::{ptr_at, write_at, V4Frame, V6Frame, IPPROTO_UDP, IPV4_LEN, UDP_LEN},
    route::Route,
};

/// The outgoing packet's addressing and UDP length.
pub struct Target<'a> {
    pub src: &'a [u8; 16],
    pub dst: &'a [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub udp_len: u16,
    pub route: Route,
}

/// How the UDP payload changes: words leaving and joining the checksum, and the resize.
pub struct Delta {
    /// Words removed from the payload (ChannelData header, padding bytes).
    pub sub: [u16; 5],
    /// Words added to the payload (ChannelData header).
    pub add: [u16; 2],
    /// `bpf_xdp_adjust_head` delta: +4 strips the ChannelData header, -4 makes room for it,
    /// 0 keeps it (hairpin: only the channel number changes).
    pub head: i32,
    /// Bytes to trim from the end (Ethernet trailer, ChannelData padding).
    pub tail: usize,
    /// ChannelData header to write after the UDP header when `head` <= 0.
    pub chdata: [u8; 4],
}

#[inline(always)]
fn first4(a: &[u8; 16]) -> [u8; 4] {
    [a[0], a[1], a[2], a[3]]
}

/// UDP checksum over the changed pseudo-header and header words plus the payload delta.
/// Pseudo-header and header both carry the length, hence two replaces.
#[inline(always)]
fn udp_check(p: &Parsed, t: &Target, d: &Delta) -> u16 {
    let mut c = Csum::new(p.udp_check);
    c.replace16(&p.src, t.src);
    c.replace16(&p.dst, t.dst);
    c.replace(p.udp_len, t.udp_len);
    c.replace(p.udp_len, t.udp_len);
    c.replace(p.sport, t.sport);
    c.replace(p.dport, t.dport);
    let mut i = 0;
    while i < d.sub.len() {
        c.sub(d.sub[i]);
        i += 1;
    }
    c.add(d.add[0]);
    c.add(d.add[1]);
    c.finish_udp()
}

/// Rewrites an IPv4 packet in place. Own BPF function to keep each stack frame small.
/// Returns 0 or the failure verdict (never 0, which is a forwarded slot).
#[inline(never)]
pub fn emit_v4(ctx: &XdpContext, p: &Parsed, t: &Target, d: &Delta, f: &mut V4Frame) -> u32 {
    match try_v4(ctx, p, t, d, f) {
        Ok(()) => 0,
        Err(v) => v as u32,
    }
}

#[inline(always)]
fn try_v4(ctx: &XdpContext, p: &Parsed, t: &Target, d: &Delta, f: &mut V4Frame) -> Result<(), Verdict> {
    // One copy of the headers (in scratch memory); the old values come from `p`.
    copy_in(ctx, f)?;
    f.eth.dst = t.route.dmac;
    f.eth.src = t.route.smac;
    let tot = t.udp_len + IPV4_LEN as u16;
    f.ip.tot_len = tot.to_be_bytes();
    f.ip.ttl = p.ttl - 1;
    f.ip.src = first4(t.src);
    f.ip.dst = first4(t.dst);
    let mut ic = Csum::new(p.ip_check);
    ic.replace4(&first4(&p.src), &f.ip.src);
    ic.replace4(&first4(&p.dst), &f.ip.dst);
    ic.replace(p.ip_tot as u16, tot);
    ic.replace(u16::from_be_bytes([p.ttl, IPPROTO_UDP]), u16::from_be_bytes([f.ip.ttl, IPPROTO_UDP]));
    f.ip.check = ic.finish().to_be_bytes();
    f.udp.src = t.sport.to_be_bytes();
    f.udp.dst = t.dport.to_be_bytes();
    f.udp.len = t.udp_len.to_be_bytes();
    // A zero IPv4 UDP checksum means "none" (RFC 768) and stays zero.
    if p.udp_check != 0 {
        f.udp.check = udp_check(p, t, d).to_be_bytes();
    }
    resize(ctx, d)?;
    copy_out(ctx, f)?;
    write_chdata(ctx, p, d)
}

/// Rewrites an IPv6 packet in place; see [`emit_v4`].
#[inline(never)]
pub fn emit_v6(ctx: &XdpContext, p: &Parsed, t: &Target, d: &Delta, f: &mut V6Frame) -> u32 {
    match try_v6(ctx, p, t, d, f) {
        Ok(()) => 0,
        Err(v) => v as u32,
    }
}

#[inline(always)]
fn try_v6(ctx: &XdpContext, p: &Parsed, t: &Target, d: &Delta, f: &mut V6Frame) -> Result<(), Verdict> {
    copy_in(ctx, f)?;
    f.eth.dst = t.route.dmac;
    f.eth.src = t.route.smac;
    f.ip.payload_len = t.udp_len.to_be_bytes();
    f.ip.hop_limit = p.ttl - 1;
    f.ip.src = *t.src;
    f.ip.dst = *t.dst;
    f.udp.src = t.sport.to_be_bytes();
    f.udp.dst = t.dport.to_be_bytes();
    f.udp.len = t.udp_len.to_be_bytes();
    // Mandatory over IPv6 (RFC 8200 §8.1); zero was refused while parsing.
    f.udp.check = udp_check(p, t, d).to_be_bytes();
    resize(ctx, d)?;
    copy_out(ctx, f)?;
    write_chdata(ctx, p, d)
}

#[inline(always)]
fn write_chdata(ctx: &XdpContext, p: &Parsed, d: &Delta) -> Result<(), Verdict> {
    if d.head <= 0 {
        write_at(ctx, p.l4_off() + UDP_LEN, d.chdata).ok_or(Verdict::Aborted)?;
    }
    Ok(())
}

/// Trims the tail, then moves the packet start. Every packet pointer must be re-derived after.
#[inline(always)]
fn resize(ctx: &XdpContext, d: &Delta) -> Result<(), Verdict> {
    if d.tail > 0 {
        // SAFETY: ctx.ctx is the live xdp_md; shrinking by less than the packet length.
        if unsafe { bpf_xdp_adjust_tail(ctx.ctx.cast(), -(d.tail as i32)) } != 0 {
            return Err(Verdict::AdjustFailed);
        }
    }
    if d.head == 0 {
        return Ok(());
    }
    // SAFETY: as above; XDP guarantees 256 bytes of headroom for the 4-byte grow.
    if unsafe { bpf_xdp_adjust_head(ctx.ctx.cast(), d.head) } != 0 {
        // The tail may already be trimmed: the packet is no longer what arrived.
        return Err(if d.tail > 0 { Verdict::Aborted } else { Verdict::AdjustFailed });
    }
    Ok(())
}

/// Copies the packet's leading headers into `f` without a stack temporary.
#[inline(always)]
fn copy_in<T>(ctx: &XdpContext, f: &mut T) -> Result<(), Verdict> {
    let src = ptr_at::<T>(ctx, 0).ok_or(Verdict::Malformed)?;
    // SAFETY: ptr_at checked the bounds; f is scratch memory of the same type, no overlap.
    unsafe { core::ptr::copy_nonoverlapping(src as *const T, f as *mut T, 1) };
    Ok(())
}

/// Writes `f` to the start of the (resized) packet.
#[inline(always)]
fn copy_out<T>(ctx: &XdpContext, f: &T) -> Result<(), Verdict> {
    let dst = ptr_at::<T>(ctx, 0).ok_or(Verdict::Aborted)?;
    // SAFETY: as in copy_in, in the other direction.
    unsafe { core::ptr::copy_nonoverlapping(f as *const T, dst, 1) };
    Ok(())
}
