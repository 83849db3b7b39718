//! Typed decode errors: [`DecodeError`] for the header and TLV framing (RFC 8489 §5, §14),
//! [`AttrError`] for a malformed attribute value.

/// The buffer is not a well-formed STUN message (RFC 8489 §5, §6.3).
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum DecodeError {
    /// Fewer than 20 bytes.
    #[error("shorter than the 20-byte STUN header ({0} bytes)")]
    TooShort(usize),
    /// The two most significant bits must be zero (RFC 8489 §5).
    #[error("top two bits of the message type are not zero")]
    TopBitsSet,
    /// No magic cookie: RFC 3489 messages are not supported (RFC 8489 §5).
    #[error("wrong magic cookie {0:#010x}")]
    BadMagicCookie(u32),
    /// The length field must be a multiple of 4 (RFC 8489 §5).
    #[error("message length {0} is not a multiple of 4")]
    LengthNotAligned(usize),
    /// The length field must equal the bytes after the header (RFC 8489 §5, §6.3).
    #[error("message length {declared} does not match the {actual} bytes after the header")]
    LengthMismatch { declared: usize, actual: usize },
    /// An attribute header or its padded value runs past the end of the message (RFC 8489 §14).
    #[error("attribute at offset {offset} runs past the end of the message")]
    AttrOverrun { offset: usize },
}

/// An attribute value that does not follow its RFC definition.
#[derive(Debug, thiserror::Error, PartialEq, Eq, Clone, Copy)]
pub enum AttrError {
    /// The value has a length the attribute does not allow.
    #[error("invalid attribute value length {0}")]
    BadLength(usize),
    /// Address family other than 0x01/0x02. For REQUESTED-ADDRESS-FAMILY this means 440
    /// (RFC 8656 §7.2), for an address attribute 400.
    #[error("unknown address family {0:#04x}")]
    BadFamily(u8),
    /// Text that is not UTF-8 (RFC 8489 §14.3, §14.8, §14.9, §14.10, §14.14).
    #[error("attribute text is not valid UTF-8")]
    InvalidUtf8,
    /// Text longer than the attribute allows.
    #[error("attribute value is {len} bytes, at most {max} allowed")]
    TooLong { len: usize, max: usize },
    /// A field outside its defined range (e.g. ERROR-CODE class outside 3..=6, RFC 8489 §14.8).
    #[error("attribute field out of range")]
    OutOfRange,
    /// A list with more entries than we accept (bounded to keep memory bounded).
    #[error("too many entries in list attribute")]
    TooMany,
}
