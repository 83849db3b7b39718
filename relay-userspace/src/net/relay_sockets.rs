//! Relayed-address sockets: the core picks the address, [`Binder`] binds it on the spot (the
//! Allocate response must carry a port that really is ours), and a receive task per socket
//! feeds peer datagrams to the fast table or the core.

use super::batch::{recv_batches, Outbox, RecvBatch, HEADROOM};
use super::fast_table::PeerRoute;
use super::shared::Shared;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock, Weak};
use tokio::net::UdpSocket;

/// Kernel buffer per relayed socket: room for a burst of video frames without drops.
const RELAY_SOCKET_BUFFER: usize = 1 << 20;

#[derive(Debug)]
pub struct RelaySlot {
    pub socket: Arc<UdpSocket>,
    /// The receive task; aborted on close. (No Notify per socket: at 10,000 allocations every
    /// byte per slot shows in the memory figure.)
    task: Option<tokio::task::AbortHandle>,
}

/// Relayed sockets by address; shared by the binder (inside the core) and the I/O tasks.
#[derive(Debug, Default)]
pub struct RelayRegistry {
    slots: RwLock<HashMap<SocketAddr, RelaySlot>>,
    /// Set once the shared state exists; receive tasks need it to reach the core.
    shared: std::sync::OnceLock<Weak<Shared>>,
}

impl RelayRegistry {
    pub fn set_shared(&self, shared: &Arc<Shared>) {
        let _ = self.shared.set(Arc::downgrade(shared));
    }

    pub fn socket(&self, addr: &SocketAddr) -> Option<Arc<UdpSocket>> {
        self.slots.read().unwrap_or_else(|p| p.into_inner()).get(addr).map(|s| s.socket.clone())
    }

    /// Relayed sockets open now.
    pub fn open_count(&self) -> usize {
        self.slots.read().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// The core's handle for opening and closing relayed sockets.
#[derive(Debug)]
pub struct Binder(pub Arc<RelayRegistry>);

impl crate::turn::RelayBinder for Binder {
    fn bind(&mut self, addr: SocketAddr) -> std::io::Result<()> {
        let domain = socket2::Domain::for_address(addr);
        let sock = socket2::Socket::new(domain, socket2::Type::DGRAM, Some(socket2::Protocol::UDP))?;
        if addr.is_ipv6() {
            sock.set_only_v6(true)?;
        }
        let _ = sock.set_recv_buffer_size(RELAY_SOCKET_BUFFER);
        let _ = sock.set_send_buffer_size(RELAY_SOCKET_BUFFER);
        sock.set_nonblocking(true)?;
        sock.bind(&addr.into())?;
        let socket = Arc::new(UdpSocket::from_std(sock.into())?);
        let task = self
            .0
            .shared
            .get()
            .and_then(Weak::upgrade)
            .map(|shared| tokio::spawn(receive_loop(shared, socket.clone(), addr)).abort_handle());
        self.0.slots.write().unwrap_or_else(|p| p.into_inner()).insert(addr, RelaySlot { socket, task });
        Ok(())
    }

    fn close(&mut self, addr: SocketAddr) {
        if let Some(task) = self.0.slots.write().unwrap_or_else(|p| p.into_inner()).remove(&addr).and_then(|s| s.task) {
            task.abort();
        }
    }
}

async fn receive_loop(shared: Arc<Shared>, socket: Arc<UdpSocket>, relay: SocketAddr) {
    while recv_batches(&socket, |batch, n, out| from_peers(&shared, relay, batch, n, out)).await.is_ok() {}
}

/// Peer datagrams on one relayed address: bound channels leave as ChannelData in one batch,
/// everything else goes to the core (permission check, Data indication or drop).
fn from_peers(shared: &Shared, relay: SocketAddr, batch: &mut RecvBatch, n: usize, out: &mut Outbox<'_>) {
    let now = std::time::Instant::now();
    for i in 0..n {
        let Some((slot, len, peer)) = batch.get(i) else { continue };
        match shared.fast.peer_to_client(relay, peer, slot, len, now) {
            PeerRoute::Udp { socket, client } => out.push(socket, &slot[..HEADROOM + len], client),
            PeerRoute::Queued => {}
            PeerRoute::Miss => {
                let payload = &slot[HEADROOM..HEADROOM + len];
                shared.with_core(|core, now| core.handle_peer(now, relay, peer, payload));
            }
        }
    }
}
