//! UDP listeners: several SO_REUSEPORT sockets per address so the kernel spreads clients over
//! workers (and cores). ChannelData for a bound channel goes straight to the fast table.

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
    let mut buf = vec![0u8; 65_536];
    loop {
        let (len, client) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            // ICMP port unreachable from an earlier send shows up here; keep serving.
            Err(_) => continue,
        };
        let datagram = &buf[..len];
        let now = std::time::Instant::now();
        if shared.fast.client_to_peer(client, server, datagram, now) {
            continue;
        }
        let ft = FiveTuple { client, server, transport: Transport::Udp };
        shared.with_core(|core, now| core.handle_client(now, ft, datagram));
    }
}
