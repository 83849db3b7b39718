//! Header and TLV rejection rules (RFC 8489 §5, §6.3, §14) and the "ignore after
//! MESSAGE-INTEGRITY" rules (§14.5-§14.7).

use super::vectors::*;
use crate::stun::*;

const TID: TransactionId = TransactionId([7; 12]);

fn build(f: impl FnOnce(&mut MessageBuilder<'_>)) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::ALLOCATE, TID);
    f(&mut b);
    b.finish();
    buf
}

fn set_len(v: &mut [u8], len: u16) {
    v[2..4].copy_from_slice(&len.to_be_bytes());
}

#[test]
fn empty_message_round_trips() {
    let buf = build(|_| {});
    assert_eq!(buf.len(), 20);
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.transaction_id(), TID);
    assert_eq!(m.method(), Method::ALLOCATE);
    assert_eq!(m.class(), Class::Request);
    assert_eq!(m.attrs().count(), 0);
    assert!(Message::is_stun(&buf));
}

#[test]
fn rejects_short_buffer() {
    assert_eq!(Message::parse(&REQUEST[..19]).unwrap_err(), DecodeError::TooShort(19));
    assert_eq!(Message::parse(&[]).unwrap_err(), DecodeError::TooShort(0));
}

#[test]
fn rejects_top_bits() {
    for bits in [0x40u8, 0x80, 0xC0] {
        let mut v = REQUEST.to_vec();
        v[0] |= bits;
        assert_eq!(Message::parse(&v).unwrap_err(), DecodeError::TopBitsSet);
        assert!(!Message::is_stun(&v));
    }
}

#[test]
fn rejects_wrong_cookie() {
    let mut v = REQUEST.to_vec();
    v[4] = 0x22;
    assert_eq!(Message::parse(&v).unwrap_err(), DecodeError::BadMagicCookie(0x2212_a442));
    assert!(!Message::is_stun(&v));
}

#[test]
fn rejects_unaligned_length() {
    let mut v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
    });
    set_len(&mut v, 6);
    assert_eq!(Message::parse(&v).unwrap_err(), DecodeError::LengthNotAligned(6));
}

#[test]
fn rejects_length_beyond_buffer_and_trailing_bytes() {
    let v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
    });
    assert_eq!(Message::parse(&v[..v.len() - 4]).unwrap_err(), DecodeError::LengthMismatch { declared: 8, actual: 4 });
    let mut longer = v.clone();
    longer.extend_from_slice(&[0; 4]);
    assert_eq!(Message::parse(&longer).unwrap_err(), DecodeError::LengthMismatch { declared: 8, actual: 12 });
}

#[test]
fn rejects_tlv_overrun() {
    // A LIFETIME claiming 8 bytes inside an 8-byte body.
    let mut v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
    });
    v[22..24].copy_from_slice(&8u16.to_be_bytes());
    assert_eq!(Message::parse(&v).unwrap_err(), DecodeError::AttrOverrun { offset: 20 });
    // Padding past the end also counts: a 5-byte value needs 8 bytes.
    let mut v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
    });
    v[22..24].copy_from_slice(&5u16.to_be_bytes());
    assert_eq!(Message::parse(&v).unwrap_err(), DecodeError::AttrOverrun { offset: 20 });
}

#[test]
fn builder_pads_and_keeps_length_current() {
    for n in 0..=9usize {
        let value = vec![0xAB; n];
        let v = build(|b| {
            b.add_raw(0x7001, &value);
            b.add_u32(attr_type::LIFETIME, 1);
        });
        let padded = n.div_ceil(4) * 4;
        assert_eq!(v.len(), 20 + 4 + padded + 8);
        assert_eq!(usize::from(u16::from_be_bytes([v[2], v[3]])), v.len() - 20);
        assert!(v[24 + n..24 + padded].iter().all(|&b| b == 0), "padding is zero");
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.get(0x7001).unwrap().value, &value[..]);
        assert_eq!(m.u32_attr(attr_type::LIFETIME).unwrap().unwrap(), 1);
    }
}

