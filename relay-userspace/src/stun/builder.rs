//! Encoder: writes a STUN message into a caller-owned `Vec<u8>` (RFC 8489 §5, §14).

use std::net::SocketAddr;

use hmac::Mac as _;

use super::attr::{self, AddressFamily, Icmp, PasswordAlgorithm};
use super::attr_type;
use super::header::{message_type, Class, Method, TransactionId, HEADER_LEN, MAGIC_COOKIE};
use super::integrity;

/// Largest value of the 16-bit message length field (RFC 8489 §5).
const MAX_BODY: usize = u16::MAX as usize & !3;

/// Builds one message. The header length field is kept current after every call, so the
/// buffer is a valid message at any point.
///
/// An attribute that would push the message past 65535 body bytes is not written and sets
/// [`MessageBuilder::overflowed`]; nothing panics.
#[derive(Debug)]
pub struct MessageBuilder<'b> {
    buf: &'b mut Vec<u8>,
    tid: TransactionId,
    overflowed: bool,
}

impl<'b> MessageBuilder<'b> {
    /// Clears `buf` and writes the 20-byte header (RFC 8489 §5).
    pub fn new(buf: &'b mut Vec<u8>, class: Class, method: Method, tid: TransactionId) -> Self {
        buf.clear();
        buf.extend_from_slice(&message_type(class, method).to_be_bytes());
        buf.extend_from_slice(&0u16.to_be_bytes());
        buf.extend_from_slice(&MAGIC_COOKIE.to_be_bytes());
        buf.extend_from_slice(&tid.0);
        MessageBuilder { buf, tid, overflowed: false }
    }

    /// True if some attribute was dropped because the message would exceed 65535 bytes.
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    fn body_len(&self) -> usize {
        self.buf.len() - HEADER_LEN
    }

    fn set_len(&mut self, body: usize) {
        // Callers only pass body <= MAX_BODY (checked in `reserve`).
        let l = u16::try_from(body).unwrap_or(u16::MAX);
        self.buf[2..4].copy_from_slice(&l.to_be_bytes());
    }

    /// Whether an attribute with a `value_len`-byte value still fits.
    fn fits(&mut self, value_len: usize) -> bool {
        let ok =
            value_len <= usize::from(u16::MAX) && self.body_len() + 4 + super::message::padded(value_len) <= MAX_BODY;
        if !ok {
            self.overflowed = true;
        }
        ok
    }

    /// Appends a TLV, zero-padding the value to 4 bytes (RFC 8489 §14).
    pub fn add_raw(&mut self, typ: u16, value: &[u8]) -> &mut Self {
        self.add_with(typ, value.len(), |b| b.extend_from_slice(value))
    }

