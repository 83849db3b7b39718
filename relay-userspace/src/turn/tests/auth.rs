//! RFC 8489 §9.2 long-term credentials, nonces, REST usernames, rate limiting.

use super::*;
use crate::stun::{long_term_key_sha256, userhash, IntegrityResult, PasswordAlgorithm};

fn alloc_attrs(b: &mut MessageBuilder<'_>) {
    b.add_requested_transport(PROTO_UDP);
}

#[test]
fn challenge_carries_realm_nonce_cookie_and_password_algorithms() {
    let mut h = Harness::new();
    let r = h.request(udp(1), Method::ALLOCATE, None, alloc_attrs);
    assert_eq!(r.code(), Some(401));
    assert_eq!(r.text(at::REALM).as_deref(), Some(REALM));
    let nonce = r.text(at::NONCE).unwrap();
    // RFC 8489 §9.2: cookie + feature bits (password algorithms, username anonymity).
    assert!(nonce.starts_with("obMatJos2wAAA"), "{nonce}");
    assert!(r.has(at::PASSWORD_ALGORITHMS));
    assert!(!r.has(at::MESSAGE_INTEGRITY), "401 is never signed");
    assert_eq!(r.text(at::SOFTWARE).as_deref(), Some("relay-test"));
    assert_eq!(h.server.stats().errors_with(401), 1);
    assert_eq!(h.server.allocations().count(), 0);
}

#[test]
fn correct_credentials_allocate_and_response_is_signed() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, alloc_attrs);
    assert_signed_success(&r, USER, PASS);
    assert_eq!(r.xor(at::XOR_MAPPED_ADDRESS), Some(udp(1).client));
    assert_eq!(r.u32(at::LIFETIME), Some(600));
    let relay = r.xor(at::XOR_RELAYED_ADDRESS).unwrap();
    assert_eq!(relay.ip(), relay_v4());
    assert!((50000..=50099).contains(&relay.port()));
    assert!(h.binder.state.lock().unwrap().bound.contains(&relay));
}

#[test]
fn wrong_password_and_unknown_user_get_401() {
    let mut h = Harness::new();
    let r = h.request(udp(1), Method::ALLOCATE, Some(&creds(USER, "nope")), alloc_attrs);
    assert_eq!(r.code(), Some(401));
    assert!(!r.has(at::MESSAGE_INTEGRITY));
    assert!(r.text(at::NONCE).is_some());
    let r = h.request(udp(1), Method::ALLOCATE, Some(&creds("mallory", "x")), alloc_attrs);
    assert_eq!(r.code(), Some(401));
    assert_eq!(h.server.allocations().count(), 0);
}

#[test]
fn missing_realm_or_nonce_with_integrity_is_400() {
    let mut h = Harness::new();
    let tid = h.next_tid();
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::ALLOCATE, tid);
    b.add_requested_transport(PROTO_UDP);
    b.add_text(at::USERNAME, USER);
    b.add_message_integrity(&long_term_key_md5(USER, REALM, PASS));
    b.finish();
    let outs = h.send_raw(udp(1), &buf);
    let r = &Harness::client_msgs(&outs)[0];
    assert_eq!(r.code(), Some(400));
}

#[test]
fn sha256_integrity_is_answered_with_sha256() {
    let mut h = Harness::new();
    let c = Creds { sha256_mi: true, ..creds(USER, PASS) };
    let r = h.request(udp(1), Method::ALLOCATE, Some(&c), alloc_attrs);
    assert_eq!(r.class(), Class::Success);
    let key = long_term_key_md5(USER, REALM, PASS);
    assert_eq!(r.msg().verify_integrity_sha256(&key), IntegrityResult::Ok);
    assert!(!r.has(at::MESSAGE_INTEGRITY));
}

