//! Server-level tests: every RFC rule driven through `Server` with a fake clock (an `Instant`
//! plus offsets) and a fake `RelayBinder`. Requests are crafted with the codec's builder.

mod allocate;
mod auth;
mod channel;
mod data;
mod hostile;
mod lifecycle;
mod logging;
mod permission;
mod refresh;

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use crate::stun::{
    attr_type as at, long_term_key_md5, Class, Message, MessageBuilder, Method, TransactionId, PROTO_UDP,
};

use super::port_pool::tests::FakeBinder;
use super::*;

pub(crate) const REALM: &str = "example.org";
pub(crate) const USER: &str = "alice";
pub(crate) const PASS: &str = "wonderland";

pub(crate) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

pub(crate) fn relay_v4() -> IpAddr {
    "192.0.2.10".parse().unwrap()
}

pub(crate) fn relay_v6() -> IpAddr {
    "2001:db8::10".parse().unwrap()
}

pub(crate) fn config() -> ServerConfig {
    let mut c = ServerConfig {
        realm: REALM.into(),
        software: Some("relay-test".into()),
        relay_ips: vec![relay_v4(), relay_v6()],
        listening: vec![addr("192.0.2.10:3478")],
        min_port: 50000,
        max_port: 50099,
        server_secret: [9; 32],
        ..ServerConfig::default()
    };
    c.auth.users.insert(USER.into(), PASS.into());
    c.auth.users.insert("bob".into(), "builder".into());
    c
}

pub(crate) fn udp(port: u16) -> FiveTuple {
    FiveTuple {
        client: SocketAddr::new("198.51.100.7".parse().unwrap(), port),
        server: addr("192.0.2.10:3478"),
        transport: Transport::Udp,
    }
}

pub(crate) fn tcp(port: u16) -> FiveTuple {
    FiveTuple { transport: Transport::Tcp, ..udp(port) }
}

/// An owned message from the server.
#[derive(Clone, Debug)]
pub(crate) struct Resp(pub(crate) Vec<u8>);

impl Resp {
    pub(crate) fn msg(&self) -> Message<'_> {
        Message::parse(&self.0).expect("server output parses")
    }
    pub(crate) fn class(&self) -> Class {
        self.msg().class()
    }
    pub(crate) fn code(&self) -> Option<u16> {
        self.msg().error_code().map(|r| r.unwrap().0)
    }
    pub(crate) fn text(&self, typ: u16) -> Option<String> {
        self.msg().text(typ).map(|r| r.unwrap().to_owned())
    }
    pub(crate) fn xor(&self, typ: u16) -> Option<SocketAddr> {
        self.msg().xor_address(typ).map(|r| r.unwrap())
    }
    pub(crate) fn xors(&self, typ: u16) -> Vec<SocketAddr> {
        self.msg().xor_addresses(typ).map(|r| r.unwrap()).collect()
    }
    pub(crate) fn u32(&self, typ: u16) -> Option<u32> {
        self.msg().u32_attr(typ).map(|r| r.unwrap())
    }
    pub(crate) fn has(&self, typ: u16) -> bool {
        self.msg().has(typ)
    }
}

/// How a test request authenticates.
#[derive(Clone)]
pub(crate) struct Creds {
    pub(crate) user: String,
    pub(crate) pass: String,
    pub(crate) sha256_mi: bool,
}

pub(crate) fn creds(user: &str, pass: &str) -> Creds {
    Creds { user: user.into(), pass: pass.into(), sha256_mi: false }
}

pub(crate) struct Harness {
    pub(crate) server: Server,
    pub(crate) binder: FakeBinder,
    pub(crate) now: Instant,
    pub(crate) t0: Instant,
    pub(crate) nonce: Option<String>,
    /// Retry once on 438 with the fresh nonce, as clients do.
    pub(crate) auto_renew_nonce: bool,
    tid: u64,
}

impl Harness {
    pub(crate) fn new() -> Self {
        Harness::with(config())
    }

    pub(crate) fn with(cfg: ServerConfig) -> Self {
        Harness::at(cfg, Instant::now())
    }

    /// A harness whose clock starts at `t0` (two harnesses at the same `t0` are comparable).
    pub(crate) fn at(cfg: ServerConfig, t0: Instant) -> Self {
        let binder = FakeBinder::default();
        Harness {
            server: Server::new(cfg, Box::new(binder.clone()), t0),
            binder,
            now: t0,
            t0,
            nonce: None,
            auto_renew_nonce: true,
            tid: 0,
        }
    }

    pub(crate) fn next_tid(&mut self) -> TransactionId {
        self.tid += 1;
        let mut t = [0u8; 12];
        t[4..].copy_from_slice(&self.tid.to_be_bytes());
        TransactionId(t)
    }

    pub(crate) fn advance(&mut self, secs: u64) {
        self.now += Duration::from_secs(secs);
        self.server.handle_timeout(self.now);
    }

