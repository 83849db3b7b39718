//! REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.6, §18.11):
//! family byte (0x01 IPv4, 0x02 IPv6), 24 bits RFFU.

use super::{fixed, AttrError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressFamily {
    V4,
    V6,
}

impl AddressFamily {
    pub fn code(self) -> u8 {
        match self {
            AddressFamily::V4 => 0x01,
            AddressFamily::V6 => 0x02,
        }
    }

    pub fn from_code(c: u8) -> Result<Self, AttrError> {
        match c {
            0x01 => Ok(AddressFamily::V4),
            0x02 => Ok(AddressFamily::V6),
            other => Err(AttrError::BadFamily(other)),
        }
    }
}

/// [`AttrError::BadFamily`] means 440 Address Family not Supported (RFC 8656 §7.2).
pub fn decode_address_family(v: &[u8]) -> Result<AddressFamily, AttrError> {
    AddressFamily::from_code(fixed::<4>(v)?[0])
}

pub fn encode_address_family(fam: AddressFamily) -> [u8; 4] {
    [fam.code(), 0, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        for f in [AddressFamily::V4, AddressFamily::V6] {
            assert_eq!(decode_address_family(&encode_address_family(f)).unwrap(), f);
        }
        assert_eq!(decode_address_family(&[3, 0, 0, 0]), Err(AttrError::BadFamily(3)));
        assert_eq!(decode_address_family(&[1]), Err(AttrError::BadLength(1)));
    }
}
