//! The one place error responses are built (RFC 8489 §6.3.1.1; codes from RFC 8489 §14.8 and
//! RFC 8656 §19).

use std::net::SocketAddr;

use crate::stun::{attr_type as at, Class, MessageBuilder};

use super::auth::{Authenticated, Mac, SUPPORTED};
use super::handlers::Req;
use super::log::{method_name, Untrusted};
use super::output::Output;
use super::server::Server;

/// Every error the core answers with. The reason phrase is the Display text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TurnError {
    #[error("Bad Request: {0}")]
    BadRequest(&'static str),
    /// 401 with REALM and NONCE (challenge, unknown user, wrong key; RFC 8489 §9.2.4).
    #[error("Unauthenticated")]
    Unauthenticated,
    /// 403 for a peer the policy refuses; the peer is for the operator log.
    #[error("Forbidden: peer address not allowed")]
    Forbidden(SocketAddr),
    /// 420 with UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1).
    #[error("Unknown Attribute")]
    UnknownAttributes(Vec<u16>),
    #[error("Allocation Mismatch")]
    AllocationMismatch,
    /// 438 with a fresh NONCE (RFC 8489 §9.2.4).
    #[error("Stale Nonce")]
    StaleNonce,
    #[error("Address Family not Supported")]
    AddressFamilyNotSupported,
    #[error("Wrong Credentials")]
    WrongCredentials,
    #[error("Unsupported Transport Protocol")]
    UnsupportedTransport,
    #[error("Peer Address Family Mismatch")]
    PeerAddressFamilyMismatch,
    /// 486; which quota ("user" or "total") is for the operator log, not the client.
    #[error("Allocation Quota Reached")]
    QuotaReached(&'static str),
    #[error("Insufficient Capacity: {0}")]
    InsufficientCapacity(&'static str),
}

impl TurnError {
    pub(crate) fn code(&self) -> u16 {
        match self {
            TurnError::BadRequest(_) => 400,
            TurnError::Unauthenticated => 401,
            TurnError::Forbidden(_) => 403,
            TurnError::UnknownAttributes(_) => 420,
            TurnError::AllocationMismatch => 437,
            TurnError::StaleNonce => 438,
            TurnError::AddressFamilyNotSupported => 440,
            TurnError::WrongCredentials => 441,
            TurnError::UnsupportedTransport => 442,
            TurnError::PeerAddressFamilyMismatch => 443,
            TurnError::QuotaReached(_) => 486,
            TurnError::InsufficientCapacity(_) => 508,
        }
    }

    /// 401 and 438 carry REALM, NONCE and PASSWORD-ALGORITHMS (RFC 8489 §9.2.4).
    fn challenges(&self) -> bool {
        matches!(self, TurnError::Unauthenticated | TurnError::StaleNonce)
    }
}

/// Appends MESSAGE-INTEGRITY(-SHA256), same kind as the request (RFC 8489 §9.2.4).
pub(crate) fn sign(b: &mut MessageBuilder<'_>, auth: &Authenticated) {
    let key = auth.cred.key.as_slice();
    match auth.mac {
        Mac::Sha256 => b.add_message_integrity_sha256(key),
        Mac::Sha1 => b.add_message_integrity(key),
    };
}

impl Server {
    /// Answers `req` with `err`. Signed with `signer` when the request authenticated (never
    /// for 401, RFC 8489 §9.2.4); SOFTWARE if configured; FINGERPRINT always.
    pub(crate) fn send_error(&mut self, req: &Req<'_>, err: TurnError, signer: Option<&Authenticated>) {
        let mut buf = Vec::with_capacity(160);
        let mut b = MessageBuilder::new(&mut buf, Class::Error, req.msg.method(), req.msg.transaction_id());
        b.add_error_code(err.code(), &err.to_string());
        if let TurnError::UnknownAttributes(types) = &err {
            b.add_unknown_attributes(types);
        }
        if err.challenges() {
            b.add_text(at::REALM, self.auth.realm());
            b.add_text(at::NONCE, &self.auth.nonce(req.ft.client.ip(), req.now));
            b.add_password_algorithms(&SUPPORTED);
        }
        if let Some(sw) = &self.cfg.software {
            b.add_text(at::SOFTWARE, sw);
        }
        if let Some(a) = signer.filter(|_| err != TurnError::Unauthenticated) {
            sign(&mut b, a);
        }
        b.add_fingerprint();
        b.finish();
        self.stats.error(err.code());
        self.out.push_back(Output::ToClient { ft: req.ft, data: buf });
        log_error(req, &err, signer);
    }
}

/// DEBUG line per error response. 401/438/441 are logged with their cause by the
/// authentication path instead.
fn log_error(req: &Req<'_>, err: &TurnError, signer: Option<&Authenticated>) {
    if matches!(err, TurnError::Unauthenticated | TurnError::StaleNonce | TurnError::WrongCredentials) {
        return;
    }
    let user = signer.map(|a| Untrusted(&a.cred.user));
    let (peer, quota) = match err {
        TurnError::Forbidden(p) => (Some(*p), None),
        TurnError::QuotaReached(q) => (None, Some(*q)),
        _ => (None, None),
    };
    tracing::debug!(
        client = %req.ft.client,
        method = method_name(req.msg.method()),
        user = user.as_ref().map(tracing::field::display),
        peer = peer.map(tracing::field::display),
        quota,
        code = err.code(),
        reason = %err,
        "error response"
    );
}
