//! Channel bindings (RFC 8656 §12): per allocation, and the two server-wide route tables the
//! data path uses so a ChannelData or a peer datagram costs one hash lookup.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Instant;

use std::net::IpAddr;

use crate::offload::ChannelBinding;

use super::five_tuple::FiveTuple;
use super::log::{ChannelNumber, Untrusted};
use super::output::Output;
use super::server::Server;
use super::stats::TrafficCounters;
use super::timers::{AllocId, TimerKey};

/// One bound channel. A channel number and a peer stay bound to each other for the
/// channel's life (RFC 8656 §12).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Channel {
    pub(crate) peer: SocketAddr,
    pub(crate) expires_at: Instant,
}

/// What a ChannelBind may do (RFC 8656 §12.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BindCheck {
    New,
    Refresh,
    /// Number bound to another peer, or peer bound to another number: 400.
    Conflict,
}

#[derive(Debug, Default)]
pub(crate) struct Channels {
    by_number: HashMap<u16, Channel>,
    by_peer: HashMap<SocketAddr, u16>,
}

impl Channels {
    pub(crate) fn check(&self, number: u16, peer: SocketAddr) -> BindCheck {
        match (self.by_number.get(&number), self.by_peer.get(&peer)) {
            (None, None) => BindCheck::New,
            (Some(c), Some(&n)) if c.peer == peer && n == number => BindCheck::Refresh,
            _ => BindCheck::Conflict,
        }
    }

    /// Binds or refreshes; returns the previous expiry. Callers ran [`Channels::check`].
    pub(crate) fn bind(&mut self, number: u16, peer: SocketAddr, until: Instant) -> Option<Instant> {
        self.by_peer.insert(peer, number);
        self.by_number.insert(number, Channel { peer, expires_at: until }).map(|c| c.expires_at)
    }

    pub(crate) fn remove(&mut self, number: u16) -> Option<Channel> {
        let c = self.by_number.remove(&number)?;
        self.by_peer.remove(&c.peer);
        Some(c)
    }

    pub(crate) fn get(&self, number: u16) -> Option<Channel> {
        self.by_number.get(&number).copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.by_number.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (u16, Channel)> + '_ {
        self.by_number.iter().map(|(n, c)| (*n, *c))
    }
}

/// Client -> peer direction of a channel.
#[derive(Clone, Debug)]
pub(crate) struct ClientRoute {
    pub(crate) relay: SocketAddr,
    pub(crate) peer: SocketAddr,
    /// Earlier of channel and permission expiry; `None` while the permission is missing.
    pub(crate) usable_until: Option<Instant>,
    pub(crate) traffic: TrafficCounters,
}

/// Peer -> client direction of a channel.
#[derive(Clone, Debug)]
pub(crate) struct PeerRoute {
    pub(crate) ft: FiveTuple,
    pub(crate) channel: u16,
    pub(crate) usable_until: Option<Instant>,
    pub(crate) traffic: TrafficCounters,
}

/// The data path's tables, kept in sync with each allocation's [`Channels`] and permissions.
#[derive(Debug, Default)]
pub(crate) struct Routes {
    pub(crate) client: HashMap<(FiveTuple, u16), ClientRoute>,
    pub(crate) peer: HashMap<(SocketAddr, SocketAddr), PeerRoute>,
    /// Which allocation owns a route (for folding counters when it goes away).
    pub(crate) owner: HashMap<(FiveTuple, u16), AllocId>,
}

impl Routes {
    /// Creates or updates both directions; returns the previous usable-until.
    pub(crate) fn upsert(
        &mut self,
        alloc: AllocId,
        ft: FiveTuple,
        channel: u16,
        relay: SocketAddr,
        peer: SocketAddr,
        usable_until: Option<Instant>,
    ) -> Option<Option<Instant>> {
        self.owner.insert((ft, channel), alloc);
        let prev = match self.client.get_mut(&(ft, channel)) {
            Some(r) => Some(std::mem::replace(&mut r.usable_until, usable_until)),
            None => {
                self.client.insert(
                    (ft, channel),
                    ClientRoute { relay, peer, usable_until, traffic: TrafficCounters::default() },
                );
                None
            }
        };
        self.peer.entry((relay, peer)).and_modify(|r| r.usable_until = usable_until).or_insert(PeerRoute {
            ft,
            channel,
            usable_until,
            traffic: TrafficCounters::default(),
        });
        prev
    }

