//! A packet socket on a receiving veth end: the frames as the receiver's stack got them, so
//! checksums, TTL and DSCP are checked independently of the kernel's own validation.

use crate::support::{packet::verify_checksums, Netns};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

pub struct Capture {
    fd: OwnedFd,
}

/// The IP fields the fast path must rewrite or keep.
#[derive(Debug)]
pub struct Seen {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ttl: u8,
    /// IPv4 TOS / IPv6 traffic class.
    pub tos: u8,
    pub payload: Vec<u8>,
}

impl Capture {
    /// Opens an AF_PACKET socket bound to `dev` inside `ns`, before any traffic is sent.
    pub fn open(ns: &Netns, dev: &str) -> Capture {
        let ifindex = ns.ifindex(dev);
        ns.run(move || {
            let proto = (libc::ETH_P_ALL as u16).to_be();
            // SAFETY: plain socket(2) call; the fd is owned below.
            let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW, i32::from(proto)) };
            assert!(raw >= 0, "AF_PACKET socket: {}", std::io::Error::last_os_error());
            // SAFETY: a fresh fd nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: sockaddr_ll is plain data; zero is a valid starting value.
            let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = proto;
            sll.sll_ifindex = ifindex as i32;
            let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: valid fd and sockaddr of the stated length.
            let rc = unsafe { libc::bind(fd.as_raw_fd(), (&sll as *const libc::sockaddr_ll).cast(), len) };
            assert_eq!(rc, 0, "bind packet socket to {dev}: {}", std::io::Error::last_os_error());
            Capture { fd }
        })
    }

    /// Discards what is queued, so the next look sees only the step under test.
    pub fn drain(&self) {
        while self.next(&mut vec![0u8; 65_536]).is_some() {}
    }

    /// Every frame queued so far that was received (not sent) and carries UDP to `dst`; each
    /// has its IPv4 header and UDP checksums verified from scratch (RFC 1071).
    pub fn udp_to(&self, dst: SocketAddr) -> Vec<Seen> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 65_536];
        while let Some(n) = self.next(&mut buf) {
            let frame = &buf[..n];
            let Some(seen) = parse(frame) else { continue };
            if seen.dst == dst {
                if let Err(e) = verify_checksums(frame) {
                    panic!("{e} in the frame {} -> {}: {frame:02x?}", seen.src, seen.dst);
                }
                out.push(seen);
            }
        }
        out
    }

    /// Length of the next received (not outgoing) frame, `None` when the queue is empty.
    fn next(&self, buf: &mut [u8]) -> Option<usize> {
        loop {
            // SAFETY: sockaddr_ll is plain data.
            let mut from: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            let mut from_len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            // SAFETY: valid fd, buffer and address out-pointers of the stated sizes.
            let n = unsafe {
                libc::recvfrom(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    (&mut from as *mut libc::sockaddr_ll).cast(),
                    &mut from_len,
                )
            };
            if n < 0 {
                return None;
            }
            if from.sll_pkttype != libc::PACKET_OUTGOING {
                return Some(n as usize);
            }
        }
    }
}

/// Ethernet + IPv4 (no options) or IPv6 (no extension headers) + UDP; `None` otherwise.
fn parse(frame: &[u8]) -> Option<Seen> {
    let ethertype = u16::from_be_bytes([*frame.get(12)?, *frame.get(13)?]);
    let ip = frame.get(14..)?;
    let (src, dst, ttl, tos, udp) = match ethertype {
        0x0800 if *ip.first()? == 0x45 && *ip.get(9)? == 17 => {
            let s: [u8; 4] = ip.get(12..16)?.try_into().ok()?;
            let d: [u8; 4] = ip.get(16..20)?.try_into().ok()?;
            (IpAddr::from(s), IpAddr::from(d), ip[8], ip[1], ip.get(20..)?)
        }
        0x86dd if *ip.get(6)? == 17 => {
            let s: [u8; 16] = ip.get(8..24)?.try_into().ok()?;
            let d: [u8; 16] = ip.get(24..40)?.try_into().ok()?;
            let tclass = ((u16::from_be_bytes([ip[0], ip[1]]) >> 4) & 0xff) as u8;
            (IpAddr::from(s), IpAddr::from(d), ip[7], tclass, ip.get(40..)?)
        }
        _ => return None,
    };
    let sport = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
    let dport = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
    let len = usize::from(u16::from_be_bytes([*udp.get(4)?, *udp.get(5)?]));
    let payload = udp.get(8..len)?.to_vec();
    Some(Seen { src: SocketAddr::new(src, sport), dst: SocketAddr::new(dst, dport), ttl, tos, payload })
}
