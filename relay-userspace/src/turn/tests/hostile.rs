//! Property tests: no input, however mangled, panics the core or breaks it for others.

use proptest::prelude::*;

use super::*;

/// A harness with an allocation, a permission and a channel, and valid messages to mutate.
fn primed() -> (Harness, SocketAddr, Vec<Vec<u8>>) {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    h.channel_bind(udp(1), 0x4000, addr("198.51.100.20:1"));
    h.outputs();
    let c = creds(USER, PASS);
    let mut seeds = Vec::new();
    let t = h.next_tid();
    seeds.push(h.build(Method::ALLOCATE, t, Some(&c), |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_even_port(true);
        b.add_u32(at::LIFETIME, 1200);
    }));
    let t = h.next_tid();
    seeds.push(h.build(Method::CHANNEL_BIND, t, Some(&c), |b| {
        b.add_channel_number(0x4001);
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.20:2"));
    }));
    let t = h.next_tid();
    seeds.push(h.build(Method::CREATE_PERMISSION, t, Some(&c), |b| {
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.21:2"));
    }));
    let mut send = Vec::new();
    let t = h.next_tid();
    let mut b = MessageBuilder::new(&mut send, Class::Indication, Method::SEND, t);
    b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.20:1"));
    b.add_raw(at::DATA, b"payload");
    b.finish();
    seeds.push(send);
    seeds.push(vec![0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0]);
    (h, relay, seeds)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), port in 1u16..4) {
        let (mut h, relay, _) = primed();
        h.server.handle_client(h.now, udp(port), &data);
        h.server.handle_client(h.now, tcp(port), &data);
        h.server.handle_peer(h.now, relay, addr("198.51.100.20:1"), &data);
        h.outputs();
        prop_assert_eq!(h.request(udp(9), Method::BINDING, None, |_| {}).class(), Class::Success);
    }

    #[test]
    fn mutated_valid_messages_never_panic(
        which in 0usize..5,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let (mut h, _, seeds) = primed();
        let mut m = seeds[which].clone();
        for (i, x) in flips {
            let n = m.len();
            m[i % n] ^= x;
        }
        let keep = m.len() - cut % 8;
        m.truncate(keep);
        h.server.handle_client(h.now, udp(1), &m);
        h.server.handle_client(h.now, udp(2), &m);
        h.outputs();
        h.advance(3600);
        prop_assert_eq!(h.server.allocations().count(), 0);
        prop_assert_eq!(h.server.timer_count(), 0);
        prop_assert_eq!(h.request(udp(9), Method::BINDING, None, |_| {}).class(), Class::Success);
    }
}
