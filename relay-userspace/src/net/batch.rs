//! Batched UDP I/O (recvmmsg/sendmmsg): one system call moves up to [`BATCH`] datagrams, which
//! is most of the per-packet cost a userspace relay can save. Buffers are allocated once per
//! worker; nothing is allocated per packet.

use std::cell::RefCell;
use std::io;
use std::mem::{size_of, zeroed};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// Batches handled per wake-up before the task yields, so one busy socket cannot starve the
/// others on its worker thread.
const MAX_BATCHES_PER_WAKE: usize = 16;

thread_local! {
    // One receive and one send batch per worker thread, borrowed only in synchronous code (no
    // await while held), so thousands of relayed sockets share a few MiB instead of holding a
    // 64 KiB buffer each (memory per allocation matters at 10,000 allocations).
    static RECV: RefCell<RecvBatch> = RefCell::new(RecvBatch::default());
    static SEND: RefCell<SendBatch> = RefCell::new(SendBatch::default());
}

/// Waits until `socket` is readable, then hands each received batch to `each` (with the
/// thread's send batch for replies) until the socket is drained or the per-wake budget is used.
pub async fn recv_batches(
    socket: &UdpSocket,
    mut each: impl FnMut(&mut RecvBatch, usize, &mut Outbox),
) -> io::Result<()> {
    socket.readable().await?;
    let fd = socket.as_raw_fd();
    for _ in 0..MAX_BATCHES_PER_WAKE {
        let r = RECV.with(|recv| {
            let mut recv = recv.borrow_mut();
            let n = socket.try_io(Interest::READABLE, || recv.recv(fd))?;
            SEND.with(|send| {
                let mut outbox = Outbox { batch: &mut send.borrow_mut(), socket: None };
                each(&mut recv, n, &mut outbox);
                outbox.flush();
            });
            Ok::<_, io::Error>(n)
        });
        match r {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            // An ICMP error from an earlier send (ECONNREFUSED...): the socket is fine.
            Err(_) => {}
        }
    }
    tokio::task::yield_now().await;
    Ok(())
}

/// Datagrams to send, grouped by socket: consecutive datagrams for the same socket leave in one
/// `sendmmsg`.
pub struct Outbox<'a> {
    batch: &'a mut SendBatch,
    socket: Option<Arc<UdpSocket>>,
}

impl Outbox<'_> {
    /// Queues `data` (which must stay untouched until the next flush: it lives in the receive
    /// batch) to go from `socket` to `to`.
    pub fn push(&mut self, socket: Arc<UdpSocket>, data: &[u8], to: SocketAddr) {
        let same = self.socket.as_ref().is_some_and(|s| Arc::ptr_eq(s, &socket));
        if !same || self.batch.queued() >= BATCH {
            self.flush();
            self.socket = Some(socket);
        }
        self.batch.push(data, to);
    }

    /// Sends what is queued. Datagrams the kernel refuses (buffer full) are dropped, as UDP does.
    pub fn flush(&mut self) {
        if let Some(s) = &self.socket {
            self.batch.flush(s.as_raw_fd());
        }
        self.socket = None;
    }
}

/// Datagrams per system call: enough to amortise the call under load, small enough that one
/// batch of 64 KiB slots stays in a few MiB per worker.
pub const BATCH: usize = 32;
/// Room in front of each received payload for a ChannelData header, so a peer datagram can be
/// wrapped for its client without a copy.
pub const HEADROOM: usize = 4;
/// The largest UDP payload plus headroom.
const SLOT: usize = HEADROOM + 65_536;

