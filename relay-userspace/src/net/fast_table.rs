//! The userspace fast path for bound channels: one read-locked hash lookup per packet, no
//! allocation, no trip through the TURN core. The core stays the authority: it installs and
//! removes entries through `ChannelBound`/`ChannelUnbound`, and every entry carries the expiry
//! the core gave it, checked per packet, so a late removal never extends a binding.

use crate::offload::{ChannelBinding, ChannelCounters};
use crate::stun::ChannelData;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, RwLock};
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

/// How bytes reach a client: its server UDP socket, or its TCP/TLS connection's writer.
#[derive(Clone, Debug)]
pub enum ClientSink {
    Udp(Arc<UdpSocket>),
    Stream(mpsc::Sender<Vec<u8>>),
}

#[derive(Debug, Default)]
pub struct Counters {
    c2p_packets: AtomicU64,
    c2p_bytes: AtomicU64,
    p2c_packets: AtomicU64,
    p2c_bytes: AtomicU64,
    /// Packets the fast path had to drop: socket buffer full (UDP semantics: no retry).
    pub dropped: AtomicU64,
}

impl Counters {
    pub fn snapshot(&self) -> ChannelCounters {
        ChannelCounters {
            client_to_peer_packets: self.c2p_packets.load(Relaxed),
            client_to_peer_bytes: self.c2p_bytes.load(Relaxed),
            peer_to_client_packets: self.p2c_packets.load(Relaxed),
            peer_to_client_bytes: self.p2c_bytes.load(Relaxed),
        }
    }
}

/// Where a peer datagram goes after [`FastTable::peer_to_client`].
#[derive(Debug)]
pub enum PeerRoute {
    /// Send `slot[..4 + len]` (header already written) from `socket` to `client`.
    Udp { socket: Arc<UdpSocket>, client: SocketAddr },
    /// Queued to a TCP/TLS client's writer (or dropped there and counted).
    Queued,
    /// Not a bound channel: the core decides (Data indication, permission check, drop).
    Miss,
}

type C2pKey = (SocketAddr, SocketAddr, u16);
type P2cKey = (SocketAddr, SocketAddr);

#[derive(Debug)]
struct C2p {
    relay: Arc<UdpSocket>,
    peer: SocketAddr,
    expires_at: Instant,
}

#[derive(Debug)]
struct P2c {
    client: SocketAddr,
    channel: u16,
    sink: ClientSink,
    expires_at: Instant,
}

/// Both directions of every bound channel, plus process-wide totals.
#[derive(Debug, Default)]
pub struct FastTable {
    c2p: RwLock<HashMap<C2pKey, C2p>>,
    p2c: RwLock<HashMap<P2cKey, P2c>>,
    pub totals: Counters,
}

impl FastTable {
    pub fn install(&self, b: &ChannelBinding, relay: Arc<UdpSocket>, sink: ClientSink) {
        let c2p = C2p { relay, peer: b.peer, expires_at: b.expires_at };
        let p2c = P2c { client: b.client, channel: b.channel, sink, expires_at: b.expires_at };
        write(&self.c2p).insert((b.client, b.server, b.channel), c2p);
        write(&self.p2c).insert((b.relay, b.peer), p2c);
    }

    pub fn remove(&self, b: &ChannelBinding) {
        write(&self.c2p).remove(&(b.client, b.server, b.channel));
        let mut p2c = write(&self.p2c);
        // A peer can be re-bound to another channel only after expiry; only remove our own entry.
        if p2c.get(&(b.relay, b.peer)).is_some_and(|e| e.channel == b.channel && e.client == b.client) {
            p2c.remove(&(b.relay, b.peer));
        }
    }

    /// ChannelData from a client (RFC 8656 §12.6 on the server): where its payload goes. The
    /// caller sends `datagram[4..4 + len]` from the returned relayed socket to the peer (so a
    /// batch can share one system call). `None` leaves the datagram to the core.
    pub fn client_to_peer(
        &self,
        client: SocketAddr,
        server: SocketAddr,
        datagram: &[u8],
        now: Instant,
    ) -> Option<(Arc<UdpSocket>, SocketAddr, usize)> {
        // Any number with top bits 01: only numbers the core bound have entries (RFC 5766's
        // 0x5000-0x7FFF included, as in the core).
        let ChannelData { channel, data } = ChannelData::parse_any_number(datagram)?;
        let table = read(&self.c2p);
        let e = table.get(&(client, server, channel))?;
        if now >= e.expires_at {
            return None;
        }
        self.totals.c2p_packets.fetch_add(1, Relaxed);
        self.totals.c2p_bytes.fetch_add(data.len() as u64, Relaxed);
        Some((e.relay.clone(), e.peer, data.len()))
    }

    /// A datagram from a peer on a relayed address (RFC 8656 §12.7 on the server).
    /// `slot[..4]` is headroom for the ChannelData header and `slot[4..4 + len]` the payload.
    /// For a UDP client the header is written in place and the caller sends `slot[..4 + len]`
    /// (so a batch of them can go out in one system call); a stream client's frame is queued
    /// here. `Miss` leaves the datagram to the core.
    pub fn peer_to_client(
        &self,
        relay: SocketAddr,
        peer: SocketAddr,
        slot: &mut [u8],
        len: usize,
        now: Instant,
    ) -> PeerRoute {
        let table = read(&self.p2c);
        let Some(e) = table.get(&(relay, peer)) else { return PeerRoute::Miss };
        let Ok(len16) = u16::try_from(len) else { return PeerRoute::Miss };
        if now >= e.expires_at || slot.len() < 4 + len {
            return PeerRoute::Miss;
        }
        slot[..4].copy_from_slice(&ChannelData::encode_header(e.channel, len16));
        self.totals.p2c_packets.fetch_add(1, Relaxed);
        self.totals.p2c_bytes.fetch_add(len as u64, Relaxed);
        match &e.sink {
            ClientSink::Udp(sock) => PeerRoute::Udp { socket: sock.clone(), client: e.client },
            ClientSink::Stream(tx) => {
                // RFC 8656 §12.5: over streams ChannelData is padded to a multiple of 4.
                let padded = (4 + len + 3) & !3;
                let mut frame = Vec::with_capacity(padded);
                frame.extend_from_slice(&slot[..4 + len]);
                frame.resize(padded, 0);
                if tx.try_send(frame).is_err() {
                    self.totals.dropped.fetch_add(1, Relaxed);
                }
                PeerRoute::Queued
            }
        }
    }

    pub fn len(&self) -> usize {
        read(&self.c2p).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

// A poisoned lock means a panic elsewhere already happened mid-update of a plain HashMap, whose
// contents are still memory-safe; keep serving rather than cascade the panic.
fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}
