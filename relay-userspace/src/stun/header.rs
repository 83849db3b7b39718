//! The 20-byte STUN header: message type (class + method), length, magic cookie and
//! transaction ID (RFC 8489 §5).

/// Fixed value in bytes 4..8 of every RFC 5389/8489 message (RFC 8489 §5).
pub const MAGIC_COOKIE: u32 = 0x2112_A442;

/// Size of the STUN header (RFC 8489 §5).
pub const HEADER_LEN: usize = 20;

/// 96-bit transaction ID (RFC 8489 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransactionId(pub [u8; 12]);

/// Message class, the C1/C0 bits of the message type (RFC 8489 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    Request,
    Indication,
    Success,
    Error,
}

/// 12-bit STUN method (RFC 8489 §5, §18.2). Bits above the low 12 are dropped on encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Method(pub u16);

impl Method {
    /// RFC 8489 §18.2.
    pub const BINDING: Method = Method(0x001);
    /// RFC 8656 §17.
    pub const ALLOCATE: Method = Method(0x003);
    /// RFC 8656 §17.
    pub const REFRESH: Method = Method(0x004);
    /// RFC 8656 §17.
    pub const SEND: Method = Method(0x006);
    /// RFC 8656 §17.
    pub const DATA: Method = Method(0x007);
    /// RFC 8656 §17.
    pub const CREATE_PERMISSION: Method = Method(0x008);
    /// RFC 8656 §17.
    pub const CHANNEL_BIND: Method = Method(0x009);
    /// RFC 6062 §6.1.
    pub const CONNECT: Method = Method(0x00A);
    /// RFC 6062 §6.1.
    pub const CONNECTION_BIND: Method = Method(0x00B);
    /// RFC 6062 §6.1.
    pub const CONNECTION_ATTEMPT: Method = Method(0x00C);
}

impl Class {
    /// The C1 (bit 8) and C0 (bit 4) bits of the message type (RFC 8489 §5, figure 3).
    pub(crate) fn bits(self) -> u16 {
        match self {
            Class::Request => 0x0000,
            Class::Indication => 0x0010,
            Class::Success => 0x0100,
            Class::Error => 0x0110,
        }
    }

    pub(crate) fn from_type(t: u16) -> Class {
        match t & 0x0110 {
            0x0000 => Class::Request,
            0x0010 => Class::Indication,
            0x0100 => Class::Success,
            _ => Class::Error,
        }
    }
}

impl Method {
    /// Interleave method bits M0..M11 around the class bits (RFC 8489 §5, figure 3).
    pub(crate) fn bits(self) -> u16 {
        let m = self.0;
        (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
    }

    pub(crate) fn from_type(t: u16) -> Method {
        Method((t & 0x000F) | ((t >> 1) & 0x0070) | ((t >> 2) & 0x0F80))
    }
}

/// Full 14-bit message type for `class` and `method`.
pub(crate) fn message_type(class: Class, method: Method) -> u16 {
    class.bits() | method.bits()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_encoding_matches_rfc_examples() {
        // RFC 8489 §5: Binding request 0x0001, success 0x0101, error 0x0111, indication 0x0011.
        assert_eq!(message_type(Class::Request, Method::BINDING), 0x0001);
        assert_eq!(message_type(Class::Success, Method::BINDING), 0x0101);
        assert_eq!(message_type(Class::Error, Method::BINDING), 0x0111);
        assert_eq!(message_type(Class::Indication, Method::BINDING), 0x0011);
        // RFC 8656: Send indication 0x0016, Data indication 0x0017, Allocate request 0x0003.
        assert_eq!(message_type(Class::Indication, Method::SEND), 0x0016);
        assert_eq!(message_type(Class::Indication, Method::DATA), 0x0017);
        assert_eq!(message_type(Class::Success, Method::ALLOCATE), 0x0103);
    }

    #[test]
    fn type_round_trips_for_all_methods_and_classes() {
        for m in 0..0x1000u16 {
            for c in [Class::Request, Class::Indication, Class::Success, Class::Error] {
                let t = message_type(c, Method(m));
                assert_eq!(t & 0xC000, 0);
                assert_eq!(Class::from_type(t), c);
                assert_eq!(Method::from_type(t), Method(m));
            }
        }
    }
}
