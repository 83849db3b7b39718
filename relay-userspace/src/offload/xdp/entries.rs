//! A [`ChannelBinding`] as the two map entries the XDP program reads (pure conversion).

use std::net::{IpAddr, SocketAddr};

use relay_common::{C2pKey, C2pValue, P2cKey, P2cValue, FAMILY_V4, FAMILY_V6};

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

/// Builds both entries. Mixed-family bindings are installed too: the program finds them and
/// counts `pass_mixed_family`, leaving those packets to userspace.
pub fn entries(b: &ChannelBinding, stats_slot: u32, expires_ns: u64) -> Entries {
    let c2p_key = c2p_key(b);
    let p2c_key = p2c_key(b);
    Entries {
        c2p_key,
        c2p_value: C2pValue {
            peer_addr: p2c_key.peer_addr,
            relay_addr: p2c_key.relay_addr,
            peer_port: b.peer.port(),
            relay_port: b.relay.port(),
            family: p2c_key.family,
            _pad: [0; 3],
            stats_slot,
            _pad2: 0,
            expires_ns,
        },
        p2c_key,
        p2c_value: P2cValue {
            client_addr: c2p_key.client_addr,
            server_addr: c2p_key.server_addr,
            client_port: b.client.port(),
            server_port: b.server.port(),
            channel: b.channel,
            family: c2p_key.family,
            _pad: 0,
            stats_slot,
            _pad2: 0,
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
}
