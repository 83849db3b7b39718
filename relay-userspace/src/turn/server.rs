//! The TURN server state machine: owns all state, dispatches input to the handlers, drives
//! timers. Sans-IO: bytes, addresses and `now` in; [`Output`]s and a next deadline out.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sha2::{Digest, Sha256};

use crate::stun::{Class, Message, Method};

use super::allocation::{Allocation, AllocationInfo, Teardown};
use super::auth::credentials::UserDb;
use super::auth::nonce::{NonceMinter, FEATURE_PASSWORD_ALGORITHMS, FEATURE_USERNAME_ANONYMITY};
use super::auth::{AuthFailure, Authenticator};
use super::channel::Routes;
use super::config::ServerConfig;
use super::error_response::TurnError;
use super::five_tuple::FiveTuple;
use super::handlers::Req;
use super::log::{method_name, LogLimiter, Untrusted};
use super::output::Output;
use super::peer_policy::PeerPolicy;
use super::port_pool::{PortPool, RelayBinder};
use super::rate_limit::RateLimiter;
use super::stats::{DropReason, Stats};
use super::timers::{AllocId, TimerKey, Timers};

/// An odd port held for a RESERVATION-TOKEN (RFC 8656 §7.2).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reservation {
    pub(crate) addr: SocketAddr,
    pub(crate) expires_at: Instant,
}

/// The whole TURN server (RFC 8656 with RFC 8489 long-term credentials), sans-IO.
///
/// Time: every entry point takes the monotonic `now`. REST usernames also need the wall
/// clock: the edge calls [`Server::set_unix_time`] before handing over input (each call is
/// cheap). Until the first call, REST usernames are refused (fail closed).
pub struct Server {
    pub(crate) cfg: ServerConfig,
    pub(crate) binder: Box<dyn RelayBinder>,
    /// `cfg.peer_policy` plus the server's own listening addresses.
    pub(crate) policy: PeerPolicy,
    pub(crate) auth: Authenticator,
    pub(crate) limiter: RateLimiter,
    pub(crate) ports: PortPool,
    /// Boxed: an Allocation is ~430 bytes, and a hash table keeps up to half its buckets
    /// spare, which at 10,000 allocations cost ~260 bytes each when stored inline.
    pub(crate) allocs: HashMap<AllocId, Box<Allocation>>,
    pub(crate) by_ft: HashMap<FiveTuple, AllocId>,
    pub(crate) by_relay: HashMap<SocketAddr, AllocId>,
    pub(crate) per_user: HashMap<Arc<str>, u32>,
    pub(crate) reservations: HashMap<u64, Reservation>,
    pub(crate) routes: Routes,
    pub(crate) timers: Timers,
    pub(crate) out: VecDeque<Output>,
    pub(crate) stats: Stats,
    pub(crate) rng: StdRng,
    pub(crate) next_id: AllocId,
    /// Paces the DEBUG summary of drops and the port-exhaustion warning.
    pub(crate) drop_log: LogLimiter,
    pub(crate) port_log: LogLimiter,
    /// Wall clock (seconds since the Unix epoch) from the last `set_unix_time`.
    unix: Option<u64>,
}

// The edge shares the core between tasks behind a mutex.
const _: fn() = || {
    fn assert_send<T: Send>() {}
    assert_send::<Server>();
};

/// The server's own listening addresses are never valid peers: relaying into them would loop
/// signalling through the relay (a restriction RFC 8656 §10.2, §11.2, §12.2 allow).
fn own_policy(cfg: &ServerConfig) -> PeerPolicy {
    let mut p = cfg.peer_policy.clone();
    let mut ips: Vec<IpAddr> = cfg.relay_ips.clone();
    ips.extend(cfg.external_ips.values().copied());
    // Loopback too, in case `--allow-loopback-peers` opened it.
    ips.extend([IpAddr::from([127, 0, 0, 1]), IpAddr::from(std::net::Ipv6Addr::LOCALHOST)]);
    for l in &cfg.listening {
        if l.ip().is_unspecified() {
            for ip in &ips {
                p.deny_addr(SocketAddr::new(*ip, l.port()));
            }
        } else {
            p.deny_addr(*l);
        }
    }
    p
}

