//! Which peers a client may reach through the relay. RFC 8656 §10.2, §11.2 and §12.2 let the
//! server restrict peer addresses (403 to CreatePermission/ChannelBind, Send discarded);
//! §21.1.4 and §21.2.2 say why an operator wants to.
//!
//! Safe by default (coturn CVE-2020-26262 is the cautionary tale: `0.0.0.0` and `::` reached
//! the relay host's loopback services). See [`PeerPolicy::default`] and [`PeerPolicy::strict`]
//! for the exact ranges and where each comes from. The server adds its own listening
//! transport addresses at construction.
//!
//! Operators add ranges with [`PeerPolicy::deny`]/[`PeerPolicy::allow`] (coturn's
//! `--denied-peer-ip`/`--allowed-peer-ip`); an allowed range overrides a denied one, never the
//! relay's own addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ip_filter::{v4, IpRange, RangeParseError};

/// One built-in range: CIDR, what it is, where it is defined. Kept as text so the doc
/// comments below can be checked against it (test `docs_list_every_range`).
type Entry = (&'static str, &'static str, &'static str);

/// Refused without configuration. IPv4-mapped and NAT64 forms are handled by checking the
/// embedded IPv4 address (`embedded_v4`), so they need no entries of their own.
const DEFAULT_DENIED: [Entry; 8] = [
    ("0.0.0.0/8", "\"this network\", incl. unspecified 0.0.0.0", "RFC 1122 §3.2.1.3"),
    ("127.0.0.0/8", "loopback", "RFC 1122 §3.2.1.3"),
    ("169.254.0.0/16", "link-local (cloud metadata at 169.254.169.254)", "RFC 3927"),
    ("224.0.0.0/4", "multicast", "RFC 5771"),
    ("255.255.255.255/32", "limited broadcast", "RFC 919 §7, RFC 8190"),
    ("::/96", "unspecified ::, loopback ::1, deprecated IPv4-compatible", "RFC 4291 §2.5.2, §2.5.3, §2.5.5.1"),
    ("fe80::/10", "link-local", "RFC 4291 §2.5.6"),
    ("ff00::/8", "multicast", "RFC 4291 §2.7"),
];

/// Added by the strict preset: private, shared and IANA special-purpose ranges that are not
/// globally reachable (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890, RFC 8190).
const STRICT_EXTRA: [Entry; 20] = [
    ("10.0.0.0/8", "private-use", "RFC 1918"),
    ("172.16.0.0/12", "private-use", "RFC 1918"),
    ("192.168.0.0/16", "private-use", "RFC 1918"),
    ("100.64.0.0/10", "shared address space (carrier-grade NAT)", "RFC 6598"),
    ("192.0.0.0/24", "IETF protocol assignments (DS-Lite, NAT64 discovery, ...)", "RFC 6890 §2.1"),
    ("192.0.2.0/24", "documentation TEST-NET-1", "RFC 5737"),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast", "RFC 7526"),
    ("198.18.0.0/15", "benchmarking", "RFC 2544"),
    ("198.51.100.0/24", "documentation TEST-NET-2", "RFC 5737"),
    ("203.0.113.0/24", "documentation TEST-NET-3", "RFC 5737"),
    ("240.0.0.0/4", "reserved (former class E)", "RFC 1112 §4"),
    ("64:ff9b:1::/48", "local-use IPv4/IPv6 translation", "RFC 8215"),
    ("100::/64", "discard-only", "RFC 6666"),
    ("2001::/23", "IETF protocol assignments (Teredo 2001::/32, benchmarking, ORCHID)", "RFC 2928, RFC 4380"),
    ("2001:db8::/32", "documentation", "RFC 3849"),
    ("2002::/16", "6to4", "RFC 3056"),
    ("3fff::/20", "documentation", "RFC 9637"),
    ("5f00::/16", "segment routing (SRv6) SIDs", "RFC 9602"),
    ("fc00::/7", "unique-local", "RFC 4193"),
    ("fec0::/10", "deprecated site-local", "RFC 3879"),
];

/// Parses a built-in table; every literal is checked by `tables_parse` so none is lost.
fn ranges(table: &[Entry]) -> impl Iterator<Item = IpRange> + '_ {
    table.iter().filter_map(|(cidr, _, _)| cidr.parse().ok())
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
    /// Safe without configuration (issue B, RFC 8656 §21.1.4, §21.2.2). Refuses:
    ///
    /// | range | what | source |
    /// |---|---|---|
    /// | `0.0.0.0/8` | "this network", incl. unspecified `0.0.0.0` | RFC 1122 §3.2.1.3 |
    /// | `127.0.0.0/8` | loopback | RFC 1122 §3.2.1.3 |
    /// | `169.254.0.0/16` | link-local (cloud metadata at 169.254.169.254) | RFC 3927 |
    /// | `224.0.0.0/4` | multicast | RFC 5771 |
    /// | `255.255.255.255/32` | limited broadcast | RFC 919 §7, RFC 8190 |
    /// | `::/96` | unspecified `::`, loopback `::1`, deprecated IPv4-compatible | RFC 4291 §2.5.2, §2.5.3, §2.5.5.1 |
    /// | `fe80::/10` | link-local | RFC 4291 §2.5.6 |
    /// | `ff00::/8` | multicast | RFC 4291 §2.7 |
    ///
    /// and the IPv4-mapped (`::ffff:0:0/96`, RFC 4291 §2.5.5.2) and NAT64 (`64:ff9b::/96`,
    /// RFC 6052 §2.1) form of every refused IPv4 address: a dual-stack socket or a NAT64 turns
    /// them into that IPv4 address.
    fn default() -> Self {
        PeerPolicy { denied: ranges(&DEFAULT_DENIED).collect(), allowed: Vec::new(), denied_addrs: Vec::new() }
    }
}

