//! The operator log: an allocation's life can be followed by user, failures say why, no
//! secret and no per-packet line is ever written, and logging changes no behaviour.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

use super::*;

/// Collects formatted log lines of the current thread.
///
/// One global subscriber is installed once and routes each event to the capture of the thread
/// that emitted it. A scoped subscriber per test (`with_default`) raced with tracing's
/// process-wide callsite interest cache when tests ran in parallel, and lost every line.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

thread_local! {
    static SINK: std::cell::RefCell<Option<(Captured, tracing::Level)>> = const { std::cell::RefCell::new(None) };
}

/// Writes to the current thread's capture, or nowhere.
struct Router;

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Router {
    type Writer = Box<dyn Write>;
    fn make_writer(&'a self) -> Self::Writer {
        Box::new(std::io::sink())
    }
    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> Self::Writer {
        SINK.with_borrow(|s| match s {
            Some((c, level)) if meta.level() <= level => Box::new(c.clone()) as Box<dyn Write>,
            _ => Box::new(std::io::sink()),
        })
    }
}

impl Captured {
    fn lines(&self) -> Vec<String> {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap().lines().map(str::to_owned).collect()
    }
    fn with<R>(&self, level: tracing::Level, f: impl FnOnce() -> R) -> R {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let sub = tracing_subscriber::fmt()
                .with_writer(Router)
                .with_ansi(false)
                .with_max_level(tracing::Level::TRACE)
                .finish();
            tracing::subscriber::set_global_default(sub).unwrap();
        });
        SINK.with_borrow_mut(|s| *s = Some((self.clone(), level)));
        let r = f();
        SINK.with_borrow_mut(|s| *s = None);
        r
    }
}

fn find<'a>(lines: &'a [String], needle: &str) -> Vec<&'a String> {
    lines.iter().filter(|l| l.contains(needle)).collect()
}

fn peer() -> SocketAddr {
    addr("198.51.100.20:6000")
}

#[test]
fn an_allocation_life_can_be_followed_by_user() {
    let log = Captured::default();
    log.with(tracing::Level::DEBUG, || {
        let mut h = Harness::new();
        let relay = h.allocate(udp(1));
        h.channel_bind(udp(1), 0x4000, peer());
        h.outputs();
        for _ in 0..100 {
            h.send_raw(udp(1), &[0x40, 0x00, 0x00, 0x03, 1, 2, 3, 0]);
            h.server.handle_peer(h.now, relay, peer(), &[9; 10]);
        }
        h.outputs();
        h.alice(udp(1), Method::REFRESH, |b| {
            b.add_u32(at::LIFETIME, 1200);
        });
        h.advance(300);
        h.alice(udp(1), Method::REFRESH, |b| {
            b.add_u32(at::LIFETIME, 0);
        });
    });
    let lines = log.lines();
    let created = find(&lines, "allocation created");
    assert_eq!(created.len(), 1, "{lines:#?}");
    for field in ["INFO", "alloc=1", "user=alice", "username=alice", "client=198.51.100.7:1"] {
        assert!(created[0].contains(field), "{field} missing: {}", created[0]);
    }
    for field in ["server=192.0.2.10:3478", "transport=Udp", "relay=192.0.2.10:", "lifetime_s=600"] {
        assert!(created[0].contains(field), "{field} missing: {}", created[0]);
    }
    assert!(find(&lines, "allocation refreshed")[0].contains("lifetime_s=1200"));
    assert!(find(&lines, "channel bound")[0].contains("channel=0x4000 peer=198.51.100.20:6000"));
    assert!(find(&lines, "permission installed")[0].contains("peer_ip=198.51.100.20"));
    assert!(find(&lines, "permission expired")[0].contains("peer_ip=198.51.100.20"));
    let deleted = find(&lines, "allocation deleted");
    assert_eq!(deleted.len(), 1);
    for field in [
        "reason=\"client request\"",
        "lived_s=300",
        "permissions=1",
        "channels=1",
        "core_to_peer_pkts=100",
        "core_to_peer_bytes=300",
        "core_to_client_pkts=100",
        "core_to_client_bytes=1000",
    ] {
        assert!(deleted[0].contains(field), "{field} missing: {}", deleted[0]);
    }
    // Every line about the allocation names the user, and 200 relayed packets added none.
    let about_alloc: Vec<_> = lines.iter().filter(|l| l.contains("alloc=1")).collect();
    assert!(about_alloc.iter().all(|l| l.contains("user=alice")), "{about_alloc:#?}");
    assert!(lines.len() < 20, "per-packet logging? {lines:#?}");
}

#[test]
fn every_teardown_reason_is_logged() {
    let log = Captured::default();
    log.with(tracing::Level::INFO, || {
        let mut h = Harness::new();
        h.allocate(udp(1));
        h.advance(600);
        h.allocate(tcp(2));
        h.server.client_closed(h.now, tcp(2));
        h.allocate(udp(3));
        h.server.shutdown(h.now);
    });
    let lines = log.lines();
    for reason in ["expired", "connection closed", "shutdown"] {
        let want = format!("reason=\"{reason}\"");
        assert_eq!(find(&lines, &want).len(), 1, "{reason}: {lines:#?}");
    }
}

