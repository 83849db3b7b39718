//! The probe stamped into every data packet: who sent it and when, so the receiver can
//! measure round-trip time and ignore packets left over from an earlier run.

/// Marks our probes; anything else arriving on a client socket is counted, not timed.
pub const MAGIC: [u8; 4] = *b"RLG1";
/// Bytes the stamp occupies at the start of the payload.
pub const STAMP_LEN: usize = 28;

/// What the sender writes and the receiver reads back from the echoed payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    pub run: u32,
    pub flow: u32,
    pub seq: u64,
    /// Send time, CLOCK_MONOTONIC nanoseconds.
    pub sent_ns: u64,
}

impl Stamp {
    /// Writes the stamp into the first [`STAMP_LEN`] bytes; `false` if `buf` is too short.
    pub fn write(&self, buf: &mut [u8]) -> bool {
        let Some(b) = buf.get_mut(..STAMP_LEN) else {
            return false;
        };
        b[0..4].copy_from_slice(&MAGIC);
        b[4..8].copy_from_slice(&self.run.to_be_bytes());
        b[8..12].copy_from_slice(&self.flow.to_be_bytes());
        b[12..20].copy_from_slice(&self.seq.to_be_bytes());
        b[20..28].copy_from_slice(&self.sent_ns.to_be_bytes());
        true
    }

    /// Reads a stamp; `None` for anything that is not one of ours.
    pub fn read(buf: &[u8]) -> Option<Stamp> {
        let b = buf.get(..STAMP_LEN)?;
        if b[0..4] != MAGIC {
            return None;
        }
        let u32_at = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        let u64_at = |i: usize| (u64::from(u32_at(i)) << 32) | u64::from(u32_at(i + 4));
        Some(Stamp { run: u32_at(4), flow: u32_at(8), seq: u64_at(12), sent_ns: u64_at(20) })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let s = Stamp { run: 7, flow: 3, seq: u64::MAX - 1, sent_ns: 0x0123_4567_89ab_cdef };
        let mut buf = [0u8; 100];
        assert!(s.write(&mut buf));
        assert_eq!(Stamp::read(&buf), Some(s));
    }

    #[test]
    fn rejects_short_and_foreign() {
        let mut short = [0u8; STAMP_LEN - 1];
        let s = Stamp { run: 1, flow: 1, seq: 1, sent_ns: 1 };
        assert!(!s.write(&mut short));
        assert_eq!(Stamp::read(&short), None);
        assert_eq!(Stamp::read(&[0u8; 64]), None);
    }
}
