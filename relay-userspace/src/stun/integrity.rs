//! MESSAGE-INTEGRITY (RFC 8489 §14.5), MESSAGE-INTEGRITY-SHA256 (§14.6) and FINGERPRINT
//! (§14.7): checks over the message prefix with the header length adjusted, no copying.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::Sha256;

use super::header::HEADER_LEN;
use super::message::Message;

/// XORed into the CRC-32 of FINGERPRINT (RFC 8489 §14.7).
pub const FINGERPRINT_XOR: u32 = 0x5354_554e;

/// Outcome of an integrity check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegrityResult {
    Ok,
    /// No (visible) integrity attribute of that kind.
    Missing,
    /// Present, well-formed, wrong HMAC: 401 for a request (RFC 8489 §9.2.4).
    Mismatch,
    /// Present with an invalid length: 400 (RFC 8489 §14.5, §14.6).
    Malformed,
}

/// Feeds `buf[..end]` to `sink`, with the header length field replaced by `len_field`
/// (RFC 8489 §14.5: the length covers up to and including the attribute being computed).
pub(crate) fn feed_prefix(buf: &[u8], end: usize, len_field: u16, mut sink: impl FnMut(&[u8])) {
    sink(&buf[..2]);
    sink(&len_field.to_be_bytes());
    sink(&buf[4..end]);
}

/// HMAC-SHA1 over the prefix (RFC 8489 §14.5).
pub(crate) fn hmac_sha1(key: &[u8], buf: &[u8], end: usize, len_field: u16) -> Hmac<Sha1> {
    // Hmac accepts keys of any length (it hashes long ones), so new_from_slice cannot fail.
    #[allow(clippy::unwrap_used)]
    let mut mac = <Hmac<Sha1>>::new_from_slice(key).unwrap();
    feed_prefix(buf, end, len_field, |b| mac.update(b));
    mac
}

/// HMAC-SHA256 over the prefix (RFC 8489 §14.6).
pub(crate) fn hmac_sha256(key: &[u8], buf: &[u8], end: usize, len_field: u16) -> Hmac<Sha256> {
    // Hmac accepts keys of any length (it hashes long ones), so new_from_slice cannot fail.
    #[allow(clippy::unwrap_used)]
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).unwrap();
    feed_prefix(buf, end, len_field, |b| mac.update(b));
    mac
}

/// CRC-32 of the prefix XOR 0x5354554e (RFC 8489 §14.7).
pub(crate) fn fingerprint(buf: &[u8], end: usize, len_field: u16) -> u32 {
    let mut h = crc32fast::Hasher::new();
    feed_prefix(buf, end, len_field, |b| h.update(b));
    h.finalize() ^ FINGERPRINT_XOR
}

/// Length field value covering an attribute at `offset` with a `value_len`-byte value.
fn len_through(offset: usize, value_len: usize) -> Option<u16> {
    u16::try_from(offset + 4 + value_len - HEADER_LEN).ok()
}

impl Message<'_> {
    /// RFC 8489 §14.5: HMAC-SHA1 with `key` (the short-term password or the long-term key of
    /// §9.2.2) over the message up to MESSAGE-INTEGRITY, length field covering it.
    pub fn verify_integrity_sha1(&self, key: &[u8]) -> IntegrityResult {
        let Some(off) = self.mi_sha1 else {
            return IntegrityResult::Missing;
        };
        let buf = self.raw();
        if u16::from_be_bytes([buf[off + 2], buf[off + 3]]) != 20 {
            return IntegrityResult::Malformed;
        }
        let Some(tag) = buf.get(off + 4..off + 24) else {
            return IntegrityResult::Malformed;
        };
        let Some(len) = len_through(off, 20) else {
            return IntegrityResult::Malformed;
        };
        match hmac_sha1(key, buf, off, len).verify_slice(tag) {
            Ok(()) => IntegrityResult::Ok,
            Err(_) => IntegrityResult::Mismatch,
        }
    }

    /// RFC 8489 §14.6: HMAC-SHA256, possibly truncated to 16..=32 bytes in steps of 4; the
    /// leftmost bytes of the HMAC are compared in constant time.
    pub fn verify_integrity_sha256(&self, key: &[u8]) -> IntegrityResult {
        let Some(off) = self.mi_sha256 else {
            return IntegrityResult::Missing;
        };
        let buf = self.raw();
        let vlen = usize::from(u16::from_be_bytes([buf[off + 2], buf[off + 3]]));
        if !(16..=32).contains(&vlen) || vlen % 4 != 0 {
            return IntegrityResult::Malformed;
        }
        let Some(len) = len_through(off, vlen) else {
            return IntegrityResult::Malformed;
        };
        let Some(tag) = buf.get(off + 4..off + 4 + vlen) else {
            return IntegrityResult::Malformed;
        };
        match hmac_sha256(key, buf, off, len).verify_truncated_left(tag) {
            Ok(()) => IntegrityResult::Ok,
            Err(_) => IntegrityResult::Mismatch,
        }
    }

    /// RFC 8489 §14.7. `None` without FINGERPRINT; `Some(false)` when it is wrong, malformed or
    /// not the last attribute.
    pub fn verify_fingerprint(&self) -> Option<bool> {
        let off = self.fingerprint?;
        let buf = self.raw();
        let vlen = u16::from_be_bytes([buf[off + 2], buf[off + 3]]);
        if vlen != 4 || off + 8 != buf.len() {
            return Some(false);
        }
        let len = len_through(off, 4)?;
        let want = u32::from_be_bytes([buf[off + 4], buf[off + 5], buf[off + 6], buf[off + 7]]);
        Some(fingerprint(buf, off, len) == want)
    }
}
