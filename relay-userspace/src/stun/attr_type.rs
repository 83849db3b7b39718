//! STUN attribute type codes: one table with code, name and defining RFC section.
//!
//! Codes 0x0000..=0x7FFF are comprehension-required, 0x8000..=0xFFFF comprehension-optional
//! (RFC 8489 §14, §18.3).

macro_rules! attr_table {
    ($( $name:ident = $code:literal, $text:literal, $rfc:literal; )*) => {
        $(
            #[doc = concat!("`", $text, "` (", $rfc, ").")]
            pub const $name: u16 = $code;
        )*

        /// (type code, name, defining RFC section) for every attribute this codec knows.
        pub const TABLE: &[(u16, &str, &str)] = &[ $( ($code, $text, $rfc), )* ];
    };
}

attr_table! {
    MAPPED_ADDRESS = 0x0001, "MAPPED-ADDRESS", "RFC 8489 §14.1";
    USERNAME = 0x0006, "USERNAME", "RFC 8489 §14.3";
    MESSAGE_INTEGRITY = 0x0008, "MESSAGE-INTEGRITY", "RFC 8489 §14.5";
    ERROR_CODE = 0x0009, "ERROR-CODE", "RFC 8489 §14.8";
    UNKNOWN_ATTRIBUTES = 0x000A, "UNKNOWN-ATTRIBUTES", "RFC 8489 §14.13";
    CHANNEL_NUMBER = 0x000C, "CHANNEL-NUMBER", "RFC 8656 §18.1";
    LIFETIME = 0x000D, "LIFETIME", "RFC 8656 §18.2";
    XOR_PEER_ADDRESS = 0x0012, "XOR-PEER-ADDRESS", "RFC 8656 §18.3";
    DATA = 0x0013, "DATA", "RFC 8656 §18.4";
    REALM = 0x0014, "REALM", "RFC 8489 §14.9";
    NONCE = 0x0015, "NONCE", "RFC 8489 §14.10";
    XOR_RELAYED_ADDRESS = 0x0016, "XOR-RELAYED-ADDRESS", "RFC 8656 §18.5";
    REQUESTED_ADDRESS_FAMILY = 0x0017, "REQUESTED-ADDRESS-FAMILY", "RFC 8656 §18.6";
    EVEN_PORT = 0x0018, "EVEN-PORT", "RFC 8656 §18.7";
    REQUESTED_TRANSPORT = 0x0019, "REQUESTED-TRANSPORT", "RFC 8656 §18.8";
    DONT_FRAGMENT = 0x001A, "DONT-FRAGMENT", "RFC 8656 §18.9";
    MESSAGE_INTEGRITY_SHA256 = 0x001C, "MESSAGE-INTEGRITY-SHA256", "RFC 8489 §14.6";
    PASSWORD_ALGORITHM = 0x001D, "PASSWORD-ALGORITHM", "RFC 8489 §14.12";
    USERHASH = 0x001E, "USERHASH", "RFC 8489 §14.4";
    XOR_MAPPED_ADDRESS = 0x0020, "XOR-MAPPED-ADDRESS", "RFC 8489 §14.2";
    RESERVATION_TOKEN = 0x0022, "RESERVATION-TOKEN", "RFC 8656 §18.10";
    PRIORITY = 0x0024, "PRIORITY", "RFC 8445 §16.1";
    USE_CANDIDATE = 0x0025, "USE-CANDIDATE", "RFC 8445 §16.1";
    CONNECTION_ID = 0x002A, "CONNECTION-ID", "RFC 6062 §6.2.1";
    ADDITIONAL_ADDRESS_FAMILY = 0x8000, "ADDITIONAL-ADDRESS-FAMILY", "RFC 8656 §18.11";
    ADDRESS_ERROR_CODE = 0x8001, "ADDRESS-ERROR-CODE", "RFC 8656 §18.12";
    PASSWORD_ALGORITHMS = 0x8002, "PASSWORD-ALGORITHMS", "RFC 8489 §14.11";
    ALTERNATE_DOMAIN = 0x8003, "ALTERNATE-DOMAIN", "RFC 8489 §14.16";
    ICMP = 0x8004, "ICMP", "RFC 8656 §18.13";
    SOFTWARE = 0x8022, "SOFTWARE", "RFC 8489 §14.14";
    ALTERNATE_SERVER = 0x8023, "ALTERNATE-SERVER", "RFC 8489 §14.15";
    FINGERPRINT = 0x8028, "FINGERPRINT", "RFC 8489 §14.7";
    ICE_CONTROLLED = 0x8029, "ICE-CONTROLLED", "RFC 8445 §16.1";
    ICE_CONTROLLING = 0x802A, "ICE-CONTROLLING", "RFC 8445 §16.1";
}

fn lookup(t: u16) -> Option<&'static (u16, &'static str, &'static str)> {
    TABLE.iter().find(|(code, _, _)| *code == t)
}

/// Attribute name for logs, `"UNKNOWN"` for codes not in [`TABLE`].
pub fn name(t: u16) -> &'static str {
    lookup(t).map_or("UNKNOWN", |e| e.1)
}

/// RFC section defining `t`, `""` if unknown.
pub fn rfc_section(t: u16) -> &'static str {
    lookup(t).map_or("", |e| e.2)
}

/// 0x0000..=0x7FFF: an agent that does not understand it must reject the request with 420
/// (RFC 8489 §14, §7.3.1).
pub fn is_comprehension_required(t: u16) -> bool {
    t < 0x8000
}

/// Whether this codec knows `t`.
pub fn is_known(t: u16) -> bool {
    lookup(t).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_unique_and_named() {
        for (i, (code, n, rfc)) in TABLE.iter().enumerate() {
            assert!(TABLE[i + 1..].iter().all(|(c, _, _)| c != code), "{n} duplicated");
            assert_eq!(name(*code), *n);
            assert!(rfc.starts_with("RFC "));
            assert!(is_known(*code));
        }
        assert_eq!(name(0x7777), "UNKNOWN");
        assert!(!is_known(0x7777));
    }

    #[test]
    fn comprehension_ranges() {
        assert!(is_comprehension_required(USERNAME));
        assert!(is_comprehension_required(0x7FFF));
        assert!(!is_comprehension_required(SOFTWARE));
        assert!(!is_comprehension_required(FINGERPRINT));
    }
}
