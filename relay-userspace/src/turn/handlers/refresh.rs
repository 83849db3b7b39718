//! Refresh (RFC 8656 §8.2).

use std::time::Duration;

use crate::stun::{attr_type as at, decode_address_family, AddressFamily};

use super::super::allocation::Teardown;
use super::super::auth::Authenticated;
use super::super::error_response::TurnError;
use super::super::log::{Relays, Untrusted};
use super::super::server::Server;
use super::super::timers::{AllocId, TimerKey};
use super::{granted_lifetime, Req};

impl Server {
    pub(crate) fn handle_refresh(&mut self, req: &Req<'_>, auth: &Authenticated, id: AllocId) -> Result<(), TurnError> {
        let msg = &req.msg;
        // §8.2: REQUESTED-ADDRESS-FAMILY naming a family the allocation lacks -> 443.
        let family = msg
            .get(at::REQUESTED_ADDRESS_FAMILY)
            .map(|a| decode_address_family(a.value))
            .transpose()
            .map_err(|_| TurnError::PeerAddressFamilyMismatch)?;
        let a = self.allocs.get(&id).ok_or(TurnError::AllocationMismatch)?;
        if let Some(f) = family {
            if !a.relays.iter().any(|r| r.local.is_ipv4() == (f == AddressFamily::V4)) {
                return Err(TurnError::PeerAddressFamilyMismatch);
            }
        }
        let requested =
            msg.u32_attr(at::LIFETIME).transpose().map_err(|_| TurnError::BadRequest("malformed LIFETIME"))?;
        // §8.2: LIFETIME 0 deletes at once; with a family on a dual allocation, only that
        // family's relayed address goes.
        let lifetime = if requested == Some(0) {
            match family {
                Some(f) if a.relays.len() > 1 => self.drop_family(id, f),
                _ => self.delete_allocation(id, Teardown::ClientRequest, req.now),
            }
            0
        } else {
            let l = granted_lifetime(self, requested);
            tracing::info!(
                alloc = id,
                user = %Untrusted(&a.cred.user),
                client = %a.ft.client,
                lifetime_s = l,
                "allocation refreshed"
            );
            self.set_allocation_expiry(id, req.now + Duration::from_secs(u64::from(l)), req.now);
            l
        };
        let data = self.success(req, Some(auth), |b| {
            b.add_u32(at::LIFETIME, lifetime);
        });
        self.reply(req.ft, data);
        Ok(())
    }

    /// Removes one family's relayed address from a dual allocation, with the channels and
    /// permissions that only it could serve.
    fn drop_family(&mut self, id: AllocId, fam: AddressFamily) {
        let v4 = fam == AddressFamily::V4;
        let Some(a) = self.allocs.get(&id) else {
            return;
        };
        let channels: Vec<u16> = a.channels.iter().filter(|(_, c)| c.peer.is_ipv4() == v4).map(|(n, _)| n).collect();
        for n in channels {
            self.unbind_channel(id, n);
        }
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        let perms: Vec<_> = a.permissions.iter().filter(|(ip, _)| ip.is_ipv4() == v4).collect();
        for (ip, at) in perms {
            a.permissions.remove(ip);
            self.timers.cancel(TimerKey::Permission(id, ip), at);
        }
        let gone: Vec<_> = a.relays.iter().filter(|r| r.local.is_ipv4() == v4).copied().collect();
        a.relays.retain(|r| r.local.is_ipv4() != v4);
        tracing::info!(
            alloc = id,
            user = %Untrusted(&a.cred.user),
            client = %a.ft.client,
            relay = %Relays(&gone),
            "relayed address released (Refresh LIFETIME 0 for one family)"
        );
        for r in gone {
            self.close_relay(r.local);
        }
    }
}
