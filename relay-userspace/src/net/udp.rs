//! UDP listeners: several SO_REUSEPORT sockets per address so the kernel spreads clients over
//! workers (and cores). ChannelData for a bound channel goes straight to the fast table.

use super::batch::{recv_batches, Outbox, RecvBatch, HEADROOM};
use super::shared::Shared;
use crate::transport::Transport;
use crate::turn::FiveTuple;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::UdpSocket;

/// Kernel buffers for listening sockets: absorb bursts from many clients.
const LISTEN_SOCKET_BUFFER: usize = 4 << 20;

/// Binds `workers` sockets on `addr` with SO_REUSEPORT.
pub fn bind(addr: SocketAddr, workers: usize) -> std::io::Result<Vec<Arc<UdpSocket>>> {
    (0..workers.max(1))
        .map(|_| {
            let sock = socket2::Socket::new(
                socket2::Domain::for_address(addr),
                socket2::Type::DGRAM,
                Some(socket2::Protocol::UDP),
            )?;
            if addr.is_ipv6() {
                sock.set_only_v6(true)?;
            }
            sock.set_reuse_port(true)?;
            let _ = sock.set_recv_buffer_size(LISTEN_SOCKET_BUFFER);
            let _ = sock.set_send_buffer_size(LISTEN_SOCKET_BUFFER);
            sock.set_nonblocking(true)?;
            sock.bind(&addr.into())?;
            Ok(Arc::new(UdpSocket::from_std(sock.into())?))
        })
        .collect()
}

pub async fn serve(shared: Arc<Shared>, socket: Arc<UdpSocket>, server: SocketAddr) {
    loop {
        let drained = recv_batches(&socket, |batch, n, out| from_clients(&shared, server, batch, n, out)).await;
        if let Err(e) = drained {
            tracing::error!(%server, "UDP listener failed: {e}");
            return;
        }
    }
}

/// Client datagrams on one listening address: ChannelData on a bound channel leaves for its
/// peer in one batch per relayed socket; everything else goes to the core.
fn from_clients(shared: &Shared, server: SocketAddr, batch: &mut RecvBatch, n: usize, out: &mut Outbox<'_>) {
    let now = std::time::Instant::now();
    for i in 0..n {
        let Some((slot, len, client)) = batch.get(i) else { continue };
        let datagram = &slot[HEADROOM..HEADROOM + len];
        if let Some((relay, peer, payload_len)) = shared.fast.client_to_peer(client, server, datagram, now) {
            out.push(relay, &datagram[4..4 + payload_len], peer);
            continue;
        }
        let ft = FiveTuple { client, server, transport: Transport::Udp };
        shared.with_core(|core, now| core.handle_client(now, ft, datagram));
    }
}
