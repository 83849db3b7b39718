//! Hostile and wrong requests against the real binary: each gets the RFC's answer, and the
//! server still serves afterwards. (Every rule is also unit-tested in the core with a fake clock.)
// Tests panic on failure by design (STYLE.md); unwrap is how they fail.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::relay::RelayProcess;
use harness::turn_client::Client;
use relay::stun::{attr_type as at, Class, Method};
use std::net::{IpAddr, SocketAddr};

const SECRET: &str = "ward-7-secret";

fn relay(n: u8, extra: &[&str]) -> (RelayProcess, SocketAddr) {
    let ip = harness::loopback(n);
    let mut args = vec!["--listening-ip".to_string(), ip.to_string(), "--no-tls".into(), "--no-tcp".into()];
    args.extend(["--user", "alice:wonderland", "--use-auth-secret", "--static-auth-secret", SECRET].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (RelayProcess::start(&refs), SocketAddr::new(ip, 3478))
}

fn rest_user(expiry: u64) -> (String, String) {
    let user = relay::turn::rest_username(expiry, "patient-9", ':');
    let pass = relay::turn::rest_password(SECRET, &user);
    (user, pass)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

fn still_serves(server: SocketAddr) {
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    assert_eq!(c.allocate().class(), Class::Success, "server still allocates after the hostile input");
}

#[test]
fn wrong_password_and_unknown_user_get_401() {
    let (_r, server) = relay(31, &[]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "not-the-password");
    assert_eq!(c.allocate().error(), Some(401));
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("mallory", "whatever");
    assert_eq!(c.allocate().error(), Some(401));
    still_serves(server);
}

#[test]
fn rest_credentials_valid_and_expired() {
    let (_r, server) = relay(32, &[]);
    let (user, pass) = rest_user(unix_now() + 3600);
    let mut ok = Client::new("127.0.0.1:0", server);
    ok.login(&user, &pass);
    assert_eq!(ok.allocate().class(), Class::Success, "fresh REST credentials allocate");
    let (user, pass) = rest_user(unix_now() - 10);
    let mut expired = Client::new("127.0.0.1:0", server);
    expired.login(&user, &pass);
    assert_eq!(expired.allocate().error(), Some(401), "an expired REST username is refused");
}

#[test]
fn nonce_from_elsewhere_is_stale_or_unauthorised() {
    let (_r, server) = relay(33, &[]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    c.nonce = "obMatJos2AAAAbogus-nonce-from-another-server".into();
    let code = c.allocate().error();
    assert!(matches!(code, Some(438) | Some(401)), "forged nonce must not authenticate: {code:?}");
}

#[test]
fn allocation_mismatch_gets_437() {
    let (_r, server) = relay(34, &[]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    assert_eq!(c.allocate().class(), Class::Success);
    // A second Allocate with a new transaction id on the same 5-tuple: RFC 8656 §7.2 step 1.
    assert_eq!(c.allocate().error(), Some(437));
    // Refresh and CreatePermission from a 5-tuple without allocation: 437 too.
    let mut other = Client::new("127.0.0.1:0", server);
    other.login("alice", "wonderland");
    let r = other.request(Method::REFRESH, |_| {});
    assert_eq!(r.error(), Some(437));
}

#[test]
fn forbidden_peers_get_403() {
    // A dual-stack allocation (RFC 8656 §7.2 ADDITIONAL-ADDRESS-FAMILY), so IPv6 peers are
    // judged by the peer policy rather than refused for their family (443).
    let v4 = harness::loopback(35).to_string();
    let (_r, server) = relay(35, &["--relay-ip", &v4, "--relay-ip", "::1"]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    let r = c.request(Method::ALLOCATE, |b| {
        b.add_requested_transport(17);
        b.add_address_family(at::ADDITIONAL_ADDRESS_FAMILY, relay::stun::AddressFamily::V6);
    });
    assert_eq!(r.class(), Class::Success, "dual allocation");
    assert_eq!(r.msg().xor_addresses(at::XOR_RELAYED_ADDRESS).count(), 2, "two relayed addresses");
    let forbidden: &[&str] = &[
        "127.0.0.1:5000",
        "127.9.9.9:5000",
        "0.0.0.0:5000",
        "[::]:5000",
        "[::1]:5000",
        "[::ffff:127.0.0.1]:5000",
        "[::ffff:0.0.0.0]:5000",
        "[::127.0.0.1]:5000",
        "[64:ff9b::7f00:1]:5000",
        "224.0.0.1:5000",
        "239.255.255.250:1900",
        "255.255.255.255:5000",
        "169.254.169.254:80",
        "[fe80::1]:5000",
        "[ff02::1]:5000",
    ];
    for peer in forbidden {
        let peer: SocketAddr = peer.parse().unwrap();
        assert_eq!(c.create_permission(peer).error(), Some(403), "CreatePermission to {peer}");
        assert_eq!(c.channel_bind(0x4001, peer).error(), Some(403), "ChannelBind to {peer}");
    }
    // The relay's own listening address is refused even with loopback peers allowed elsewhere.
    assert_eq!(c.create_permission(server).error(), Some(403));
    // An ordinary public peer is fine (nothing is sent to it).
    let public = SocketAddr::new(IpAddr::from([192, 0, 2, 10]), 5000);
    assert_eq!(c.create_permission(public).class(), Class::Success);
    still_serves(server);
}

#[test]
fn denied_range_and_allowed_override() {
    let (_r, server) =
        relay(36, &["--denied-peer-ip", "198.51.100.0/24", "--allowed-peer-ip", "198.51.100.7-198.51.100.9"]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    assert_eq!(c.allocate().class(), Class::Success);
    let denied: SocketAddr = "198.51.100.20:4000".parse().unwrap();
    let allowed: SocketAddr = "198.51.100.8:4000".parse().unwrap();
    assert_eq!(c.create_permission(denied).error(), Some(403));
    assert_eq!(c.create_permission(allowed).class(), Class::Success);
}

#[test]
fn unknown_comprehension_required_attribute_gets_420() {
    let (_r, server) = relay(37, &[]);
    let c = Client::new("127.0.0.1:0", server);
    let r = c.request(Method::BINDING, |b| {
        b.add_raw(0x7ff0, &[1, 2, 3, 4]);
    });
    assert_eq!(r.error(), Some(420));
    let msg = r.msg();
    let unknown = msg.get(at::UNKNOWN_ATTRIBUTES).expect("UNKNOWN-ATTRIBUTES");
    assert_eq!(unknown.value, &[0x7f, 0xf0]);
}

#[test]
fn malformed_and_truncated_messages_are_dropped_and_server_survives() {
    let (_r, server) = relay(38, &[]);
    let mut c = Client::new("127.0.0.1:0", server);
    c.login("alice", "wonderland");
    let mut good = Vec::new();
    {
        let mut b =
            relay::stun::MessageBuilder::new(&mut good, Class::Request, Method::ALLOCATE, harness::turn_client::tid());
        b.add_requested_transport(17);
        b.add_text(at::USERNAME, "alice");
        b.add_text(at::REALM, &c.realm);
        b.add_text(at::NONCE, &c.nonce);
        b.add_message_integrity(&c.key);
        b.add_fingerprint();
        b.finish();
    }
    // Every truncation, every single-byte corruption of a valid authenticated request.
    for cut in 0..good.len() {
        c.send_raw(&good[..cut]);
    }
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0x5a;
        c.send_raw(&bad);
    }
    // ChannelData on unbound channels, reserved channel numbers, absurd lengths.
    for junk in [&[0x40u8, 0x00, 0xff, 0xff][..], &[0x7f, 0xff, 0, 4, 1, 2, 3, 4], &[0x40, 0x01, 0, 0]] {
        c.send_raw(junk);
    }
    // Drain whatever error responses came back, then check the server is alive.
    c.sock.set_read_timeout(Some(std::time::Duration::from_millis(300))).unwrap();
    while c.recv().is_some() {}
    still_serves(server);
}
