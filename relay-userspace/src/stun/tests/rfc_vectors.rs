//! The RFC test vectors, parsed and checked, and re-encoded byte for byte where the RFC's
//! encoding choices match ours.

use std::net::SocketAddr;

use super::vectors::*;
use crate::stun::*;

const TID_5769: TransactionId = TransactionId([0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae]);

#[test]
fn rfc5769_2_1_sample_request() {
    let m = Message::parse(&REQUEST).unwrap();
    assert_eq!(m.class(), Class::Request);
    assert_eq!(m.method(), Method::BINDING);
    assert_eq!(m.transaction_id(), TID_5769);
    assert_eq!(m.text(attr_type::SOFTWARE).unwrap().unwrap(), "STUN test client");
    assert_eq!(m.text(attr_type::USERNAME).unwrap().unwrap(), "evtj:h6vY");
    assert_eq!(m.u32_attr(attr_type::PRIORITY).unwrap().unwrap(), 0x6e00_01ff);
    let ice = m.get(attr_type::ICE_CONTROLLED).unwrap();
    assert_eq!(decode_u64(ice.value).unwrap(), 0x932f_f9b1_5126_3b36);
    assert_eq!(m.verify_integrity_sha1(SHORT_TERM_PASSWORD), IntegrityResult::Ok);
    assert_eq!(m.verify_integrity_sha1(b"wrong"), IntegrityResult::Mismatch);
    assert_eq!(m.verify_integrity_sha256(SHORT_TERM_PASSWORD), IntegrityResult::Missing);
    assert_eq!(m.verify_fingerprint(), Some(true));
    assert!(m.unknown_comprehension_required().is_empty());
}

#[test]
fn rfc5769_2_2_ipv4_response() {
    let m = Message::parse(&RESPONSE_V4).unwrap();
    assert_eq!(m.class(), Class::Success);
    assert_eq!(m.method(), Method::BINDING);
    assert_eq!(m.text(attr_type::SOFTWARE).unwrap().unwrap(), "test vector");
    let want: SocketAddr = "192.0.2.1:32853".parse().unwrap();
    assert_eq!(m.xor_address(attr_type::XOR_MAPPED_ADDRESS).unwrap().unwrap(), want);
    assert_eq!(m.verify_integrity_sha1(SHORT_TERM_PASSWORD), IntegrityResult::Ok);
    assert_eq!(m.verify_fingerprint(), Some(true));
}

#[test]
fn rfc5769_2_3_ipv6_response() {
    let m = Message::parse(&RESPONSE_V6).unwrap();
    let want: SocketAddr = "[2001:db8:1234:5678:11:2233:4455:6677]:32853".parse().unwrap();
    assert_eq!(m.xor_address(attr_type::XOR_MAPPED_ADDRESS).unwrap().unwrap(), want);
    assert_eq!(m.verify_integrity_sha1(SHORT_TERM_PASSWORD), IntegrityResult::Ok);
    assert_eq!(m.verify_fingerprint(), Some(true));
}

/// Re-encoding §2.2/§2.3: the RFC pads SOFTWARE with a space (0x20), we pad with zeros, so
/// the bytes before MESSAGE-INTEGRITY must match the vector with that one byte zeroed, and our
/// MESSAGE-INTEGRITY and FINGERPRINT must verify.
#[test]
fn rfc5769_responses_reencode() {
    for (vector, addr) in
        [(&RESPONSE_V4[..], "192.0.2.1:32853"), (&RESPONSE_V6[..], "[2001:db8:1234:5678:11:2233:4455:6677]:32853")]
    {
        let mut buf = Vec::new();
        let mut b = MessageBuilder::new(&mut buf, Class::Success, Method::BINDING, TID_5769);
        b.add_text(attr_type::SOFTWARE, "test vector");
        b.add_xor_address(attr_type::XOR_MAPPED_ADDRESS, addr.parse().unwrap());
        b.add_message_integrity(SHORT_TERM_PASSWORD);
        b.add_fingerprint();
        assert_eq!(b.finish(), vector.len());
        let mut want = vector.to_vec();
        want[35] = 0; // SOFTWARE padding byte
        let mi = vector.len() - 8 - 24;
        assert_eq!(buf[..mi], want[..mi]);
        let ours = Message::parse(&buf).unwrap();
        assert_eq!(ours.verify_integrity_sha1(SHORT_TERM_PASSWORD), IntegrityResult::Ok);
        assert_eq!(ours.verify_fingerprint(), Some(true));
    }
}

/// §2.4 has zero padding everywhere, so it re-encodes byte for byte, integrity included.
#[test]
fn rfc5769_2_4_reencodes_byte_for_byte() {
    let tid = TransactionId(REQUEST_LONG_TERM[8..20].try_into().unwrap());
    let key = long_term_key_md5(LT_USER, "example.org", LT_PASSWORD);
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::BINDING, tid);
    b.add_text(attr_type::USERNAME, LT_USER);
    b.add_text(attr_type::NONCE, "f//499k954d6OL34oL9FSTvy64sA");
    b.add_text(attr_type::REALM, "example.org");
    b.add_message_integrity(&key);
    assert_eq!(b.finish(), REQUEST_LONG_TERM.len());
    assert_eq!(buf, REQUEST_LONG_TERM);
}

