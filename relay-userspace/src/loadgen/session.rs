//! One TURN client allocation as a sans-IO state machine: bytes in, the next request out.
//!
//! Allocate without credentials, learn REALM and NONCE from the 401 (RFC 8656 §7.1,
//! RFC 8489 §9.2.3), Allocate again with MESSAGE-INTEGRITY, then optionally ChannelBind, which
//! also installs the permission (RFC 8656 §12.1). Release is a Refresh with LIFETIME 0
//! (RFC 8656 §8). Responses are not integrity-checked: this is a load generator, and the
//! server under test is the one whose correctness is tested elsewhere.

use std::net::SocketAddr;

use crate::stun::{attr_type, long_term_key_md5, Class, Message, MessageBuilder, Method, TransactionId};

/// How far to take the allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    Allocated,
    ChannelBound,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum State {
    Idle,
    Allocating { authenticated: bool },
    Binding,
    Ready,
    Releasing,
    Released,
    Failed(String),
}

/// What the caller should do after [`Session::handle`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Send [`Session::request`] (a new transaction).
    Send,
    /// The goal (or the release) is reached.
    Done,
    Failed,
    /// Not for this session's current transaction (late duplicate, data, ...).
    Ignored,
}

/// REQUESTED-TRANSPORT value for UDP (RFC 8656 §14.7).
const UDP: u8 = 17;
/// How many 438 Stale Nonce answers to follow before giving up (RFC 8489 §9.2.5).
const MAX_STALE: u8 = 3;

#[derive(Debug)]
pub struct Session {
    username: String,
    password: String,
    peer: SocketAddr,
    channel: u16,
    goal: Goal,
    state: State,
    realm: String,
    nonce: String,
    key: [u8; 16],
    tid: TransactionId,
    request: Vec<u8>,
    relayed: Option<SocketAddr>,
    stale: u8,
}

