//! Send indication (RFC 8656 §11.2): never answered, only relayed or dropped and counted.

use std::time::Instant;

use crate::stun::{attr_type as at, Message};

use super::super::five_tuple::FiveTuple;
use super::super::output::Output;
use super::super::server::Server;
use super::super::stats::DropReason;

impl Server {
    pub(crate) fn handle_send(&mut self, now: Instant, ft: FiveTuple, msg: &Message<'_>) {
        if let Err(why) = self.try_send(now, ft, msg) {
            self.dropped(now, why);
        }
    }

    fn try_send(&mut self, now: Instant, ft: FiveTuple, msg: &Message<'_>) -> Result<(), DropReason> {
        let id = *self.by_ft.get(&ft).ok_or(DropReason::NoAllocation)?;
        // §11.2: XOR-PEER-ADDRESS and DATA required; unknown comprehension-required
        // attributes (DONT-FRAGMENT when unsupported) -> discard (RFC 8489 §6.3.2).
        let peer = match msg.xor_address(at::XOR_PEER_ADDRESS) {
            Some(Ok(p)) => p,
            _ => return Err(DropReason::InvalidIndication),
        };
        let data = msg.get(at::DATA).ok_or(DropReason::InvalidIndication)?;
        if !self.unknown_attributes(msg).is_empty() {
            return Err(DropReason::InvalidIndication);
        }
        // §11.2: a peer the server does not allow is discarded, permission or not.
        if !self.policy.permits(peer) {
            return Err(DropReason::ForbiddenPeer);
        }
        let a = self.allocs.get_mut(&id).ok_or(DropReason::NoAllocation)?;
        let relay = a.relay_for(peer).ok_or(DropReason::InvalidIndication)?;
        // §11.2: no permission -> discard; a Send never refreshes a permission.
        if !a.permissions.permits(peer.ip(), now) {
            return Err(DropReason::NoPermission);
        }
        a.traffic.count_to_peer(data.value.len());
        self.stats.relayed.count_to_peer(data.value.len());
        self.out.push_back(Output::ToPeer { relay: relay.local, peer, data: data.value.to_vec() });
        Ok(())
    }
}
