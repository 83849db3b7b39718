//! Client-side setup shared by `drive` and `alloc`: sockets spread over the source addresses,
//! one REST-authenticated session per socket.

use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{SystemTime, UNIX_EPOCH};

use super::rest;
use super::session::{Goal, Session};
use super::sockets;
use crate::stun::CHANNEL_MIN;

/// `count` sockets, round-robin over `sources` (ephemeral ports), connected to `to`.
pub fn open(sources: &[IpAddr], count: usize, to: SocketAddr, big_buffers: bool) -> io::Result<Vec<UdpSocket>> {
    if sources.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "no source address"));
    }
    (0..count).map(|i| sockets::bound(SocketAddr::new(sources[i % sources.len()], 0), Some(to), big_buffers)).collect()
}

/// One session per socket, each its own REST user, valid for a day; flow `i` talks to
/// `peers[i % len]` over channel 0x4000 + i (mod the channel range, RFC 8656 §12).
pub fn sessions(secret: &str, user_prefix: &str, peers: &[SocketAddr], count: usize, goal: Goal) -> Vec<Session> {
    let expiry = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) + 86_400;
    (0..count)
        .map(|i| {
            let (user, pass) = rest::credentials(secret, &format!("{user_prefix}{i}"), expiry);
            let channel = CHANNEL_MIN + (i % 0x1000) as u16;
            let peer = peers.get(i % peers.len().max(1)).copied().unwrap_or(SocketAddr::from(([0, 0, 0, 0], 9)));
            Session::new(user, pass, peer, channel, goal)
        })
        .collect()
}
