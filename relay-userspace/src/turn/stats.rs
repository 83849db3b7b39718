//! Counters for operators: what the core answered, refused and dropped, and how much it relayed.

use std::collections::BTreeMap;

use crate::stun::Method;

/// Requests received, by method.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestCounters {
    pub binding: u64,
    pub allocate: u64,
    pub refresh: u64,
    pub create_permission: u64,
    pub channel_bind: u64,
    pub other: u64,
}

/// Why a message or datagram was dropped without an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// Not STUN, not ChannelData, or a STUN message that does not parse (RFC 8489 §6.3).
    Malformed,
    /// FINGERPRINT present but wrong (RFC 8489 §14.7).
    BadFingerprint,
    /// A response or an indication a server never accepts from a client.
    UnexpectedMessage,
    /// Indication or ChannelData on a 5-tuple without allocation (RFC 8656 §5).
    NoAllocation,
    /// Send indication without XOR-PEER-ADDRESS or DATA, or with an unsupported
    /// comprehension-required attribute (RFC 8656 §11.2).
    InvalidIndication,
    /// No permission for the peer's IP (RFC 8656 §9).
    NoPermission,
    /// Send indication to a peer the policy refuses (RFC 8656 §11.2).
    ForbiddenPeer,
    /// ChannelData on an unbound channel (RFC 8656 §12.6).
    UnboundChannel,
    /// Unauthenticated request over the per-source budget.
    RateLimited,
    /// Peer data for a relayed address that no allocation owns.
    UnknownRelay,
    /// Peer datagram too large to wrap for the client.
    TooLarge,
}

/// Drops by reason.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters {
    pub malformed: u64,
    pub bad_fingerprint: u64,
    pub unexpected_message: u64,
    pub no_allocation: u64,
    pub invalid_indication: u64,
    pub no_permission: u64,
    pub forbidden_peer: u64,
    pub unbound_channel: u64,
    pub rate_limited: u64,
    pub unknown_relay: u64,
    pub too_large: u64,
}

/// Payload relayed by the userspace path (not counting what an offload engine forwarded).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrafficCounters {
    pub client_to_peer_packets: u64,
    pub client_to_peer_bytes: u64,
    pub peer_to_client_packets: u64,
    pub peer_to_client_bytes: u64,
}

impl TrafficCounters {
    pub(crate) fn count_to_peer(&mut self, bytes: usize) {
        self.client_to_peer_packets += 1;
        self.client_to_peer_bytes += bytes as u64;
    }

    pub(crate) fn count_to_client(&mut self, bytes: usize) {
        self.peer_to_client_packets += 1;
        self.peer_to_client_bytes += bytes as u64;
    }

    pub(crate) fn add(&mut self, o: &TrafficCounters) {
        self.client_to_peer_packets += o.client_to_peer_packets;
        self.client_to_peer_bytes += o.client_to_peer_bytes;
        self.peer_to_client_packets += o.peer_to_client_packets;
        self.peer_to_client_bytes += o.peer_to_client_bytes;
    }
}

/// Everything [`super::Server::stats`] reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub requests: RequestCounters,
    /// Error responses sent, by ERROR-CODE.
    pub errors: BTreeMap<u16, u64>,
    pub drops: DropCounters,
    pub allocations_active: u64,
    pub allocations_created: u64,
    pub allocations_expired: u64,
    pub relayed: TrafficCounters,
}

impl Stats {
    pub(crate) fn request(&mut self, m: Method) {
        let r = &mut self.requests;
        let slot = match m {
            Method::BINDING => &mut r.binding,
            Method::ALLOCATE => &mut r.allocate,
            Method::REFRESH => &mut r.refresh,
            Method::CREATE_PERMISSION => &mut r.create_permission,
            Method::CHANNEL_BIND => &mut r.channel_bind,
            _ => &mut r.other,
        };
        *slot += 1;
    }

    pub(crate) fn error(&mut self, code: u16) {
        *self.errors.entry(code).or_default() += 1;
    }

    /// Errors sent with `code` so far.
    pub fn errors_with(&self, code: u16) -> u64 {
        self.errors.get(&code).copied().unwrap_or(0)
    }

    pub(crate) fn drop(&mut self, why: DropReason) {
        let d = &mut self.drops;
        let slot = match why {
            DropReason::Malformed => &mut d.malformed,
            DropReason::BadFingerprint => &mut d.bad_fingerprint,
            DropReason::UnexpectedMessage => &mut d.unexpected_message,
            DropReason::NoAllocation => &mut d.no_allocation,
            DropReason::InvalidIndication => &mut d.invalid_indication,
            DropReason::NoPermission => &mut d.no_permission,
            DropReason::ForbiddenPeer => &mut d.forbidden_peer,
            DropReason::UnboundChannel => &mut d.unbound_channel,
            DropReason::RateLimited => &mut d.rate_limited,
            DropReason::UnknownRelay => &mut d.unknown_relay,
            DropReason::TooLarge => &mut d.too_large,
        };
        *slot += 1;
    }
}