#[test]
fn auth_failures_say_why_and_never_leak_secrets() {
    let mut cfg = config();
    cfg.auth.use_auth_secret = true;
    cfg.auth.secrets = vec!["rest-shared-secret".into()];
    let expired = rest_username(999, "carol", ':');
    let expired_pw = rest_password("rest-shared-secret", &expired);
    let log = Captured::default();
    log.with(tracing::Level::TRACE, || {
        let mut h = Harness::with(cfg);
        h.server.set_unix_time(1_000);
        let alloc = |b: &mut MessageBuilder<'_>| {
            b.add_requested_transport(PROTO_UDP);
        };
        h.request(udp(1), Method::ALLOCATE, Some(&creds(USER, "not-the-password")), alloc);
        h.request(udp(1), Method::ALLOCATE, Some(&creds("mallory\nuser=root", "x")), alloc);
        h.request(udp(1), Method::ALLOCATE, Some(&creds(&expired, &expired_pw)), alloc);
        h.auto_renew_nonce = false;
        h.advance(601);
        assert_eq!(h.alice(udp(1), Method::ALLOCATE, alloc).code(), Some(438));
    });
    let lines = log.lines();
    let failed =
        |reason: &str| find(&lines, reason).into_iter().filter(|l| l.contains("authentication failed")).count();
    assert_eq!(failed("bad integrity"), 1, "{lines:#?}");
    assert_eq!(failed("unknown user"), 1);
    assert_eq!(failed("expired REST username"), 1);
    assert_eq!(failed("stale nonce"), 1);
    assert!(find(&lines, "username=mallory\\nuser=root").len() == 1, "escaped, one line: {lines:#?}");
    let key = long_term_key_md5(USER, REALM, PASS);
    let key_hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let all = lines.join("\n");
    for secret in [PASS, "not-the-password", "rest-shared-secret", expired_pw.as_str(), key_hex.as_str()] {
        assert!(!all.contains(secret), "{secret} leaked");
    }
}

#[test]
fn refusals_name_the_peer_or_the_quota() {
    let mut cfg = config();
    cfg.user_quota = Some(1);
    let log = Captured::default();
    log.with(tracing::Level::DEBUG, || {
        let mut h = Harness::with(cfg);
        h.allocate(udp(1));
        assert_eq!(h.create_permission(udp(1), addr("127.0.0.1:22")).code(), Some(403));
        assert_eq!(h.channel_bind(udp(1), 0x4000, addr("169.254.169.254:80")).code(), Some(403));
        let r = h.alice(udp(2), Method::ALLOCATE, |b| {
            b.add_requested_transport(PROTO_UDP);
        });
        assert_eq!(r.code(), Some(486));
    });
    let lines = log.lines();
    let errors = find(&lines, "error response");
    assert!(errors.iter().any(|l| l.contains("code=403") && l.contains("peer=127.0.0.1:22")), "{lines:#?}");
    assert!(errors.iter().any(|l| l.contains("code=403") && l.contains("peer=169.254.169.254:80")));
    assert!(errors.iter().any(|l| l.contains("code=486") && l.contains("quota=\"user\"") && l.contains("user=alice")));
}

#[test]
fn drops_are_summarised_at_most_once_per_interval() {
    let log = Captured::default();
    log.with(tracing::Level::DEBUG, || {
        let mut h = Harness::new();
        for _ in 0..1000 {
            h.send_raw(udp(1), &[0xff, 0xff, 0xff]);
            h.send_raw(udp(1), &[0x40, 0x01, 0x00, 0x00]);
        }
        h.now += Duration::from_secs(10);
        h.send_raw(udp(1), &[0xff]);
        assert_eq!(h.server.stats().drops.malformed, 1001);
    });
    let lines = log.lines();
    let summaries = find(&lines, "packets dropped");
    assert_eq!(summaries.len(), 2, "{lines:#?}");
    assert!(summaries[1].contains("malformed: 1001") && summaries[1].contains("unbound_channel: 1000"));
}

/// A scripted session touching every logging site; returns everything observable.
fn script(h: &mut Harness) -> (Vec<Output>, Stats) {
    let mut outs = Vec::new();
    let relay = h.allocate(udp(1));
    h.channel_bind(udp(1), 0x4000, peer());
    h.create_permission(udp(1), addr("198.51.100.21:1"));
    h.create_permission(udp(1), addr("127.0.0.1:1"));
    outs.extend(h.send_raw(udp(1), &[0x40, 0x00, 0x00, 0x01, 7]));
    h.server.handle_peer(h.now, relay, peer(), b"pong");
    h.server.handle_peer(h.now, relay, addr("198.51.100.21:9"), b"data-indication");
    outs.extend(h.outputs());
    h.request(udp(2), Method::ALLOCATE, Some(&creds(USER, "wrong")), |b| {
        b.add_requested_transport(PROTO_UDP);
    });
    outs.extend(h.send_raw(udp(1), &[0xff, 0]));
    h.advance(300);
    h.alice(udp(1), Method::REFRESH, |_| {});
    h.advance(700);
    outs.extend(h.outputs());
    h.allocate(tcp(3));
    h.server.client_closed(h.now, tcp(3));
    h.server.shutdown(h.now);
    outs.extend(h.outputs());
    (outs, h.server.stats().clone())
}

#[test]
fn logging_changes_no_behaviour() {
    let t0 = Instant::now();
    let quiet = script(&mut Harness::at(config(), t0));
    let log = Captured::default();
    let loud = log.with(tracing::Level::TRACE, || script(&mut Harness::at(config(), t0)));
    assert!(log.lines().len() > 10, "the loud run did log");
    assert_eq!(quiet, loud);
}