impl Session {
    pub fn new(username: String, password: String, peer: SocketAddr, channel: u16, goal: Goal) -> Self {
        Session {
            username,
            password,
            peer,
            channel,
            goal,
            state: State::Idle,
            realm: String::new(),
            nonce: String::new(),
            key: [0; 16],
            tid: TransactionId([0; 12]),
            request: Vec::with_capacity(160),
            relayed: None,
            stale: 0,
        }
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn relayed(&self) -> Option<SocketAddr> {
        self.relayed
    }

    pub fn channel(&self) -> u16 {
        self.channel
    }

    /// The current request, for the first send and for retransmissions.
    pub fn request(&self) -> &[u8] {
        &self.request
    }

    /// Begins with an unauthenticated Allocate (RFC 8656 §7.1).
    pub fn start(&mut self, tid: TransactionId) {
        self.tid = tid;
        let mut b = MessageBuilder::new(&mut self.request, Class::Request, Method::ALLOCATE, tid);
        b.add_requested_transport(UDP);
        b.finish();
        self.state = State::Allocating { authenticated: false };
    }

    /// Releases an allocation (Refresh, LIFETIME 0, RFC 8656 §8). `false` if there is none.
    pub fn release(&mut self, tid: TransactionId) -> bool {
        if !matches!(self.state, State::Ready | State::Binding) {
            return false;
        }
        self.state = State::Releasing;
        self.build_authenticated(Method::REFRESH, tid);
        true
    }

    /// Takes a response; `tid` is used if a new request has to be sent.
    pub fn handle(&mut self, buf: &[u8], tid: TransactionId) -> Step {
        let Ok(msg) = Message::parse(buf) else {
            return Step::Ignored;
        };
        if msg.transaction_id() != self.tid || !matches!(msg.class(), Class::Success | Class::Error) {
            return Step::Ignored;
        }
        let code = msg.error_code().and_then(Result::ok).map(|(c, _)| c);
        match (&self.state, msg.class(), code) {
            (State::Allocating { authenticated: false }, Class::Error, Some(401)) => self.on_challenge(&msg, tid),
            (State::Allocating { .. } | State::Binding | State::Releasing, Class::Error, Some(438)) => {
                self.on_stale_nonce(&msg, tid)
            }
            (State::Allocating { .. }, Class::Success, _) => {
                self.relayed = msg.xor_address(attr_type::XOR_RELAYED_ADDRESS).and_then(Result::ok);
                if self.goal == Goal::ChannelBound {
                    self.state = State::Binding;
                    self.build_authenticated(Method::CHANNEL_BIND, tid);
                    return Step::Send;
                }
                self.state = State::Ready;
                Step::Done
            }
            (State::Binding, Class::Success, _) => {
                self.state = State::Ready;
                Step::Done
            }
            // Any answer ends a release: 437 means the allocation is gone already.
            (State::Releasing, _, _) => {
                self.state = State::Released;
                Step::Done
            }
            (_, _, code) => self.fail(method_name(msg.method()), code, &msg),
        }
    }

    /// 401 carries REALM and NONCE (RFC 8489 §9.2.3.1); retry with credentials.
    fn on_challenge(&mut self, msg: &Message<'_>, tid: TransactionId) -> Step {
        let realm = msg.text(attr_type::REALM).and_then(Result::ok);
        let nonce = msg.text(attr_type::NONCE).and_then(Result::ok);
        let (Some(realm), Some(nonce)) = (realm, nonce) else {
            self.state = State::Failed("401 without REALM/NONCE".into());
            return Step::Failed;
        };
        self.key = long_term_key_md5(&self.username, realm, &self.password);
        self.realm = realm.to_owned();
        self.nonce = nonce.to_owned();
        self.state = State::Allocating { authenticated: true };
        self.build_authenticated(Method::ALLOCATE, tid);
        Step::Send
    }

    /// 438: same request with the new NONCE (RFC 8489 §9.2.5).
    fn on_stale_nonce(&mut self, msg: &Message<'_>, tid: TransactionId) -> Step {
        let nonce = msg.text(attr_type::NONCE).and_then(Result::ok);
        let Some(nonce) = nonce.filter(|_| self.stale < MAX_STALE) else {
            return self.fail(method_name(msg.method()), Some(438), msg);
        };
        self.stale += 1;
        self.nonce = nonce.to_owned();
        let method = match self.state {
            State::Binding => Method::CHANNEL_BIND,
            State::Releasing => Method::REFRESH,
            _ => Method::ALLOCATE,
        };
        self.build_authenticated(method, tid);
        Step::Send
    }

    fn fail(&mut self, what: &str, code: Option<u16>, msg: &Message<'_>) -> Step {
        let reason = msg.error_code().and_then(Result::ok).map(|(_, r)| r).unwrap_or("");
        let code = code.map_or_else(|| "no error code".to_owned(), |c| c.to_string());
        self.state = State::Failed(format!("{what}: {code} {reason}"));
        Step::Failed
    }

    /// USERNAME, REALM, NONCE, then MESSAGE-INTEGRITY last (RFC 8489 §9.2.3.2, §14.5).
    fn build_authenticated(&mut self, method: Method, tid: TransactionId) {
        self.tid = tid;
        let mut b = MessageBuilder::new(&mut self.request, Class::Request, method, tid);
        match method {
            Method::ALLOCATE => {
                b.add_requested_transport(UDP);
            }
            Method::CHANNEL_BIND => {
                b.add_channel_number(self.channel);
                b.add_xor_address(attr_type::XOR_PEER_ADDRESS, self.peer);
            }
            _ => {
                b.add_u32(attr_type::LIFETIME, 0);
            }
        }
        b.add_text(attr_type::USERNAME, &self.username);
        b.add_text(attr_type::REALM, &self.realm);
        b.add_text(attr_type::NONCE, &self.nonce);
        b.add_message_integrity(&self.key);
        b.finish();
    }
}

fn method_name(m: Method) -> &'static str {
    match m {
        Method::ALLOCATE => "Allocate",
        Method::CHANNEL_BIND => "ChannelBind",
        Method::REFRESH => "Refresh",
        _ => "request",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;
    use crate::stun::IntegrityResult;

    fn tid(n: u8) -> TransactionId {
        TransactionId([n; 12])
    }

    fn answer(req: &[u8], class: Class, build: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
        let m = Message::parse(req).unwrap();
        let mut out = Vec::new();
        let mut b = MessageBuilder::new(&mut out, class, m.method(), m.transaction_id());
        build(&mut b);
        b.finish();
        out
    }

    fn session(goal: Goal) -> Session {
        let peer: SocketAddr = "10.0.0.2:4000".parse().unwrap();
        Session::new("1:u".into(), "pw".into(), peer, 0x4001, goal)
    }

    #[test]
    fn allocates_then_binds_a_channel() {
        let mut s = session(Goal::ChannelBound);
        s.start(tid(1));
        let first = Message::parse(s.request()).unwrap();
        assert_eq!(first.method(), Method::ALLOCATE);
        assert!(first.get(attr_type::MESSAGE_INTEGRITY).is_none());

        let challenge = answer(s.request(), Class::Error, |b| {
            b.add_error_code(401, "Unauthorized");
            b.add_text(attr_type::REALM, "r");
            b.add_text(attr_type::NONCE, "n1");
        });
        assert_eq!(s.handle(&challenge, tid(2)), Step::Send);
        let key = long_term_key_md5("1:u", "r", "pw");
        let auth = Message::parse(s.request()).unwrap();
        assert_eq!(auth.transaction_id(), tid(2));
        assert_eq!(auth.verify_integrity_sha1(&key), IntegrityResult::Ok);
        assert_eq!(auth.text(attr_type::NONCE).unwrap().unwrap(), "n1");

        let relayed: SocketAddr = "10.0.1.1:50000".parse().unwrap();
        let ok = answer(s.request(), Class::Success, |b| {
            b.add_xor_address(attr_type::XOR_RELAYED_ADDRESS, relayed);
        });
        assert_eq!(s.handle(&ok, tid(3)), Step::Send);
        assert_eq!(s.relayed(), Some(relayed));
        let bind = Message::parse(s.request()).unwrap();
        assert_eq!(bind.method(), Method::CHANNEL_BIND);
        assert_eq!(bind.xor_address(attr_type::XOR_PEER_ADDRESS).unwrap().unwrap(), "10.0.0.2:4000".parse().unwrap());

        // A late duplicate of the previous transaction changes nothing.
        assert_eq!(s.handle(&ok, tid(4)), Step::Ignored);
        let bound = answer(s.request(), Class::Success, |_| {});
        assert_eq!(s.handle(&bound, tid(4)), Step::Done);
        assert_eq!(s.state(), &State::Ready);

        assert!(s.release(tid(5)));
        let refresh = Message::parse(s.request()).unwrap();
        assert_eq!(refresh.method(), Method::REFRESH);
        assert_eq!(refresh.u32_attr(attr_type::LIFETIME).unwrap().unwrap(), 0);
        let gone = answer(s.request(), Class::Error, |b| {
            b.add_error_code(437, "Allocation Mismatch");
        });
        assert_eq!(s.handle(&gone, tid(6)), Step::Done);
        assert_eq!(s.state(), &State::Released);
    }

    #[test]
    fn follows_stale_nonce_and_reports_errors() {
        let mut s = session(Goal::Allocated);
        s.start(tid(1));
        let challenge = answer(s.request(), Class::Error, |b| {
            b.add_error_code(401, "Unauthorized");
            b.add_text(attr_type::REALM, "r");
            b.add_text(attr_type::NONCE, "n1");
        });
        s.handle(&challenge, tid(2));
        let stale = answer(s.request(), Class::Error, |b| {
            b.add_error_code(438, "Stale Nonce");
            b.add_text(attr_type::NONCE, "n2");
        });
        assert_eq!(s.handle(&stale, tid(3)), Step::Send);
        assert_eq!(Message::parse(s.request()).unwrap().text(attr_type::NONCE).unwrap().unwrap(), "n2");
        let quota = answer(s.request(), Class::Error, |b| {
            b.add_error_code(486, "Allocation Quota Reached");
        });
        assert_eq!(s.handle(&quota, tid(4)), Step::Failed);
        assert_eq!(s.state(), &State::Failed("Allocate: 486 Allocation Quota Reached".into()));
        assert_eq!(s.handle(b"garbage", tid(5)), Step::Ignored);
    }
}