#[test]
fn builder_drops_attribute_that_would_overflow() {
    let big = vec![0u8; 65_000];
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method::SEND, TID);
    b.add_raw(attr_type::DATA, &big);
    assert!(!b.overflowed());
    b.add_raw(attr_type::DATA, &big);
    assert!(b.overflowed());
    b.finish();
    assert_eq!(buf.len(), 20 + 4 + 65_000);
    assert!(Message::parse(&buf).is_ok());
}

#[test]
fn attributes_after_integrity_are_ignored() {
    let key = b"key";
    let v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
        b.add_message_integrity(key);
        b.add_u32(attr_type::LIFETIME, 1); // ignored: a forged value after MI
        b.add_text(attr_type::SOFTWARE, "late"); // ignored
        b.add_message_integrity_sha256(key); // allowed after MI, but the HMAC covers LIFETIME=1
        b.add_fingerprint();
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.u32_attr(attr_type::LIFETIME).unwrap().unwrap(), 600);
    assert!(m.get(attr_type::SOFTWARE).is_none());
    assert_eq!(m.attrs().count(), 6);
    assert_eq!(m.visible_attrs().count(), 4);
    assert_eq!(m.verify_integrity_sha1(key), IntegrityResult::Ok);
    assert_eq!(m.verify_integrity_sha256(key), IntegrityResult::Ok);
    assert_eq!(m.verify_fingerprint(), Some(true));
}

#[test]
fn attributes_after_sha256_integrity_are_ignored_except_fingerprint() {
    let v = build(|b| {
        b.add_message_integrity_sha256(b"k");
        b.add_message_integrity(b"k"); // ignored after MI-SHA256 (§14.6)
        b.add_u32(attr_type::LIFETIME, 1);
        b.add_fingerprint();
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.verify_integrity_sha256(b"k"), IntegrityResult::Ok);
    assert_eq!(m.verify_integrity_sha1(b"k"), IntegrityResult::Missing);
    assert!(m.get(attr_type::LIFETIME).is_none());
    assert_eq!(m.verify_fingerprint(), Some(true));
}

#[test]
fn fingerprint_must_be_last_and_correct() {
    let mut v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 1);
        b.add_fingerprint();
    });
    assert_eq!(Message::parse(&v).unwrap().verify_fingerprint(), Some(true));
    let n = v.len();
    v[n - 1] ^= 1;
    assert_eq!(Message::parse(&v).unwrap().verify_fingerprint(), Some(false));
    let v = build(|b| {
        b.add_fingerprint();
        b.add_u32(attr_type::LIFETIME, 1);
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.verify_fingerprint(), Some(false));
    assert!(m.get(attr_type::LIFETIME).is_none());
}

#[test]
fn tampered_integrity_fails() {
    let mut v = build(|b| {
        b.add_u32(attr_type::LIFETIME, 600);
        b.add_message_integrity(b"secret");
    });
    assert_eq!(Message::parse(&v).unwrap().verify_integrity_sha1(b"secret"), IntegrityResult::Ok);
    v[27] ^= 1; // LIFETIME value
    assert_eq!(Message::parse(&v).unwrap().verify_integrity_sha1(b"secret"), IntegrityResult::Mismatch);
    // A MESSAGE-INTEGRITY of the wrong size is malformed, not a mismatch.
    let v = build(|b| {
        b.add_raw(attr_type::MESSAGE_INTEGRITY, &[0; 16]);
    });
    assert_eq!(Message::parse(&v).unwrap().verify_integrity_sha1(b"secret"), IntegrityResult::Malformed);
}