impl PeerPolicy {
    /// The "private" preset (`--deny-private-peers`): everything [`PeerPolicy::default`]
    /// refuses, plus every range below. Use it whenever the relay host can reach an internal
    /// network. Sources: the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890,
    /// RFC 8190), keeping the blocks that are not globally reachable.
    ///
    /// | range | what | source |
    /// |---|---|---|
    /// | `10.0.0.0/8` | private-use | RFC 1918 |
    /// | `172.16.0.0/12` | private-use | RFC 1918 |
    /// | `192.168.0.0/16` | private-use | RFC 1918 |
    /// | `100.64.0.0/10` | shared address space (carrier-grade NAT) | RFC 6598 |
    /// | `192.0.0.0/24` | IETF protocol assignments (DS-Lite, NAT64 discovery, ...) | RFC 6890 §2.1 |
    /// | `192.0.2.0/24` | documentation TEST-NET-1 | RFC 5737 |
    /// | `192.88.99.0/24` | deprecated 6to4 relay anycast | RFC 7526 |
    /// | `198.18.0.0/15` | benchmarking | RFC 2544 |
    /// | `198.51.100.0/24` | documentation TEST-NET-2 | RFC 5737 |
    /// | `203.0.113.0/24` | documentation TEST-NET-3 | RFC 5737 |
    /// | `240.0.0.0/4` | reserved (former class E) | RFC 1112 §4 |
    /// | `64:ff9b:1::/48` | local-use IPv4/IPv6 translation | RFC 8215 |
    /// | `100::/64` | discard-only | RFC 6666 |
    /// | `2001::/23` | IETF protocol assignments (Teredo `2001::/32`, benchmarking, ORCHID) | RFC 2928, RFC 4380 |
    /// | `2001:db8::/32` | documentation | RFC 3849 |
    /// | `2002::/16` | 6to4 | RFC 3056 |
    /// | `3fff::/20` | documentation | RFC 9637 |
    /// | `5f00::/16` | segment routing (SRv6) SIDs | RFC 9602 |
    /// | `fc00::/7` | unique-local | RFC 4193 |
    /// | `fec0::/10` | deprecated site-local | RFC 3879 |
    ///
    /// Teredo and 6to4 peers are also tunnels, which RFC 8656 §21.4 (tunnel amplification)
    /// recommends not relaying to. Mapped and NAT64 forms of the IPv4 ranges are refused as
    /// for the default list. Globally reachable special-purpose blocks (AS112, AMT,
    /// `64:ff9b::/96` itself) stay allowed.
    pub fn strict() -> Self {
        let mut p = PeerPolicy::default();
        p.denied.extend(ranges(&STRICT_EXTRA));
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
            "::ffff:255.255.255.255",
            "::ffff:224.0.0.251",
            "64:ff9b::e000:1",
            "::169.254.169.254",
            "febf::1",
        ] {
            assert!(!p.permits(addr(bad)), "{bad} must be refused");
        }
        for good in ["8.8.8.8", "10.0.0.1", "192.168.1.1", "2001:4860::8888", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(p.permits(addr(good)), "{good} must be allowed by default");
        }
    }

    /// Every literal parses, as a canonical network address (no host bits set).
    #[test]
    fn tables_parse() {
        for (cidr, _, _) in DEFAULT_DENIED.iter().chain(&STRICT_EXTRA) {
            let (ip, prefix) = cidr.split_once('/').unwrap();
            let r: IpRange = cidr.parse().unwrap();
            let first = match r {
                IpRange::V4 { first, .. } => IpAddr::V4(first.into()),
                IpRange::V6 { first, .. } => IpAddr::V6(first.into()),
            };
            assert_eq!(first, ip.parse::<IpAddr>().unwrap(), "{cidr} has host bits");
            assert!(prefix.parse::<u8>().is_ok());
        }
        assert_eq!(ranges(&DEFAULT_DENIED).count(), DEFAULT_DENIED.len());
        assert_eq!(ranges(&STRICT_EXTRA).count(), STRICT_EXTRA.len());
    }

    /// The doc tables of `default()` and `strict()` are exactly the code's tables.
    #[test]
    fn docs_list_every_range() {
        let src = include_str!("peer_policy.rs");
        let doc_rows = src.lines().filter(|l| l.trim_start().starts_with("/// | `")).count();
        assert_eq!(doc_rows, DEFAULT_DENIED.len() + STRICT_EXTRA.len());
        for (cidr, what, source) in DEFAULT_DENIED.iter().chain(&STRICT_EXTRA) {
            let what = what.replace("0.0.0.0", "`0.0.0.0`").replace("::,", "`::`,").replace("::1", "`::1`");
            let what = what.replace("2001::/32", "`2001::/32`");
            let row = format!("/// | `{cidr}` | {what} | {source} |");
            assert!(src.contains(&row), "doc row missing or different: {row}");
        }
    }

    fn first_and_last(cidr: &str) -> [IpAddr; 2] {
        match cidr.parse::<IpRange>().unwrap() {
            IpRange::V4 { first, last } => [IpAddr::V4(first.into()), IpAddr::V4(last.into())],
            IpRange::V6 { first, last } => [IpAddr::V6(first.into()), IpAddr::V6(last.into())],
        }
    }

    #[test]
    fn strict_refuses_every_listed_range_edge_to_edge_and_its_mapped_forms() {
        let strict = PeerPolicy::strict();
        let default = PeerPolicy::default();
        for (cidr, _, _) in DEFAULT_DENIED.iter().chain(&STRICT_EXTRA) {
            for ip in first_and_last(cidr) {
                assert!(!strict.permits(SocketAddr::new(ip, 5000)), "{ip} ({cidr}) must be refused by strict");
                if let IpAddr::V4(a) = ip {
                    let mapped = IpAddr::V6(a.to_ipv6_mapped());
                    let nat64 = IpAddr::V6((0x0064_ff9b_u128 << 96 | u128::from(u32::from(a))).into());
                    for form in [mapped, nat64] {
                        assert!(!strict.permits(SocketAddr::new(form, 5000)), "{form} ({cidr})");
                    }
                }
            }
        }
        for (cidr, _, _) in &STRICT_EXTRA {
            let [first, _] = first_and_last(cidr);
            assert!(default.permits(SocketAddr::new(first, 5000)), "{first}: only strict refuses {cidr}");
        }
        // Just outside, and globally reachable special-purpose blocks, stay allowed.
        for good in [
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "192.0.1.255",
            "198.20.0.1",
            "223.255.255.255",
            "192.31.196.1",
            "192.52.193.1",
            "2606:4700::1111",
            "2001:200::1",
            "64:ff9b::808:808",
            "2620:4f:8000::1",
            "3fff:1000::1",
            "fbff::1",
        ] {
            assert!(strict.permits(addr(good)), "{good} must be allowed by strict");
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
