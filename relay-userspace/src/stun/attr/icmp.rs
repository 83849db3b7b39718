//! ICMP (RFC 8656 §18.13): 16 reserved bits, ICMP type, ICMP code, 32-bit error data.

use super::{fixed, AttrError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Icmp {
    pub typ: u8,
    pub code: u8,
    /// e.g. the next-hop MTU for "fragmentation needed" (RFC 8656 §11.5).
    pub data: u32,
}

pub fn decode_icmp(v: &[u8]) -> Result<Icmp, AttrError> {
    let [_, _, typ, code, d0, d1, d2, d3] = fixed::<8>(v)?;
    Ok(Icmp { typ, code, data: u32::from_be_bytes([d0, d1, d2, d3]) })
}

pub fn encode_icmp(i: Icmp) -> [u8; 8] {
    let [d0, d1, d2, d3] = i.data.to_be_bytes();
    [0, 0, i.typ, i.code, d0, d1, d2, d3]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let i = Icmp { typ: 3, code: 4, data: 1400 };
        assert_eq!(decode_icmp(&encode_icmp(i)).unwrap(), i);
        assert_eq!(decode_icmp(&[0; 4]), Err(AttrError::BadLength(4)));
    }
}
