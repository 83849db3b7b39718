//! One file per method (pion/turn's layout). Each handler quotes the RFC step it performs.

mod allocate;
mod binding;
mod channel_bind;
mod data;
mod permission;
mod refresh;
mod send;

use std::time::Instant;

use crate::stun::{attr_type as at, Class, Message, MessageBuilder, Method};

use super::auth::Authenticated;
use super::error_response::{sign, TurnError};
use super::five_tuple::FiveTuple;
use super::output::Output;
use super::server::Server;
use super::timers::AllocId;

/// One request being processed.
pub(crate) struct Req<'a> {
    pub(crate) msg: Message<'a>,
    pub(crate) ft: FiveTuple,
    pub(crate) now: Instant,
}

/// Granted lifetime in seconds (RFC 8656 §7.2, §8.2): the client's wish capped at the
/// maximum, never below the default; absent means the default.
pub(crate) fn granted_lifetime(server: &Server, requested: Option<u32>) -> u32 {
    let default = u32::try_from(server.cfg.default_lifetime.as_secs()).unwrap_or(u32::MAX);
    let max = u32::try_from(server.cfg.max_lifetime.as_secs()).unwrap_or(u32::MAX);
    match requested {
        None => default,
        Some(v) => v.min(max).max(default.min(max)),
    }
}

impl Server {
    /// A success response with the attributes `attrs` writes, then SOFTWARE, the integrity
    /// attribute of the request (RFC 8489 §9.2.4) and FINGERPRINT.
    pub(crate) fn success(
        &self,
        req: &Req<'_>,
        auth: Option<&Authenticated>,
        attrs: impl FnOnce(&mut MessageBuilder<'_>),
    ) -> Vec<u8> {
        let mut buf = Vec::with_capacity(128);
        let mut b = MessageBuilder::new(&mut buf, Class::Success, req.msg.method(), req.msg.transaction_id());
        attrs(&mut b);
        if let Some(sw) = &self.cfg.software {
            b.add_text(at::SOFTWARE, sw);
        }
        if let Some(a) = auth {
            sign(&mut b, a);
        }
        b.add_fingerprint();
        b.finish();
        buf
    }

    pub(crate) fn reply(&mut self, ft: FiveTuple, data: Vec<u8>) {
        self.out.push_back(Output::ToClient { ft, data });
    }

    /// Comprehension-required attributes we cannot honour (RFC 8489 §6.3.1), including
    /// DONT-FRAGMENT when the edge cannot set DF (RFC 8656 §7.2 step 4).
    pub(crate) fn unknown_attributes(&self, msg: &Message<'_>) -> Vec<u16> {
        let mut unknown = msg.unknown_comprehension_required();
        if !self.cfg.supports_dont_fragment && msg.has(at::DONT_FRAGMENT) {
            unknown.push(at::DONT_FRAGMENT);
        }
        unknown
    }

    /// An authenticated TURN request (RFC 8656 §5): 420 for unknown attributes, 437 when the
    /// method needs an allocation the 5-tuple lacks, else the method's handler.
    pub(crate) fn dispatch_authenticated(&mut self, req: &Req<'_>, auth: &Authenticated, alloc: Option<AllocId>) {
        let unknown = self.unknown_attributes(&req.msg);
        if !unknown.is_empty() {
            return self.send_error(req, TurnError::UnknownAttributes(unknown), Some(auth));
        }
        let method = req.msg.method();
        if method == Method::ALLOCATE {
            return self.handle_allocate(req, auth, alloc);
        }
        // RFC 8656 §5: no allocation on this 5-tuple -> 437.
        let Some(id) = alloc else {
            return self.send_error(req, TurnError::AllocationMismatch, Some(auth));
        };
        let result = match method {
            Method::REFRESH => self.handle_refresh(req, auth, id),
            Method::CREATE_PERMISSION => self.handle_create_permission(req, auth, id),
            Method::CHANNEL_BIND => self.handle_channel_bind(req, auth, id),
            _ => Err(TurnError::BadRequest("unknown method")),
        };
        if let Err(e) = result {
            self.send_error(req, e, Some(auth));
        }
    }
}