#[test]
fn unknown_comprehension_required_are_listed_once() {
    let v = build(|b| {
        b.add_raw(0x7F01, b"x");
        b.add_raw(0xC001, b"optional"); // comprehension-optional: ignored
        b.add_raw(0x7F01, b"again");
        b.add_raw(0x0003, b"");
        b.add_requested_transport(PROTO_UDP);
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.unknown_comprehension_required(), vec![0x7F01, 0x0003]);
}

#[test]
fn duplicate_attribute_first_wins_and_all_xor_peers_are_returned() {
    let a: std::net::SocketAddr = "198.51.100.1:1000".parse().unwrap();
    let b6: std::net::SocketAddr = "[2001:db8::2]:2000".parse().unwrap();
    let v = build(|b| {
        b.add_xor_address(attr_type::XOR_PEER_ADDRESS, a);
        b.add_xor_address(attr_type::XOR_PEER_ADDRESS, b6);
        b.add_raw(attr_type::XOR_PEER_ADDRESS, &[0, 7, 0, 0, 0, 0, 0, 0]);
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.xor_address(attr_type::XOR_PEER_ADDRESS).unwrap().unwrap(), a);
    let all: Vec<_> = m.xor_addresses(attr_type::XOR_PEER_ADDRESS).collect();
    assert_eq!(all, vec![Ok(a), Ok(b6), Err(AttrError::BadFamily(7))]);
}

#[test]
fn typed_getters_report_absent_and_malformed() {
    let v = build(|b| {
        b.add_raw(attr_type::LIFETIME, &[0, 0]);
        b.add_raw(attr_type::USERNAME, &[0xFF, 0xFE]);
    });
    let m = Message::parse(&v).unwrap();
    assert_eq!(m.u32_attr(attr_type::LIFETIME), Some(Err(AttrError::BadLength(2))));
    assert_eq!(m.text(attr_type::USERNAME), Some(Err(AttrError::InvalidUtf8)));
    assert_eq!(m.text(attr_type::REALM), None);
    assert_eq!(m.xor_address(attr_type::XOR_RELAYED_ADDRESS), None);
}

#[test]
fn error_response_round_trips() {
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Error, Method::ALLOCATE, TID);
    b.add_error_code(420, "Unknown Attribute");
    b.add_unknown_attributes(&[0x7F01, 0x0003]);
    b.add_password_algorithms(&[PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5]);
    b.finish();
    let m = Message::parse(&buf).unwrap();
    assert_eq!(m.class(), Class::Error);
    assert_eq!(m.error_code().unwrap().unwrap(), (420, "Unknown Attribute"));
    let ua = m.get(attr_type::UNKNOWN_ATTRIBUTES).unwrap();
    assert_eq!(decode_unknown_attributes(ua.value).unwrap(), vec![0x7F01, 0x0003]);
    let pa = m.get(attr_type::PASSWORD_ALGORITHMS).unwrap();
    assert_eq!(decode_password_algorithms(pa.value).unwrap(), vec![PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5]);
}

#[test]
fn raw_attr_offsets_point_at_headers() {
    let m = Message::parse(&REQUEST).unwrap();
    for a in m.attrs() {
        let t = u16::from_be_bytes([REQUEST[a.offset], REQUEST[a.offset + 1]]);
        assert_eq!(t, a.typ);
    }
    assert_eq!(m.raw(), &REQUEST[..]);
}

#[test]
fn turn_only_attributes_round_trip() {
    let icmp = Icmp { typ: 3, code: 4, data: 1280 };
    let v = build(|b| {
        b.add_address_error_code(AddressFamily::V6, 440, "Address Family not Supported");
        b.add_icmp(icmp);
        b.add_u64(attr_type::ICE_CONTROLLING, 42);
        b.add_even_port(true);
    });
    let m = Message::parse(&v).unwrap();
    let aec = m.get(attr_type::ADDRESS_ERROR_CODE).unwrap();
    assert_eq!(decode_address_error_code(aec.value).unwrap(), (AddressFamily::V6, 440, "Address Family not Supported"));
    assert_eq!(decode_icmp(m.get(attr_type::ICMP).unwrap().value).unwrap(), icmp);
    assert_eq!(decode_u64(m.get(attr_type::ICE_CONTROLLING).unwrap().value).unwrap(), 42);
    assert!(decode_even_port(m.get(attr_type::EVEN_PORT).unwrap().value).unwrap());
}
