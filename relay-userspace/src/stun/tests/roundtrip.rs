//! proptest: random attribute lists survive build -> parse with the same values, and no byte
//! string makes the decoder panic.

use std::net::{IpAddr, SocketAddr};

use proptest::prelude::*;

use crate::stun::*;

#[derive(Clone, Debug)]
enum A {
    Lifetime(u32),
    XorPeer(SocketAddr),
    Mapped(SocketAddr),
    Text(u16, String),
    Error(u16, String),
    Channel(u16),
    Transport(u8),
    Family(u16, AddressFamily),
    EvenPort(bool),
    Unknown(Vec<u16>),
    Algs(Vec<PasswordAlgorithm>),
    Raw(u16, Vec<u8>),
}

fn addr() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![any::<[u8; 4]>().prop_map(IpAddr::from), any::<[u8; 16]>().prop_map(IpAddr::from),];
    (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn alg() -> impl Strategy<Value = PasswordAlgorithm> {
    any::<u16>().prop_map(PasswordAlgorithm::from_code)
}

fn attr() -> impl Strategy<Value = A> {
    let text_type = prop_oneof![
        Just(attr_type::USERNAME),
        Just(attr_type::REALM),
        Just(attr_type::NONCE),
        Just(attr_type::SOFTWARE)
    ];
    let fam_type = prop_oneof![Just(attr_type::REQUESTED_ADDRESS_FAMILY), Just(attr_type::ADDITIONAL_ADDRESS_FAMILY)];
    let fam = prop_oneof![Just(AddressFamily::V4), Just(AddressFamily::V6)];
    prop_oneof![
        any::<u32>().prop_map(A::Lifetime),
        addr().prop_map(A::XorPeer),
        addr().prop_map(A::Mapped),
        (text_type, "\\PC{0,60}").prop_map(|(t, s)| A::Text(t, s)),
        (300u16..700, "\\PC{0,40}").prop_map(|(c, s)| A::Error(c, s)),
        any::<u16>().prop_map(A::Channel),
        any::<u8>().prop_map(A::Transport),
        (fam_type, fam).prop_map(|(t, f)| A::Family(t, f)),
        any::<bool>().prop_map(A::EvenPort),
        proptest::collection::vec(any::<u16>(), 0..10).prop_map(A::Unknown),
        proptest::collection::vec(alg(), 0..8).prop_map(A::Algs),
        // Unassigned comprehension-optional range, so Raw never collides with a typed one.
        (0xC000u16..0xFFFF, proptest::collection::vec(any::<u8>(), 0..40)).prop_map(|(t, v)| A::Raw(t, v)),
    ]
}

fn add(b: &mut MessageBuilder<'_>, a: &A) {
    match a {
        A::Lifetime(v) => b.add_u32(attr_type::LIFETIME, *v),
        A::XorPeer(s) => b.add_xor_address(attr_type::XOR_PEER_ADDRESS, *s),
        A::Mapped(s) => b.add_address(attr_type::MAPPED_ADDRESS, *s),
        A::Text(t, s) => b.add_text(*t, s),
        A::Error(c, s) => b.add_error_code(*c, s),
        A::Channel(c) => b.add_channel_number(*c),
        A::Transport(p) => b.add_requested_transport(*p),
        A::Family(t, f) => b.add_address_family(*t, *f),
        A::EvenPort(r) => b.add_even_port(*r),
        A::Unknown(v) => b.add_unknown_attributes(v),
        A::Algs(v) => b.add_password_algorithms(v),
        A::Raw(t, v) => b.add_raw(*t, v),
    };
}

fn check(m: &Message<'_>, raw: RawAttr<'_>, a: &A) {
    let tid = m.transaction_id();
    let v = raw.value;
    match a {
        A::Lifetime(x) => assert_eq!(decode_lifetime(v).unwrap(), *x),
        A::XorPeer(s) => assert_eq!(decode_xor_address(v, &tid).unwrap(), *s),
        A::Mapped(s) => assert_eq!(decode_address(v).unwrap(), *s),
        A::Text(t, s) => assert_eq!(decode_text(*t, v).unwrap(), s),
        A::Error(c, s) => assert_eq!(decode_error_code(v).unwrap(), (*c, s.as_str())),
        A::Channel(c) => assert_eq!(decode_channel_number(v).unwrap(), *c),
        A::Transport(p) => assert_eq!(decode_requested_transport(v).unwrap(), *p),
        A::Family(_, f) => assert_eq!(decode_address_family(v).unwrap(), *f),
        A::EvenPort(r) => assert_eq!(decode_even_port(v).unwrap(), *r),
        A::Unknown(x) => assert_eq!(&decode_unknown_attributes(v).unwrap(), x),
        A::Algs(x) => assert_eq!(&decode_password_algorithms(v).unwrap(), x),
        A::Raw(t, x) => {
            assert_eq!(raw.typ, *t);
            assert_eq!(v, &x[..]);
        }
    }
}

/// Exercises every read path on a parsed message; used by the no-panic property.
fn touch_everything(m: &Message<'_>) {
    for a in m.attrs() {
        let _ = decode_any(m, a);
    }
    let _ = m.unknown_comprehension_required();
    let _ = m.verify_integrity_sha1(b"key");
    let _ = m.verify_integrity_sha256(b"key");
    let _ = m.verify_fingerprint();
    let _ = m.xor_addresses(attr_type::XOR_PEER_ADDRESS).count();
}

fn decode_any(m: &Message<'_>, a: RawAttr<'_>) -> bool {
    let v = a.value;
    let tid = m.transaction_id();
    [
        decode_address(v).is_ok(),
        decode_xor_address(v, &tid).is_ok(),
        decode_error_code(v).is_ok(),
        decode_address_error_code(v).is_ok(),
        decode_channel_number(v).is_ok(),
        decode_u32(v).is_ok(),
        decode_u64(v).is_ok(),
        decode_requested_transport(v).is_ok(),
        decode_address_family(v).is_ok(),
        decode_even_port(v).is_ok(),
        decode_unknown_attributes(v).is_ok(),
        decode_password_algorithms(v).is_ok(),
        decode_password_algorithm(v).is_ok(),
        decode_text(a.typ, v).is_ok(),
        decode_icmp(v).is_ok(),
        decode_reservation_token(v).is_ok(),
        decode_userhash(v).is_ok(),
    ]
    .iter()
    .any(|&ok| ok)
}

proptest! {
    #[test]
    fn build_then_parse_gives_same_values(
        attrs in proptest::collection::vec(attr(), 0..12),
        tid in any::<[u8; 12]>(),
        method in 0u16..0x1000,
        integrity in any::<bool>(),
        fingerprint in any::<bool>(),
    ) {
        let mut buf = Vec::new();
        let mut b = MessageBuilder::new(&mut buf, Class::Indication, Method(method), TransactionId(tid));
        for a in &attrs {
            add(&mut b, a);
        }
        if integrity {
            b.add_message_integrity(b"key");
        }
        if fingerprint {
            b.add_fingerprint();
        }
        let n = b.finish();
        prop_assert_eq!(n, buf.len());
        prop_assert_eq!(buf.len() % 4, 0);
        let m = Message::parse(&buf).unwrap();
        prop_assert_eq!(m.method(), Method(method));
        prop_assert_eq!(m.class(), Class::Indication);
        prop_assert_eq!(m.transaction_id(), TransactionId(tid));
        let raws: Vec<_> = m.attrs().collect();
        prop_assert_eq!(raws.len(), attrs.len() + usize::from(integrity) + usize::from(fingerprint));
        for (raw, a) in raws.iter().zip(&attrs) {
            check(&m, *raw, a);
        }
        let want_mi = if integrity { IntegrityResult::Ok } else { IntegrityResult::Missing };
        prop_assert_eq!(m.verify_integrity_sha1(b"key"), want_mi);
        prop_assert_eq!(m.verify_fingerprint(), fingerprint.then_some(true));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(m) = Message::parse(&bytes) {
            touch_everything(&m);
        }
        let _ = Message::is_stun(&bytes);
        let _ = ChannelData::parse(&bytes);
        let _ = next_frame_len(&bytes);
    }

    /// Bodies behind a valid header, so the TLV walker and attribute decoders get exercised.
    #[test]
    fn arbitrary_bodies_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..50).prop_map(|mut v| { v.truncate(v.len() / 4 * 4); v }),
        tid in any::<[u8; 12]>(),
    ) {
        let mut buf = Vec::new();
        MessageBuilder::new(&mut buf, Class::Request, Method::ALLOCATE, TransactionId(tid)).finish();
        buf.extend_from_slice(&body);
        let len = body.len() as u16;
        buf[2..4].copy_from_slice(&len.to_be_bytes());
        if let Ok(m) = Message::parse(&buf) {
            touch_everything(&m);
        }
    }
}