/// RFC 8489 §9.2.4 step 3 with the password-algorithms bit set in our nonce.
#[test]
fn password_algorithm_negotiation() {
    let mut h = Harness::new();
    h.fetch_nonce(udp(1));
    let nonce = h.nonce.clone().unwrap();
    let send = |h: &mut Harness, ft, algs: Option<&[PasswordAlgorithm]>, alg: Option<PasswordAlgorithm>| {
        let tid = h.next_tid();
        let mut buf = Vec::new();
        let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::ALLOCATE, tid);
        b.add_requested_transport(PROTO_UDP);
        b.add_text(at::USERNAME, USER);
        b.add_text(at::REALM, REALM);
        b.add_text(at::NONCE, &nonce);
        if let Some(l) = algs {
            b.add_password_algorithms(l);
        }
        if let Some(a) = alg {
            b.add_password_algorithm(a);
        }
        b.add_message_integrity_sha256(&long_term_key_sha256(USER, REALM, PASS));
        b.finish();
        let outs = h.send_raw(ft, &buf);
        Harness::client_msgs(&outs).remove(0)
    };
    let ours = [PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5];
    let r = send(&mut h, udp(1), Some(&ours), Some(PasswordAlgorithm::Sha256));
    assert_eq!(r.class(), Class::Success, "{:?}", r.code());
    let key = long_term_key_sha256(USER, REALM, PASS);
    assert_eq!(r.msg().verify_integrity_sha256(&key), IntegrityResult::Ok);
    // Only one of the two attributes -> 400.
    let r = send(&mut h, udp(2), None, Some(PasswordAlgorithm::Sha256));
    assert_eq!(r.code(), Some(400));
    // A list that does not echo ours (downgrade attempt) -> 400.
    let r = send(&mut h, udp(3), Some(&[PasswordAlgorithm::Md5]), Some(PasswordAlgorithm::Md5));
    assert_eq!(r.code(), Some(400));
}

#[test]
fn userhash_identifies_static_users() {
    let mut h = Harness::new();
    h.fetch_nonce(udp(1));
    let nonce = h.nonce.clone().unwrap();
    let tid = h.next_tid();
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::ALLOCATE, tid);
    b.add_requested_transport(PROTO_UDP);
    b.add_raw(at::USERHASH, &userhash(USER, REALM));
    b.add_text(at::REALM, REALM);
    b.add_text(at::NONCE, &nonce);
    b.add_message_integrity(&long_term_key_md5(USER, REALM, PASS));
    b.finish();
    let outs = h.send_raw(udp(1), &buf);
    assert_signed_success(&Harness::client_msgs(&outs)[0], USER, PASS);
}

#[test]
fn stale_nonce_gets_438_with_fresh_nonce_then_retry_works() {
    let mut h = Harness::new();
    h.auto_renew_nonce = false;
    h.fetch_nonce(udp(1));
    let old = h.nonce.clone().unwrap();
    h.advance(601);
    let r = h.alice(udp(1), Method::ALLOCATE, alloc_attrs);
    assert_eq!(r.code(), Some(438));
    let fresh = r.text(at::NONCE).unwrap();
    assert_ne!(fresh, old);
    // Integrity was fine, so the 438 is signed (RFC 8489 §9.2.4).
    let key = long_term_key_md5(USER, REALM, PASS);
    assert_eq!(r.msg().verify_integrity_sha1(&key), IntegrityResult::Ok);
    h.nonce = Some(fresh);
    h.allocate(udp(1));
}

#[test]
fn forged_nonce_is_stale_and_nonce_is_bound_to_client_ip() {
    let mut h = Harness::new();
    h.auto_renew_nonce = false;
    h.nonce = Some("obMatJos2wAAAforgedforgedforgedforged".into());
    let r = h.alice(udp(1), Method::ALLOCATE, alloc_attrs);
    assert_eq!(r.code(), Some(438));
    // A nonce issued to another address is not valid for this one.
    h.fetch_nonce(udp(1));
    let other = FiveTuple { client: addr("203.0.113.9:4000"), ..udp(1) };
    let r = h.alice(other, Method::ALLOCATE, alloc_attrs);
    assert_eq!(r.code(), Some(438));
}

fn rest_config() -> ServerConfig {
    let mut c = config();
    c.auth.use_auth_secret = true;
    c.auth.secrets = vec!["old-secret".into(), "new-secret".into()];
    c
}

