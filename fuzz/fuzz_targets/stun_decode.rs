//! Parse arbitrary bytes as STUN; on success walk every attribute through every typed decoder
//! and run the integrity and fingerprint checks with a fixed key. Must never panic.
//!
//! Each input is tried twice: as is, and with the header fixed up (top bits cleared, magic
//! cookie, length field matching the body) so the fuzzer reaches the TLV walker quickly. Every
//! message that parses is rebuilt with `MessageBuilder` plus MESSAGE-INTEGRITY and FINGERPRINT,
//! and the rebuilt one must parse, carry the same visible attributes and verify.
#![no_main]

use libfuzzer_sys::fuzz_target;
use relay::stun::*;

const KEY: &[u8] = b"fuzz-key";

fn decode_all(m: &Message<'_>, a: RawAttr<'_>) {
    let v = a.value;
    let tid = m.transaction_id();
    let _ = attr_type::name(a.typ);
    let _ = attr_type::is_comprehension_required(a.typ);
    let _ = decode_address(v);
    let _ = decode_xor_address(v, &tid);
    let _ = decode_error_code(v);
    let _ = decode_address_error_code(v);
    let _ = decode_channel_number(v);
    let _ = decode_u32(v);
    let _ = decode_u64(v);
    let _ = decode_requested_transport(v);
    let _ = decode_address_family(v);
    let _ = decode_even_port(v);
    let _ = decode_unknown_attributes(v);
    let _ = decode_password_algorithms(v);
    let _ = decode_password_algorithm(v);
    let _ = decode_text(a.typ, v);
    let _ = decode_icmp(v);
    let _ = decode_reservation_token(v);
    let _ = decode_userhash(v);
}

/// `data` with a valid header: top bits cleared, magic cookie, body cut to a multiple of 4.
fn fixed_up(data: &[u8]) -> Option<Vec<u8>> {
    if data.len() < HEADER_LEN {
        return None;
    }
    let body = (data.len() - HEADER_LEN) & !3;
    let mut v = data[..HEADER_LEN + body].to_vec();
    v[0] &= 0x3F;
    v[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    let len = u16::try_from(body).ok()?;
    v[2..4].copy_from_slice(&len.to_be_bytes());
    Some(v)
}

/// Rebuilds the visible attributes (minus integrity/fingerprint) and checks the result.
fn rebuild(m: &Message<'_>) {
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, m.class(), m.method(), m.transaction_id());
    let mut kept = Vec::new();
    for a in m.visible_attrs() {
        if matches!(a.typ, attr_type::MESSAGE_INTEGRITY | attr_type::MESSAGE_INTEGRITY_SHA256 | attr_type::FINGERPRINT)
        {
            continue;
        }
        b.add_raw(a.typ, a.value);
        kept.push((a.typ, a.value));
    }
    b.add_message_integrity(KEY);
    b.add_message_integrity_sha256(KEY);
    b.add_fingerprint();
    let overflowed = b.overflowed();
    let n = b.finish();
    assert_eq!(n, buf.len());
    let r = Message::parse(&buf).expect("builder output parses");
    if overflowed {
        return;
    }
    assert_eq!(r.verify_integrity_sha1(KEY), IntegrityResult::Ok);
    assert_eq!(r.verify_integrity_sha256(KEY), IntegrityResult::Ok);
    assert_eq!(r.verify_fingerprint(), Some(true));
    let again: Vec<_> = r.visible_attrs().take(kept.len()).map(|a| (a.typ, a.value)).collect();
    assert_eq!(again, kept);
}

fuzz_target!(|data: &[u8]| {
    let _ = Message::is_stun(data);
    check(data);
    if let Some(v) = fixed_up(data) {
        check(&v);
    }
});

fn check(data: &[u8]) {
    let Ok(m) = Message::parse(data) else {
        return;
    };
    let _ = (m.class(), m.method(), m.transaction_id(), m.raw().len());
    for a in m.attrs() {
        assert!(a.end() <= data.len());
        decode_all(&m, a);
    }
    for a in m.visible_attrs() {
        let _ = m.get(a.typ);
    }
    let _ = m.unknown_comprehension_required();
    let _ = m.xor_addresses(attr_type::XOR_PEER_ADDRESS).count();
    let _ = m.xor_address(attr_type::XOR_MAPPED_ADDRESS);
    let _ = m.u32_attr(attr_type::LIFETIME);
    let _ = m.text(attr_type::USERNAME);
    let _ = m.error_code();
    let _ = m.verify_integrity_sha1(KEY);
    let _ = m.verify_integrity_sha256(KEY);
    let _ = m.verify_fingerprint();
    rebuild(&m);
}
