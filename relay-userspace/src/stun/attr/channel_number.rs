//! CHANNEL-NUMBER (RFC 8656 §18.1): 16-bit channel number, 16 bits RFFU.
//! The range check (0x4000..=0x4FFF, else 400, RFC 8656 §11.2) is the caller's.

use super::{fixed, AttrError};

pub fn decode_channel_number(v: &[u8]) -> Result<u16, AttrError> {
    let [a, b, _, _] = fixed::<4>(v)?;
    Ok(u16::from_be_bytes([a, b]))
}

pub fn encode_channel_number(ch: u16) -> [u8; 4] {
    let [a, b] = ch.to_be_bytes();
    [a, b, 0, 0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rffu_ignored() {
        assert_eq!(decode_channel_number(&encode_channel_number(0x4001)).unwrap(), 0x4001);
        assert_eq!(decode_channel_number(&[0x40, 0x02, 0xFF, 0xFF]).unwrap(), 0x4002);
        assert_eq!(decode_channel_number(&[0x40, 0x02]), Err(AttrError::BadLength(2)));
    }
}
