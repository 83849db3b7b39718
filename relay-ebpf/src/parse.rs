//! Fixed-offset parsing of Ethernet / IPv4|IPv6 / UDP. Anything unusual is a pass reason.

use aya_ebpf::programs::XdpContext;
use relay_common::{Verdict, FAMILY_V4, FAMILY_V6};

use crate::ptr::{
    ld, packet, Family, ETH_LEN, ETH_P_8021AD, ETH_P_8021Q, ETH_P_IP, ETH_P_IPV6, IPPROTO_UDP, IPV4_LEN, IPV6_LEN,
    UDP_LEN, V4, V6,
};

/// What all directions need from a UDP packet. Lives in the per-CPU scratch map. Addresses are
/// not copied: each direction reads them from the frame straight into its lookup key.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Parsed {
    /// `FAMILY_V4` or `FAMILY_V6`.
    pub family: u32,
    /// IP total length (IPv6: 40 + payload length).
    pub ip_tot: u32,
    /// Bytes after the IP packet (Ethernet minimum-size padding); trimmed on rewrite.
    pub trailer: u32,
    pub ttl: u32,
    pub sport: u16,
    pub dport: u16,
    pub udp_len: u16,
    /// UDP checksum field, native load of the wire bytes (see `csum`).
    pub udp_check: u16,
}

#[inline(always)]
pub fn parse(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let d = packet(ctx, ETH_LEN).ok_or(Verdict::NotIp)?;
    // SAFETY: 14 bytes checked.
    match u16::from_be(unsafe { ld::<u16>(d + 12) }) {
        ETH_P_IP => parse_v4(ctx, out),
        ETH_P_IPV6 => parse_v6(ctx, out),
        ETH_P_8021Q | ETH_P_8021AD => Err(Verdict::Vlan),
        _ => Err(Verdict::NotIp),
    }
}

#[inline(always)]
fn parse_v4(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let d = packet(ctx, V4::L4).ok_or(Verdict::Malformed)?;
    // SAFETY: the IPv4 header (20 bytes at 14) is inside the checked range.
    let (version_ihl, frag_off, ttl_proto, tot) = unsafe {
        (ld::<u8>(d + ETH_LEN), ld::<u16>(d + ETH_LEN + 6), ld::<u16>(d + ETH_LEN + 8), ld::<u16>(d + ETH_LEN + 2))
    };
    if version_ihl >> 4 != 4 {
        return Err(Verdict::Malformed);
    }
    if version_ihl & 0x0f != 5 {
        return Err(Verdict::IpOptions);
    }
    // MF flag or a non-zero fragment offset (RFC 791 §3.1).
    if u16::from_be(frag_off) & 0x3fff != 0 {
        return Err(Verdict::Fragment);
    }
    let [ttl, protocol] = ttl_proto.to_ne_bytes();
    if protocol != IPPROTO_UDP {
        return Err(Verdict::NotUdp);
    }
    out.family = u32::from(FAMILY_V4);
    out.ttl = u32::from(ttl);
    finish_udp::<V4>(ctx, usize::from(u16::from_be(tot)), IPV4_LEN, out)
}

#[inline(always)]
fn parse_v6(ctx: &XdpContext, out: &mut Parsed) -> Result<(), Verdict> {
    let d = packet(ctx, V6::L4).ok_or(Verdict::Malformed)?;
    // SAFETY: the IPv6 header (40 bytes at 14) is inside the checked range.
    let (version, plen, next_hop) =
        unsafe { (ld::<u8>(d + ETH_LEN), ld::<u16>(d + ETH_LEN + 4), ld::<u16>(d + ETH_LEN + 6)) };
    if version >> 4 != 6 {
        return Err(Verdict::Malformed);
    }
    let [next_hdr, hop_limit] = next_hop.to_ne_bytes();
    match next_hdr {
        IPPROTO_UDP => {}
        44 => return Err(Verdict::Fragment),
        // Hop-by-hop, routing, ESP, AH, destination options, mobility, HIP, shim6 (RFC 8200 §4).
        0 | 43 | 50 | 51 | 60 | 135 | 139 | 140 => return Err(Verdict::Ipv6ExtHeader),
        _ => return Err(Verdict::NotUdp),
    }
    out.family = u32::from(FAMILY_V6);
    out.ttl = u32::from(hop_limit);
    finish_udp::<V6>(ctx, IPV6_LEN + usize::from(u16::from_be(plen)), IPV6_LEN, out)
}

#[inline(always)]
fn finish_udp<F: Family>(ctx: &XdpContext, ip_tot: usize, ip_hdr: usize, out: &mut Parsed) -> Result<(), Verdict> {
    let d = packet(ctx, F::L4 + UDP_LEN).ok_or(Verdict::Malformed)?;
    let frame = ctx.data_end() - d;
    if ip_tot < ip_hdr + UDP_LEN || ETH_LEN + ip_tot > frame {
        return Err(Verdict::Malformed);
    }
    // SAFETY: the UDP header is inside the checked range.
    let (ports, len, check) = unsafe { (ld::<u32>(d + F::L4), ld::<u16>(d + F::L4 + 4), ld::<u16>(d + F::L4 + 6)) };
    let udp_len = u16::from_be(len);
    if usize::from(udp_len) != ip_tot - ip_hdr {
        return Err(Verdict::Malformed);
    }
    if F::FAMILY == FAMILY_V6 && check == 0 {
        return Err(Verdict::Ipv6ZeroChecksum);
    }
    let [s0, s1, d0, d1] = ports.to_ne_bytes();
    out.ip_tot = ip_tot as u32;
    out.trailer = (frame - ETH_LEN - ip_tot) as u32;
    out.sport = u16::from_be_bytes([s0, s1]);
    out.dport = u16::from_be_bytes([d0, d1]);
    out.udp_len = udp_len;
    out.udp_check = check;
    Ok(())
}
