//! The few Linux calls the generator needs beyond std: epoll, sendmmsg/recvmmsg, a precise
//! monotonic clock and absolute sleeps. Every `unsafe` block is a plain syscall on memory this
//! module owns for the duration of the call.

use std::io;
use std::mem::MaybeUninit;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// Most messages moved by one sendmmsg/recvmmsg.
pub const BATCH: usize = 64;

/// CLOCK_MONOTONIC in nanoseconds (shared by every process on the machine, so stamps written in
/// one process can be compared in another).
pub fn mono_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64
}

/// Sleeps until CLOCK_MONOTONIC reaches `ns` (absolute, so pacing does not drift).
pub fn sleep_until(ns: u64) {
    let ts = libc::timespec { tv_sec: (ns / 1_000_000_000) as libc::time_t, tv_nsec: (ns % 1_000_000_000) as _ };
    // SAFETY: clock_nanosleep only reads the timespec; EINTR just ends the sleep early.
    unsafe { libc::clock_nanosleep(libc::CLOCK_MONOTONIC, libc::TIMER_ABSTIME, &ts, std::ptr::null_mut()) };
}

/// Default timer slack (50 µs) would blur the pacing; 1 µs is plenty.
pub fn tighten_timer_slack() {
    // SAFETY: prctl(PR_SET_TIMERSLACK) takes a plain integer.
    unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1000 as libc::c_ulong, 0, 0, 0) };
}

#[derive(Debug)]
pub struct Epoll(OwnedFd);

impl Epoll {
    pub fn new() -> io::Result<Self> {
        // SAFETY: epoll_create1 returns a new fd or -1.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(Epoll(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Level-triggered readability of `fd`, reported with `token`.
    pub fn add(&self, fd: RawFd, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events: libc::EPOLLIN as u32, u64: token };
        // SAFETY: epoll_ctl reads the event struct.
        let rc = unsafe { libc::epoll_ctl(self.0.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Tokens of ready descriptors (appended to `out`, which is cleared first).
    pub fn wait(&self, out: &mut Vec<u64>, timeout_ms: i32) -> io::Result<()> {
        let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 256];
        // SAFETY: the kernel writes at most evs.len() events into evs.
        let n = unsafe { libc::epoll_wait(self.0.as_raw_fd(), evs.as_mut_ptr(), evs.len() as i32, timeout_ms) };
        out.clear();
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::Interrupted { Ok(()) } else { Err(e) };
        }
        out.extend(evs[..n as usize].iter().map(|e| e.u64));
        Ok(())
    }
}

/// Sends each buffer as one datagram on a connected socket with one sendmmsg. Returns how many
/// left (fewer under backpressure; `Ok(0)` for EAGAIN).
pub fn send_connected<B: AsRef<[u8]>>(fd: RawFd, bufs: &[B]) -> io::Result<usize> {
    let n = bufs.len().min(BATCH);
    let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH];
    // SAFETY: mmsghdr is plain data; all-zero is a valid empty header.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    for i in 0..n {
        let b = bufs[i].as_ref();
        iov[i] = libc::iovec { iov_base: b.as_ptr() as *mut _, iov_len: b.len() };
        hdrs[i].msg_hdr.msg_iov = &mut iov[i];
        hdrs[i].msg_hdr.msg_iovlen = 1;
    }
    // SAFETY: hdrs[..n] point at iov entries that point at live buffers for the whole call.
    let rc = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as u32, libc::MSG_DONTWAIT) };
    if rc < 0 {
        let e = io::Error::last_os_error();
        return if e.kind() == io::ErrorKind::WouldBlock { Ok(0) } else { Err(e) };
    }
    Ok(rc as usize)
}

/// Receive buffers for recvmmsg, reused across calls.
pub struct RecvBatch {
    cap: usize,
    data: Vec<u8>,
    lens: [usize; BATCH],
    addrs: Box<[libc::sockaddr_in; BATCH]>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch").field("cap", &self.cap).finish()
    }
}

impl RecvBatch {
    /// Room for [`BATCH`] datagrams of up to `cap` bytes each.
    pub fn new(cap: usize) -> Self {
        // SAFETY: sockaddr_in is plain data; zero is a valid value.
        let zero: libc::sockaddr_in = unsafe { MaybeUninit::zeroed().assume_init() };
        RecvBatch { cap, data: vec![0; cap * BATCH], lens: [0; BATCH], addrs: Box::new([zero; BATCH]) }
    }

    /// One non-blocking recvmmsg; `Ok(0)` when nothing is queued.
    pub fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH];
        // SAFETY: mmsghdr is plain data; all-zero is a valid empty header.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (i, chunk) in self.data.chunks_exact_mut(self.cap).enumerate() {
            iov[i] = libc::iovec { iov_base: chunk.as_mut_ptr().cast(), iov_len: chunk.len() };
            hdrs[i].msg_hdr.msg_iov = &mut iov[i];
            hdrs[i].msg_hdr.msg_iovlen = 1;
            hdrs[i].msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_in).cast();
            hdrs[i].msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        }
        // SAFETY: every header points at memory owned by self, alive for the call.
        let rc =
            unsafe { libc::recvmmsg(fd, hdrs.as_mut_ptr(), BATCH as u32, libc::MSG_DONTWAIT, std::ptr::null_mut()) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return if e.kind() == io::ErrorKind::WouldBlock { Ok(0) } else { Err(e) };
        }
        let n = rc as usize;
        for (len, h) in self.lens.iter_mut().zip(&hdrs[..n]) {
            *len = (h.msg_len as usize).min(self.cap);
        }
        Ok(n)
    }

    pub fn msg(&self, i: usize) -> &[u8] {
        &self.data[i * self.cap..i * self.cap + self.lens[i]]
    }

    pub fn from(&self, i: usize) -> SocketAddr {
        let a = &self.addrs[i];
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)), u16::from_be(a.sin_port)))
    }

    /// Sends messages `0..n` back to where each came from (one sendmmsg), for the echo peer.
    pub fn echo(&mut self, fd: RawFd, n: usize) -> io::Result<usize> {
        let n = n.min(BATCH);
        let mut iov = [libc::iovec { iov_base: std::ptr::null_mut(), iov_len: 0 }; BATCH];
        // SAFETY: mmsghdr is plain data; all-zero is a valid empty header.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for i in 0..n {
            iov[i] = libc::iovec { iov_base: self.data[i * self.cap..].as_mut_ptr().cast(), iov_len: self.lens[i] };
            hdrs[i].msg_hdr.msg_iov = &mut iov[i];
            hdrs[i].msg_hdr.msg_iovlen = 1;
            hdrs[i].msg_hdr.msg_name = (&mut self.addrs[i] as *mut libc::sockaddr_in).cast();
            hdrs[i].msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
        }
        let mut sent = 0;
        while sent < n {
            // SAFETY: hdrs[sent..n] point at memory owned by self, alive for the call.
            let rc = unsafe { libc::sendmmsg(fd, hdrs[sent..].as_mut_ptr(), (n - sent) as u32, 0) };
            if rc <= 0 {
                break;
            }
            sent += rc as usize;
        }
        Ok(sent)
    }
}
