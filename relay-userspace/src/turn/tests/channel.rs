//! ChannelBind (RFC 8656 §12.2) and channel lifetimes.

use super::*;
use crate::offload::ChannelBinding;

fn peer() -> SocketAddr {
    addr("198.51.100.20:6000")
}

fn bound(outs: &[Output]) -> Vec<ChannelBinding> {
    outs.iter()
        .filter_map(|o| match o {
            Output::ChannelBound(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

fn unbound(outs: &[Output]) -> Vec<ChannelBinding> {
    outs.iter()
        .filter_map(|o| match o {
            Output::ChannelUnbound(b) => Some(b.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn bind_installs_permission_and_tells_offload() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    h.outputs();
    let tid = h.next_tid();
    let bytes = h.build(Method::CHANNEL_BIND, tid, Some(&creds(USER, PASS)), |b| {
        b.add_channel_number(0x4000);
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    });
    let outs = h.send_raw(udp(1), &bytes);
    assert_signed_success(&Harness::client_msgs(&outs)[0], USER, PASS);
    let b = bound(&outs);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].channel, 0x4000);
    assert_eq!(b[0].peer, peer());
    assert_eq!(b[0].relay, relay);
    assert_eq!(b[0].client, udp(1).client);
    assert_eq!(b[0].transport, Transport::Udp);
    assert_eq!(&*b[0].user, USER);
    // Usable until the earlier of permission (300 s) and channel (600 s).
    assert_eq!(b[0].expires_at, h.now + Duration::from_secs(300));
    let info = h.server.allocations().next().unwrap();
    assert_eq!((info.permissions, info.channels), (1, 1));
}

#[test]
fn channel_number_range_and_pairing_rules_400() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    for bad in [0x0000, 0x3fff, 0x8000, 0xffff] {
        assert_eq!(h.channel_bind(udp(1), bad, peer()).code(), Some(400), "{bad:#x}");
    }
    assert_eq!(h.channel_bind(udp(1), 0x4000, peer()).class(), Class::Success);
    assert_eq!(h.channel_bind(udp(1), 0x4FFF, addr("198.51.100.21:1")).class(), Class::Success);
    // Number bound to another peer, peer bound to another number.
    assert_eq!(h.channel_bind(udp(1), 0x4000, addr("198.51.100.22:1")).code(), Some(400));
    assert_eq!(h.channel_bind(udp(1), 0x4001, peer()).code(), Some(400));
    // Same pair again is a refresh.
    assert_eq!(h.channel_bind(udp(1), 0x4000, peer()).class(), Class::Success);
    // Missing attributes.
    let r = h.alice(udp(1), Method::CHANNEL_BIND, |b| {
        b.add_channel_number(0x4002);
    });
    assert_eq!(r.code(), Some(400));
    let r = h.alice(udp(1), Method::CHANNEL_BIND, |b| {
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    });
    assert_eq!(r.code(), Some(400));
}

#[test]
fn rfc5766_channel_numbers_accepted_unless_strict() {
    let mut h = Harness::new();
    let relay = h.allocate(udp(1));
    assert_eq!(h.channel_bind(udp(1), 0x7abc, peer()).class(), Class::Success);
    h.outputs();
    let outs = h.send_raw(udp(1), &[0x7a, 0xbc, 0x00, 0x01, 0x55]);
    assert!(matches!(&outs[..], [Output::ToPeer { data, .. }] if data == &[0x55]));
    h.server.handle_peer(h.now, relay, peer(), &[0x66]);
    let outs = h.outputs();
    assert!(matches!(&outs[..], [Output::ToClient { data, .. }] if data == &[0x7a, 0xbc, 0, 1, 0x66]));

    let mut cfg = config();
    cfg.legacy_channel_numbers = false;
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    for bad in [0x5000, 0x7fff] {
        assert_eq!(h.channel_bind(udp(1), bad, peer()).code(), Some(400), "{bad:#x}");
    }
}

#[test]
fn channel_bind_without_allocation_is_437_family_443() {
    let mut h = Harness::new();
    assert_eq!(h.channel_bind(udp(1), 0x4000, peer()).code(), Some(437));
    h.allocate(udp(1));
    assert_eq!(h.channel_bind(udp(1), 0x4000, addr("[2001:db8:9::1]:1")).code(), Some(443));
}

#[test]
fn channel_cap_is_508() {
    let mut cfg = config();
    cfg.max_channels_per_allocation = 2;
    let mut h = Harness::with(cfg);
    h.allocate(udp(1));
    assert_eq!(h.channel_bind(udp(1), 0x4000, addr("198.51.100.20:1")).class(), Class::Success);
    assert_eq!(h.channel_bind(udp(1), 0x4001, addr("198.51.100.20:2")).class(), Class::Success);
    let r = h.channel_bind(udp(1), 0x4002, addr("198.51.100.20:3"));
    assert_eq!(r.code(), Some(508));
    assert!(r.msg().error_code().unwrap().unwrap().1.contains("channel limit"));
}

/// An allocation that outlives its channels.
fn long_allocation(h: &mut Harness) {
    h.allocate(udp(1));
    h.alice(udp(1), Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 3600);
    });
}

#[test]
fn permission_expiry_suspends_channel_and_refresh_resumes_it() {
    let mut h = Harness::new();
    long_allocation(&mut h);
    h.channel_bind(udp(1), 0x4000, peer());
    h.outputs();
    h.advance(300);
    let outs = h.outputs();
    assert_eq!(unbound(&outs).len(), 1, "permission gone: offload must stop");
    assert_eq!(h.server.allocations().next().unwrap().channels, 1, "channel still bound");
    let cd = [0x40, 0x00, 0x00, 0x02, 0xAA, 0xBB];
    assert!(h.send_raw(udp(1), &cd).is_empty());
    assert_eq!(h.server.stats().drops.no_permission, 1);
    // CreatePermission brings it back, bounded by the channel's own expiry (600 s).
    let tid = h.next_tid();
    let bytes = h.build(Method::CREATE_PERMISSION, tid, Some(&creds(USER, PASS)), |b| {
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    });
    let outs = h.send_raw(udp(1), &bytes);
    let b = bound(&outs);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].expires_at, h.t0 + Duration::from_secs(600));
    assert_eq!(h.send_raw(udp(1), &cd).len(), 1);
    // At 600 s the channel expires for good.
    h.advance(300);
    let outs = h.outputs();
    assert_eq!(unbound(&outs).len(), 1);
    assert_eq!(h.server.allocations().next().unwrap().channels, 0);
    assert!(h.send_raw(udp(1), &cd).is_empty());
    assert_eq!(h.server.stats().drops.unbound_channel, 1);
    // Number and peer are free again (RFC 8656 §12; the 5-minute wait is the client's duty).
    assert_eq!(h.channel_bind(udp(1), 0x4001, peer()).class(), Class::Success);
}

