//! A [`ChannelBinding`] as the two map entries the XDP program reads (pure conversion).

use std::net::{IpAddr, SocketAddr};

use relay_common::{csum_delta, C2pKey, C2pValue, P2cKey, P2cValue, FAMILY_V4, FAMILY_V6};

use crate::offload::ChannelBinding;

/// Address bytes as stored in the maps: IPv4 in the first 4 bytes, the rest zero.
pub fn addr_bytes(ip: IpAddr) -> ([u8; 16], u8) {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => {
            out[..4].copy_from_slice(&v4.octets());
            (out, FAMILY_V4)
        }
        // An IPv4-mapped IPv6 address arrives on the wire as IPv4 (dual-stack sockets).
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => addr_bytes(IpAddr::V4(v4)),
            None => (v6.octets(), FAMILY_V6),
        },
    }
}

/// The inverse of [`addr_bytes`].
pub fn socket_addr(bytes: &[u8; 16], family: u8, port: u16) -> SocketAddr {
    if family == FAMILY_V4 {
        SocketAddr::from(([bytes[0], bytes[1], bytes[2], bytes[3]], port))
    } else {
        SocketAddr::from((*bytes, port))
    }
}

/// Both entries of one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entries {
    pub c2p_key: C2pKey,
    pub c2p_value: C2pValue,
    pub p2c_key: P2cKey,
    pub p2c_value: P2cValue,
}

/// The c2p key alone: identifies the binding (client 5-tuple + channel).
pub fn c2p_key(b: &ChannelBinding) -> C2pKey {
    let (client_addr, family) = addr_bytes(b.client.ip());
    let (server_addr, _) = addr_bytes(b.server.ip());
    C2pKey {
        client_addr,
        server_addr,
        client_port: b.client.port(),
        server_port: b.server.port(),
        channel: b.channel,
        family,
        _pad: 0,
    }
}

/// The p2c key alone.
pub fn p2c_key(b: &ChannelBinding) -> P2cKey {
    let (peer_addr, family) = addr_bytes(b.peer.ip());
    let (relay_addr, _) = addr_bytes(b.relay.ip());
    P2cKey { peer_addr, relay_addr, peer_port: b.peer.port(), relay_port: b.relay.port(), family, _pad: [0; 3] }
}

/// The bytes of a stored address that are on the wire (4 for IPv4, 16 for IPv6).
fn wire(addr: &[u8; 16], family: u8) -> &[u8] {
    if family == FAMILY_V4 {
        &addr[..4]
    } else {
        addr
    }
}

