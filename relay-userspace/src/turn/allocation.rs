//! One allocation (RFC 8656 §6) and its lifecycle inside the server: creation, expiry,
//! deletion, and the operator's view of it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::stun::TransactionId;

use super::auth::Credential;
use super::channel::Channels;
use super::five_tuple::FiveTuple;
use super::log::{Relays, Untrusted};
use super::output::Output;
use super::permission::Permissions;
use super::server::Server;
use super::stats::TrafficCounters;
use super::timers::{AllocId, TimerKey};

/// A relayed transport address: where the socket is bound, and what clients are told.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RelayAddr {
    pub(crate) local: SocketAddr,
    /// `local` with the external IP when one is configured (XOR-RELAYED-ADDRESS).
    pub(crate) public: SocketAddr,
}

#[derive(Debug)]
pub(crate) struct Allocation {
    pub(crate) id: AllocId,
    pub(crate) ft: FiveTuple,
    pub(crate) cred: Credential,
    /// One per family: IPv4 and/or IPv6 (RFC 8656 §7.2 dual allocation).
    pub(crate) relays: Vec<RelayAddr>,
    pub(crate) expires_at: Instant,
    /// For the lifetime reported when it goes away.
    pub(crate) created_at: Instant,
    /// The Allocate that created it, for idempotent retransmissions (RFC 8656 §5, §7.2).
    pub(crate) created_tid: TransactionId,
    pub(crate) created_response: Box<[u8]>,
    pub(crate) permissions: Permissions,
    pub(crate) channels: Channels,
    /// Send/Data traffic plus counters of channels already gone.
    pub(crate) traffic: TrafficCounters,
    /// Permissions and channels installed over its life (refreshes not counted), for the
    /// operator log: zero means media was never set up through this allocation.
    pub(crate) permissions_installed: u32,
    pub(crate) channels_bound: u32,
}

impl Allocation {
    /// The relayed address of the peer's family (RFC 8656 §10.2, §12.2: peers of the other
    /// family get 443).
    pub(crate) fn relay_for(&self, peer: SocketAddr) -> Option<RelayAddr> {
        self.relays.iter().find(|r| r.local.is_ipv4() == peer.is_ipv4()).copied()
    }
}

/// Operator's view of one allocation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationInfo {
    pub five_tuple: FiveTuple,
    /// USERNAME the allocation authenticated with.
    pub username: Arc<str>,
    /// Identity used for quotas and metering (REST: the part after the separator).
    pub user: Arc<str>,
    /// Locally bound relayed addresses.
    pub relays: Vec<SocketAddr>,
    /// Relayed addresses as advertised to the client.
    pub advertised: Vec<SocketAddr>,
    pub expires_at: Instant,
    pub permissions: usize,
    pub channels: usize,
    /// Payload relayed in userspace, both directions (offloaded traffic not included).
    pub traffic: TrafficCounters,
}

/// Why an allocation went away (stats and the operator log).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Teardown {
    /// Refresh with LIFETIME 0 (RFC 8656 §8.2).
    ClientRequest,
    /// Not refreshed in time (RFC 8656 §6).
    Expired,
    /// The TCP/TLS connection of its 5-tuple closed (see `Server::client_closed`).
    ConnectionClosed,
    /// The server is shutting down.
    Shutdown,
}

impl Teardown {
    fn as_str(self) -> &'static str {
        match self {
            Teardown::ClientRequest => "client request",
            Teardown::Expired => "expired",
            Teardown::ConnectionClosed => "connection closed",
            Teardown::Shutdown => "shutdown",
        }
    }
}

impl Server {
    pub(crate) fn insert_allocation(&mut self, a: Allocation) {
        self.by_ft.insert(a.ft, a.id);
        for r in &a.relays {
            self.by_relay.insert(r.local, a.id);
        }
        *self.per_user.entry(a.cred.user.clone()).or_default() += 1;
        self.timers.schedule(TimerKey::Allocation(a.id), a.expires_at);
        self.stats.allocations_created += 1;
        self.stats.allocations_active += 1;
        self.allocs.insert(a.id, Box::new(a));
    }

