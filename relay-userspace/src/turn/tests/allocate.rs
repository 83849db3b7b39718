//! Allocate, RFC 8656 §7.2.

use super::*;
use crate::stun::{decode_address_error_code, AddressFamily, PROTO_TCP};

fn udp_attrs(b: &mut MessageBuilder<'_>) {
    b.add_requested_transport(PROTO_UDP);
}

#[test]
fn step2_retransmission_is_idempotent_and_other_tid_gets_437() {
    let mut h = Harness::new();
    h.fetch_nonce(udp(1));
    let tid = h.next_tid();
    let c = creds(USER, PASS);
    let first = h.request_tid(udp(1), Method::ALLOCATE, tid, Some(&c), udp_attrs);
    let again = h.request_tid(udp(1), Method::ALLOCATE, tid, Some(&c), udp_attrs);
    assert_eq!(first.0, again.0, "same bytes for a retransmission");
    assert_eq!(h.server.allocations().count(), 1);
    let r = h.alice(udp(1), Method::ALLOCATE, udp_attrs);
    assert_eq!(r.code(), Some(437));
    assert_signed_error(&r);
}

fn assert_signed_error(r: &Resp) {
    let key = long_term_key_md5(USER, REALM, PASS);
    assert_eq!(r.msg().verify_integrity_sha1(&key), crate::stun::IntegrityResult::Ok);
}

#[test]
fn step3_requested_transport_missing_400_not_udp_442() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |_| {});
    assert_eq!(r.code(), Some(400));
    assert_signed_error(&r);
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_TCP);
    });
    assert_eq!(r.code(), Some(442));
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_raw(at::REQUESTED_TRANSPORT, &[17, 0]);
    });
    assert_eq!(r.code(), Some(400), "malformed REQUESTED-TRANSPORT");
}

#[test]
fn tcp_client_gets_udp_relay() {
    let mut h = Harness::new();
    let relay = h.allocate(tcp(1));
    assert_eq!(relay.ip(), relay_v4());
}

#[test]
fn step4_dont_fragment_unsupported_is_420_supported_is_fine() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(at::DONT_FRAGMENT, &[]);
    });
    assert_eq!(r.code(), Some(420));
    let mut cfg = config();
    cfg.supports_dont_fragment = true;
    let mut h = Harness::with(cfg);
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(at::DONT_FRAGMENT, &[]);
    });
    assert_eq!(r.class(), Class::Success);
}

#[test]
fn lifetime_is_clamped_between_default_and_max() {
    let mut h = Harness::new();
    for (i, (asked, granted)) in [(10, 600), (1200, 1200), (100_000, 3600)].iter().enumerate() {
        let r = h.alice(udp(1 + i as u16), Method::ALLOCATE, |b| {
            b.add_requested_transport(PROTO_UDP);
            b.add_u32(at::LIFETIME, *asked);
        });
        assert_eq!(r.u32(at::LIFETIME), Some(*granted));
    }
}

#[test]
fn step5_even_port_and_reservation_token() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_even_port(false);
    });
    assert_eq!(r.xor(at::XOR_RELAYED_ADDRESS).unwrap().port() % 2, 0);
    assert!(!r.has(at::RESERVATION_TOKEN));

    let r = h.alice(udp(2), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_even_port(true);
    });
    let even = r.xor(at::XOR_RELAYED_ADDRESS).unwrap();
    assert_eq!(even.port() % 2, 0);
    let token = r.msg().get(at::RESERVATION_TOKEN).unwrap().value.to_vec();
    assert_eq!(token.len(), 8);

    // The token with EVEN-PORT or an address family -> 400.
    for extra in [0u8, 1] {
        let r = h.alice(udp(3), Method::ALLOCATE, |b| {
            b.add_requested_transport(PROTO_UDP);
            b.add_raw(at::RESERVATION_TOKEN, &token);
            if extra == 0 {
                b.add_even_port(false);
            } else {
                b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V4);
            }
        });
        assert_eq!(r.code(), Some(400));
    }
    // The token gets the reserved odd port.
    let r = h.alice(udp(3), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(at::RESERVATION_TOKEN, &token);
    });
    assert_eq!(r.xor(at::XOR_RELAYED_ADDRESS).unwrap().port(), even.port() + 1);
    // Used once only -> 508.
    let r = h.alice(udp(4), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(at::RESERVATION_TOKEN, &token);
    });
    assert_eq!(r.code(), Some(508));
}

#[test]
fn unused_reservation_expires_and_closes_its_port() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_even_port(true);
    });
    let odd = SocketAddr::new(relay_v4(), r.xor(at::XOR_RELAYED_ADDRESS).unwrap().port() + 1);
    assert!(h.binder.state.lock().unwrap().bound.contains(&odd));
    h.advance(31);
    assert!(!h.binder.state.lock().unwrap().bound.contains(&odd));
}

