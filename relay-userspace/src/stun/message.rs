//! Zero-copy STUN message view (RFC 8489 §5, §6.3, §14).

use std::net::SocketAddr;

use super::attr;
use super::attr_type;
use super::error::{AttrError, DecodeError};
use super::header::{Class, Method, TransactionId, HEADER_LEN, MAGIC_COOKIE};

/// One attribute TLV as it appears in the message.
#[derive(Clone, Copy, Debug)]
pub struct RawAttr<'a> {
    pub typ: u16,
    /// The value without padding.
    pub value: &'a [u8],
    /// Offset of the attribute header from the start of the message.
    pub offset: usize,
}

impl RawAttr<'_> {
    /// Offset just past the padded value (RFC 8489 §14: values are padded to 4 bytes).
    pub fn end(&self) -> usize {
        self.offset + 4 + padded(self.value.len())
    }
}

pub(crate) fn padded(len: usize) -> usize {
    (len + 3) & !3
}

/// A validated STUN message borrowing the receive buffer.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    buf: &'a [u8],
    /// Offsets of the visible MESSAGE-INTEGRITY, MESSAGE-INTEGRITY-SHA256 and FINGERPRINT
    /// (RFC 8489 §14.5-§14.7: attributes after them are ignored).
    pub(crate) mi_sha1: Option<usize>,
    pub(crate) mi_sha256: Option<usize>,
    pub(crate) fingerprint: Option<usize>,
}

/// Iterator over the TLVs of a message; stops at the first TLV that does not fit.
#[derive(Clone, Debug)]
pub struct AttrIter<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for AttrIter<'a> {
    type Item = RawAttr<'a>;

    fn next(&mut self) -> Option<RawAttr<'a>> {
        let hdr = self.buf.get(self.pos..self.pos.checked_add(4)?)?;
        let typ = u16::from_be_bytes([hdr[0], hdr[1]]);
        let len = usize::from(u16::from_be_bytes([hdr[2], hdr[3]]));
        let start = self.pos + 4;
        let value = self.buf.get(start..start + len)?;
        // RFC 8489 §14: the padding must also be inside the message.
        if start + padded(len) > self.buf.len() {
            self.pos = self.buf.len();
            return None;
        }
        let a = RawAttr { typ, value, offset: self.pos };
        self.pos = start + padded(len);
        Some(a)
    }
}

/// Tracks which attributes are still visible under RFC 8489 §14.5-§14.7.
#[derive(Default)]
struct Visibility {
    seen_mi: bool,
    seen_mi256: bool,
    seen_fp: bool,
}

impl Visibility {
    fn admit(&mut self, typ: u16) -> bool {
        let ok = if self.seen_fp {
            false // §14.7: FINGERPRINT is last
        } else if self.seen_mi256 {
            typ == attr_type::FINGERPRINT // §14.6
        } else if self.seen_mi {
            typ == attr_type::FINGERPRINT || typ == attr_type::MESSAGE_INTEGRITY_SHA256
        // §14.5
        } else {
            true
        };
        if ok {
            match typ {
                attr_type::MESSAGE_INTEGRITY => self.seen_mi = true,
                attr_type::MESSAGE_INTEGRITY_SHA256 => self.seen_mi256 = true,
                attr_type::FINGERPRINT => self.seen_fp = true,
                _ => {}
            }
        }
        ok
    }
}