#[test]
fn rest_usernames_any_secret_and_expiry() {
    let mut h = Harness::with(rest_config());
    h.server.set_unix_time(1_000);
    let user = rest_username(2_000, "carol", ':');
    for (i, secret) in ["old-secret", "new-secret"].iter().enumerate() {
        let c = creds(&user, &rest_password(secret, &user));
        let r = h.request(udp(10 + i as u16), Method::ALLOCATE, Some(&c), alloc_attrs);
        assert_eq!(r.class(), Class::Success, "secret {secret}");
    }
    let info: Vec<_> = h.server.allocations().collect();
    assert!(info.iter().all(|a| &*a.user == "carol"), "quota/metering identity is the user part");
    // Expired username -> 401.
    let expired = rest_username(999, "carol", ':');
    let c = creds(&expired, &rest_password("new-secret", &expired));
    let r = h.request(udp(20), Method::ALLOCATE, Some(&c), alloc_attrs);
    assert_eq!(r.code(), Some(401));
    // Unknown secret -> 401.
    let c = creds(&user, &rest_password("other", &user));
    assert_eq!(h.request(udp(21), Method::ALLOCATE, Some(&c), alloc_attrs).code(), Some(401));
    // Once the clock passes the expiry, even the allocation's refreshes are refused.
    h.server.set_unix_time(2_000);
    let c = creds(&user, &rest_password("new-secret", &user));
    let r = h.request(udp(11), Method::REFRESH, Some(&c), |_| {});
    assert_eq!(r.code(), Some(401));
}

#[test]
fn rest_refused_until_wall_clock_is_known() {
    let mut h = Harness::with(rest_config());
    let user = rest_username(u64::MAX / 2, "carol", ':');
    let c = creds(&user, &rest_password("new-secret", &user));
    let r = h.request(udp(1), Method::ALLOCATE, Some(&c), alloc_attrs);
    assert_eq!(r.code(), Some(401));
}

#[test]
fn other_credentials_on_an_allocation_get_441() {
    let mut h = Harness::new();
    h.allocate(udp(1));
    let r = h.request(udp(1), Method::REFRESH, Some(&creds("bob", "builder")), |_| {});
    assert_eq!(r.code(), Some(441));
    // The allocation's own user is fine (cached key path).
    let r = h.alice(udp(1), Method::REFRESH, |_| {});
    assert_signed_success(&r, USER, PASS);
}

#[test]
fn unauthenticated_requests_are_rate_limited_per_source() {
    let mut cfg = config();
    cfg.rate_limit = RateLimitConfig { burst: 3, per_second: 1, max_sources: 1000 };
    let mut h = Harness::with(cfg);
    for _ in 0..3 {
        let r = h.request(udp(1), Method::ALLOCATE, None, alloc_attrs);
        assert_eq!(r.code(), Some(401));
    }
    let bytes = h.build(Method::ALLOCATE, TransactionId([1; 12]), None, alloc_attrs);
    assert!(h.send_raw(udp(2), &bytes).is_empty(), "same IP, other port: still limited");
    assert_eq!(h.server.stats().drops.rate_limited, 1);
    let other = FiveTuple { client: addr("203.0.113.9:4000"), ..udp(1) };
    assert_eq!(h.request(other, Method::BINDING, None, |_| {}).class(), Class::Success);
    h.now += Duration::from_secs(1);
    assert_eq!(h.request(udp(1), Method::BINDING, None, |_| {}).class(), Class::Success);
}

#[test]
fn unknown_comprehension_required_attribute_gets_420() {
    let mut h = Harness::new();
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(0x7f01, &[1, 2, 3, 4]);
    });
    assert_eq!(r.code(), Some(420));
    let unknown = r.msg().get(at::UNKNOWN_ATTRIBUTES).unwrap().value.to_vec();
    assert_eq!(unknown, vec![0x7f, 0x01]);
    assert_eq!(h.server.allocations().count(), 0);
    // Comprehension-optional unknowns are ignored.
    let r = h.alice(udp(1), Method::ALLOCATE, |b| {
        b.add_requested_transport(PROTO_UDP);
        b.add_raw(0xc001, &[1, 2, 3, 4]);
    });
    assert_eq!(r.class(), Class::Success);
}

#[test]
fn binding_answered_on_every_transport_without_auth() {
    let mut h = Harness::new();
    for ft in [udp(5), tcp(6)] {
        let r = h.request(ft, Method::BINDING, None, |_| {});
        assert_eq!(r.class(), Class::Success);
        assert_eq!(r.xor(at::XOR_MAPPED_ADDRESS), Some(ft.client));
        assert!(!r.has(at::MESSAGE_INTEGRITY));
    }
    let r = h.request(udp(5), Method::BINDING, None, |b| {
        b.add_raw(0x7f02, &[0; 4]);
    });
    assert_eq!(r.code(), Some(420));
    assert_eq!(h.server.stats().requests.binding, 3);
}

#[test]
fn unknown_method_gets_400() {
    let mut h = Harness::new();
    let r = h.request(udp(1), Method(0x0ff), None, |_| {});
    assert_eq!(r.code(), Some(400));
}
