//! Hostile input, floods, timers, connection close and shutdown.

use super::*;

#[test]
fn garbage_truncated_and_unexpected_messages_are_dropped() {
    let mut h = Harness::new();
    let good = h.build(Method::BINDING, TransactionId([3; 12]), None, |_| {});
    for bad in [&[][..], &[0xff, 0xff], &good[..good.len() - 1], &good[..19], b"GET / HTTP/1.1\r\n\r\n"] {
        assert!(h.send_raw(udp(1), bad).is_empty());
    }
    // A response from a client is not answered.
    let mut buf = Vec::new();
    MessageBuilder::new(&mut buf, Class::Success, Method::BINDING, TransactionId([4; 12])).finish();
    assert!(h.send_raw(udp(1), &buf).is_empty());
    // A wrong FINGERPRINT means "not STUN".
    let mut fp = good.clone();
    let n = fp.len();
    fp[n - 1] ^= 1;
    assert!(h.send_raw(udp(1), &fp).is_empty());
    let d = &h.server.stats().drops;
    assert_eq!((d.malformed, d.unexpected_message, d.bad_fingerprint), (5, 1, 1));
    // Still serving.
    assert_eq!(h.request(udp(1), Method::BINDING, None, |_| {}).class(), Class::Success);
}

#[test]
fn unauthenticated_flood_stores_nothing() {
    let mut cfg = config();
    cfg.rate_limit.max_sources = 512;
    let mut h = Harness::with(cfg);
    for i in 0..5000u32 {
        let ft = FiveTuple { client: SocketAddr::new(IpAddr::V4((0x0a00_0000 + i).into()), 40000), ..udp(1) };
        let bytes = h.build(Method::ALLOCATE, TransactionId([7; 12]), None, |b| {
            b.add_requested_transport(PROTO_UDP);
        });
        h.server.handle_client(h.now, ft, &bytes);
        h.server.poll_output();
    }
    assert_eq!(h.server.allocations().count(), 0);
    assert_eq!(h.server.timer_count(), 0);
    assert!(h.server.limiter.tracked() <= 512);
    assert_eq!(h.server.stats().errors_with(401), 5000);
}

#[test]
fn stream_close_deletes_the_allocation() {
    let mut h = Harness::new();
    let relay = h.allocate(tcp(1));
    h.channel_bind(tcp(1), 0x4000, addr("198.51.100.20:1"));
    h.outputs();
    h.server.client_closed(h.now, tcp(1));
    let outs = h.outputs();
    assert!(outs.contains(&Output::RelayClosed { relay }));
    assert!(outs.iter().any(|o| matches!(o, Output::ChannelUnbound(_))));
    assert_eq!(h.server.allocations().count(), 0);
    assert_eq!(h.server.timer_count(), 0);
    assert!(h.binder.state.lock().unwrap().bound.is_empty());
}

#[test]
fn shutdown_releases_everything() {
    let mut h = Harness::new();
    let r1 = h.allocate(udp(1));
    let r2 = h.allocate(tcp(2));
    h.channel_bind(udp(1), 0x4000, addr("198.51.100.20:1"));
    h.alice(udp(3), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_even_port(true);
    });
    h.outputs();
    h.server.shutdown(h.now);
    let outs = h.outputs();
    for r in [r1, r2] {
        assert!(outs.contains(&Output::RelayClosed { relay: r }));
    }
    assert_eq!(outs.iter().filter(|o| matches!(o, Output::ChannelUnbound(_))).count(), 1);
    assert!(h.binder.state.lock().unwrap().bound.is_empty(), "reservations released too");
    assert_eq!(h.server.poll_timeout(), None);
    assert_eq!(h.server.stats().allocations_active, 0);
}

#[test]
fn poll_timeout_tracks_the_earliest_deadline() {
    let mut h = Harness::new();
    assert_eq!(h.server.poll_timeout(), None);
    h.allocate(udp(1));
    assert_eq!(h.server.poll_timeout(), Some(h.t0 + Duration::from_secs(600)));
    h.create_permission(udp(1), addr("198.51.100.20:1"));
    assert_eq!(h.server.poll_timeout(), Some(h.t0 + Duration::from_secs(300)));
    h.advance(300);
    assert_eq!(h.server.poll_timeout(), Some(h.t0 + Duration::from_secs(600)));
    assert_eq!(h.server.allocations().next().unwrap().permissions, 0);
    h.advance(300);
    assert_eq!(h.server.poll_timeout(), None);
    assert_eq!(h.server.timer_count(), 0);
}

#[test]
fn stats_count_requests_by_method() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    h.create_permission(udp(1), addr("198.51.100.20:1"));
    h.channel_bind(udp(1), 0x4000, addr("198.51.100.20:1"));
    h.alice(udp(1), Method::REFRESH, |_| {});
    let r = &h.server.stats().requests;
    // The Allocate counts twice: the 401 challenge and the authenticated retry.
    assert_eq!((r.allocate, r.create_permission, r.channel_bind, r.refresh), (2, 1, 1, 1));
    assert_eq!(h.server.stats().allocations_created, 1);
}
