//! Packet builders and an independent checksum verifier (full RFC 1071 sums, no increments).

use std::net::{IpAddr, SocketAddr};

/// RFC 1071 ones' complement sum of `data` (odd tail padded with zero), not complemented.
pub fn ones_sum(data: &[u8], mut acc: u32) -> u32 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        acc += u32::from(*last) << 8;
    }
    acc
}

/// Folded and complemented checksum.
pub fn finish(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

fn pseudo_sum(src: IpAddr, dst: IpAddr, udp_len: usize) -> u32 {
    let mut acc = 0;
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            acc = ones_sum(&s.octets(), acc);
            acc = ones_sum(&d.octets(), acc);
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            acc = ones_sum(&s.octets(), acc);
            acc = ones_sum(&d.octets(), acc);
        }
        _ => panic!("mixed-family pseudo header"),
    }
    acc + 17 + udp_len as u32
}

/// A UDP datagram to build.
#[derive(Clone, Debug)]
pub struct Udp {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
    /// TTL / hop limit.
    pub ttl: u8,
    /// IPv4 TOS / IPv6 traffic class (DSCP + ECN).
    pub tos: u8,
    /// IPv6 flow label.
    pub flow: u32,
    /// IPv4 identification.
    pub id: u16,
    /// IPv4 only: send without checksum (0).
    pub no_checksum: bool,
}

impl Udp {
    pub fn new(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Udp {
        Udp { src, dst, payload: payload.to_vec(), ttl: 64, tos: 0xb9, flow: 0x12345, id: 0x1c46, no_checksum: false }
    }

    /// The UDP header + payload with a fully computed checksum.
    pub fn segment(&self) -> Vec<u8> {
        let len = 8 + self.payload.len();
        let mut s = Vec::with_capacity(len);
        s.extend_from_slice(&self.src.port().to_be_bytes());
        s.extend_from_slice(&self.dst.port().to_be_bytes());
        s.extend_from_slice(&(len as u16).to_be_bytes());
        s.extend_from_slice(&[0, 0]);
        s.extend_from_slice(&self.payload);
        if !self.no_checksum {
            let mut c = finish(ones_sum(&s, pseudo_sum(self.src.ip(), self.dst.ip(), len)));
            if c == 0 {
                c = 0xffff;
            }
            s[6..8].copy_from_slice(&c.to_be_bytes());
        }
        s
    }

    /// IP header + UDP segment.
    pub fn ip_packet(&self) -> Vec<u8> {
        let seg = self.segment();
        match (self.src.ip(), self.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                let mut h = vec![0x45, self.tos];
                h.extend_from_slice(&((20 + seg.len()) as u16).to_be_bytes());
                h.extend_from_slice(&self.id.to_be_bytes());
                h.extend_from_slice(&[0x40, 0x00, self.ttl, 17, 0, 0]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                let c = finish(ones_sum(&h, 0));
                h[10..12].copy_from_slice(&c.to_be_bytes());
                h.extend_from_slice(&seg);
                h
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                let first = (6u32 << 28) | (u32::from(self.tos) << 20) | (self.flow & 0xfffff);
                let mut h = first.to_be_bytes().to_vec();
                h.extend_from_slice(&(seg.len() as u16).to_be_bytes());
                h.extend_from_slice(&[17, self.ttl]);
                h.extend_from_slice(&s.octets());
                h.extend_from_slice(&d.octets());
                h.extend_from_slice(&seg);
                h
            }
            _ => panic!("mixed-family packet"),
        }
    }

    /// Ethernet frame carrying the packet.
    pub fn frame(&self, dst_mac: [u8; 6], src_mac: [u8; 6]) -> Vec<u8> {
        let ethertype: u16 = if self.src.is_ipv4() { 0x0800 } else { 0x86dd };
        let mut f = dst_mac.to_vec();
        f.extend_from_slice(&src_mac);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(&self.ip_packet());
        f
    }
}

/// ChannelData message (RFC 8656 §12.4) with explicit padding bytes.
pub fn channel_data(channel: u16, data: &[u8], pad: &[u8]) -> Vec<u8> {
    let mut m = channel.to_be_bytes().to_vec();
    m.extend_from_slice(&(data.len() as u16).to_be_bytes());
    m.extend_from_slice(data);
    m.extend_from_slice(pad);
    m
}

/// Verifies an Ethernet frame's IPv4 header checksum and UDP checksum from scratch.
pub fn verify_checksums(frame: &[u8]) -> Result<(), String> {
    let ethertype = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    let (src, dst, seg) = match ethertype {
        0x0800 => {
            if finish(ones_sum(&ip[..20], 0)) != 0 {
                return Err("bad IPv4 header checksum".into());
            }
            let tot = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            let s: [u8; 4] = ip[12..16].try_into().map_err(|_| "short")?;
            let d: [u8; 4] = ip[16..20].try_into().map_err(|_| "short")?;
            (IpAddr::from(s), IpAddr::from(d), &ip[20..tot])
        }
        0x86dd => {
            let plen = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
            let s: [u8; 16] = ip[8..24].try_into().map_err(|_| "short")?;
            let d: [u8; 16] = ip[24..40].try_into().map_err(|_| "short")?;
            (IpAddr::from(s), IpAddr::from(d), &ip[40..40 + plen])
        }
        other => return Err(format!("not IP: {other:#x}")),
    };
    let check = u16::from_be_bytes([seg[6], seg[7]]);
    if check == 0 {
        return if src.is_ipv4() { Ok(()) } else { Err("zero IPv6 UDP checksum".into()) };
    }
    if finish(ones_sum(seg, pseudo_sum(src, dst, seg.len()))) != 0 {
        return Err(format!("bad UDP checksum {check:#06x}"));
    }
    Ok(())
}