    /// Moves an allocation's expiry (Refresh, RFC 8656 §8.2).
    pub(crate) fn set_allocation_expiry(&mut self, id: AllocId, until: Instant, now: Instant) {
        if let Some(a) = self.allocs.get_mut(&id) {
            let old = std::mem::replace(&mut a.expires_at, until);
            self.timers.reschedule(TimerKey::Allocation(id), old, until);
        }
        // Offloaded channels carry the allocation's expiry as a bound: move it with the allocation.
        self.sync_all_channels(id, now);
    }

    /// Deletes everything the allocation holds: channels (ChannelUnbound), permissions,
    /// relay sockets (RelayBinder::close, then RelayClosed).
    pub(crate) fn delete_allocation(&mut self, id: AllocId, why: Teardown, now: Instant) {
        let numbers: Vec<u16> = match self.allocs.get(&id) {
            Some(a) => a.channels.iter().map(|(n, _)| n).collect(),
            None => return,
        };
        for n in numbers {
            self.unbind_channel(id, n);
        }
        let Some(a) = self.allocs.remove(&id) else {
            return;
        };
        for (ip, at) in a.permissions.iter() {
            self.timers.cancel(TimerKey::Permission(id, ip), at);
        }
        self.timers.cancel(TimerKey::Allocation(id), a.expires_at);
        self.by_ft.remove(&a.ft);
        for r in &a.relays {
            self.close_relay(r.local);
        }
        if let Some(n) = self.per_user.get_mut(&a.cred.user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(&a.cred.user);
            }
        }
        self.stats.allocations_active = self.stats.allocations_active.saturating_sub(1);
        if why == Teardown::Expired {
            self.stats.allocations_expired += 1;
        }
        log_deleted(&a, why, now);
    }

    /// Closes one relayed address of an allocation (also used for the one-family delete of
    /// a dual allocation, RFC 8656 §8.2).
    pub(crate) fn close_relay(&mut self, local: SocketAddr) {
        self.by_relay.remove(&local);
        self.ports.release(local, self.binder.as_mut());
        self.out.push_back(Output::RelayClosed { relay: local });
    }

    pub(crate) fn allocation_info(&self, a: &Allocation) -> AllocationInfo {
        let mut traffic = a.traffic;
        for (n, _) in a.channels.iter() {
            traffic.add(&self.routes.traffic(a.ft, n));
        }
        AllocationInfo {
            five_tuple: a.ft,
            username: a.cred.username.clone(),
            user: a.cred.user.clone(),
            relays: a.relays.iter().map(|r| r.local).collect(),
            advertised: a.relays.iter().map(|r| r.public).collect(),
            expires_at: a.expires_at,
            permissions: a.permissions.len(),
            channels: a.channels.len(),
            traffic,
        }
    }
}

/// INFO line closing an allocation's story. Channels were unbound first, so `a.traffic`
/// holds everything the core relayed. Bound-channel traffic that the edge's fast table or
/// XDP forwarded never reached the core and is not in these `core_*` counts.
fn log_deleted(a: &Allocation, why: Teardown, now: Instant) {
    let t = &a.traffic;
    tracing::info!(
        alloc = a.id,
        user = %Untrusted(&a.cred.user),
        username = %Untrusted(&a.cred.username),
        client = %a.ft.client,
        server = %a.ft.server,
        transport = ?a.ft.transport,
        relay = %Relays(&a.relays),
        reason = why.as_str(),
        lived_s = now.saturating_duration_since(a.created_at).as_secs(),
        permissions = a.permissions_installed,
        channels = a.channels_bound,
        core_to_peer_pkts = t.client_to_peer_packets,
        core_to_peer_bytes = t.client_to_peer_bytes,
        core_to_client_pkts = t.peer_to_client_packets,
        core_to_client_bytes = t.peer_to_client_bytes,
        "allocation deleted"
    );
}