    /// Appends a TLV whose `len`-byte value is written by `write` (must write exactly `len`).
    fn add_with(&mut self, typ: u16, len: usize, write: impl FnOnce(&mut Vec<u8>)) -> &mut Self {
        if !self.fits(len) {
            return self;
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(&typ.to_be_bytes());
        self.buf.extend_from_slice(&(len as u16).to_be_bytes());
        write(self.buf);
        debug_assert_eq!(self.buf.len(), start + 4 + len);
        self.buf.resize(start + 4 + super::message::padded(len), 0);
        let body = self.body_len();
        self.set_len(body);
        self
    }

    /// MAPPED-ADDRESS / ALTERNATE-SERVER (RFC 8489 §14.1, §14.15).
    pub fn add_address(&mut self, typ: u16, addr: SocketAddr) -> &mut Self {
        let v = attr::encode_address(addr);
        self.add_raw(typ, v.as_slice())
    }

    /// XOR-MAPPED/PEER/RELAYED-ADDRESS (RFC 8489 §14.2).
    pub fn add_xor_address(&mut self, typ: u16, addr: SocketAddr) -> &mut Self {
        let v = attr::encode_xor_address(addr, &self.tid);
        self.add_raw(typ, v.as_slice())
    }

    /// 32-bit value: LIFETIME (RFC 8656 §18.2), PRIORITY, CONNECTION-ID.
    pub fn add_u32(&mut self, typ: u16, v: u32) -> &mut Self {
        self.add_raw(typ, &v.to_be_bytes())
    }

    /// ERROR-CODE (RFC 8489 §14.8); the reason is cut to 763 bytes at a char boundary.
    pub fn add_error_code(&mut self, code: u16, reason: &str) -> &mut Self {
        let reason = attr::truncate_utf8(reason, attr::MAX_REASON_BYTES);
        self.add_with(attr_type::ERROR_CODE, 4 + reason.len(), |b| attr::encode_error_code(code, reason, b))
    }

    /// UNKNOWN-ATTRIBUTES (RFC 8489 §14.13).
    pub fn add_unknown_attributes(&mut self, types: &[u16]) -> &mut Self {
        self.add_with(attr_type::UNKNOWN_ATTRIBUTES, types.len() * 2, |b| attr::encode_unknown_attributes(types, b))
    }

    /// CHANNEL-NUMBER (RFC 8656 §18.1).
    pub fn add_channel_number(&mut self, ch: u16) -> &mut Self {
        self.add_raw(attr_type::CHANNEL_NUMBER, &attr::encode_channel_number(ch))
    }

    /// REQUESTED-TRANSPORT (RFC 8656 §18.8).
    pub fn add_requested_transport(&mut self, proto: u8) -> &mut Self {
        let v = attr::encode_requested_transport(proto);
        self.add_raw(attr_type::REQUESTED_TRANSPORT, &v)
    }

    /// REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (RFC 8656 §18.6, §18.11).
    pub fn add_address_family(&mut self, typ: u16, fam: AddressFamily) -> &mut Self {
        self.add_raw(typ, &attr::encode_address_family(fam))
    }

    /// EVEN-PORT (RFC 8656 §18.7).
    pub fn add_even_port(&mut self, reserve: bool) -> &mut Self {
        self.add_raw(attr_type::EVEN_PORT, &attr::encode_even_port(reserve))
    }

    /// PASSWORD-ALGORITHMS (RFC 8489 §14.11), each without parameters.
    pub fn add_password_algorithms(&mut self, algs: &[PasswordAlgorithm]) -> &mut Self {
        self.add_with(attr_type::PASSWORD_ALGORITHMS, algs.len() * 4, |b| attr::encode_password_algorithms(algs, b))
    }

    /// PASSWORD-ALGORITHM (RFC 8489 §14.12), without parameters.
    pub fn add_password_algorithm(&mut self, alg: PasswordAlgorithm) -> &mut Self {
        self.add_raw(attr_type::PASSWORD_ALGORITHM, &attr::encode_password_algorithm(alg))
    }

    /// ADDRESS-ERROR-CODE (RFC 8656 §18.12); the reason is cut like ERROR-CODE's.
    pub fn add_address_error_code(&mut self, fam: AddressFamily, code: u16, reason: &str) -> &mut Self {
        let reason = attr::truncate_utf8(reason, attr::MAX_REASON_BYTES);
        self.add_with(attr_type::ADDRESS_ERROR_CODE, 4 + reason.len(), |b| {
            attr::encode_address_error_code(fam, code, reason, b)
        })
    }

    /// ICMP (RFC 8656 §18.13), in a Data indication.
    pub fn add_icmp(&mut self, icmp: Icmp) -> &mut Self {
        self.add_raw(attr_type::ICMP, &attr::encode_icmp(icmp))
    }

    /// A 64-bit value: ICE-CONTROLLED / ICE-CONTROLLING (RFC 8445 §16.1).
    pub fn add_u64(&mut self, typ: u16, v: u64) -> &mut Self {
        self.add_raw(typ, &attr::encode_u64(v))
    }

    /// A UTF-8 text attribute (USERNAME, REALM, NONCE, SOFTWARE, ...), written as given.
    pub fn add_text(&mut self, typ: u16, s: &str) -> &mut Self {
        self.add_raw(typ, s.as_bytes())
    }

    /// MESSAGE-INTEGRITY (RFC 8489 §14.5): HMAC-SHA1 over the message so far with the length
    /// field already covering the 24-byte attribute.
    pub fn add_message_integrity(&mut self, key: &[u8]) -> &mut Self {
        self.add_mac(attr_type::MESSAGE_INTEGRITY, 20, |buf, len| {
            tag32(&integrity::hmac_sha1(key, buf, buf.len(), len).finalize().into_bytes())
        })
    }

    /// MESSAGE-INTEGRITY-SHA256 (RFC 8489 §14.6), full 32 bytes.
    pub fn add_message_integrity_sha256(&mut self, key: &[u8]) -> &mut Self {
        self.add_mac(attr_type::MESSAGE_INTEGRITY_SHA256, 32, |buf, len| {
            tag32(&integrity::hmac_sha256(key, buf, buf.len(), len).finalize().into_bytes())
        })
    }

    /// FINGERPRINT (RFC 8489 §14.7): CRC-32 XOR 0x5354554e, must be added last.
    pub fn add_fingerprint(&mut self) -> &mut Self {
        self.add_mac(attr_type::FINGERPRINT, 4, |buf, len| {
            tag32(&integrity::fingerprint(buf, buf.len(), len).to_be_bytes())
        })
    }

    /// Appends an attribute computed over the current message with the length field already
    /// including it (RFC 8489 §14.5-§14.7).
    fn add_mac(&mut self, typ: u16, vlen: usize, compute: impl FnOnce(&[u8], u16) -> [u8; 32]) -> &mut Self {
        if !self.fits(vlen) {
            return self;
        }
        let len = u16::try_from(self.body_len() + 4 + vlen).unwrap_or(u16::MAX);
        let tag = compute(self.buf, len);
        self.add_raw(typ, &tag[..vlen])
    }

    /// Total message length in bytes.
    pub fn finish(self) -> usize {
        self.buf.len()
    }
}

/// Copies a tag of at most 32 bytes into a fixed array (no heap allocation).
fn tag32(t: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let n = t.len().min(32);
    out[..n].copy_from_slice(&t[..n]);
    out
}