#[test]
fn channel_refresh_moves_expiry() {
    let mut h = Harness::new();
    long_allocation(&mut h);
    h.channel_bind(udp(1), 0x4000, peer());
    h.advance(200);
    h.outputs();
    let tid = h.next_tid();
    let bytes = h.build(Method::CHANNEL_BIND, tid, Some(&creds(USER, PASS)), |b| {
        b.add_channel_number(0x4000);
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    });
    let outs = h.send_raw(udp(1), &bytes);
    let b = bound(&outs);
    assert_eq!(b.len(), 1, "refresh re-announces the binding");
    assert_eq!(b[0].expires_at, h.now + Duration::from_secs(300));
    h.advance(550);
    assert_eq!(h.server.allocations().next().unwrap().channels, 1, "alive at 750 s");
}

/// RFC 8656 §12: "Once unbound, the channel number can be bound to a different transport
/// address, and the transport address can be bound to a different channel number." The
/// 5-minute wait that follows in §12 is a client MUST; a server enforcing it would answer
/// 400, and §12.3 tells a client to drop its allocation on an unexpected 400.
#[test]
fn expired_channel_number_and_peer_rebind_at_once_elsewhere() {
    let mut h = Harness::new();
    long_allocation(&mut h);
    let other = addr("198.51.100.21:7000");
    assert_eq!(h.channel_bind(udp(1), 0x4000, peer()).class(), Class::Success);
    h.advance(599);
    assert_eq!(h.channel_bind(udp(1), 0x4000, other).code(), Some(400), "still bound at 599 s");
    assert_eq!(h.channel_bind(udp(1), 0x4001, peer()).code(), Some(400), "still bound at 599 s");
    h.advance(1);
    assert_eq!(h.server.allocations().next().unwrap().channels, 0, "expired at 600 s");
    assert_eq!(h.channel_bind(udp(1), 0x4000, other).class(), Class::Success, "number to a new peer");
    assert_eq!(h.channel_bind(udp(1), 0x4001, peer()).class(), Class::Success, "peer to a new number");
}

#[test]
fn offloaded_expiry_is_bounded_by_the_allocation_and_moves_with_refresh() {
    let mut h = Harness::new();
    h.allocate(udp(1)); // default lifetime 600 s
    h.advance(400);
    h.outputs();
    // Channel (600 s) and permission (300 s) both outlive the allocation's remaining 200 s.
    let tid = h.next_tid();
    let bytes = h.build(Method::CHANNEL_BIND, tid, Some(&creds(USER, PASS)), |b| {
        b.add_channel_number(0x4000);
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer());
    });
    let b = bound(&h.send_raw(udp(1), &bytes));
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].expires_at, h.now + Duration::from_secs(200), "bounded by the allocation");
    // Refresh (RFC 8656 §8.2) moves the bound: the entry now lives until the permission ends.
    let tid = h.next_tid();
    let bytes = h.build(Method::REFRESH, tid, Some(&creds(USER, PASS)), |b| {
        b.add_u32(at::LIFETIME, 600);
    });
    let b = bound(&h.send_raw(udp(1), &bytes));
    assert_eq!(b.len(), 1, "refresh re-installs the binding with the new bound");
    assert_eq!(b[0].expires_at, h.now + Duration::from_secs(300));
}
