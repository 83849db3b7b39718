//! Send/Data indications (RFC 8656 §11) and ChannelData (§12.4-§12.7), both directions.

use super::*;
use crate::stun::{ChannelData, Message};

fn peer() -> SocketAddr {
    addr("198.51.100.20:6000")
}

fn send_indication(h: &mut Harness, peer: Option<SocketAddr>, data: Option<&[u8]>) -> Vec<u8> {
    let tid = h.next_tid();
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::SEND, tid);
    if let Some(p) = peer {
        b.add_xor_address(at::XOR_PEER_ADDRESS, p);
    }
    if let Some(d) = data {
        b.add_raw(at::DATA, d);
    }
    b.finish();
    buf
}

fn only_to_peer(outs: &[Output]) -> (SocketAddr, SocketAddr, Vec<u8>) {
    match outs {
        [Output::ToPeer { relay, peer, data }] => (*relay, *peer, data.clone()),
        other => panic!("expected one ToPeer, got {other:?}"),
    }
}

fn only_to_client(outs: &[Output]) -> (FiveTuple, Vec<u8>) {
    match outs {
        [Output::ToClient { ft, data }] => (*ft, data.clone()),
        other => panic!("expected one ToClient, got {other:?}"),
    }
}

#[test]
fn send_indication_needs_permission_and_is_never_answered() {
    let mut h = Harness::new();
    let bytes = send_indication(&mut h, Some(peer()), Some(b"hi"));
    assert!(h.send_raw(udp(1), &bytes).is_empty());
    assert_eq!(h.server.stats().drops.no_allocation, 1);
    let relay = h.allocate(udp(1));
    let bytes = send_indication(&mut h, Some(peer()), Some(b"hi"));
    assert!(h.send_raw(udp(1), &bytes).is_empty());
    assert_eq!(h.server.stats().drops.no_permission, 1);
    h.create_permission(udp(1), addr("198.51.100.20:1"));
    let bytes = send_indication(&mut h, Some(peer()), Some(b"hi"));
    assert_eq!(only_to_peer(&h.send_raw(udp(1), &bytes)), (relay, peer(), b"hi".to_vec()));
    // Missing DATA or XOR-PEER-ADDRESS.
    for (p, d) in [(None, Some(&b"x"[..])), (Some(peer()), None)] {
        let bytes = send_indication(&mut h, p, d);
        assert!(h.send_raw(udp(1), &bytes).is_empty());
    }
    assert_eq!(h.server.stats().drops.invalid_indication, 2);
    // Forbidden peer: dropped even without asking for a permission.
    let bytes = send_indication(&mut h, Some(addr("127.0.0.1:22")), Some(b"x"));
    assert!(h.send_raw(udp(1), &bytes).is_empty());
    assert_eq!(h.server.stats().drops.forbidden_peer, 1);
    // Send never refreshes: at 300 s the permission is gone.
    h.advance(300);
    let bytes = send_indication(&mut h, Some(peer()), Some(b"hi"));
    assert!(h.send_raw(udp(1), &bytes).is_empty());
}

#[test]
fn send_with_unsupported_dont_fragment_is_dropped() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    h.create_permission(udp(1), peer());
    let tid = h.next_tid();
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::SEND, tid);
    b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    b.add_raw(at::DATA, b"x");
    b.add_raw(at::DONT_FRAGMENT, &[]);
    b.finish();
    assert!(h.send_raw(udp(1), &buf).is_empty(), "RFC 8656 §11.2");
    assert_eq!(h.server.stats().drops.invalid_indication, 1);
}

#[test]
fn peer_data_needs_permission_then_arrives_as_data_indication() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    h.server.handle_peer(h.now, relay, peer(), b"early");
    assert!(h.outputs().is_empty());
    assert_eq!(h.server.stats().drops.no_permission, 1);
    h.create_permission(udp(1), peer());
    h.server.handle_peer(h.now, relay, peer(), b"hello");
    let (ft, bytes) = only_to_client(&h.outputs());
    assert_eq!(ft, udp(1));
    let m = Message::parse(&bytes).unwrap();
    assert_eq!((m.class(), m.method()), (Class::Indication, Method::DATA));
    assert_eq!(m.xor_address(at::XOR_PEER_ADDRESS).unwrap().unwrap(), peer());
    assert_eq!(m.get(at::DATA).unwrap().value, b"hello");
    h.server.handle_peer(h.now, addr("192.0.2.10:1"), peer(), b"x");
    assert_eq!(h.server.stats().drops.unknown_relay, 1);
    let s = h.server.stats().relayed;
    assert_eq!((s.peer_to_client_packets, s.peer_to_client_bytes), (1, 5));
}

#[test]
fn channel_data_both_directions_udp() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    h.channel_bind(udp(1), 0x4001, peer());
    h.outputs();
    // Client -> peer; trailing padding on UDP is tolerated.
    let cd = [0x40, 0x01, 0x00, 0x03, 1, 2, 3, 0];
    assert_eq!(only_to_peer(&h.send_raw(udp(1), &cd)), (relay, peer(), vec![1, 2, 3]));
    // Peer -> client: ChannelData, unpadded on UDP.
    h.server.handle_peer(h.now, relay, peer(), &[9, 8, 7]);
    let (_, bytes) = only_to_client(&h.outputs());
    assert_eq!(bytes, vec![0x40, 0x01, 0x00, 0x03, 9, 8, 7]);
    // Another port of the same peer IP has the permission but no channel -> Data indication.
    h.server.handle_peer(h.now, relay, addr("198.51.100.20:6001"), &[1]);
    let (_, bytes) = only_to_client(&h.outputs());
    assert!(Message::is_stun(&bytes));
    let info = h.server.allocations().next().unwrap();
    assert_eq!(info.traffic.client_to_peer_bytes, 3);
    assert_eq!(info.traffic.peer_to_client_bytes, 4);
}

#[test]
fn channel_data_to_tcp_client_is_padded() {
    let mut h = Harness::new();
    let relay = h.allocate(tcp(1));
    h.channel_bind(tcp(1), 0x4000, peer());
    h.outputs();
    h.server.handle_peer(h.now, relay, peer(), &[1, 2, 3, 4, 5]);
    let (ft, bytes) = only_to_client(&h.outputs());
    assert_eq!(ft, tcp(1));
    assert_eq!(bytes.len(), 12, "4 header + 5 data + 3 padding (RFC 8656 §12.5)");
    assert_eq!(ChannelData::parse(&bytes).unwrap().data, &[1, 2, 3, 4, 5]);
}

#[test]
fn bad_channel_data_is_dropped_and_counted() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    h.channel_bind(udp(1), 0x4000, peer());
    h.outputs();
    for bad in [&[0x40u8, 0x00, 0x00][..], &[0x40, 0x00, 0x00, 0x09, 1], &[0x80, 0x00, 0x00, 0x00]] {
        assert!(h.send_raw(udp(1), bad).is_empty());
    }
    assert_eq!(h.server.stats().drops.malformed, 3);
    assert!(h.send_raw(udp(1), &[0x40, 0x02, 0x00, 0x00]).is_empty());
    assert_eq!(h.server.stats().drops.unbound_channel, 1);
    // Another client's 5-tuple cannot use this channel.
    assert!(h.send_raw(udp(2), &[0x40, 0x00, 0x00, 0x00]).is_empty());
    assert_eq!(h.server.stats().drops.unbound_channel, 2);
}
