//! Fixed-offset parsing of Ethernet / IPv4|IPv6 / UDP. Anything unusual is a pass reason.

use aya_ebpf::programs::XdpContext;
use relay_common::{Verdict, FAMILY_V4, FAMILY_V6};

use crate::ptr::{
    be16, read_at, EthHdr, Ipv4Hdr, Ipv6Hdr, UdpHdr, ETH_LEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6,
    IPPROTO_UDP, IPV4_LEN, IPV6_LEN, UDP_LEN,
};

/// What both directions need from a UDP packet, addresses widened to 16 bytes. Lives in the
/// per-CPU scratch map, not on the 512-byte stack.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Parsed {
    pub family: u8,
    /// IP total length (IPv6: 40 + payload length).
    pub ip_tot: usize,
    /// Bytes after the IP packet (Ethernet minimum-size padding); trimmed on rewrite.
    pub trailer: usize,
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub sport: u16,
    pub dport: u16,
    pub udp_len: u16,
    pub udp_check: u16,
    /// IPv4 header checksum (0 for IPv6).
    pub ip_check: u16,
    pub ttl: u8,
}

#[inline(always)]
pub fn parse(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let eth: EthHdr = read_at(ctx, 0).ok_or(Verdict::NotIp)?;
    match be16(eth.proto) {
        ETH_P_IP => parse_v4(ctx, out),
        ETH_P_IPV6 => parse_v6(ctx, out),
        ETH_P_8021Q | ETH_P_8021AD => Err(Verdict::Vlan),
        _ => Err(Verdict::NotIp),
    }
}

#[inline(always)]
fn frame_len(ctx: &XdpContext) -> usize {
    ctx.data_end() - ctx.data()
}

#[inline(always)]
fn parse_v4(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let ip: Ipv4Hdr = read_at(ctx, ETH_LEN).ok_or(Verdict::Malformed)?;
    if ip.version_ihl >> 4 != 4 {
        return Err(Verdict::Malformed);
    }
    if ip.version_ihl & 0x0f != 5 {
        return Err(Verdict::IpOptions);
    }
    // MF flag or a non-zero fragment offset (RFC 791 §3.1).
    if be16(ip.frag_off) & 0x3fff != 0 {
        return Err(Verdict::Fragment);
    }
    if ip.protocol != IPPROTO_UDP {
        return Err(Verdict::NotUdp);
    }
    let ip_tot = usize::from(be16(ip.tot_len));
    let l4_off = ETH_LEN + IPV4_LEN;
    out.src = [0u8; 16];
    out.dst = [0u8; 16];
    out.src[..4].copy_from_slice(&ip.src);
    out.dst[..4].copy_from_slice(&ip.dst);
    out.family = FAMILY_V4;
    out.ttl = ip.ttl;
    out.ip_check = be16(ip.check);
    finish_udp(ctx, l4_off, ip_tot, out)
}

#[inline(always)]
fn parse_v6(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let ip: Ipv6Hdr = read_at(ctx, ETH_LEN).ok_or(Verdict::Malformed)?;
    if ip.vtc_flow[0] >> 4 != 6 {
        return Err(Verdict::Malformed);
    }
    match ip.next_hdr {
        IPPROTO_UDP => {}
        44 => return Err(Verdict::Fragment),
        // Hop-by-hop, routing, ESP, AH, destination options, mobility, HIP, shim6 (RFC 8200 §4).
        0 | 43 | 50 | 51 | 60 | 135 | 139 | 140 => return Err(Verdict::Ipv6ExtHeader),
        _ => return Err(Verdict::NotUdp),
    }
    let ip_tot = IPV6_LEN + usize::from(be16(ip.payload_len));
    out.src = ip.src;
    out.dst = ip.dst;
    out.family = FAMILY_V6;
    out.ttl = ip.hop_limit;
    out.ip_check = 0;
    finish_udp(ctx, ETH_LEN + IPV6_LEN, ip_tot, out)
}

#[inline(always)]
fn finish_udp(ctx: &XdpContext, l4_off: usize, ip_tot: usize, out: &mut Parsed) -> Result<(), Verdict> {
    let udp: UdpHdr = read_at(ctx, l4_off).ok_or(Verdict::Malformed)?;
    let frame = frame_len(ctx);
    let ip_hdr = l4_off - ETH_LEN;
    if ip_tot < ip_hdr + UDP_LEN || ETH_LEN + ip_tot > frame {
        return Err(Verdict::Malformed);
    }
    let udp_len = be16(udp.len);
    if usize::from(udp_len) != ip_tot - ip_hdr {
        return Err(Verdict::Malformed);
    }
    let udp_check = be16(udp.check);
    if out.family == FAMILY_V6 && udp_check == 0 {
        return Err(Verdict::Ipv6ZeroChecksum);
    }
    out.ip_tot = ip_tot;
    out.trailer = frame - ETH_LEN - ip_tot;
    out.sport = be16(udp.src);
    out.dport = be16(udp.dst);
    out.udp_len = udp_len;
    out.udp_check = udp_check;
    Ok(())
}

impl Parsed {
    /// Offset of the UDP header, as a constant per family: values read back from the scratch
    /// map are unbounded for the verifier, constants are not.
    #[inline(always)]
    pub fn l4_off(&self) -> usize {
        if self.family == FAMILY_V4 {
            ETH_LEN + IPV4_LEN
        } else {
            ETH_LEN + IPV6_LEN
        }
    }
}
