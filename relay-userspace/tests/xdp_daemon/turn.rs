//! The TURN requests this test needs beyond `harness::turn_client`, and socket options.

use crate::harness::turn_client::{tid, Client};
use relay::stun::{attr_type as at, AddressFamily, ChannelData, Class, Message, MessageBuilder, Method};
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;

/// Allocate (RFC 8656 §7.1) a UDP relayed address of `family`; returns XOR-RELAYED-ADDRESS.
pub fn allocate(client: &Client, family: AddressFamily) -> SocketAddr {
    let r = client.request(Method::ALLOCATE, |b| {
        b.add_requested_transport(17);
        // §7.1: without REQUESTED-ADDRESS-FAMILY the server allocates IPv4.
        b.add_address_family(at::REQUESTED_ADDRESS_FAMILY, family);
    });
    assert_eq!(r.class(), Class::Success, "Allocate failed: {:?}", r.error());
    r.msg().xor_address(at::XOR_RELAYED_ADDRESS).expect("XOR-RELAYED-ADDRESS").expect("decodes")
}

/// Refresh with LIFETIME 0: deletes the allocation at once (RFC 8656 §8.2, §7.3).
pub fn deallocate(client: &Client) {
    let r = client.request(Method::REFRESH, |b| {
        b.add_u32(at::LIFETIME, 0);
    });
    assert_eq!(r.class(), Class::Success, "Refresh LIFETIME 0 failed: {:?}", r.error());
    let lifetime = r.msg().u32_attr(at::LIFETIME).expect("LIFETIME in the answer").expect("decodes");
    assert_eq!(lifetime, 0);
}

pub fn channel_bind(client: &Client, channel: u16, peer: SocketAddr) {
    let r = client.channel_bind(channel, peer);
    assert_eq!(r.class(), Class::Success, "ChannelBind {channel:#x} to {peer} failed: {:?}", r.error());
}

/// Send indication (RFC 8656 §11.2): the userspace path for a peer without a channel.
pub fn send_indication(client: &Client, peer: SocketAddr, data: &[u8]) {
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::SEND, tid());
    b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
    b.add_raw(at::DATA, data);
    b.add_fingerprint();
    b.finish();
    client.send_raw(&buf);
}

/// ChannelData (RFC 8656 §12.4), padded to a multiple of 4 when `pad` (optional over UDP, §12.5).
pub fn channel_data(channel: u16, data: &[u8], pad: bool) -> Vec<u8> {
    let mut out = Vec::new();
    assert!(ChannelData::encode(channel, data, pad, &mut out), "ChannelData encodes");
    out
}

/// What the client socket received next: `(from, bytes)`; panics after the read timeout.
pub fn recv(sock: &UdpSocket, what: &str) -> (SocketAddr, Vec<u8>) {
    let mut buf = vec![0u8; 65_536];
    let (n, from) = sock.recv_from(&mut buf).unwrap_or_else(|e| panic!("{what}: nothing arrived ({e})"));
    buf.truncate(n);
    (from, buf)
}

/// `(XOR-PEER-ADDRESS, DATA)` of a Data indication (RFC 8656 §11.4).
pub fn data_indication(bytes: &[u8]) -> (SocketAddr, Vec<u8>) {
    let msg = Message::parse(bytes).unwrap_or_else(|e| panic!("not STUN ({e:?}): {bytes:02x?}"));
    assert_eq!((msg.class(), msg.method()), (Class::Indication, Method::DATA), "{bytes:02x?}");
    let peer = msg.xor_address(at::XOR_PEER_ADDRESS).expect("XOR-PEER-ADDRESS").expect("decodes");
    (peer, msg.get(at::DATA).expect("DATA").value.to_vec())
}

/// Nothing is queued on `sock` right now (non-blocking look).
pub fn assert_nothing_queued(sock: &UdpSocket, what: &str) {
    sock.set_nonblocking(true).expect("nonblocking");
    let mut buf = [0u8; 2048];
    let got = sock.recv_from(&mut buf);
    sock.set_nonblocking(false).expect("blocking");
    if let Ok((n, from)) = got {
        panic!("{what}: {n} bytes from {from} arrived: {:02x?}", &buf[..n]);
    }
}

/// TTL / hop limit and TOS / traffic class of datagrams sent on `sock`.
pub fn set_ttl_and_tos(sock: &UdpSocket, ttl: u8, tos: u8) {
    let (level, ttl_opt, tos_opt) = if sock.local_addr().expect("bound").is_ipv4() {
        (libc::IPPROTO_IP, libc::IP_TTL, libc::IP_TOS)
    } else {
        (libc::IPPROTO_IPV6, libc::IPV6_UNICAST_HOPS, libc::IPV6_TCLASS)
    };
    for (opt, value) in [(ttl_opt, i32::from(ttl)), (tos_opt, i32::from(tos))] {
        // SAFETY: an int option on a valid socket.
        let rc = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                level,
                opt,
                (&value as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        assert_eq!(rc, 0, "setsockopt {opt}: {}", std::io::Error::last_os_error());
    }
}
