//! The offload engine: where the signalling code hands bound UDP channels to a fast path.
//!
//! The TURN core never knows which engine is active (pion/turn's split): it emits
//! [`ChannelBinding`]s, and the daemon passes them to every engine in use. [`NoopOffload`]
//! does nothing, so the relay behaves identically, only slower, where XDP cannot load.

pub mod xdp;

use std::net::SocketAddr;
use std::time::Instant;

/// One bound channel of a UDP allocation (RFC 8656 §12): both directions of its media.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ChannelBinding {
    /// Client's transport address as the server sees it (the 5-tuple's remote side).
    pub client: SocketAddr,
    /// Server address the client talks to (the 5-tuple's local side).
    pub server: SocketAddr,
    /// Channel number: 0x4000..=0x4FFF (RFC 8656 §12), or up to 0x7FFF for RFC 5766 clients.
    pub channel: u16,
    /// The peer bound to this channel.
    pub peer: SocketAddr,
    /// The allocation's relayed transport address.
    pub relay: SocketAddr,
    /// When the binding stops forwarding unless refreshed: the earlier of the channel's and the
    /// peer permission's expiry (RFC 8656 §9, §12). The fast path must stop forwarding then even
    /// if the daemon stalls.
    pub expires_at: Instant,
    /// The client's transport; only UDP bindings are offloaded to XDP.
    pub transport: crate::transport::Transport,
    /// Identifies the allocation's user for metering; opaque to engines.
    pub user: std::sync::Arc<str>,
}

/// Packets and bytes a fast path forwarded for one channel, both directions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChannelCounters {
    pub client_to_peer_packets: u64,
    pub client_to_peer_bytes: u64,
    pub peer_to_client_packets: u64,
    pub peer_to_client_bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum OffloadError {
    #[error("offload map is full")]
    Full,
    #[error("offload map operation failed: {0}")]
    Map(String),
}

/// An engine that forwards bound channels outside the daemon's normal path.
pub trait Offload: Send + Sync {
    /// Short name for logs and status ("xdp", "none").
    fn name(&self) -> &'static str;
    /// Install or refresh both directions of a binding.
    fn upsert(&self, binding: &ChannelBinding) -> Result<(), OffloadError>;
    /// Remove both directions of a binding; removing an absent binding is not an error.
    fn remove(&self, binding: &ChannelBinding) -> Result<(), OffloadError>;
    /// What the engine forwarded for this binding so far (summed over CPUs).
    fn counters(&self, binding: &ChannelBinding) -> Option<ChannelCounters>;
}

/// The engine used when XDP is off or unavailable: every packet stays in userspace.
#[derive(Debug, Default)]
pub struct NoopOffload;

impl Offload for NoopOffload {
    fn name(&self) -> &'static str {
        "none"
    }
    fn upsert(&self, _binding: &ChannelBinding) -> Result<(), OffloadError> {
        Ok(())
    }
    fn remove(&self, _binding: &ChannelBinding) -> Result<(), OffloadError> {
        Ok(())
    }
    fn counters(&self, _binding: &ChannelBinding) -> Option<ChannelCounters> {
        None
    }
}
