//! REQUESTED-TRANSPORT (RFC 8656 §18.8): IP protocol number, 24 bits RFFU.

use super::{fixed, AttrError};

/// UDP, the only value RFC 8656 §7.2 allows for Allocate.
pub const PROTO_UDP: u8 = 17;
/// TCP, for RFC 6062 TCP allocations.
pub const PROTO_TCP: u8 = 6;

pub fn decode_requested_transport(v: &[u8]) -> Result<u8, AttrError> {
    Ok(fixed::<4>(v)?[0])
}

pub fn encode_requested_transport(proto: u8) -> [u8; 4] {
    [proto, 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(decode_requested_transport(&encode_requested_transport(PROTO_UDP)).unwrap(), 17);
        assert_eq!(decode_requested_transport(&[6, 1, 2, 3]).unwrap(), PROTO_TCP);
        assert_eq!(decode_requested_transport(&[17]), Err(AttrError::BadLength(1)));
    }
}