#[test]
fn rfc5769_2_4_long_term_request() {
    let m = Message::parse(&REQUEST_LONG_TERM).unwrap();
    assert_eq!(m.text(attr_type::USERNAME).unwrap().unwrap(), LT_USER);
    assert_eq!(m.text(attr_type::NONCE).unwrap().unwrap(), "f//499k954d6OL34oL9FSTvy64sA");
    assert_eq!(m.text(attr_type::REALM).unwrap().unwrap(), "example.org");
    // Key from the SASLprep'd password (RFC 8489 §9.2.2); we do no SASLprep ourselves, so the
    // unprepared password must not verify.
    let key = long_term_key_md5(LT_USER, "example.org", LT_PASSWORD);
    assert_eq!(m.verify_integrity_sha1(&key), IntegrityResult::Ok);
    let raw = long_term_key_md5(LT_USER, "example.org", "The\u{00AD}M\u{00AA}tr\u{2168}");
    assert_eq!(m.verify_integrity_sha1(&raw), IntegrityResult::Mismatch);
    assert_eq!(m.verify_fingerprint(), None);
}

#[test]
fn rfc8489_b1_errata_6268_sha256_request() {
    let m = Message::parse(&REQUEST_SHA256).unwrap();
    assert_eq!(m.method(), Method::BINDING);
    let uh = m.get(attr_type::USERHASH).unwrap();
    assert_eq!(decode_userhash(uh.value).unwrap(), userhash(LT_USER, "example.org"));
    assert_eq!(m.text(attr_type::NONCE).unwrap().unwrap(), "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
    let alg = m.get(attr_type::PASSWORD_ALGORITHM).unwrap();
    assert_eq!(decode_password_algorithm(alg.value).unwrap(), PasswordAlgorithm::Sha256);
    let key = long_term_key_sha256(LT_USER, "example.org", LT_PASSWORD);
    assert_eq!(m.verify_integrity_sha256(&key), IntegrityResult::Ok);
    assert_eq!(m.verify_integrity_sha256(&[0u8; 32]), IntegrityResult::Mismatch);
    assert_eq!(m.verify_integrity_sha1(&key), IntegrityResult::Missing);
}

#[test]
fn rfc8489_b1_reencodes_byte_for_byte() {
    let tid = TransactionId(REQUEST_SHA256[8..20].try_into().unwrap());
    let key = long_term_key_sha256(LT_USER, "example.org", LT_PASSWORD);
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::BINDING, tid);
    b.add_raw(attr_type::USERHASH, &userhash(LT_USER, "example.org"));
    b.add_text(attr_type::NONCE, "obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA");
    b.add_text(attr_type::REALM, "example.org");
    b.add_password_algorithm(PasswordAlgorithm::Sha256);
    b.add_message_integrity_sha256(&key);
    b.finish();
    assert_eq!(buf, REQUEST_SHA256);
}

/// B.1 with the MESSAGE-INTEGRITY-SHA256 value truncated to `keep` bytes and recomputed
/// (the header length changes with the truncation, so the HMAC does too).
fn truncated_b1(keep: usize) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let key = long_term_key_sha256(LT_USER, "example.org", LT_PASSWORD);
    let mi_at = REQUEST_SHA256.len() - 36;
    let mut v = REQUEST_SHA256[..mi_at].to_vec();
    let len = (mi_at + 4 + keep - 20) as u16;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    let mut mac = <Hmac<sha2::Sha256>>::new_from_slice(&key).unwrap();
    mac.update(&v);
    let tag = mac.finalize().into_bytes();
    v.extend_from_slice(&attr_type::MESSAGE_INTEGRITY_SHA256.to_be_bytes());
    v.extend_from_slice(&(keep as u16).to_be_bytes());
    v.extend_from_slice(&tag[..keep]);
    v
}

#[test]
fn truncated_sha256_integrity_verifies() {
    // RFC 8489 §14.6: the HMAC may be truncated to 16..=32 bytes in multiples of 4.
    let key = long_term_key_sha256(LT_USER, "example.org", LT_PASSWORD);
    for keep in [16usize, 20, 24, 28, 32] {
        let v = truncated_b1(keep);
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.verify_integrity_sha256(&key), IntegrityResult::Ok, "keep {keep}");
    }
    assert_eq!(truncated_b1(32), REQUEST_SHA256);
    for keep in [4usize, 12, 36] {
        let v = truncated_b1(keep.min(32));
        let mut v = v;
        if keep > 32 {
            // A 36-byte value: too long.
            let n = v.len();
            v[n - 34..n - 32].copy_from_slice(&36u16.to_be_bytes());
            v.extend_from_slice(&[0; 4]);
            let len = (v.len() - 20) as u16;
            v[2..4].copy_from_slice(&len.to_be_bytes());
        }
        let m = Message::parse(&v).unwrap();
        assert_eq!(m.verify_integrity_sha256(&key), IntegrityResult::Malformed, "keep {keep}");
    }
}