impl Server {
    pub fn new(config: ServerConfig, binder: Box<dyn RelayBinder>, now: Instant) -> Self {
        let seed: [u8; 32] =
            Sha256::new().chain_update(b"relay rng seed").chain_update(config.server_secret).finalize().into();
        let auth = Authenticator {
            users: UserDb::new(&config.auth, &config.realm),
            nonces: NonceMinter::new(
                config.server_secret,
                config.nonce_lifetime,
                now,
                FEATURE_PASSWORD_ALGORITHMS | FEATURE_USERNAME_ANONYMITY,
            ),
        };
        Server {
            policy: own_policy(&config),
            auth,
            limiter: RateLimiter::new(config.rate_limit),
            ports: PortPool::new(config.min_port, config.max_port),
            binder,
            allocs: HashMap::new(),
            by_ft: HashMap::new(),
            by_relay: HashMap::new(),
            per_user: HashMap::new(),
            reservations: HashMap::new(),
            routes: Routes::default(),
            timers: Timers::default(),
            out: VecDeque::new(),
            stats: Stats::default(),
            rng: StdRng::from_seed(seed),
            next_id: 1,
            drop_log: LogLimiter::default(),
            port_log: LogLimiter::default(),
            unix: None,
            cfg: config,
        }
    }

    /// Tells the core the wall-clock time in seconds since the Unix epoch; needed for REST
    /// username expiry. The only wall-clock input of the core.
    pub fn set_unix_time(&mut self, unix_secs: u64) {
        self.unix = Some(unix_secs);
    }

    pub(crate) fn unix_now(&self) -> Option<u64> {
        self.unix
    }

    pub(crate) fn rng_tid(&mut self) -> [u8; 12] {
        self.rng.gen()
    }

    /// A datagram (UDP) or one complete frame (TCP/TLS, split by the edge) from a client.
    pub fn handle_client(&mut self, now: Instant, ft: FiveTuple, data: &[u8]) {
        // RFC 8656 §12 / RFC 7983: first two bits 00 = STUN, 01 = ChannelData.
        match data.first().map(|b| b >> 6) {
            Some(0) => self.handle_stun(now, ft, data),
            Some(1) => self.handle_client_channel_data(now, ft, data),
            _ => self.dropped(now, DropReason::Malformed),
        }
    }

    /// A UDP datagram that arrived on relayed address `relay` from `peer`.
    pub fn handle_peer(&mut self, now: Instant, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        self.handle_peer_data(now, relay, peer, data);
    }