#[test]
fn step6_to_9_address_families() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V6);
    });
    assert_eq!(r.xor(at::XOR_RELAYED_ADDRESS).unwrap().ip(), relay_v6());
    // Both family attributes -> 400 (step 6); ADDITIONAL IPv4 -> 400 (step 9);
    // EVEN-PORT R with ADDITIONAL -> 400 (step 8).
    let cases: [&dyn Fn(&mut MessageBuilder<'_>); 3] = [
        &|b| {
            b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V4);
            b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V6);
        },
        &|b| {
            b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V4);
        },
        &|b| {
            b.add_even_port(true);
            b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V6);
        },
    ];
    for f in cases {
        let r = h.alice(udp(2), Method::ALLOCATE, |b| {
            b.add_requested_transport(PROTO_UDP);
            f(b);
        });
        assert_eq!(r.code(), Some(400));
    }
    // Unknown family value -> 440.
    let r = h.alice(udp(2), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(at::REQUESTED_ADDRESS_FAMILY, &[9, 0, 0, 0]);
    });
    assert_eq!(r.code(), Some(440));
    // Dual allocation.
    let r = h.alice(udp(3), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V6);
    });
    let relays = r.xors(at::XOR_RELAYED_ADDRESS);
    assert_eq!(relays.len(), 2);
    assert!(relays[0].is_ipv4() && relays[1].is_ipv6());
}

#[test]
fn step7_family_without_relay_ip_is_440_and_dual_is_partial() {
    let mut cfg = config();
    cfg.relay_ips = vec![relay_v4()];
    let mut h = Harness::with(cfg);
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V6);
    });
    assert_eq!(r.code(), Some(440));
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V6);
    });
    assert_eq!(r.class(), Class::Success);
    assert_eq!(r.xors(at::XOR_RELAYED_ADDRESS).len(), 1);
    let aec = r.msg().get(at::ADDRESS_ERROR_CODE).unwrap().value.to_vec();
    let (fam, code, _) = decode_address_error_code(&aec).unwrap();
    assert_eq!((fam, code), (AddressFamily::V6, 440));

    let mut cfg = config();
    cfg.relay_ips = vec![relay_v6()];
    let mut h = Harness::with(cfg);
    let r = h.alice(udp(1), Method::ALLOCATE, udp_attrs);
    assert_eq!(r.code(), Some(440), "no family asked and no IPv4 relay");
}

#[test]
fn step10_quotas_486() {
    let mut cfg = config();
    cfg.user_quota = Some(1);
    cfg.total_quota = Some(2);
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    assert_eq!(h.alice(udp(2), Method::ALLOCATE, udp_attrs).code(), Some(486));
    let bob = creds("bob", "builder");
    let r = h.request(udp(3), Method::ALLOCATE, Some(&bob), udp_attrs);
    assert_eq!(r.class(), Class::Success);
    let carol_cfg_full = h.request(udp(4), Method::ALLOCATE, Some(&bob), udp_attrs);
    assert_eq!(carol_cfg_full.code(), Some(486));
    // Freeing one makes room again.
    let r = h.alice(udp(1), Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 0);
    });
    assert_eq!(r.class(), Class::Success);
    h.allocate(udp(2));
    assert_eq!(h.server.stats().errors_with(486), 2);
}

#[test]
fn port_exhaustion_is_508() {
    let mut cfg = config();
    cfg.max_port = cfg.min_port;
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    let r = h.alice(udp(2), Method::ALLOCATE, udp_attrs);
    assert_eq!(r.code(), Some(508));
}

#[test]
fn bind_failures_try_other_ports() {
    let mut cfg = config();
    cfg.max_port = cfg.min_port + 1;
    let mut h = Harness::with(cfg);
    h.binder.state.lock().unwrap().refuse.insert(50000);
    assert_eq!(h.allocate(udp(1)).port(), 50001);
}

#[test]
fn external_ip_is_advertised_local_is_bound() {
    let mut cfg = config();
    let public: IpAddr = "203.0.113.50".parse().unwrap();
    cfg.external_ips.insert(relay_v4(), public);
    let mut h = Harness::with(cfg);
    let relay = h.allocate(udp(1));
    assert_eq!(relay.ip(), public);
    let local = SocketAddr::new(relay_v4(), relay.port());
    assert!(h.binder.state.lock().unwrap().bound.contains(&local));
    let info = h.server.allocations().next().unwrap();
    assert_eq!(info.relays, vec![local]);
    assert_eq!(info.advertised, vec![relay]);
}
