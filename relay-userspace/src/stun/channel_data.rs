//! ChannelData messages (RFC 8656 §12.4, §12.5).

/// Lowest channel number a client may bind (RFC 8656 §12).
pub const CHANNEL_MIN: u16 = 0x4000;
/// Highest channel number a client may bind (RFC 8656 §12); 0x5000..=0x7FFF are reserved.
pub const CHANNEL_MAX: u16 = 0x4FFF;

/// Why a datagram is not a usable ChannelData message.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum ChannelDataError {
    #[error("shorter than the 4-byte ChannelData header")]
    TooShort,
    /// Outside 0x4000..=0x4FFF (RFC 8656 §12).
    #[error("channel number {0:#06x} outside 0x4000..=0x4FFF")]
    BadChannel(u16),
    /// The length field exceeds the bytes present (RFC 8656 §12.4).
    #[error("ChannelData length {len} exceeds the {available} bytes present")]
    LengthOverrun { len: usize, available: usize },
}

/// A ChannelData message borrowing the receive buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelData<'a> {
    pub channel: u16,
    /// Application data, without header or padding.
    pub data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses a ChannelData message. Bytes beyond the length field (padding, which UDP may
    /// carry and TCP must, RFC 8656 §12.5) are ignored.
    pub fn parse(buf: &'a [u8]) -> Result<Self, ChannelDataError> {
        let Some(hdr) = buf.get(..4) else {
            return Err(ChannelDataError::TooShort);
        };
        let channel = u16::from_be_bytes([hdr[0], hdr[1]]);
        if !(CHANNEL_MIN..=CHANNEL_MAX).contains(&channel) {
            return Err(ChannelDataError::BadChannel(channel));
        }
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let available = buf.len() - 4;
        match buf.get(4..4 + len) {
            Some(data) => Ok(ChannelData { channel, data }),
            None => Err(ChannelDataError::LengthOverrun { len, available }),
        }
    }

    /// Like [`Self::parse`] but admits every number with top bits 01 (0x4000..=0x7FFF,
    /// RFC 5766's range, which deployed clients still use). For the relay's data path, where
    /// only numbers the core bound can match anything, so the narrower RFC 8656 check is the
    /// core's ChannelBind policy, not the parser's.
    pub fn parse_any_number(buf: &'a [u8]) -> Option<Self> {
        let hdr = buf.get(..4)?;
        if !Self::is_channel_data(hdr) {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        Some(ChannelData { channel: u16::from_be_bytes([hdr[0], hdr[1]]), data: buf.get(4..4 + len)? })
    }

    /// First two bits 0b01 (RFC 8656 §12, RFC 7983 demultiplexing). Does not check the range.
    pub fn is_channel_data(buf: &[u8]) -> bool {
        buf.first().is_some_and(|b| b & 0xC0 == 0x40)
    }

    /// The 4-byte header: channel number and data length (RFC 8656 §12.4).
    pub fn encode_header(channel: u16, len: u16) -> [u8; 4] {
        let c = channel.to_be_bytes();
        let l = len.to_be_bytes();
        [c[0], c[1], l[0], l[1]]
    }

    /// Appends header and `data` to `out`; with `pad` (stream transports, RFC 8656 §12.5)
    /// zero-pads to a multiple of 4. Returns false, writing nothing, if `data` exceeds 65535
    /// bytes.
    pub fn encode(channel: u16, data: &[u8], pad: bool, out: &mut Vec<u8>) -> bool {
        let Ok(len) = u16::try_from(data.len()) else {
            return false;
        };
        out.extend_from_slice(&Self::encode_header(channel, len));
        out.extend_from_slice(data);
        if pad {
            out.resize(out.len() + (4 - data.len() % 4) % 4, 0);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_any_number_admits_rfc5766_range_only() {
        let cd = ChannelData::parse_any_number(&[0x6E, 0x8D, 0, 2, 7, 8, 0, 0]).unwrap();
        assert_eq!((cd.channel, cd.data), (0x6E8D, &[7u8, 8][..]));
        assert!(ChannelData::parse_any_number(&[0x80, 0, 0, 0]).is_none());
        assert!(ChannelData::parse_any_number(&[0x40, 0, 0, 9, 1]).is_none(), "length overrun");
        assert!(ChannelData::parse_any_number(&[0x40, 0, 0]).is_none());
    }

    #[test]
    fn parses_and_ignores_trailing_padding() {
        let mut b = ChannelData::encode_header(0x4001, 3).to_vec();
        b.extend_from_slice(&[1, 2, 3, 0]);
        let cd = ChannelData::parse(&b).unwrap();
        assert_eq!(cd, ChannelData { channel: 0x4001, data: &[1, 2, 3] });
        assert!(ChannelData::is_channel_data(&b));
    }

    #[test]
    fn encode_pads_for_streams_only() {
        let mut out = Vec::new();
        assert!(ChannelData::encode(0x4000, &[9; 5], true, &mut out));
        assert_eq!(out.len(), 12);
        assert_eq!(ChannelData::parse(&out).unwrap().data, &[9; 5]);
        out.clear();
        assert!(ChannelData::encode(0x4000, &[9; 5], false, &mut out));
        assert_eq!(out.len(), 9);
        assert!(!ChannelData::encode(0x4000, &vec![0; 65_536], false, &mut out));
        assert_eq!(out.len(), 9);
    }

    #[test]
    fn empty_payload_is_valid() {
        let b = ChannelData::encode_header(0x4FFF, 0);
        assert_eq!(ChannelData::parse(&b).unwrap().data, &[] as &[u8]);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(ChannelData::parse(&[0x40, 0]), Err(ChannelDataError::TooShort));
        let b = ChannelData::encode_header(0x5000, 0);
        assert_eq!(ChannelData::parse(&b), Err(ChannelDataError::BadChannel(0x5000)));
        let b = ChannelData::encode_header(0x3FFF, 0);
        assert_eq!(ChannelData::parse(&b), Err(ChannelDataError::BadChannel(0x3FFF)));
        let mut b = ChannelData::encode_header(0x4000, 5).to_vec();
        b.extend_from_slice(&[0; 4]);
        assert_eq!(ChannelData::parse(&b), Err(ChannelDataError::LengthOverrun { len: 5, available: 4 }));
        assert!(!ChannelData::is_channel_data(&[0x00]));
        assert!(!ChannelData::is_channel_data(&[0x80]));
        assert!(!ChannelData::is_channel_data(&[]));
    }
}
