//! Feeds an arbitrary byte stream, cut into arbitrary chunks, through a reassembly loop built on
//! `next_frame_len` (RFC 8656 §12.5, RFC 8489 §6.2.2), the way a TCP/TLS reader would. Must never
//! panic, never buffer more than MAX_FRAME plus one chunk, and split the stream the same way
//! whatever the chunking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay::stun::{next_frame_len, ChannelData, Frame, Message, MAX_FRAME};

/// Splits `stream` into frames, reading it in chunks of the given sizes; returns the frame
/// lengths and whether the stream ended in an invalid frame.
fn split(stream: &[u8], chunks: &[u8]) -> (Vec<usize>, bool) {
    let mut buf: Vec<u8> = Vec::new();
    let mut frames = Vec::new();
    let mut pos = 0;
    let mut sizes = chunks.iter().map(|&c| usize::from(c) + 1).cycle();
    while pos < stream.len() {
        let n = sizes.next().unwrap_or(1).min(stream.len() - pos);
        buf.extend_from_slice(&stream[pos..pos + n]);
        pos += n;
        loop {
            match next_frame_len(&buf) {
                None => break,
                Some(Frame::Invalid) => return (frames, true),
                Some(Frame::Stun { len }) | Some(Frame::ChannelData { len }) => {
                    assert!(len <= MAX_FRAME);
                    if buf.len() < len {
                        break;
                    }
                    let frame: Vec<u8> = buf.drain(..len).collect();
                    if Message::is_stun(&frame) {
                        let _ = Message::parse(&frame);
                    } else {
                        let _ = ChannelData::parse(&frame);
                    }
                    frames.push(len);
                }
            }
        }
        assert!(buf.len() <= MAX_FRAME + 256);
    }
    (frames, false)
}

fuzz_target!(|input: &[u8]| {
    // First byte: how many chunk sizes follow; then the sizes; then the stream.
    let Some((&k, rest)) = input.split_first() else {
        return;
    };
    let k = usize::from(k % 16).min(rest.len());
    let (chunks, stream) = rest.split_at(k);
    let a = split(stream, chunks);
    let whole = split(stream, &[255]);
    // Frames and the verdict are determined by the stream, not by how it arrives.
    assert_eq!(a, whole);
});
