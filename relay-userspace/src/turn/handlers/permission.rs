//! CreatePermission (RFC 8656 §10.2).

use std::net::{IpAddr, SocketAddr};

use crate::stun::attr_type as at;

use super::super::auth::Authenticated;
use super::super::error_response::TurnError;
use super::super::server::Server;
use super::super::timers::AllocId;
use super::Req;

impl Server {
    pub(crate) fn handle_create_permission(
        &mut self,
        req: &Req<'_>,
        auth: &Authenticated,
        id: AllocId,
    ) -> Result<(), TurnError> {
        // §10.2: at least one XOR-PEER-ADDRESS, all well-formed -> else 400.
        let peers: Vec<SocketAddr> = req
            .msg
            .xor_addresses(at::XOR_PEER_ADDRESS)
            .collect::<Result<_, _>>()
            .map_err(|_| TurnError::BadRequest("malformed XOR-PEER-ADDRESS"))?;
        if peers.is_empty() {
            return Err(TurnError::BadRequest("missing XOR-PEER-ADDRESS"));
        }
        let a = self.allocs.get(&id).ok_or(TurnError::AllocationMismatch)?;
        // §10.2: a peer of a family the allocation has no relayed address for -> 443.
        if peers.iter().any(|p| a.relay_for(*p).is_none()) {
            return Err(TurnError::PeerAddressFamilyMismatch);
        }
        // §10.2: the server MAY restrict peers -> 403 (why: §21.1.4, §21.2.2).
        if let Some(p) = peers.iter().find(|p| !self.policy.permits(**p)) {
            return Err(TurnError::Forbidden(*p));
        }
        // §10.2: all or nothing; beyond the per-allocation cap -> 508.
        let mut new_ips: Vec<IpAddr> =
            peers.iter().map(|p| p.ip()).filter(|ip| a.permissions.expiry(*ip).is_none()).collect();
        new_ips.sort_unstable();
        new_ips.dedup();
        if a.permissions.len() + new_ips.len() > self.cfg.max_permissions_per_allocation {
            return Err(TurnError::InsufficientCapacity("permission limit reached"));
        }
        for p in &peers {
            self.install_permission(id, p.ip(), req.now);
        }
        let data = self.success(req, Some(auth), |_| {});
        self.reply(req.ft, data);
        Ok(())
    }
}