/// Checksum deltas of one direction's rewrite (RFC 1624): addresses `from` -> `to` for the IPv4
/// header; for UDP also the ports, plus `chan_out` leaving or `chan_in` joining the payload.
/// Packet-dependent parts (lengths, TTL, padding) are the program's.
struct Rewrite<'a> {
    from: [(&'a [u8], [u8; 2]); 2],
    to: [(&'a [u8], [u8; 2]); 2],
    chan_out: &'a [u8],
    chan_in: &'a [u8],
}

impl Rewrite<'_> {
    /// (IPv4 header delta or 0, UDP delta).
    fn deltas(&self, ipv4: bool) -> (u16, u16) {
        let [(a0, p0), (a1, p1)] = &self.from;
        let [(b0, q0), (b1, q1)] = &self.to;
        let ip = if ipv4 { csum_delta(&[a0, a1], &[b0, b1]) } else { 0 };
        let udp = csum_delta(&[a0, a1, p0, p1, self.chan_out], &[b0, b1, q0, q1, self.chan_in]);
        (ip, udp)
    }
}

/// Builds both entries. Mixed-family bindings are installed too: the program finds them and
/// counts `pass_mixed_family`, leaving those packets to userspace (their deltas are unused).
pub fn entries(b: &ChannelBinding, stats_slot: u32, expires_ns: u64) -> Entries {
    let c2p_key = c2p_key(b);
    let p2c_key = p2c_key(b);
    let (cf, pf) = (c2p_key.family, p2c_key.family);
    let client = (wire(&c2p_key.client_addr, cf), b.client.port().to_be_bytes());
    let server = (wire(&c2p_key.server_addr, cf), b.server.port().to_be_bytes());
    let peer = (wire(&p2c_key.peer_addr, pf), b.peer.port().to_be_bytes());
    let relay = (wire(&p2c_key.relay_addr, pf), b.relay.port().to_be_bytes());
    let channel = b.channel.to_be_bytes();
    // client -> peer: (client, server) become (relay, peer); the channel number leaves.
    let (c2p_ip, c2p_udp) =
        Rewrite { from: [client, server], to: [relay, peer], chan_out: &channel, chan_in: &[] }.deltas(cf == FAMILY_V4);
    // peer -> client: (peer, relay) become (server, client); the channel number joins.
    let (p2c_ip, p2c_udp) =
        Rewrite { from: [peer, relay], to: [server, client], chan_out: &[], chan_in: &channel }.deltas(pf == FAMILY_V4);
    Entries {
        c2p_key,
        c2p_value: C2pValue {
            peer_addr: p2c_key.peer_addr,
            relay_addr: p2c_key.relay_addr,
            peer_port: b.peer.port(),
            relay_port: b.relay.port(),
            family: pf,
            _pad: [0; 3],
            stats_slot,
            ip_csum: c2p_ip,
            udp_csum: c2p_udp,
            expires_ns,
        },
        p2c_key,
        p2c_value: P2cValue {
            client_addr: c2p_key.client_addr,
            server_addr: c2p_key.server_addr,
            client_port: b.client.port(),
            server_port: b.server.port(),
            channel: b.channel,
            family: cf,
            _pad: 0,
            stats_slot,
            ip_csum: p2c_ip,
            udp_csum: p2c_udp,
            expires_ns,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::{sync::Arc, time::Instant};

    fn binding(client: &str, peer: &str) -> ChannelBinding {
        ChannelBinding {
            client: client.parse().expect("test address"),
            server: "10.0.0.1:3478".parse().expect("test address"),
            channel: 0x4001,
            peer: peer.parse().expect("test address"),
            relay: "10.0.0.1:50000".parse().expect("test address"),
            expires_at: Instant::now(),
            transport: crate::transport::Transport::Udp,
            user: Arc::from("u"),
        }
    }

    #[test]
    fn v4_entries_round_trip() {
        let b = binding("192.0.2.7:40000", "198.51.100.9:60000");
        let e = entries(&b, 3, 99);
        assert_eq!(e.c2p_key.family, FAMILY_V4);
        assert_eq!(&e.c2p_key.client_addr[..4], &[192, 0, 2, 7]);
        assert_eq!(e.c2p_key.client_addr[4..], [0; 12]);
        assert_eq!(e.c2p_value.stats_slot, 3);
        assert_eq!(e.p2c_value.expires_ns, 99);
        let peer = socket_addr(&e.c2p_value.peer_addr, e.c2p_value.family, e.c2p_value.peer_port);
        assert_eq!(peer, b.peer);
        assert_eq!(e.p2c_value.channel, 0x4001);
    }

    #[test]
    fn mapped_v6_is_stored_as_v4_and_mixed_family_is_visible() {
        let b = binding("[::ffff:192.0.2.7]:40000", "[2001:db8::9]:60000");
        let e = entries(&b, 0, 0);
        assert_eq!(e.c2p_key.family, FAMILY_V4);
        assert_eq!(e.c2p_value.family, FAMILY_V6);
        assert_eq!(e.p2c_value.family, FAMILY_V4);
    }

    /// Full RFC 1071 checksum of 16-bit big-endian words.
    fn full(words: &[&[u8]]) -> u16 {
        let mut acc: u32 = 0;
        for bytes in words {
            for w in bytes.chunks_exact(2) {
                acc += u32::from(u16::from_be_bytes([w[0], w[1]]));
            }
        }
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        !(acc as u16)
    }

    /// RFC 1624 eqn. 3 with a precomputed (native-order) delta, as the program applies it.
    fn apply(check_be: u16, delta_ne: u16) -> u16 {
        let check_ne = u16::from_ne_bytes(check_be.to_be_bytes());
        let mut acc = u32::from(!check_ne) + u32::from(delta_ne);
        acc = (acc & 0xffff) + (acc >> 16);
        acc = (acc & 0xffff) + (acc >> 16);
        u16::from_be_bytes((!(acc as u16)).to_ne_bytes())
    }

    #[test]
    fn deltas_turn_the_old_checksums_into_the_new_ones() {
        for (client, peer) in [("192.0.2.7:40000", "198.51.100.9:60000"), ("[2001:db8::7]:40000", "[2001:db8:1::9]:1")]
        {
            let mut b = binding(client, peer);
            if client.starts_with('[') {
                b.server = "[2001:db8::1]:3478".parse().expect("test address");
                b.relay = "[2001:db8::1]:50000".parse().expect("test address");
            }
            let e = entries(&b, 0, 0);
            let v4 = e.c2p_key.family == FAMILY_V4;
            let (k, v) = (e.c2p_key, e.c2p_value);
            let (cl, sv) = (wire(&k.client_addr, k.family), wire(&k.server_addr, k.family));
            let (pe, re) = (wire(&v.peer_addr, v.family), wire(&v.relay_addr, v.family));
            let port = |p: u16| p.to_be_bytes();
            let chan = b.channel.to_be_bytes();
            let before = full(&[cl, sv, &port(b.client.port()), &port(b.server.port()), &chan, b"data"]);
            let after = full(&[re, pe, &port(b.relay.port()), &port(b.peer.port()), b"data"]);
            assert_eq!(apply(before, v.udp_csum), after, "c2p UDP {client}");
            assert_eq!(apply(after, e.p2c_value.udp_csum), before, "p2c UDP {client}");
            if v4 {
                assert_eq!(apply(full(&[cl, sv, b"ip"]), v.ip_csum), full(&[re, pe, b"ip"]), "c2p IPv4 header");
            } else {
                assert_eq!(v.ip_csum, 0);
            }
        }
    }
}
