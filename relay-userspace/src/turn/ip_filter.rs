//! Inclusive IP address ranges parsed from `a.b.c.d/n`, `first-last` or a single address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// Why an operator-supplied range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeParseError {
    #[error("`{0}` is not an IP address")]
    BadAddress(String),
    #[error("`{0}` is not a valid prefix length")]
    BadPrefix(String),
    #[error("range `{0}` mixes IPv4 and IPv6")]
    MixedFamilies(String),
    #[error("range `{0}` ends before it starts")]
    Reversed(String),
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpRange {
    V4 { first: u32, last: u32 },
    V6 { first: u128, last: u128 },
}

impl IpRange {
    /// The single address `ip`.
    pub fn single(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => IpRange::V4 { first: a.into(), last: a.into() },
            IpAddr::V6(a) => IpRange::V6 { first: a.into(), last: a.into() },
        }
    }

    /// `ip/prefix`; host bits of `ip` are ignored. `None` if the prefix is too long.
    pub fn cidr(ip: IpAddr, prefix: u8) -> Option<Self> {
        match ip {
            IpAddr::V4(a) if prefix <= 32 => {
                let host = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                let first = u32::from(a) & !host;
                Some(IpRange::V4 { first, last: first | host })
            }
            IpAddr::V6(a) if prefix <= 128 => {
                let host = u128::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
                let first = u128::from(a) & !host;
                Some(IpRange::V6 { first, last: first | host })
            }
            _ => None,
        }
    }

    /// Whether `ip` (of the same family) falls inside; a family mismatch is never inside.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (IpRange::V4 { first, last }, IpAddr::V4(a)) => (*first..=*last).contains(&u32::from(a)),
            (IpRange::V6 { first, last }, IpAddr::V6(a)) => (*first..=*last).contains(&u128::from(a)),
            _ => false,
        }
    }
}

/// `a.b.c.d/prefix` from literals (the loopback switch).
pub(crate) fn v4(a: [u8; 4], prefix: u8) -> IpRange {
    let host = u32::MAX.checked_shr(u32::from(prefix)).unwrap_or(0);
    let first = u32::from_be_bytes(a) & !host;
    IpRange::V4 { first, last: first | host }
}

fn parse_ip(s: &str) -> Result<IpAddr, RangeParseError> {
    s.trim().parse().map_err(|_| RangeParseError::BadAddress(s.trim().to_owned()))
}

impl FromStr for IpRange {
    type Err = RangeParseError;

    /// Accepts CIDR (`10.0.0.0/8`, `fc00::/7`), coturn's `first-last`, or one address.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((ip, prefix)) = s.split_once('/') {
            let ip = parse_ip(ip)?;
            let prefix: u8 = prefix.trim().parse().map_err(|_| RangeParseError::BadPrefix(prefix.to_owned()))?;
            return IpRange::cidr(ip, prefix).ok_or(RangeParseError::BadPrefix(prefix.to_string()));
        }
        if let Some((a, b)) = s.split_once('-') {
            return match (parse_ip(a)?, parse_ip(b)?) {
                (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => Ok(IpRange::V4 { first: a.into(), last: b.into() }),
                (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => Ok(IpRange::V6 { first: a.into(), last: b.into() }),
                (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => {
                    Err(RangeParseError::Reversed(s.to_owned()))
                }
                _ => Err(RangeParseError::MixedFamilies(s.to_owned())),
            };
        }
        Ok(IpRange::single(parse_ip(s)?))
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            IpRange::V4 { first, last } => {
                write!(f, "{}-{}", std::net::Ipv4Addr::from(first), std::net::Ipv4Addr::from(last))
            }
            IpRange::V6 { first, last } => {
                write!(f, "{}-{}", std::net::Ipv6Addr::from(first), std::net::Ipv6Addr::from(last))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn cidr_range_and_single_parse() {
        let r: IpRange = "10.1.2.3/8".parse().unwrap();
        assert!(r.contains(ip("10.255.0.1")));
        assert!(!r.contains(ip("11.0.0.0")));
        let r: IpRange = "192.168.1.10-192.168.1.20".parse().unwrap();
        assert!(r.contains(ip("192.168.1.15")));
        assert!(!r.contains(ip("192.168.1.21")));
        let r: IpRange = "fc00::/7".parse().unwrap();
        assert!(r.contains(ip("fdff::1")));
        assert!(!r.contains(ip("fe00::1")));
        let r: IpRange = "::1".parse().unwrap();
        assert!(r.contains(ip("::1")));
        assert!(!r.contains(ip("127.0.0.1")), "families never match");
        let all: IpRange = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("255.255.255.255")));
    }

    #[test]
    fn bad_ranges_are_refused() {
        assert!(matches!("10.0.0.0/33".parse::<IpRange>(), Err(RangeParseError::BadPrefix(_))));
        assert!(matches!("10.0.0.9-10.0.0.1".parse::<IpRange>(), Err(RangeParseError::Reversed(_))));
        assert!(matches!("10.0.0.1-::1".parse::<IpRange>(), Err(RangeParseError::MixedFamilies(_))));
        assert!(matches!("nonsense".parse::<IpRange>(), Err(RangeParseError::BadAddress(_))));
    }
}
