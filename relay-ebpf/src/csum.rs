//! Incremental Internet checksum update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
//!
//! All words are big-endian 16-bit values as they appear on the wire.

/// Accumulates `~HC + sum(~m) + sum(m')` in 32 bits; folded once at the end. At most a few
/// dozen terms below 2^16 each, so the accumulator cannot overflow.
pub struct Csum(u32);

impl Csum {
    #[inline(always)]
    pub fn new(old_check: u16) -> Self {
        Csum(u32::from(!old_check))
    }

    /// Remove an old word m.
    #[inline(always)]
    pub fn sub(&mut self, old: u16) {
        self.0 += u32::from(!old);
    }

    /// Add a new word m'.
    #[inline(always)]
    pub fn add(&mut self, new: u16) {
        self.0 += u32::from(new);
    }

    #[inline(always)]
    pub fn replace(&mut self, old: u16, new: u16) {
        self.sub(old);
        self.add(new);
    }

    #[inline(always)]
    pub fn replace4(&mut self, old: &[u8; 4], new: &[u8; 4]) {
        self.replace(u16::from_be_bytes([old[0], old[1]]), u16::from_be_bytes([new[0], new[1]]));
        self.replace(u16::from_be_bytes([old[2], old[3]]), u16::from_be_bytes([new[2], new[3]]));
    }

    #[inline(always)]
    pub fn replace16(&mut self, old: &[u8; 16], new: &[u8; 16]) {
        let mut i = 0;
        while i < 16 {
            self.replace(u16::from_be_bytes([old[i], old[i + 1]]), u16::from_be_bytes([new[i], new[i + 1]]));
            i += 2;
        }
    }

    /// The new checksum field value.
    #[inline(always)]
    pub fn finish(self) -> u16 {
        let mut s = self.0;
        s = (s & 0xffff) + (s >> 16);
        s = (s & 0xffff) + (s >> 16);
        !(s as u16)
    }

    /// As [`Csum::finish`], for UDP: a computed 0 is sent as 0xFFFF (RFC 768), since 0 means
    /// "no checksum" over IPv4 and is forbidden over IPv6 (RFC 8200 §8.1).
    #[inline(always)]
    pub fn finish_udp(self) -> u16 {
        match self.finish() {
            0 => 0xffff,
            c => c,
        }
    }
}
