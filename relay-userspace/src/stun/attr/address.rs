//! MAPPED-ADDRESS / ALTERNATE-SERVER value (RFC 8489 §14.1, §14.15): reserved byte,
//! family (0x01 IPv4, 0x02 IPv6), port, 4- or 16-byte address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::AttrError;

pub(crate) const FAMILY_V4: u8 = 0x01;
pub(crate) const FAMILY_V6: u8 = 0x02;

/// An encoded address value (8 or 20 bytes) on the stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodedAddr {
    buf: [u8; 20],
    len: usize,
}

impl EncodedAddr {
    pub fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Decodes family, port and address bytes; the family must match the length (RFC 8489 §14.1).
pub(crate) fn split(v: &[u8]) -> Result<(u16, &[u8]), AttrError> {
    let Some(&[_, family, p0, p1]) = v.get(..4) else {
        return Err(AttrError::BadLength(v.len()));
    };
    let want = match family {
        FAMILY_V4 => 8,
        FAMILY_V6 => 20,
        f => return Err(AttrError::BadFamily(f)),
    };
    if v.len() != want {
        return Err(AttrError::BadLength(v.len()));
    }
    Ok((u16::from_be_bytes([p0, p1]), &v[4..]))
}

pub(crate) fn ip_from(bytes: &[u8]) -> IpAddr {
    if let Ok(a) = <[u8; 4]>::try_from(bytes) {
        IpAddr::V4(Ipv4Addr::from(a))
    } else {
        let mut a = [0u8; 16];
        let n = bytes.len().min(16);
        a[..n].copy_from_slice(&bytes[..n]);
        IpAddr::V6(Ipv6Addr::from(a))
    }
}

/// Builds a value from port and raw address bytes (already XORed for XOR attributes).
pub(crate) fn build(port: u16, ip: &[u8]) -> EncodedAddr {
    let mut buf = [0u8; 20];
    buf[1] = if ip.len() == 4 { FAMILY_V4 } else { FAMILY_V6 };
    buf[2..4].copy_from_slice(&port.to_be_bytes());
    buf[4..4 + ip.len()].copy_from_slice(ip);
    EncodedAddr { buf, len: 4 + ip.len() }
}

pub(crate) fn ip_bytes(ip: IpAddr) -> ([u8; 16], usize) {
    let mut b = [0u8; 16];
    match ip {
        IpAddr::V4(a) => {
            b[..4].copy_from_slice(&a.octets());
            (b, 4)
        }
        IpAddr::V6(a) => (a.octets(), 16),
    }
}

/// Plain (non-XOR) address (RFC 8489 §14.1).
pub fn decode_address(v: &[u8]) -> Result<SocketAddr, AttrError> {
    let (port, ip) = split(v)?;
    Ok(SocketAddr::new(ip_from(ip), port))
}

/// Plain (non-XOR) address (RFC 8489 §14.1). IPv6 flow info and scope are not carried.
pub fn encode_address(addr: SocketAddr) -> EncodedAddr {
    let (b, n) = ip_bytes(addr.ip());
    build(addr.port(), &b[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_v4_v6() {
        for a in ["192.0.2.1:32853", "[2001:db8::1]:443"] {
            let a: SocketAddr = a.parse().unwrap();
            assert_eq!(decode_address(encode_address(a).as_slice()).unwrap(), a);
        }
    }

    #[test]
    fn wire_format_v4() {
        let a: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        assert_eq!(encode_address(a).as_slice(), &[0, 1, 0x80, 0x55, 192, 0, 2, 1]);
    }

    #[test]
    fn rejects_bad_values() {
        assert_eq!(decode_address(&[0, 1, 0]), Err(AttrError::BadLength(3)));
        assert_eq!(decode_address(&[0, 3, 0, 0, 1, 2, 3, 4]), Err(AttrError::BadFamily(3)));
        assert_eq!(decode_address(&[0, 2, 0, 0, 1, 2, 3, 4]), Err(AttrError::BadLength(8)));
        assert_eq!(decode_address(&[0, 1, 0, 0, 1, 2, 3, 4, 5]), Err(AttrError::BadLength(9)));
    }
}
