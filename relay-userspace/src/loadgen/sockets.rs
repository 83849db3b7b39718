//! UDP sockets for the generator: bound to a chosen source address, big buffers so the
//! generator's own queues are never the bottleneck being measured, non-blocking.

use std::io;
use std::net::{SocketAddr, UdpSocket};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

/// Socket buffer asked for (the kernel caps it at net.core.{r,w}mem_max).
const BUF_BYTES: usize = 4 << 20;

pub fn bound(local: SocketAddr, connect_to: Option<SocketAddr>, big_buffers: bool) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))?;
    if big_buffers {
        s.set_recv_buffer_size(BUF_BYTES)?;
        s.set_send_buffer_size(BUF_BYTES)?;
    }
    s.bind(&SockAddr::from(local))?;
    if let Some(to) = connect_to {
        s.connect(&SockAddr::from(to))?;
    }
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// Raises RLIMIT_NOFILE to its hard limit (10,000 allocations need 10,000 sockets).
pub fn raise_fd_limit() {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit read and write the struct we pass.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
