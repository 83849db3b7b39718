//! The client-side transport of a 5-tuple (RFC 8656 §2): shared by the TURN core, the network
//! edges and the offload engines, which only accelerate UDP.

/// How a client reaches the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TLS over TCP (RFC 8656 §3.1); framed like TCP once decrypted.
    Tls,
}

impl Transport {
    /// Stream transports frame ChannelData with padding to 4 bytes (RFC 8656 §12.5).
    pub fn is_stream(self) -> bool {
        !matches!(self, Transport::Udp)
    }
}
