//! XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (RFC 8489 §14.2,
//! RFC 8656 §18.3, §18.5): port XOR the top 16 bits of the magic cookie, IPv4 XOR the cookie,
//! IPv6 XOR cookie || transaction ID.

use std::net::SocketAddr;

use super::address::{build, ip_bytes, ip_from, split, EncodedAddr};
use super::AttrError;
use crate::stun::header::{TransactionId, MAGIC_COOKIE};

fn xor_in_place(ip: &mut [u8], tid: &TransactionId) {
    let mut pad = [0u8; 16];
    pad[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    pad[4..].copy_from_slice(&tid.0);
    for (b, p) in ip.iter_mut().zip(pad) {
        *b ^= p;
    }
}

const PORT_XOR: u16 = (MAGIC_COOKIE >> 16) as u16;

/// Decodes an XOR address using the message's transaction ID (RFC 8489 §14.2).
pub fn decode_xor_address(v: &[u8], tid: &TransactionId) -> Result<SocketAddr, AttrError> {
    let (xport, xip) = split(v)?;
    let mut ip = [0u8; 16];
    ip[..xip.len()].copy_from_slice(xip);
    xor_in_place(&mut ip[..xip.len()], tid);
    Ok(SocketAddr::new(ip_from(&ip[..xip.len()]), xport ^ PORT_XOR))
}

/// Encodes an XOR address for a message with transaction ID `tid` (RFC 8489 §14.2).
pub fn encode_xor_address(addr: SocketAddr, tid: &TransactionId) -> EncodedAddr {
    let (mut b, n) = ip_bytes(addr.ip());
    xor_in_place(&mut b[..n], tid);
    build(addr.port() ^ PORT_XOR, &b[..n])
}

#[cfg(test)]
mod tests {
    use super::*;

    const TID: TransactionId = TransactionId([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    #[test]
    fn round_trip_v4_v6() {
        for a in ["192.0.2.1:32853", "[2001:db8:1234:5678:11:2233:4455:6677]:32853"] {
            let a: SocketAddr = a.parse().unwrap();
            let e = encode_xor_address(a, &TID);
            assert_eq!(decode_xor_address(e.as_slice(), &TID).unwrap(), a);
        }
    }

    #[test]
    fn rfc5769_ipv4_value() {
        // RFC 5769 §2.2: 192.0.2.1:32853 encodes as port 0xa147, address 0xe112a643.
        let a: SocketAddr = "192.0.2.1:32853".parse().unwrap();
        let e = encode_xor_address(a, &TID);
        assert_eq!(e.as_slice(), &[0, 1, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43]);
    }

    #[test]
    fn rejects_bad_family() {
        assert_eq!(decode_xor_address(&[0, 9, 0, 0, 0, 0, 0, 0], &TID), Err(AttrError::BadFamily(9)));
    }
}
