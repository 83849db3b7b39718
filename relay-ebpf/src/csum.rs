//! Incremental Internet checksum update, RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m').
//!
//! Words are the *native* loads of the wire bytes (the sum is byte-order independent, RFC 1071
//! §2(B)), so nothing is byte-swapped: old words come straight from the packet, new ones are
//! stored as computed, and the per-binding deltas (`relay_common::csum_delta`) use the same
//! convention.

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

    /// Add a new word m' (or a precomputed delta).
    #[inline(always)]
    pub fn add(&mut self, new: u16) {
        self.0 += u32::from(new);
    }

    #[inline(always)]
    pub fn replace(&mut self, old: u16, new: u16) {
        self.sub(old);
        self.add(new);
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

/// A host-order 16-bit value as the native load of its big-endian wire bytes.
#[inline(always)]
pub fn wire16(v: u16) -> u16 {
    v.to_be()
}
