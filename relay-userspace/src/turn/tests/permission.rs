//! CreatePermission (RFC 8656 §10.2) and the peer policy (§10.2, §12.2: the server MAY restrict peers).

use super::*;

#[test]
fn missing_or_malformed_peer_is_400() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    let r = h.alice(udp(1), Method::CREATE_PERMISSION, |_| {});
    assert_eq!(r.code(), Some(400));
    let r = h.alice(udp(1), Method::CREATE_PERMISSION, |b| {
        b.add_raw(at::XOR_PEER_ADDRESS, &[0, 1, 2]);
    });
    assert_eq!(r.code(), Some(400));
}

#[test]
fn forbidden_peers_get_403() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    let r = h.alice(udp(2), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, crate::stun::AddressFamily::V6);
    });
    assert_eq!(r.class(), Class::Success);
    for (ft, peer) in [
        (udp(1), "127.0.0.1:80"),
        (udp(1), "0.0.0.0:22"),
        (udp(1), "169.254.169.254:80"),
        (udp(1), "224.0.0.1:5000"),
        (udp(1), "255.255.255.255:5000"),
        (udp(1), "192.0.2.10:3478"), // the relay's own listening address
        (udp(2), "[::]:22"),
        (udp(2), "[::1]:22"),
        (udp(2), "[::ffff:127.0.0.1]:22"),
        (udp(2), "[64:ff9b::7f00:1]:22"),
        (udp(2), "[fe80::1]:22"),
    ] {
        let r = h.create_permission(ft, addr(peer));
        assert_eq!(r.code(), Some(403), "{peer}");
        assert_eq!(h.channel_bind(ft, 0x4000, addr(peer)).code(), Some(403), "{peer}");
    }
    // All or nothing: one forbidden peer among good ones installs none.
    let r = h.alice(udp(1), Method::CREATE_PERMISSION, |b| {
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.20:1"));
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("127.0.0.1:1"));
    });
    assert_eq!(r.code(), Some(403));
    let info = h.server.allocations().find(|a| a.five_tuple == udp(1)).unwrap();
    assert_eq!(info.permissions, 0);
}

#[test]
fn allow_loopback_switch_admits_loopback() {
    let mut cfg = config();
    cfg.peer_policy.allow_loopback();
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    assert_eq!(h.create_permission(udp(1), addr("127.0.0.1:9")).class(), Class::Success);
    assert_eq!(h.create_permission(udp(1), addr("0.0.0.0:9")).code(), Some(403));
    // The relay's own ports stay closed even then.
    let mut cfg = config();
    cfg.peer_policy.allow_loopback();
    cfg.listening = vec![addr("0.0.0.0:3478")];
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    assert_eq!(h.create_permission(udp(1), addr("127.0.0.1:3478")).code(), Some(403));
    assert_eq!(h.create_permission(udp(1), addr("192.0.2.10:3478")).code(), Some(403));
}

#[test]
fn peer_family_mismatch_is_443() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    let r = h.create_permission(udp(1), addr("[2001:db8:1::1]:5000"));
    assert_eq!(r.code(), Some(443));
}

#[test]
fn several_peers_and_the_per_allocation_cap_508() {
    let mut cfg = config();
    cfg.max_permissions_per_allocation = 2;
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    let r = h.alice(udp(1), Method::CREATE_PERMISSION, |b| {
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.20:1"));
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.20:2"));
        b.add_xor_address(at::XOR_PEER_ADDRESS, addr("198.51.100.21:1"));
    });
    assert_signed_success(&r, USER, PASS);
    let r = h.create_permission(udp(1), addr("198.51.100.22:1"));
    assert_eq!(r.code(), Some(508));
    assert!(r.msg().error_code().unwrap().unwrap().1.contains("permission limit"));
    // Refreshing an existing one is still fine.
    assert_eq!(h.create_permission(udp(1), addr("198.51.100.21:9")).class(), Class::Success);
}