impl<'a> Message<'a> {
    /// Validates header and TLV framing (RFC 8489 §5, §6.3): top two bits zero, magic cookie,
    /// length a multiple of 4 and equal to `buf.len() - 20`, every TLV (with padding) in bounds.
    pub fn parse(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::TooShort(buf.len()));
        }
        if buf[0] & 0xC0 != 0 {
            return Err(DecodeError::TopBitsSet);
        }
        let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
        if cookie != MAGIC_COOKIE {
            return Err(DecodeError::BadMagicCookie(cookie));
        }
        let declared = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
        if declared % 4 != 0 {
            return Err(DecodeError::LengthNotAligned(declared));
        }
        let actual = buf.len() - HEADER_LEN;
        if declared != actual {
            return Err(DecodeError::LengthMismatch { declared, actual });
        }
        let mut msg = Message { buf, mi_sha1: None, mi_sha256: None, fingerprint: None };
        let mut pos = HEADER_LEN;
        let mut vis = Visibility::default();
        let mut it = msg.attrs();
        while pos < buf.len() {
            let Some(a) = it.next() else {
                return Err(DecodeError::AttrOverrun { offset: pos });
            };
            if vis.admit(a.typ) {
                match a.typ {
                    attr_type::MESSAGE_INTEGRITY => msg.mi_sha1 = Some(a.offset),
                    attr_type::MESSAGE_INTEGRITY_SHA256 => msg.mi_sha256 = Some(a.offset),
                    attr_type::FINGERPRINT => msg.fingerprint = Some(a.offset),
                    _ => {}
                }
            }
            pos = a.end();
        }
        Ok(msg)
    }

    /// Cheap demultiplexing check (RFC 8489 §7.3, RFC 7983): top two bits zero and the magic
    /// cookie present. Does not validate lengths.
    pub fn is_stun(buf: &[u8]) -> bool {
        buf.len() >= HEADER_LEN && buf[0] & 0xC0 == 0 && buf[4..8] == MAGIC_COOKIE.to_be_bytes()
    }

    fn msg_type(&self) -> u16 {
        u16::from_be_bytes([self.buf[0], self.buf[1]])
    }

    pub fn class(&self) -> Class {
        Class::from_type(self.msg_type())
    }

    pub fn method(&self) -> Method {
        Method::from_type(self.msg_type())
    }

    pub fn transaction_id(&self) -> TransactionId {
        let mut t = [0u8; 12];
        t.copy_from_slice(&self.buf[8..20]);
        TransactionId(t)
    }

    /// The whole message (header included).
    pub fn raw(&self) -> &'a [u8] {
        self.buf
    }

    /// Every TLV in wire order, including those RFC 8489 §14.5-§14.7 says to ignore.
    pub fn attrs(&self) -> AttrIter<'a> {
        AttrIter { buf: self.buf, pos: HEADER_LEN }
    }

    /// TLVs that count: those after MESSAGE-INTEGRITY(-SHA256) other than
    /// MESSAGE-INTEGRITY-SHA256/FINGERPRINT, and anything after FINGERPRINT, are skipped
    /// (RFC 8489 §14.5, §14.6, §14.7).
    pub fn visible_attrs(&self) -> impl Iterator<Item = RawAttr<'a>> + 'a {
        let mut vis = Visibility::default();
        self.attrs().filter(move |a| vis.admit(a.typ))
    }

    /// First visible occurrence of `typ` (RFC 8489 §14: duplicates after the first are ignored).
    pub fn get(&self, typ: u16) -> Option<RawAttr<'a>> {
        self.visible_attrs().find(|a| a.typ == typ)
    }

    /// All visible occurrences of `typ` (e.g. several XOR-PEER-ADDRESS, RFC 8656 §9.1).
    pub fn get_all(&self, typ: u16) -> impl Iterator<Item = RawAttr<'a>> + 'a {
        self.visible_attrs().filter(move |a| a.typ == typ)
    }

    /// Comprehension-required attribute types this codec does not know, deduplicated, in wire
    /// order: a request carrying any gets 420 with UNKNOWN-ATTRIBUTES (RFC 8489 §6.3.1).
    pub fn unknown_comprehension_required(&self) -> Vec<u16> {
        let mut out = Vec::new();
        for a in self.visible_attrs() {
            if attr_type::is_comprehension_required(a.typ) && !attr_type::is_known(a.typ) && !out.contains(&a.typ) {
                out.push(a.typ);
            }
        }
        out
    }

    /// XOR-MAPPED/PEER/RELAYED-ADDRESS (RFC 8489 §14.2, RFC 8656 §18.3, §18.5).
    pub fn xor_address(&self, typ: u16) -> Option<Result<SocketAddr, AttrError>> {
        let tid = self.transaction_id();
        self.get(typ).map(|a| attr::decode_xor_address(a.value, &tid))
    }

    /// Every visible occurrence of an XOR address attribute.
    pub fn xor_addresses(&self, typ: u16) -> impl Iterator<Item = Result<SocketAddr, AttrError>> + 'a {
        let tid = self.transaction_id();
        self.get_all(typ).map(move |a| attr::decode_xor_address(a.value, &tid))
    }

    /// MAPPED-ADDRESS / ALTERNATE-SERVER (RFC 8489 §14.1, §14.15).
    pub fn address(&self, typ: u16) -> Option<Result<SocketAddr, AttrError>> {
        self.get(typ).map(|a| attr::decode_address(a.value))
    }

    /// A 32-bit attribute: LIFETIME (RFC 8656 §18.2), PRIORITY, CONNECTION-ID.
    pub fn u32_attr(&self, typ: u16) -> Option<Result<u32, AttrError>> {
        self.get(typ).map(|a| attr::decode_u32(a.value))
    }

    /// UTF-8 text attribute with the per-type byte limit of [`attr::text_limit`].
    pub fn text(&self, typ: u16) -> Option<Result<&'a str, AttrError>> {
        self.get(typ).map(|a| attr::decode_text(typ, a.value))
    }

    /// ERROR-CODE as (code, reason) (RFC 8489 §14.8).
    pub fn error_code(&self) -> Option<Result<(u16, &'a str), AttrError>> {
        self.get(attr_type::ERROR_CODE).map(|a| attr::decode_error_code(a.value))
    }

    /// Whether an attribute of this type is present and visible (flags such as DONT-FRAGMENT).
    pub fn has(&self, typ: u16) -> bool {
        self.get(typ).is_some()
    }
}
