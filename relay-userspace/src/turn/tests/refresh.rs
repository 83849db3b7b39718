//! Refresh, RFC 8656 §8.2.

use super::*;
use crate::stun::AddressFamily;

#[test]
fn refresh_without_allocation_is_437() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::REFRESH, |_| {});
    assert_eq!(r.code(), Some(437));
}

#[test]
fn lifetime_zero_deletes_at_once() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    let r = h.alice(udp(1), Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 0);
    });
    assert_signed_success(&r, USER, PASS);
    assert_eq!(r.u32(at::LIFETIME), Some(0));
    assert_eq!(h.server.allocations().count(), 0);
    assert_eq!(h.server.stats().allocations_active, 0);
    assert!(h.binder.state.lock().unwrap().closed.contains(&relay));
    assert_eq!(h.server.timer_count(), 0);
    // A retransmitted delete now meets no allocation: 437 (§8.3 says clients treat it as
    // success).
    let r = h.alice(udp(1), Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 0);
    });
    assert_eq!(r.code(), Some(437));
}

#[test]
fn refresh_extends_and_expiry_deletes() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    assert_eq!(h.server.poll_timeout(), Some(h.t0 + Duration::from_secs(600)));
    h.advance(500);
    let r = h.alice(udp(1), Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 900);
    });
    assert_eq!(r.u32(at::LIFETIME), Some(900));
    h.advance(500);
    assert_eq!(h.server.allocations().count(), 1, "refreshed past the first expiry");
    h.outputs();
    h.advance(400);
    assert_eq!(h.server.allocations().count(), 0);
    assert!(h.outputs().contains(&Output::RelayClosed { relay }));
    assert_eq!(h.server.stats().allocations_expired, 1);
    assert_eq!(h.server.poll_timeout(), None);
}

#[test]
fn requested_family_mismatch_is_443_and_dual_family_delete() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    let r = h.alice(udp(1), Method::REFRESH, |b| {
        b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V6);
    });
    assert_eq!(r.code(), Some(443));

    let r = h.alice(udp(2), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, AddressFamily::V6);
    });
    let v6 = r.xors(at::XOR_RELAYED_ADDRESS)[1];
    h.outputs();
    let r = h.alice(udp(2), Method::REFRESH, |b| {
        b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, AddressFamily::V6);
        b.add_u32(at::LIFETIME, 0);
    });
    assert_eq!(r.class(), Class::Success);
    let dual = h.server.allocations().find(|a| a.five_tuple == udp(2)).unwrap();
    assert_eq!(dual.relays.len(), 1);
    assert!(dual.relays[0].is_ipv4());
    assert!(h.binder.state.lock().unwrap().closed.contains(&v6));
}