    /// Removes both directions; returns their summed counters.
    pub(crate) fn remove(&mut self, ft: FiveTuple, channel: u16) -> TrafficCounters {
        let mut t = TrafficCounters::default();
        self.owner.remove(&(ft, channel));
        if let Some(c) = self.client.remove(&(ft, channel)) {
            t.add(&c.traffic);
            if let Some(p) = self.peer.remove(&(c.relay, c.peer)) {
                t.add(&p.traffic);
            }
        }
        t
    }

    /// Counters of a live channel, both directions.
    pub(crate) fn traffic(&self, ft: FiveTuple, channel: u16) -> TrafficCounters {
        let mut t = TrafficCounters::default();
        if let Some(c) = self.client.get(&(ft, channel)) {
            t.add(&c.traffic);
            if let Some(p) = self.peer.get(&(c.relay, c.peer)) {
                t.add(&p.traffic);
            }
        }
        t
    }
}

impl Server {
    /// Binds or refreshes a channel (RFC 8656 §12, §12.2: 10 minutes) and installs or refreshes
    /// the permission for its peer. Callers checked [`Channels::check`] and the capacity.
    pub(crate) fn bind_channel(&mut self, id: AllocId, number: u16, peer: SocketAddr, now: Instant) {
        let until = now + self.cfg.channel_lifetime;
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        let key = TimerKey::Channel(id, number);
        let (user, client, channel) = (Untrusted(&a.cred.user), a.ft.client, ChannelNumber(number));
        match a.channels.bind(number, peer, until) {
            Some(old) => {
                tracing::trace!(alloc = id, %user, %client, %channel, %peer, "channel refreshed");
                self.timers.reschedule(key, old, until)
            }
            None => {
                a.channels_bound = a.channels_bound.saturating_add(1);
                tracing::debug!(alloc = id, %user, %client, %channel, %peer, "channel bound");
                self.timers.schedule(key, until)
            }
        }
        // Also re-syncs this channel's routes.
        self.install_permission(id, peer.ip(), now);
    }

    /// Timer: the channel ran out (RFC 8656 §12); its number and peer are free again at once
    /// (the 5-minute wait before rebinding them elsewhere is the client's, §12).
    pub(crate) fn expire_channel(&mut self, id: AllocId, number: u16, now: Instant) {
        let Some(a) = self.allocs.get(&id) else {
            return;
        };
        match a.channels.get(number).map(|c| (c.expires_at, c.peer)) {
            Some((t, peer)) if t <= now => {
                let (user, client, channel) = (Untrusted(&a.cred.user), a.ft.client, ChannelNumber(number));
                tracing::debug!(alloc = id, %user, %client, %channel, %peer, "channel expired");
                self.unbind_channel(id, number)
            }
            Some((t, _)) => self.timers.schedule(TimerKey::Channel(id, number), t),
            None => {}
        }
    }

    /// Removes a channel and its routes, folding its counters into the allocation.
    pub(crate) fn unbind_channel(&mut self, id: AllocId, number: u16) {
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        let Some(ch) = a.channels.remove(number) else {
            return;
        };
        self.timers.cancel(TimerKey::Channel(id, number), ch.expires_at);
        let ft = a.ft;
        let was = self.routes.client.get(&(ft, number)).map(|r| (r.relay, r.usable_until));
        let traffic = self.routes.remove(ft, number);
        a.traffic.add(&traffic);
        if let Some((relay, Some(until))) = was {
            let b = binding(a.ft, &a.cred.user, number, ch.peer, relay, until);
            self.out.push_back(Output::ChannelUnbound(b));
        }
    }

