//! The peer: echoes every UDP datagram back to its sender, in batches.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use super::sockets;
use super::sys::{Epoll, RecvBatch};

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Counts {
    pub received: u64,
    pub echoed: u64,
}

/// Echoes on every address in `binds` until `stop` is set.
pub fn run(binds: &[SocketAddr], stop: &AtomicBool) -> io::Result<Counts> {
    let socks: Vec<UdpSocket> = binds.iter().map(|a| sockets::bound(*a, None, true)).collect::<io::Result<_>>()?;
    let epoll = Epoll::new()?;
    for (i, s) in socks.iter().enumerate() {
        epoll.add(s.as_raw_fd(), i as u64)?;
    }
    let mut batch = RecvBatch::new(2048);
    let mut ready = Vec::new();
    let mut c = Counts::default();
    while !stop.load(Ordering::Relaxed) {
        epoll.wait(&mut ready, 100)?;
        for &tok in &ready {
            let Some(s) = socks.get(tok as usize) else { continue };
            while let Ok(n @ 1..) = batch.recv(s.as_raw_fd()) {
                c.received += n as u64;
                c.echoed += batch.echo(s.as_raw_fd(), n)? as u64;
            }
        }
    }
    Ok(c)
}
