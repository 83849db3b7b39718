//! ChannelBind (RFC 8656 §12.2).

use crate::stun::{attr_type as at, decode_channel_number, CHANNEL_MAX, CHANNEL_MIN};

/// Top of RFC 5766's channel range, still used by deployed clients (see
/// `ServerConfig::legacy_channel_numbers`).
pub(crate) const LEGACY_CHANNEL_MAX: u16 = 0x7FFF;

use super::super::auth::Authenticated;
use super::super::channel::BindCheck;
use super::super::error_response::TurnError;
use super::super::server::Server;
use super::super::timers::AllocId;
use super::Req;

impl Server {
    pub(crate) fn handle_channel_bind(
        &mut self,
        req: &Req<'_>,
        auth: &Authenticated,
        id: AllocId,
    ) -> Result<(), TurnError> {
        let msg = &req.msg;
        // §12.2: CHANNEL-NUMBER and XOR-PEER-ADDRESS present and well-formed -> else 400.
        let number =
            msg.get(at::CHANNEL_NUMBER).ok_or(TurnError::BadRequest("missing CHANNEL-NUMBER")).and_then(|a| {
                decode_channel_number(a.value).map_err(|_| TurnError::BadRequest("malformed CHANNEL-NUMBER"))
            })?;
        let peer = match msg.xor_address(at::XOR_PEER_ADDRESS) {
            Some(Ok(p)) => p,
            Some(Err(_)) => return Err(TurnError::BadRequest("malformed XOR-PEER-ADDRESS")),
            None => return Err(TurnError::BadRequest("missing XOR-PEER-ADDRESS")),
        };
        // §12.2: channel number in 0x4000..=0x4FFF (or RFC 5766's 0x7FFF) -> else 400.
        let max = if self.cfg.legacy_channel_numbers { LEGACY_CHANNEL_MAX } else { CHANNEL_MAX };
        if !(CHANNEL_MIN..=max).contains(&number) {
            return Err(TurnError::BadRequest("channel number out of range"));
        }
        let a = self.allocs.get(&id).ok_or(TurnError::AllocationMismatch)?;
        // §12.2: number bound to another peer, or peer bound to another number -> 400.
        let check = a.channels.check(number, peer);
        if check == BindCheck::Conflict {
            return Err(TurnError::BadRequest("channel or peer already bound"));
        }
        // §12.2 (as §10.2): peer family without a relayed address -> 443.
        if a.relay_for(peer).is_none() {
            return Err(TurnError::PeerAddressFamilyMismatch);
        }
        // §12.2: the server MAY restrict peers -> 403 (why: §21.1.4, §21.2.2).
        if !self.policy.permits(peer) {
            return Err(TurnError::Forbidden(peer));
        }
        // §12.2: cannot install the binding (or its permission) -> 508.
        if check == BindCheck::New && a.channels.len() >= self.cfg.max_channels_per_allocation {
            return Err(TurnError::InsufficientCapacity("channel limit reached"));
        }
        if a.permissions.expiry(peer.ip()).is_none() && a.permissions.len() >= self.cfg.max_permissions_per_allocation {
            return Err(TurnError::InsufficientCapacity("permission limit reached"));
        }
        // §12.2: bind or refresh for 10 minutes and install or refresh the permission.
        self.bind_channel(id, number, peer, req.now);
        let data = self.success(req, Some(auth), |_| {});
        self.reply(req.ft, data);
        Ok(())
    }
}
