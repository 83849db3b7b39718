//! Allocate (RFC 8656 §7.2).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use rand::Rng;

use crate::stun::{
    attr_type as at, decode_address_family, decode_even_port, decode_requested_transport, decode_reservation_token,
    encode_address_error_code, AddressFamily, AttrError, Message, PROTO_UDP,
};

use super::super::allocation::{Allocation, RelayAddr};
use super::super::auth::Authenticated;
use super::super::channel::Channels;
use super::super::error_response::TurnError;
use super::super::log::{Relays, Untrusted};
use super::super::permission::Permissions;
use super::super::port_pool::PortShape;
use super::super::server::{Reservation, Server};
use super::super::stats::TrafficCounters;
use super::super::timers::{AllocId, TimerKey};
use super::{granted_lifetime, Req};

/// Which relayed addresses the request wants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    One(AddressFamily),
    /// IPv4 and IPv6 (ADDITIONAL-ADDRESS-FAMILY IPv6).
    Dual,
    /// The port held for this RESERVATION-TOKEN.
    Reserved(u64),
}

/// The validated Allocate request.
struct Spec {
    want: Want,
    shape: PortShape,
    lifetime: Option<u32>,
}

fn bad(reason: &'static str) -> impl Fn(AttrError) -> TurnError {
    move |_| TurnError::BadRequest(reason)
}

/// Steps 3-9 of RFC 8656 §7.2: everything decidable from the message alone.
fn parse_spec(msg: &Message<'_>) -> Result<Spec, TurnError> {
    // Step 3: REQUESTED-TRANSPORT missing or malformed -> 400; not UDP -> 442.
    let rt = msg.get(at::REQUESTED_TRANSPORT).ok_or(TurnError::BadRequest("missing REQUESTED-TRANSPORT"))?;
    if decode_requested_transport(rt.value).map_err(bad("malformed REQUESTED-TRANSPORT"))? != PROTO_UDP {
        return Err(TurnError::UnsupportedTransport);
    }
    // Step 4 (DONT-FRAGMENT) was handled as an unknown attribute when unsupported.
    let token = msg
        .get(at::RESERVATION_TOKEN)
        .map(|a| decode_reservation_token(a.value).map(u64::from_be_bytes))
        .transpose()
        .map_err(bad("malformed RESERVATION-TOKEN"))?;
    let even =
        msg.get(at::EVEN_PORT).map(|a| decode_even_port(a.value)).transpose().map_err(bad("malformed EVEN-PORT"))?;
    // Step 7: an unknown family value (§18.6 defines only 0x01 and 0x02) is a family the
    // server does not support: 440.
    let requested = msg.get(at::REQUESTED_ADDRESS_FAMILY).map(|a| decode_address_family(a.value)).transpose().map_err(
        |e| match e {
            AttrError::BadFamily(_) => TurnError::AddressFamilyNotSupported,
            _ => TurnError::BadRequest("malformed REQUESTED-ADDRESS-FAMILY"),
        },
    )?;
    let additional = msg
        .get(at::ADDITIONAL_ADDRESS_FAMILY)
        .map(|a| decode_address_family(a.value))
        .transpose()
        .map_err(bad("malformed ADDITIONAL-ADDRESS-FAMILY"))?;
    // Step 5: RESERVATION-TOKEN excludes EVEN-PORT and both family attributes -> 400.
    if token.is_some() && (even.is_some() || requested.is_some() || additional.is_some()) {
        return Err(TurnError::BadRequest("RESERVATION-TOKEN with EVEN-PORT or an address family"));
    }
    // Step 6: REQUESTED- and ADDITIONAL-ADDRESS-FAMILY together -> 400.
    if requested.is_some() && additional.is_some() {
        return Err(TurnError::BadRequest("REQUESTED-ADDRESS-FAMILY with ADDITIONAL-ADDRESS-FAMILY"));
    }
    // Step 8: EVEN-PORT with R bit and ADDITIONAL-ADDRESS-FAMILY -> 400.
    if even == Some(true) && additional.is_some() {
        return Err(TurnError::BadRequest("EVEN-PORT reservation with dual allocation"));
    }
    // Step 9: ADDITIONAL-ADDRESS-FAMILY must be IPv6 -> else 400.
    if additional == Some(AddressFamily::V4) {
        return Err(TurnError::BadRequest("ADDITIONAL-ADDRESS-FAMILY must be IPv6"));
    }
    let lifetime = msg.u32_attr(at::LIFETIME).transpose().map_err(bad("malformed LIFETIME"))?;
    let want = match (token, requested, additional) {
        (Some(t), _, _) => Want::Reserved(t),
        (None, _, Some(_)) => Want::Dual,
        (None, Some(f), None) => Want::One(f),
        // Step 7: absent family means IPv4.
        (None, None, None) => Want::One(AddressFamily::V4),
    };
    let shape = match even {
        Some(true) => PortShape::EvenReserveNext,
        Some(false) => PortShape::Even,
        None => PortShape::Any,
    };
    Ok(Spec { want, shape, lifetime })
}

