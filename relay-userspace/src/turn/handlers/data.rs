//! The data path: ChannelData from clients (RFC 8656 §12.6) and datagrams from peers
//! (§11.3, §12.7). One route lookup per packet and exactly one allocation for the output.

use std::net::SocketAddr;
use std::time::Instant;

use crate::stun::{attr_type as at, ChannelData, Class, MessageBuilder, Method, TransactionId, HEADER_LEN};

use super::super::five_tuple::FiveTuple;
use super::super::output::Output;
use super::super::server::Server;
use super::super::stats::DropReason;

/// A ChannelData message for the client; padded to 4 bytes on TCP/TLS (RFC 8656 §12.5).
fn channel_data_frame(channel: u16, len: u16, data: &[u8], stream: bool) -> Vec<u8> {
    let padded = if stream { (data.len() + 3) & !3 } else { data.len() };
    let mut v = Vec::with_capacity(4 + padded);
    v.extend_from_slice(&ChannelData::encode_header(channel, len));
    v.extend_from_slice(data);
    v.resize(4 + padded, 0);
    v
}

impl Server {
    /// §12.6: ChannelData on a bound, permitted channel goes to its peer; else discarded.
    pub(crate) fn handle_client_channel_data(&mut self, now: Instant, ft: FiveTuple, data: &[u8]) {
        // §12.4 header parsed here rather than by `ChannelData::parse`, which only admits
        // RFC 8656's range; only bound channels have routes, so ChannelBind enforces the
        // range. A length beyond the bytes present -> discard (§12.6).
        let Some(ChannelData { channel, data: payload }) = ChannelData::parse_any_number(data) else {
            return self.dropped(now, DropReason::Malformed);
        };
        let why = match self.routes.client.get_mut(&(ft, channel)) {
            Some(r) if r.usable_until.is_some_and(|t| t > now) => {
                r.traffic.count_to_peer(payload.len());
                self.stats.relayed.count_to_peer(payload.len());
                let out = Output::ToPeer { relay: r.relay, peer: r.peer, data: payload.to_vec() };
                self.out.push_back(out);
                return;
            }
            Some(_) => DropReason::NoPermission,
            None => DropReason::UnboundChannel,
        };
        self.dropped(now, why);
    }

    /// §11.3: a datagram on a relayed address. Permission required (§9); a bound channel
    /// gets ChannelData (§12.7), anything else a Data indication.
    pub(crate) fn handle_peer_data(&mut self, now: Instant, relay: SocketAddr, peer: SocketAddr, data: &[u8]) {
        let Ok(len) = u16::try_from(data.len()) else {
            return self.dropped(now, DropReason::TooLarge);
        };
        if let Some(r) = self.routes.peer.get_mut(&(relay, peer)) {
            if r.usable_until.is_some_and(|t| t > now) {
                r.traffic.count_to_client(data.len());
                self.stats.relayed.count_to_client(data.len());
                let frame = channel_data_frame(r.channel, len, data, r.ft.transport.is_stream());
                let ft = r.ft;
                self.out.push_back(Output::ToClient { ft, data: frame });
                return;
            }
        }
        if let Err(why) = self.data_indication(now, relay, peer, data) {
            self.dropped(now, why);
        }
    }

    fn data_indication(
        &mut self,
        now: Instant,
        relay: SocketAddr,
        peer: SocketAddr,
        data: &[u8],
    ) -> Result<(), DropReason> {
        let id = *self.by_relay.get(&relay).ok_or(DropReason::UnknownRelay)?;
        let tid = TransactionId(self.rng_tid());
        let a = self.allocs.get_mut(&id).ok_or(DropReason::UnknownRelay)?;
        if !a.permissions.permits(peer.ip(), now) {
            return Err(DropReason::NoPermission);
        }
        // Header + XOR-PEER-ADDRESS (at most 24) + DATA header + padded data.
        let mut buf = Vec::with_capacity(HEADER_LEN + 24 + 4 + ((data.len() + 3) & !3));
        let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::DATA, tid);
        b.add_xor_address(at::XOR_PEER_ADDRESS, peer);
        b.add_raw(at::DATA, data);
        if b.overflowed() {
            return Err(DropReason::TooLarge);
        }
        b.finish();
        a.traffic.count_to_client(data.len());
        self.stats.relayed.count_to_client(data.len());
        let ft = a.ft;
        self.out.push_back(Output::ToClient { ft, data: buf });
        Ok(())
    }
}
