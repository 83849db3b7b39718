//! Splitting a TCP/TLS byte stream into STUN and ChannelData frames (RFC 8489 §6.2.2,
//! RFC 8656 §12.5). Over streams there is no other framing: the first two bits tell the kind
//! and the length field tells where the next frame starts.

use super::header::HEADER_LEN;

/// Upper bound on one frame: a STUN message is at most 20 + 65535 bytes (16-bit length after
/// the header); a padded ChannelData frame at most 4 + 65536. A reader never needs to buffer
/// more than this to make progress.
pub const MAX_FRAME: usize = 65_535 + 20;

/// The next frame at the start of a stream buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A STUN message of `len` bytes, header included.
    Stun { len: usize },
    /// A ChannelData message of `len` bytes including header and padding to 4 (RFC 8656 §12.5).
    ChannelData { len: usize },
    /// Neither: the stream is out of sync and the connection should be closed.
    Invalid,
}

/// Length of the frame at the start of `buf`, or `None` while fewer than 4 bytes are buffered.
/// Once 8 bytes are there, a STUN frame must also carry the magic cookie.
pub fn next_frame_len(buf: &[u8]) -> Option<Frame> {
    let hdr = buf.get(..4)?;
    let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
    let frame = match hdr[0] & 0xC0 {
        // RFC 8489 §5: top bits 00, length a multiple of 4.
        0x00 => {
            let cookie_ok = buf.get(4..8).is_none_or(|c| c == super::MAGIC_COOKIE.to_be_bytes());
            if len % 4 == 0 && cookie_ok {
                Frame::Stun { len: HEADER_LEN + len }
            } else {
                Frame::Invalid
            }
        }
        // RFC 8656 §12.5: over TCP/TLS ChannelData is padded to a multiple of 4.
        // Any number with top bits 01 (0x4000-0x7FFF) frames as ChannelData: RFC 5766 clients
        // (coturn's among them) still use 0x5000-0x7FFF, and whether a number is acceptable is
        // the TURN core's call, not the framer's.
        0x40 => Frame::ChannelData { len: 4 + super::message::padded(len) },
        _ => Frame::Invalid,
    };
    Some(frame)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_four_bytes() {
        assert_eq!(next_frame_len(&[]), None);
        assert_eq!(next_frame_len(&[0, 1, 0]), None);
    }

    #[test]
    fn stun_frame_length_includes_header() {
        let b = [0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xA4, 0x42];
        assert_eq!(next_frame_len(&b), Some(Frame::Stun { len: 28 }));
        assert_eq!(next_frame_len(&b[..4]), Some(Frame::Stun { len: 28 }));
        let bad_cookie = [0x00, 0x01, 0x00, 0x08, 0, 0, 0, 0];
        assert_eq!(next_frame_len(&bad_cookie), Some(Frame::Invalid));
        assert_eq!(next_frame_len(&[0, 1, 0, 6]), Some(Frame::Invalid));
    }

    #[test]
    fn channel_data_frame_is_padded() {
        assert_eq!(next_frame_len(&[0x40, 0, 0, 5]), Some(Frame::ChannelData { len: 12 }));
        assert_eq!(next_frame_len(&[0x4F, 0xFF, 0, 8]), Some(Frame::ChannelData { len: 12 }));
        assert_eq!(next_frame_len(&[0x40, 0, 0, 0]), Some(Frame::ChannelData { len: 4 }));
        assert_eq!(next_frame_len(&[0x40, 0, 0xFF, 0xFF]), Some(Frame::ChannelData { len: 4 + 65536 }));
        // RFC 5766 range: framed; the core decides whether the channel is acceptable.
        assert_eq!(next_frame_len(&[0x6E, 0x8D, 0, 4]), Some(Frame::ChannelData { len: 8 }));
    }

    #[test]
    fn other_top_bits_are_invalid() {
        assert_eq!(next_frame_len(&[0x80, 0, 0, 0]), Some(Frame::Invalid));
        assert_eq!(next_frame_len(&[0xC0, 0, 0, 0]), Some(Frame::Invalid));
    }

    #[test]
    fn frames_never_exceed_max() {
        let s = next_frame_len(&[0, 1, 0xFF, 0xFC]);
        assert_eq!(s, Some(Frame::Stun { len: 65552 }));
        const { assert!(65552 <= MAX_FRAME && 4 + 65536 <= MAX_FRAME) };
    }
}