/// Relays obtained for one Allocate.
struct Picked {
    relays: Vec<RelayAddr>,
    token: Option<u64>,
    /// ADDRESS-ERROR-CODE for the family a dual allocation could not get (RFC 8656 §7.2 step 9).
    partial: Option<(AddressFamily, TurnError)>,
}

impl Server {
    pub(crate) fn handle_allocate(&mut self, req: &Req<'_>, auth: &Authenticated, existing: Option<AllocId>) {
        if let Err(e) = self.allocate(req, auth, existing) {
            self.send_error(req, e, Some(auth));
        }
    }

    fn allocate(&mut self, req: &Req<'_>, auth: &Authenticated, existing: Option<AllocId>) -> Result<(), TurnError> {
        // Step 1 (authentication) is done. Step 2: 5-tuple in use -> 437, except a
        // retransmission of the Allocate that created it, answered idempotently (§5).
        if let Some(id) = existing {
            let a = self.allocs.get(&id).ok_or(TurnError::AllocationMismatch)?;
            if a.created_tid != req.msg.transaction_id() {
                return Err(TurnError::AllocationMismatch);
            }
            let data = a.created_response.to_vec();
            self.reply(req.ft, data);
            return Ok(());
        }
        let spec = parse_spec(&req.msg)?;
        // Step 10: quotas -> 486.
        self.check_quota(auth)?;
        let lifetime = granted_lifetime(self, spec.lifetime);
        let picked = self.pick_relays(&spec, req)?;
        let expires_at = req.now + Duration::from_secs(u64::from(lifetime));
        let client = req.ft.client;
        let response = self.success(req, Some(auth), |b| {
            for r in &picked.relays {
                b.add_xor_address(at::XOR_RELAYED_ADDRESS, r.public);
            }
            b.add_u32(at::LIFETIME, lifetime);
            if let Some(t) = picked.token {
                b.add_raw(at::RESERVATION_TOKEN, &t.to_be_bytes());
            }
            b.add_xor_address(at::XOR_MAPPED_ADDRESS, client);
            if let Some((fam, err)) = &picked.partial {
                let mut v = Vec::new();
                encode_address_error_code(*fam, err.code(), &err.to_string(), &mut v);
                b.add_raw(at::ADDRESS_ERROR_CODE, &v);
            }
        });
        let id = self.next_id;
        self.next_id += 1;
        tracing::info!(
            alloc = id,
            user = %Untrusted(&auth.cred.user),
            username = %Untrusted(&auth.cred.username),
            client = %req.ft.client,
            server = %req.ft.server,
            transport = ?req.ft.transport,
            relay = %Relays(&picked.relays),
            lifetime_s = lifetime,
            "allocation created"
        );
        self.insert_allocation(Allocation {
            id,
            ft: req.ft,
            cred: auth.cred.clone(),
            relays: picked.relays,
            expires_at,
            created_at: req.now,
            created_tid: req.msg.transaction_id(),
            // Exact-size copy: the builder's buffer has spare capacity, and 10,000 held
            // allocations keep this for their whole life.
            created_response: response.clone().into_boxed_slice(),
            permissions: Permissions::default(),
            channels: Channels::default(),
            traffic: TrafficCounters::default(),
            permissions_installed: 0,
            channels_bound: 0,
        });
        self.reply(req.ft, response);
        Ok(())
    }

