//! The 5-tuple that names an allocation (RFC 8656 §2, §3.2).

use std::net::SocketAddr;

pub use crate::transport::Transport;

/// Client address, server address and client transport: the key of an allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FiveTuple {
    /// The client's transport address as seen by the server (after any NAT).
    pub client: SocketAddr,
    /// The server's listening address the client talks to.
    pub server: SocketAddr,
    pub transport: Transport,
}
