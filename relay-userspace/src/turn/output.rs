//! What the core asks the edge to do; drained with `Server::poll_output`.

use std::net::SocketAddr;

use crate::offload::ChannelBinding;

use super::five_tuple::FiveTuple;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    /// Bytes for the client on its 5-tuple: a STUN response, a Data indication or a
    /// ChannelData message (already padded to 4 bytes on TCP/TLS, RFC 8656 §12.5). On
    /// TCP/TLS it is exactly one frame, ready to write to the stream.
    ToClient { ft: FiveTuple, data: Vec<u8> },
    /// Payload to send as one UDP datagram from relayed address `relay` to `peer`.
    ToPeer { relay: SocketAddr, peer: SocketAddr, data: Vec<u8> },
    /// A channel became usable or its usable-until time moved (ChannelBind, or a permission
    /// refresh for its peer): hand it to the offload engines (upsert).
    ChannelBound(ChannelBinding),
    /// A channel stopped being usable (expired, permission expired, deallocated, shutdown):
    /// remove it from the offload engines.
    ChannelUnbound(ChannelBinding),
    /// The allocation owning `relay` is gone. `RelayBinder::close` was already called for
    /// it; the edge drops whatever else it keeps per relay socket (reader tasks, stats).
    RelayClosed { relay: SocketAddr },
}
