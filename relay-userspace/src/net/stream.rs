//! TCP and TLS listeners (RFC 8656 §3.1, RFC 7443). Each connection is one 5-tuple: a reader
//! splits the byte stream into STUN and ChannelData frames, a writer drains a bounded queue.
//! The connection closing releases its allocation.

use super::shared::Shared;
use crate::stun::{next_frame_len, Frame};
use crate::transport::Transport;
use crate::turn::FiveTuple;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};

/// Frames queued for one client before new ones are dropped (a client that does not read).
const WRITE_QUEUE: usize = 512;
/// A TLS handshake that takes longer than this is abandoned (slowloris).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// A connection silent for this long is closed. Clients refresh allocations well within it.
const IDLE_TIMEOUT: Duration = Duration::from_secs(3600 + 60);
/// Upper bound on open client connections, so a connection flood cannot exhaust memory or fds.
pub const MAX_CONNECTIONS: usize = 16_384;

pub async fn serve(
    shared: Arc<Shared>,
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    limit: Arc<Semaphore>,
) {
    let transport = if tls.is_some() { Transport::Tls } else { Transport::Tcp };
    loop {
        let Ok(permit) = limit.clone().acquire_owned().await else { return };
        let (stream, client) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("accept: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let Ok(server) = stream.local_addr() else { continue };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let ft = FiveTuple { client, server, transport };
            match tls {
                None => connection(shared, ft, stream).await,
                Some(acceptor) => match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(tls_stream)) => connection(shared, ft, tls_stream).await,
                    Ok(Err(e)) => tracing::debug!(%client, "TLS handshake failed: {e}"),
                    Err(_) => tracing::debug!(%client, "TLS handshake timed out"),
                },
            }
            drop(permit);
        });
    }
}

async fn connection<S>(shared: Arc<Shared>, ft: FiveTuple, stream: S)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(WRITE_QUEUE);
    shared.streams.lock().unwrap_or_else(|p| p.into_inner()).insert(ft, tx);
    let write_task = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if writer.write_all(&frame).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });
    read_frames(&shared, ft, &mut reader).await;
    shared.streams.lock().unwrap_or_else(|p| p.into_inner()).remove(&ft);
    shared.with_core(|core, now| core.client_closed(now, ft));
    write_task.abort();
}

/// Reads until EOF, error, idle timeout or a frame that is neither STUN nor ChannelData
/// (RFC 8656 §12.5 leaves no way to resynchronise a stream, so the connection is closed).
async fn read_frames<R: AsyncRead + Unpin>(shared: &Shared, ft: FiveTuple, reader: &mut R) {
    // Starts small and grows to the largest frame seen (bounded by MAX_FRAME), so idle
    // connections cost little memory.
    let mut buf = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            if buf.len() >= crate::stun::MAX_FRAME {
                return; // cannot happen for valid frames: each fits in MAX_FRAME
            }
            buf.resize((buf.len() * 2).min(crate::stun::MAX_FRAME), 0);
        }
        let n = match tokio::time::timeout(IDLE_TIMEOUT, reader.read(&mut buf[filled..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(n)) => n,
        };
        filled += n;
        let mut start = 0;
        while let Some(frame) = next_frame_len(&buf[start..filled]) {
            let len = match frame {
                Frame::Stun { len } | Frame::ChannelData { len } => len,
                Frame::Invalid => return,
            };
            if start + len > filled {
                break; // wait for the rest of this frame
            }
            let frame_bytes = &buf[start..start + len];
            start += len;
            shared.with_core(|core, now| core.handle_client(now, ft, frame_bytes));
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
}

pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let sock = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None)?;
    if addr.is_ipv6() {
        sock.set_only_v6(true)?;
    }
    sock.set_reuse_address(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&addr.into())?;
    sock.listen(1024)?;
    TcpListener::from_std(sock.into())
}