    fn check_quota(&self, auth: &Authenticated) -> Result<(), TurnError> {
        let total = u32::try_from(self.allocs.len()).unwrap_or(u32::MAX);
        if self.cfg.total_quota.is_some_and(|q| total >= q) {
            return Err(TurnError::QuotaReached("total"));
        }
        let mine = self.per_user.get(&auth.cred.user).copied().unwrap_or(0);
        if self.cfg.user_quota.is_some_and(|q| mine >= q) {
            return Err(TurnError::QuotaReached("user"));
        }
        Ok(())
    }

    fn relay_ip(&self, fam: AddressFamily) -> Option<IpAddr> {
        self.cfg.relay_ips.iter().find(|ip| ip.is_ipv4() == (fam == AddressFamily::V4)).copied()
    }

    pub(crate) fn relay_addr(&self, local: SocketAddr) -> RelayAddr {
        let ip = self.cfg.external_ips.get(&local.ip()).copied().unwrap_or(local.ip());
        RelayAddr { local, public: SocketAddr::new(ip, local.port()) }
    }

    /// One relayed address of `fam`: 440 without a relay IP of that family (step 7), 508
    /// when no port can be bound (step 8).
    fn acquire_one(
        &mut self,
        fam: AddressFamily,
        shape: PortShape,
        now: std::time::Instant,
    ) -> Result<(RelayAddr, Option<u64>), TurnError> {
        let ip = self.relay_ip(fam).ok_or(TurnError::AddressFamilyNotSupported)?;
        let Some((addr, reserved)) = self.ports.acquire(ip, shape, self.binder.as_mut(), &mut self.rng) else {
            if self.port_log.ready(now) {
                let (min, max) = (self.cfg.min_port, self.cfg.max_port);
                tracing::warn!(relay_ip = %ip, min, max, ?shape, "relay port range exhausted: Allocate gets 508");
            }
            return Err(TurnError::InsufficientCapacity("no relay port available"));
        };
        let token = reserved.map(|next| {
            let token: u64 = self.rng.gen();
            let expires_at = now + self.cfg.reservation_lifetime;
            self.reservations.insert(token, Reservation { addr: next, expires_at });
            self.timers.schedule(TimerKey::Reservation(token), expires_at);
            token
        });
        Ok((self.relay_addr(addr), token))
    }

    fn pick_relays(&mut self, spec: &Spec, req: &Req<'_>) -> Result<Picked, TurnError> {
        match spec.want {
            // Step 5: the token must name a live reservation -> else 508.
            Want::Reserved(token) => {
                let r = self
                    .reservations
                    .remove(&token)
                    .ok_or(TurnError::InsufficientCapacity("unknown or expired RESERVATION-TOKEN"))?;
                self.timers.cancel(TimerKey::Reservation(token), r.expires_at);
                Ok(Picked { relays: vec![self.relay_addr(r.addr)], token: None, partial: None })
            }
            Want::One(fam) => {
                let (relay, token) = self.acquire_one(fam, spec.shape, req.now)?;
                Ok(Picked { relays: vec![relay], token, partial: None })
            }
            // Step 9: both families; one failing is reported in ADDRESS-ERROR-CODE.
            Want::Dual => {
                let v4 = self.acquire_one(AddressFamily::V4, spec.shape, req.now);
                let v6 = self.acquire_one(AddressFamily::V6, spec.shape, req.now);
                match (v4, v6) {
                    (Ok((a, _)), Ok((b, _))) => Ok(Picked { relays: vec![a, b], token: None, partial: None }),
                    (Ok((a, _)), Err(e)) => {
                        Ok(Picked { relays: vec![a], token: None, partial: Some((AddressFamily::V6, e)) })
                    }
                    (Err(e), Ok((b, _))) => {
                        Ok(Picked { relays: vec![b], token: None, partial: Some((AddressFamily::V4, e)) })
                    }
                    (Err(a), Err(b)) if a == b => Err(a),
                    (Err(_), Err(_)) => Err(TurnError::InsufficientCapacity("no relay address of either family")),
                }
            }
        }
    }
}
