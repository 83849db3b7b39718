//! Which peers a client may reach through the relay. RFC 8656 §10.2, §11.2 and §12.2 let the
//! server restrict peer addresses (403 to CreatePermission/ChannelBind, Send discarded);
//! §21.1.4 and §21.2.2 say why an operator wants to.
//!
//! Safe by default (coturn CVE-2020-26262 is the cautionary tale: `0.0.0.0` and `::` reached
//! the relay host's loopback services). [`PeerPolicy::default`] refuses, with no configuration:
//! loopback, unspecified, multicast, limited broadcast and link-local addresses of both
//! families, the deprecated IPv4-compatible block `::/96`, and the IPv4-mapped
//! (`::ffff:0:0/96`) and NAT64 (`64:ff9b::/96`) forms of every refused IPv4 address. The server
//! adds its own listening transport addresses at construction.
//!
//! Operators add ranges with [`PeerPolicy::deny`]/[`PeerPolicy::allow`] (coturn's
//! `--denied-peer-ip`/`--allowed-peer-ip`); an allowed range overrides a denied one.
//! [`PeerPolicy::strict`] (the "private" preset) also refuses RFC 1918, CGNAT `100.64.0.0/10`,
//! unique-local IPv6 and the other IANA special-purpose ranges (RFC 6890): use it whenever
//! the relay host can reach an internal network.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ip_filter::{v4, v6, IpRange, RangeParseError};

/// Ranges refused without configuration (IPv4 part).
fn default_denied_v4() -> [IpRange; 5] {
    [
        v4([0, 0, 0, 0], 8),          // "this network", incl. 0.0.0.0 (RFC 1122 §3.2.1.3)
        v4([127, 0, 0, 0], 8),        // loopback
        v4([169, 254, 0, 0], 16),     // link-local (RFC 3927)
        v4([224, 0, 0, 0], 4),        // multicast
        v4([255, 255, 255, 255], 32), // limited broadcast
    ]
}

/// Ranges refused without configuration (IPv6 part); mapped/NAT64 forms are handled by
/// checking the embedded IPv4 address.
fn default_denied_v6() -> [IpRange; 3] {
    [
        v6(0, 96),             // ::, ::1 and IPv4-compatible (RFC 4291 §2.5.5.1)
        v6(0xfe80 << 112, 10), // link-local
        v6(0xff00 << 112, 8),  // multicast
    ]
}

/// Extra ranges of the strict preset: private and IANA special-purpose (RFC 6890).
fn strict_denied() -> Vec<IpRange> {
    vec![
        v4([10, 0, 0, 0], 8),           // RFC 1918
        v4([172, 16, 0, 0], 12),        // RFC 1918
        v4([192, 168, 0, 0], 16),       // RFC 1918
        v4([100, 64, 0, 0], 10),        // CGNAT shared space (RFC 6598)
        v4([192, 0, 0, 0], 24),         // IETF protocol assignments
        v4([192, 0, 2, 0], 24),         // TEST-NET-1
        v4([198, 18, 0, 0], 15),        // benchmarking
        v4([198, 51, 100, 0], 24),      // TEST-NET-2
        v4([203, 0, 113, 0], 24),       // TEST-NET-3
        v4([192, 88, 99, 0], 24),       // deprecated 6to4 relay anycast
        v4([240, 0, 0, 0], 4),          // reserved
        v6(0xfc00 << 112, 7),           // unique-local
        v6(0xfec0 << 112, 10),          // deprecated site-local
        v6(0x0100 << 112, 64),          // discard-only
        v6(0x2001_0db8 << 96, 32),      // documentation
        v6(0x2001 << 112, 23),          // IETF protocol assignments (Teredo, ORCHID, ...)
        v6(0x2002 << 112, 16),          // 6to4
        v6(0x0064_ff9b_0001 << 80, 48), // local-use NAT64 (RFC 8215)
    ]
}

/// The relay's peer address filter. Cheap to clone; checked on CreatePermission, ChannelBind
/// and every Send indication.
#[derive(Clone, Debug)]
pub struct PeerPolicy {
    denied: Vec<IpRange>,
    allowed: Vec<IpRange>,
    /// Exact transport addresses refused whatever the allow list says (the relay's own
    /// listening sockets: relaying to them would loop signalling through the relay).
    denied_addrs: Vec<SocketAddr>,
}

impl Default for PeerPolicy {
    fn default() -> Self {
        let mut denied = default_denied_v4().to_vec();
        denied.extend(default_denied_v6());
        PeerPolicy { denied, allowed: Vec::new(), denied_addrs: Vec::new() }
    }
}

impl PeerPolicy {
    /// The default list plus private and special-purpose ranges (see the module docs).
    pub fn strict() -> Self {
        let mut p = PeerPolicy::default();
        p.denied.extend(strict_denied());
        p
    }

    /// Refuses nothing. For tests and labs only; not reachable from the command line.
    pub fn allow_all() -> Self {
        PeerPolicy { denied: Vec::new(), allowed: Vec::new(), denied_addrs: Vec::new() }
    }

    /// `--denied-peer-ip`.
    pub fn deny(&mut self, range: IpRange) -> &mut Self {
        self.denied.push(range);
        self
    }

    /// `--allowed-peer-ip`: overrides any denied range (not the relay's own addresses).
    pub fn allow(&mut self, range: IpRange) -> &mut Self {
        self.allowed.push(range);
        self
    }

    /// Parses and adds a `--denied-peer-ip` value.
    pub fn parse_deny(&mut self, s: &str) -> Result<&mut Self, RangeParseError> {
        Ok(self.deny(s.parse()?))
    }

