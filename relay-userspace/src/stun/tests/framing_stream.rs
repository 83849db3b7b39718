//! A stream of STUN and padded ChannelData frames, cut at arbitrary points, is split back into
//! the same frames by `next_frame_len` (RFC 8656 §12.5, RFC 8489 §6.2.2).

use proptest::prelude::*;

use crate::stun::*;

#[derive(Clone, Debug)]
enum F {
    Stun(Vec<u8>),
    Chan(u16, Vec<u8>),
}

fn frame() -> impl Strategy<Value = F> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..70).prop_map(F::Stun),
        (CHANNEL_MIN..=CHANNEL_MAX, proptest::collection::vec(any::<u8>(), 0..70)).prop_map(|(c, d)| F::Chan(c, d)),
    ]
}

fn encode(f: &F, out: &mut Vec<u8>) {
    match f {
        F::Stun(data) => {
            let mut buf = Vec::new();
            let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::DATA, TransactionId([1; 12]));
            b.add_raw(attr_type::DATA, data);
            b.finish();
            out.extend_from_slice(&buf);
        }
        F::Chan(c, data) => {
            assert!(ChannelData::encode(*c, data, true, out));
        }
    }
}

/// Reads `stream` in chunks of the given sizes, returning each complete frame.
fn reassemble(stream: &[u8], chunks: &[usize]) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut sizes = chunks.iter().copied().cycle();
    while pos < stream.len() {
        let n = sizes.next().unwrap_or(1).clamp(1, stream.len() - pos);
        buf.extend_from_slice(&stream[pos..pos + n]);
        pos += n;
        while let Some(f) = next_frame_len(&buf) {
            let len = match f {
                Frame::Stun { len } | Frame::ChannelData { len } => len,
                Frame::Invalid => panic!("valid stream judged invalid"),
            };
            if buf.len() < len {
                break;
            }
            out.push(buf.drain(..len).collect());
        }
    }
    assert!(buf.is_empty());
    out
}

proptest! {
    #[test]
    fn stream_splits_into_the_frames_written(
        frames in proptest::collection::vec(frame(), 1..8),
        chunks in proptest::collection::vec(1usize..40, 1..6),
    ) {
        let mut stream = Vec::new();
        let mut want = Vec::new();
        for f in &frames {
            let mut one = Vec::new();
            encode(f, &mut one);
            stream.extend_from_slice(&one);
            want.push(one);
        }
        let got = reassemble(&stream, &chunks);
        prop_assert_eq!(&got, &want);
        for (g, f) in got.iter().zip(&frames) {
            match f {
                F::Stun(data) => {
                    let m = Message::parse(g).unwrap();
                    prop_assert_eq!(m.get(attr_type::DATA).unwrap().value, &data[..]);
                }
                F::Chan(c, data) => {
                    let cd = ChannelData::parse(g).unwrap();
                    prop_assert_eq!(cd.channel, *c);
                    prop_assert_eq!(cd.data, &data[..]);
                }
            }
        }
    }
}