    pub(crate) fn outputs(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.server.poll_output()).collect()
    }

    /// Responses to the client; panics on other outputs unless filtered by the caller.
    pub(crate) fn client_msgs(outs: &[Output]) -> Vec<Resp> {
        outs.iter()
            .filter_map(|o| match o {
                Output::ToClient { data, .. } => Some(Resp(data.clone())),
                _ => None,
            })
            .collect()
    }

    /// Sends raw bytes and returns the single STUN reply, if any.
    pub(crate) fn send_raw(&mut self, ft: FiveTuple, bytes: &[u8]) -> Vec<Output> {
        self.server.handle_client(self.now, ft, bytes);
        self.outputs()
    }

    /// Builds a request; `creds` adds USERNAME, REALM, NONCE and MESSAGE-INTEGRITY.
    pub(crate) fn build(
        &mut self,
        method: Method,
        tid: TransactionId,
        creds: Option<&Creds>,
        attrs: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Vec<u8> {
        let nonce = self.nonce.clone().unwrap_or_else(|| "none".into());
        let mut buf = Vec::new();
        let mut b = MessageBuilder::new(&mut buf, Class::Request, method, tid);
        attrs(&mut b);
        if let Some(c) = creds {
            b.add_text(at::USERNAME, &c.user);
            b.add_text(at::REALM, REALM);
            b.add_text(at::NONCE, &nonce);
            let key = long_term_key_md5(&c.user, REALM, &c.pass);
            if c.sha256_mi {
                b.add_message_integrity_sha256(&key);
            } else {
                b.add_message_integrity(&key);
            }
        }
        b.add_fingerprint();
        b.finish();
        buf
    }

    /// Gets a nonce the way a client does: an unauthenticated Allocate and its 401.
    pub(crate) fn fetch_nonce(&mut self, ft: FiveTuple) {
        let r = self.request(ft, Method::ALLOCATE, None, |b| {
            b.add_requested_transport(PROTO_UDP);
        });
        assert_eq!(r.code(), Some(401));
        self.nonce = r.text(at::NONCE);
    }

    /// Sends a request and returns its one response.
    pub(crate) fn request(
        &mut self,
        ft: FiveTuple,
        method: Method,
        creds: Option<&Creds>,
        attrs: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Resp {
        let tid = self.next_tid();
        self.request_tid(ft, method, tid, creds, attrs)
    }

    pub(crate) fn request_tid(
        &mut self,
        ft: FiveTuple,
        method: Method,
        tid: TransactionId,
        creds: Option<&Creds>,
        attrs: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Resp {
        if creds.is_some() && self.nonce.is_none() {
            self.fetch_nonce(ft);
        }
        let bytes = self.build(method, tid, creds, attrs);
        let mut r = self.exchange(ft, &bytes);
        // Like a real client: on 438 take the fresh nonce and try again (RFC 8489 §9.2.5).
        if creds.is_some() && r.code() == Some(438) && self.auto_renew_nonce {
            self.nonce = r.text(at::NONCE);
            r = self.resend_with_fresh_nonce(ft, &bytes, creds);
        }
        assert_eq!(r.msg().transaction_id(), tid);
        assert_eq!(r.msg().verify_fingerprint(), Some(true), "FINGERPRINT on every response");
        r
    }

    fn exchange(&mut self, ft: FiveTuple, bytes: &[u8]) -> Resp {
        let outs = self.send_raw(ft, bytes);
        let mut msgs = Harness::client_msgs(&outs);
        assert_eq!(msgs.len(), 1, "exactly one response expected, got {outs:?}");
        msgs.remove(0)
    }

    /// Rewrites USERNAME/REALM/NONCE/MESSAGE-INTEGRITY of `bytes` with the current nonce.
    fn resend_with_fresh_nonce(&mut self, ft: FiveTuple, bytes: &[u8], creds: Option<&Creds>) -> Resp {
        let m = Message::parse(bytes).expect("own request parses");
        let skip =
            [at::USERNAME, at::REALM, at::NONCE, at::MESSAGE_INTEGRITY, at::MESSAGE_INTEGRITY_SHA256, at::FINGERPRINT];
        let attrs: Vec<(u16, Vec<u8>)> =
            m.attrs().filter(|a| !skip.contains(&a.typ)).map(|a| (a.typ, a.value.to_vec())).collect();
        let again = self.build(m.method(), m.transaction_id(), creds, |b| {
            for (t, v) in &attrs {
                b.add_raw(*t, v);
            }
        });
        self.exchange(ft, &again)
    }

    /// Authenticated request as alice.
    pub(crate) fn alice(&mut self, ft: FiveTuple, method: Method, attrs: impl FnOnce(&mut MessageBuilder<'_>)) -> Resp {
        self.request(ft, method, Some(&creds(USER, PASS)), attrs)
    }

    /// A successful UDP Allocate as alice; returns the relayed address.
    pub(crate) fn allocate(&mut self, ft: FiveTuple) -> SocketAddr {
        let r = self.alice(ft, Method::ALLOCATE, |b| {
            b.add_requested_transport(PROTO_UDP);
        });
        assert_eq!(r.class(), Class::Success, "allocate failed: {:?}", r.code());
        r.xor(at::XOR_RELAYED_ADDRESS).unwrap()
    }

    pub(crate) fn create_permission(&mut self, ft: FiveTuple, peer: SocketAddr) -> Resp {
        self.alice(ft, Method::CREATE_PERMISSION, |b| {
            b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
        })
    }

    pub(crate) fn channel_bind(&mut self, ft: FiveTuple, ch: u16, peer: SocketAddr) -> Resp {
        self.alice(ft, Method::CHANNEL_BIND, |b| {
            b.add_channel_number(ch);
            b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
        })
    }
}

/// Asserts a response is a success signed with `key` (MESSAGE-INTEGRITY, RFC 8489 §9.2.4).
pub(crate) fn assert_signed_success(r: &Resp, user: &str, pass: &str) {
    assert_eq!(r.class(), Class::Success, "code {:?}", r.code());
    let key = long_term_key_md5(user, REALM, pass);
    assert_eq!(r.msg().verify_integrity_sha1(&key), crate::stun::IntegrityResult::Ok);
}