    /// A TCP/TLS connection closed: its allocation goes with it. The 5-tuple names the
    /// allocation (RFC 8656 §2, §5), so nothing can refresh it any more; freeing it now
    /// returns the port instead of holding it until expiry.
    pub fn client_closed(&mut self, now: Instant, ft: FiveTuple) {
        if let Some(id) = self.by_ft.get(&ft).copied() {
            self.delete_allocation(id, Teardown::ConnectionClosed, now);
        }
    }

    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// The earliest deadline at which [`Server::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// Expires allocations, permissions, channels and reservations due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(key) = self.timers.pop_due(now) {
            match key {
                TimerKey::Allocation(id) => match self.allocs.get(&id).map(|a| a.expires_at) {
                    Some(t) if t <= now => self.delete_allocation(id, Teardown::Expired, now),
                    Some(t) => self.timers.schedule(key, t),
                    None => {}
                },
                TimerKey::Permission(id, ip) => self.expire_permission(id, ip, now),
                TimerKey::Channel(id, n) => self.expire_channel(id, n, now),
                TimerKey::Reservation(token) => {
                    if let Some(r) = self.reservations.remove(&token) {
                        self.ports.release(r.addr, self.binder.as_mut());
                    }
                }
            }
        }
    }

    /// Releases everything (process exit): ChannelUnbound and RelayClosed for all.
    pub fn shutdown(&mut self, now: Instant) {
        let ids: Vec<AllocId> = self.allocs.keys().copied().collect();
        for id in ids {
            self.delete_allocation(id, Teardown::Shutdown, now);
        }
        for (_, r) in std::mem::take(&mut self.reservations) {
            self.ports.release(r.addr, self.binder.as_mut());
        }
        self.timers = Timers::default();
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Every live allocation, for operators.
    pub fn allocations(&self) -> impl Iterator<Item = AllocationInfo> + '_ {
        self.allocs.values().map(|a| self.allocation_info(a))
    }

    /// The effective peer policy (configured list plus the server's own addresses).
    pub fn peer_policy(&self) -> &PeerPolicy {
        &self.policy
    }

    fn handle_stun(&mut self, now: Instant, ft: FiveTuple, data: &[u8]) {
        // RFC 8489 §6.3: anything that does not parse is silently discarded.
        let Ok(msg) = Message::parse(data) else {
            return self.dropped(now, DropReason::Malformed);
        };
        // RFC 8489 §6.3, §7, §14.7: a wrong FINGERPRINT means not STUN.
        if msg.verify_fingerprint() == Some(false) {
            return self.dropped(now, DropReason::BadFingerprint);
        }
        match (msg.class(), msg.method()) {
            (Class::Request, _) => self.handle_request(Req { msg, ft, now }),
            (Class::Indication, Method::SEND) => self.handle_send(now, ft, &msg),
            _ => self.dropped(now, DropReason::UnexpectedMessage),
        }
    }

    fn handle_request(&mut self, req: Req<'_>) {
        let method = req.msg.method();
        self.stats.request(method);
        let ip = req.ft.client.ip();
        let alloc = self.by_ft.get(&req.ft).copied();
        // Requests from clients without an allocation pay from a per-source budget unless
        // they authenticate; nothing else is stored for them.
        if alloc.is_none() && !self.limiter.allows(ip, req.now) {
            return self.dropped(req.now, DropReason::RateLimited);
        }
        let authenticated = match method {
            Method::BINDING => {
                self.handle_binding(&req);
                false
            }
            Method::ALLOCATE | Method::REFRESH | Method::CREATE_PERMISSION | Method::CHANNEL_BIND => {
                // The allocation's credential is reused for its later requests (RFC 8656 §5).
                let cached = match (method, alloc) {
                    (Method::ALLOCATE, _) | (_, None) => None,
                    (_, Some(id)) => self.allocs.get(&id).map(|a| a.cred.clone()),
                };
                let unix = self.unix_now();
                match self.auth.authenticate(&req.msg, ip, req.now, unix, cached.as_ref()) {
                    Ok(a) => {
                        self.dispatch_authenticated(&req, &a, alloc);
                        true
                    }
                    Err(f) => {
                        self.send_auth_failure(&req, f);
                        false
                    }
                }
            }
            // RFC 8489 §6.3 lets a server silently discard an unsupported method; a 400 tells
            // the client why (still charged to its unauthenticated budget).
            _ => {
                self.send_error(&req, TurnError::BadRequest("unknown method"), None);
                false
            }
        };
        if !authenticated && alloc.is_none() {
            self.limiter.charge(ip, req.now);
        }
    }

    fn send_auth_failure(&mut self, req: &Req<'_>, f: AuthFailure) {
        log_auth_failure(req, &f);
        match f {
            AuthFailure::Challenge | AuthFailure::Unauthorized(_) => {
                self.send_error(req, TurnError::Unauthenticated, None)
            }
            AuthFailure::BadRequest(why) => self.send_error(req, TurnError::BadRequest(why), None),
            AuthFailure::StaleNonce(a) => self.send_error(req, TurnError::StaleNonce, Some(&a)),
            AuthFailure::WrongCredentials => self.send_error(req, TurnError::WrongCredentials, None),
        }
    }

    /// Counts a drop; with DEBUG on, summarises drops at most once per interval (never a
    /// line per packet: floods must not become log floods).
    pub(crate) fn dropped(&mut self, now: Instant, why: DropReason) {
        self.stats.drop(why);
        if tracing::enabled!(tracing::Level::DEBUG) && self.drop_log.ready(now) {
            tracing::debug!(last_reason = ?why, totals = ?self.stats.drops, "packets dropped");
        }
    }

    /// Number of pending timers (tests: nothing leaks).
    #[cfg(test)]
    pub(crate) fn timer_count(&self) -> usize {
        self.timers.len()
    }
}

/// The USERNAME a failed request claimed, for the log (escaped: not authenticated).
fn claimed_username<'a>(req: &'a Req<'_>) -> Untrusted<'a> {
    match req.msg.text(crate::stun::attr_type::USERNAME) {
        Some(Ok(u)) => Untrusted(u),
        _ if req.msg.has(crate::stun::attr_type::USERHASH) => Untrusted("(USERHASH)"),
        _ => Untrusted("(none)"),
    }
}

/// DEBUG line for a request that failed authentication: who, from where, and why. Never
/// the password or key. The first 401 of every client (the challenge) is only TRACE.
fn log_auth_failure(req: &Req<'_>, f: &AuthFailure) {
    let client = req.ft.client;
    let method = method_name(req.msg.method());
    match f {
        AuthFailure::Challenge => tracing::trace!(%client, method, "401 challenge"),
        // Logged with the 400 by `send_error`.
        AuthFailure::BadRequest(_) => {}
        AuthFailure::Unauthorized(why) => tracing::debug!(
            %client,
            method,
            username = %claimed_username(req),
            reason = why.as_str(),
            "authentication failed (401)"
        ),
        AuthFailure::StaleNonce(a) => tracing::debug!(
            %client,
            method,
            user = %Untrusted(&a.cred.user),
            username = %Untrusted(&a.cred.username),
            reason = "stale nonce",
            "authentication failed (438)"
        ),
        AuthFailure::WrongCredentials => tracing::debug!(
            %client,
            method,
            username = %claimed_username(req),
            reason = "not the allocation's username",
            "authentication failed (441)"
        ),
    }
}
