//! Permissions of one allocation (RFC 8656 §9): per peer IP address, ports ignored, 300 s.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use super::log::Untrusted;
use super::server::Server;
use super::timers::{AllocId, TimerKey};

#[derive(Debug, Default)]
pub(crate) struct Permissions {
    by_ip: HashMap<IpAddr, Instant>,
}

impl Permissions {
    /// Expiry of the permission for `ip`, if installed.
    pub(crate) fn expiry(&self, ip: IpAddr) -> Option<Instant> {
        self.by_ip.get(&ip).copied()
    }

    /// RFC 8656 §9: data flows only while a permission for the peer's IP is live.
    pub(crate) fn permits(&self, ip: IpAddr, now: Instant) -> bool {
        self.expiry(ip).is_some_and(|t| t > now)
    }

    /// Installs or refreshes; returns the previous expiry.
    pub(crate) fn install(&mut self, ip: IpAddr, until: Instant) -> Option<Instant> {
        self.by_ip.insert(ip, until)
    }

    pub(crate) fn remove(&mut self, ip: IpAddr) -> Option<Instant> {
        self.by_ip.remove(&ip)
    }

    pub(crate) fn len(&self) -> usize {
        self.by_ip.len()
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = (IpAddr, Instant)> + '_ {
        self.by_ip.iter().map(|(ip, t)| (*ip, *t))
    }
}

impl Server {
    /// Installs or refreshes the permission for `ip` (RFC 8656 §9: lifetime 300 s, refreshed
    /// by CreatePermission and ChannelBind, never by Send or data) and re-evaluates the
    /// allocation's channels to that IP.
    pub(crate) fn install_permission(&mut self, id: AllocId, ip: IpAddr, now: Instant) {
        let until = now + self.cfg.permission_lifetime;
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        let key = TimerKey::Permission(id, ip);
        let (user, client) = (Untrusted(&a.cred.user), a.ft.client);
        match a.permissions.install(ip, until) {
            Some(old) => {
                tracing::trace!(alloc = id, %user, %client, peer_ip = %ip, "permission refreshed");
                self.timers.reschedule(key, old, until)
            }
            None => {
                a.permissions_installed = a.permissions_installed.saturating_add(1);
                tracing::debug!(alloc = id, %user, %client, peer_ip = %ip, "permission installed");
                self.timers.schedule(key, until)
            }
        }
        self.sync_channels_to_ip(id, ip, now);
    }

    /// Timer: the permission for `ip` ran out (RFC 8656 §9).
    pub(crate) fn expire_permission(&mut self, id: AllocId, ip: IpAddr, now: Instant) {
        let Some(a) = self.allocs.get_mut(&id) else {
            return;
        };
        match a.permissions.expiry(ip) {
            Some(t) if t <= now => {
                a.permissions.remove(ip);
                let (user, client) = (Untrusted(&a.cred.user), a.ft.client);
                tracing::debug!(alloc = id, %user, %client, peer_ip = %ip, "permission expired");
                self.sync_channels_to_ip(id, ip, now);
            }
            Some(t) => self.timers.schedule(TimerKey::Permission(id, ip), t),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn install_refresh_expire() {
        let t0 = Instant::now();
        let ip: IpAddr = "198.51.100.1".parse().unwrap();
        let mut p = Permissions::default();
        assert!(!p.permits(ip, t0));
        assert_eq!(p.install(ip, t0 + Duration::from_secs(300)), None);
        assert!(p.permits(ip, t0 + Duration::from_secs(299)));
        assert!(!p.permits(ip, t0 + Duration::from_secs(300)));
        assert_eq!(p.install(ip, t0 + Duration::from_secs(400)), Some(t0 + Duration::from_secs(300)));
        assert_eq!(p.len(), 1);
    }
}