/// Reusable receive state for one socket.
pub struct RecvBatch {
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

// The raw pointers inside `iovs`/`hdrs` only point into the batch's own buffers and are
// rebuilt before every call; the batch is used by one task at a time.
unsafe impl Send for RecvBatch {}

impl Default for RecvBatch {
    fn default() -> Self {
        // SAFETY: all-zero is a valid value for these plain C structs.
        let zero_addr: libc::sockaddr_storage = unsafe { zeroed() };
        let zero_hdr: libc::mmsghdr = unsafe { zeroed() };
        RecvBatch {
            bufs: vec![0u8; BATCH * SLOT],
            addrs: vec![zero_addr; BATCH],
            iovs: vec![libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH],
            hdrs: vec![zero_hdr; BATCH],
        }
    }
}

impl RecvBatch {
    /// Receives up to [`BATCH`] datagrams without blocking. `Err(WouldBlock)` when none is
    /// waiting, so it fits `tokio::net::UdpSocket::try_io`.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let base = self.bufs.as_mut_ptr();
        for i in 0..BATCH {
            // SAFETY: i * SLOT + HEADROOM < bufs.len(), and the iovec covers the rest of slot i.
            self.iovs[i] =
                libc::iovec { iov_base: unsafe { base.add(i * SLOT + HEADROOM) }.cast(), iov_len: SLOT - HEADROOM };
            let h = &mut self.hdrs[i].msg_hdr;
            h.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_storage).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &mut self.iovs[i];
            h.msg_iovlen = 1;
            h.msg_control = std::ptr::null_mut();
            h.msg_controllen = 0;
            h.msg_flags = 0;
            self.hdrs[i].msg_len = 0;
        }
        // SAFETY: every header points at live buffers owned by `self` for the call's duration.
        let n = unsafe {
            libc::recvmmsg(fd, self.hdrs.as_mut_ptr(), BATCH as u32, libc::MSG_DONTWAIT, std::ptr::null_mut())
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// Datagram `i` of the last batch: the slot (headroom included), the payload length and
    /// the sender. `None` for an address family we do not speak.
    pub fn get(&mut self, i: usize) -> Option<(&mut [u8], usize, SocketAddr)> {
        let len = (self.hdrs[i].msg_len as usize).min(SLOT - HEADROOM);
        let namelen = self.hdrs[i].msg_hdr.msg_namelen;
        // SAFETY: the kernel wrote a sockaddr of `namelen` bytes into this storage.
        let from = unsafe { socket2::SockAddr::new(self.addrs[i], namelen) }.as_socket()?;
        let slot = &mut self.bufs[i * SLOT..(i + 1) * SLOT];
        Some((slot, len, from))
    }
}

/// Datagrams queued for one socket, sent with one `sendmmsg`.
pub struct SendBatch {
    addrs: Vec<socket2::SockAddr>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

unsafe impl Send for SendBatch {}

impl Default for SendBatch {
    fn default() -> Self {
        SendBatch { addrs: Vec::with_capacity(BATCH), iovs: Vec::with_capacity(BATCH), hdrs: Vec::with_capacity(BATCH) }
    }
}

impl SendBatch {
    /// Datagrams queued.
    pub fn queued(&self) -> usize {
        self.iovs.len()
    }

    /// Queues `data` for `to`. The caller keeps `data` alive and unchanged until [`Self::flush`].
    pub fn push(&mut self, data: &[u8], to: SocketAddr) {
        self.addrs.push(socket2::SockAddr::from(to));
        self.iovs.push(libc::iovec { iov_base: data.as_ptr() as *mut libc::c_void, iov_len: data.len() });
    }

    /// Sends everything queued without blocking; returns how many datagrams the kernel took.
    /// What it refuses (socket buffer full) is dropped, as UDP would.
    pub fn flush(&mut self, fd: RawFd) -> usize {
        self.hdrs.clear();
        for (addr, iov) in self.addrs.iter().zip(self.iovs.iter_mut()) {
            // SAFETY: all-zero is a valid msghdr; the fields set below point at live data.
            let mut h: libc::mmsghdr = unsafe { zeroed() };
            h.msg_hdr.msg_name = addr.as_ptr() as *mut libc::c_void;
            h.msg_hdr.msg_namelen = addr.len();
            h.msg_hdr.msg_iov = iov;
            h.msg_hdr.msg_iovlen = 1;
            self.hdrs.push(h);
        }
        let mut sent = 0;
        while sent < self.hdrs.len() {
            let rest = &mut self.hdrs[sent..];
            // SAFETY: headers point at addresses and payloads that outlive this call.
            let n = unsafe { libc::sendmmsg(fd, rest.as_mut_ptr(), rest.len() as u32, libc::MSG_DONTWAIT) };
            if n <= 0 {
                break;
            }
            sent += n as usize;
        }
        self.addrs.clear();
        self.iovs.clear();
        self.hdrs.clear();
        sent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn round_trip_through_loopback() {
        let a = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let payloads: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 10 + i as usize]).collect();
        let mut out = SendBatch::default();
        for p in &payloads {
            out.push(p, b.local_addr().unwrap());
        }
        assert_eq!(out.flush(a.as_raw_fd()), 40);
        let mut got = Vec::new();
        let mut rb = RecvBatch::default();
        while got.len() < 40 {
            let n = rb.recv(b.as_raw_fd()).unwrap();
            for i in 0..n {
                let (slot, len, from) = rb.get(i).unwrap();
                assert_eq!(from, a.local_addr().unwrap());
                got.push(slot[HEADROOM..HEADROOM + len].to_vec());
            }
        }
        assert_eq!(got, payloads);
        assert_eq!(rb.recv(b.as_raw_fd()).unwrap_err().kind(), io::ErrorKind::WouldBlock);
    }
}