    /// Re-evaluates every channel of `id` whose peer has address `ip`.
    pub(crate) fn sync_channels_to_ip(&mut self, id: AllocId, ip: IpAddr, now: Instant) {
        let numbers: Vec<u16> = match self.allocs.get(&id) {
            Some(a) => a.channels.iter().filter(|(_, c)| c.peer.ip() == ip).map(|(n, _)| n).collect(),
            None => return,
        };
        for n in numbers {
            self.sync_route(id, n, now);
        }
    }

    /// Re-evaluates every channel of `id` (after a Refresh moved the allocation's expiry).
    pub(crate) fn sync_all_channels(&mut self, id: AllocId, now: Instant) {
        let numbers: Vec<u16> = match self.allocs.get(&id) {
            Some(a) => a.channels.iter().map(|(n, _)| n).collect(),
            None => return,
        };
        for n in numbers {
            self.sync_route(id, n, now);
        }
    }

    /// Recomputes a channel's usable-until (earliest of channel, permission and allocation expiry,
    /// RFC 8656 §9, §12) in the route tables and tells the offload engines if it changed.
    fn sync_route(&mut self, id: AllocId, number: u16, now: Instant) {
        let Some(a) = self.allocs.get(&id) else {
            return;
        };
        let Some(ch) = a.channels.get(number) else {
            return;
        };
        // A channel's peer always matches a relay family: ChannelBind checked it (443).
        let Some(relay) = a.relay_for(ch.peer) else {
            return;
        };
        let perm = a.permissions.expiry(ch.peer.ip()).filter(|t| *t > now);
        // The allocation's own expiry bounds it too: a kernel entry must not outlive the
        // allocation if the daemon stalls (RFC 8656 §5: nothing is relayed after it expires).
        let usable = perm.map(|p| p.min(ch.expires_at).min(a.expires_at));
        let prev = self.routes.upsert(id, a.ft, number, relay.local, ch.peer, usable).flatten();
        let out = match (prev, usable) {
            (p, Some(t)) if p != Some(t) => {
                Some(Output::ChannelBound(binding(a.ft, &a.cred.user, number, ch.peer, relay.local, t)))
            }
            (Some(p), None) => {
                Some(Output::ChannelUnbound(binding(a.ft, &a.cred.user, number, ch.peer, relay.local, p)))
            }
            _ => None,
        };
        self.out.extend(out);
    }
}

/// What offload engines get for one channel. `relay` is the local (bound) address, which is
/// where peer packets arrive even behind 1:1 NAT.
fn binding(
    ft: FiveTuple,
    user: &std::sync::Arc<str>,
    channel: u16,
    peer: SocketAddr,
    relay: SocketAddr,
    until: Instant,
) -> ChannelBinding {
    ChannelBinding {
        client: ft.client,
        server: ft.server,
        channel,
        peer,
        relay,
        expires_at: until,
        transport: ft.transport,
        user: user.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn number_and_peer_stay_paired() {
        let t0 = Instant::now();
        let mut c = Channels::default();
        let p1 = a("198.51.100.1:1000");
        let p2 = a("198.51.100.2:1000");
        assert_eq!(c.check(0x4000, p1), BindCheck::New);
        c.bind(0x4000, p1, t0 + Duration::from_secs(600));
        assert_eq!(c.check(0x4000, p1), BindCheck::Refresh);
        assert_eq!(c.check(0x4000, p2), BindCheck::Conflict, "number bound to another peer");
        assert_eq!(c.check(0x4001, p1), BindCheck::Conflict, "peer bound to another number");
        assert_eq!(c.check(0x4001, p2), BindCheck::New);
        c.remove(0x4000);
        assert_eq!(c.check(0x4001, p1), BindCheck::New);
        assert_eq!(c.len(), 0);
    }
}