    /// Parses and adds an `--allowed-peer-ip` value.
    pub fn parse_allow(&mut self, s: &str) -> Result<&mut Self, RangeParseError> {
        Ok(self.allow(s.parse()?))
    }

    /// `--allow-loopback-peers` (labs and tests): 127.0.0.0/8 and ::1 become reachable.
    pub fn allow_loopback(&mut self) -> &mut Self {
        self.allow(v4([127, 0, 0, 0], 8));
        self.allow(IpRange::single(IpAddr::V6(Ipv6Addr::LOCALHOST)))
    }

    /// Refuses one exact transport address (the server adds its listening addresses).
    pub fn deny_addr(&mut self, addr: SocketAddr) -> &mut Self {
        let addr = SocketAddr::new(addr.ip().to_canonical(), addr.port());
        if !self.denied_addrs.contains(&addr) {
            self.denied_addrs.push(addr);
        }
        self
    }

    /// Whether the relay may exchange data with `peer` (RFC 8656 §10.2, §11.2, §12.2).
    pub fn permits(&self, peer: SocketAddr) -> bool {
        let ip = peer.ip();
        let canonical = SocketAddr::new(ip.to_canonical(), peer.port());
        if self.denied_addrs.contains(&canonical) {
            return false;
        }
        !self.is_denied(ip) || self.is_allowed(ip)
    }

    /// Whether an IP address, or the IPv4 address it embeds, is in a denied range.
    fn is_denied(&self, ip: IpAddr) -> bool {
        let hit = |ip: IpAddr| self.denied.iter().any(|r| r.contains(ip));
        hit(ip) || embedded_v4(ip).is_some_and(|v4| hit(IpAddr::V4(v4)))
    }

    fn is_allowed(&self, ip: IpAddr) -> bool {
        let hit = |ip: IpAddr| self.allowed.iter().any(|r| r.contains(ip));
        hit(ip) || embedded_v4(ip).is_some_and(|v4| hit(IpAddr::V4(v4)))
    }
}

/// The IPv4 address inside an IPv4-mapped, IPv4-compatible or NAT64 (`64:ff9b::/96`, RFC 6052)
/// IPv6 address: each can reach that IPv4 address on a dual-stack host or through a NAT64.
fn embedded_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    let IpAddr::V6(a) = ip else { return None };
    let bits = u128::from(a);
    let low = Ipv4Addr::from((bits & 0xffff_ffff) as u32);
    let prefix = bits >> 32;
    match prefix {
        0xffff | 0 => Some(low),                      // ::ffff:a.b.c.d and ::a.b.c.d
        0x0064_ff9b_0000_0000_0000_0000 => Some(low), // 64:ff9b::a.b.c.d
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        let ip: IpAddr = s.parse().unwrap();
        SocketAddr::new(ip, 5000)
    }

    #[test]
    fn default_refuses_every_class_of_issue_b() {
        let p = PeerPolicy::default();
        for bad in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "0.1.2.3",
            "::",
            "::1",
            "224.0.0.1",
            "239.255.255.250",
            "255.255.255.255",
            "169.254.169.254",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:0.0.0.0",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!p.permits(addr(bad)), "{bad} must be refused");
        }
        for good in ["8.8.8.8", "10.0.0.1", "192.168.1.1", "2001:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(p.permits(addr(good)), "{good} must be allowed by default");
        }
    }

    #[test]
    fn strict_preset_refuses_private_ranges() {
        let p = PeerPolicy::strict();
        for bad in [
            "10.1.1.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.0.1",
            "100.64.0.1",
            "100.127.255.255",
            "fd00::1",
            "198.18.0.1",
            "240.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            assert!(!p.permits(addr(bad)), "{bad} must be refused by strict");
        }
        for good in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2606:4700::1111"] {
            assert!(p.permits(addr(good)), "{good} must be allowed by strict");
        }
    }

    #[test]
    fn allowed_overrides_denied_and_loopback_switch() {
        let mut p = PeerPolicy::strict();
        p.parse_allow("10.0.0.0/24").unwrap();
        assert!(p.permits(addr("10.0.0.7")));
        assert!(!p.permits(addr("10.0.1.7")));
        assert!(!p.permits(addr("127.0.0.1")));
        p.allow_loopback();
        assert!(p.permits(addr("127.0.0.1")));
        assert!(p.permits(addr("::1")));
        assert!(p.permits(addr("::ffff:127.0.0.1")));
        assert!(!p.permits(addr("0.0.0.0")), "unspecified stays refused");
    }

    #[test]
    fn operator_deny_ranges_and_first_last() {
        let mut p = PeerPolicy::default();
        p.parse_deny("203.0.113.10-203.0.113.20").unwrap();
        assert!(!p.permits(addr("203.0.113.15")));
        assert!(!p.permits(addr("::ffff:203.0.113.15")));
        assert!(p.permits(addr("203.0.113.21")));
        assert!(p.parse_deny("bogus").is_err());
    }

    #[test]
    fn own_addresses_refused_even_when_allowed() {
        let mut p = PeerPolicy::default();
        p.allow_loopback();
        p.deny_addr("127.0.0.1:3478".parse().unwrap());
        assert!(!p.permits("127.0.0.1:3478".parse().unwrap()));
        assert!(!p.permits("[::ffff:127.0.0.1]:3478".parse().unwrap()));
        assert!(p.permits("127.0.0.1:3479".parse().unwrap()));
    }
}
