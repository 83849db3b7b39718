//! STUN Binding (RFC 8489 §3) over UDP, TCP and TLS against the real `relay` binary, with
//! coturn's `turnutils_stunclient` as the independent UDP client.
// Tests panic on failure by design (STYLE.md); unwrap is how they fail.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::relay::RelayProcess;
use harness::tools::{require, run_bounded};
use relay::stun::{attr_type, Class, Message, MessageBuilder, Method, TransactionId};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const IO_LIMIT: Duration = Duration::from_secs(10);

fn binding_request(tid: [u8; 12]) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut b = MessageBuilder::new(&mut buf, Class::Request, Method::BINDING, TransactionId(tid));
    b.add_fingerprint();
    b.finish();
    buf
}

/// Checks a Binding success response: same transaction, XOR-MAPPED-ADDRESS, valid FINGERPRINT.
fn assert_binding_success(resp: &[u8], tid: [u8; 12], expected: SocketAddr) {
    let msg = Message::parse(resp).expect("response parses");
    assert_eq!(msg.class(), Class::Success);
    assert_eq!(msg.method(), Method::BINDING);
    assert_eq!(msg.transaction_id(), TransactionId(tid));
    let mapped = msg.xor_address(attr_type::XOR_MAPPED_ADDRESS).expect("XOR-MAPPED-ADDRESS").unwrap();
    assert_eq!(mapped, expected);
    assert_eq!(msg.verify_fingerprint(), Some(true), "FINGERPRINT present and valid");
}

fn read_frame(stream: &mut impl Read) -> Vec<u8> {
    let mut head = [0u8; 20];
    stream.read_exact(&mut head).expect("response header");
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let mut msg = head.to_vec();
    msg.resize(20 + len, 0);
    stream.read_exact(&mut msg[20..]).expect("response body");
    msg
}

#[test]
fn turnutils_stunclient_reads_its_mapped_address_over_udp() {
    require("turnutils_stunclient", "coturn");
    let ip = harness::loopback(1);
    let relay = RelayProcess::start(&["--listening-ip", &ip.to_string(), "--listening-port", "3478", "--no-tls"]);
    let out = run_bounded(
        Command::new("turnutils_stunclient").args(["-p", "3478", "-L", "127.0.42.101", &ip.to_string()]),
        IO_LIMIT,
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stunclient failed:\n{text}\nrelay log:\n{}", relay.log());
    assert!(text.contains("UDP reflexive addr: 127.0.42.101:"), "no/wrong mapped address in:\n{text}");
}

#[test]
fn udp_binding_and_garbage_do_not_break_the_server() {
    let ip = harness::loopback(2);
    let _relay = RelayProcess::start(&["--listening-ip", &ip.to_string(), "--no-tls", "--no-tcp"]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(IO_LIMIT)).unwrap();
    let server = SocketAddr::new(ip, 3478);
    // Hostile input first: empty, short, wrong cookie, bad length, huge length.
    let mut bad_cookie = binding_request([9; 12]);
    bad_cookie[4] ^= 0xff;
    let mut bad_len = binding_request([9; 12]);
    bad_len[3] = 0xff;
    for junk in [&[][..], &[0u8; 3], &[0x00, 0x01, 0x00, 0x00][..], &bad_cookie, &bad_len, &[0xffu8; 1500]] {
        sock.send_to(junk, server).unwrap();
    }
    let tid = [7u8; 12];
    sock.send_to(&binding_request(tid), server).unwrap();
    let mut buf = [0u8; 1500];
    let (n, _) = sock.recv_from(&mut buf).expect("binding response after junk");
    assert_binding_success(&buf[..n], tid, sock.local_addr().unwrap());
}

#[test]
fn tcp_binding() {
    let ip = harness::loopback(3);
    let _relay = RelayProcess::start(&["--listening-ip", &ip.to_string(), "--no-tls", "--no-udp"]);
    let mut stream = TcpStream::connect(SocketAddr::new(ip, 3478)).unwrap();
    stream.set_read_timeout(Some(IO_LIMIT)).unwrap();
    // Two requests in one write, the second split across writes: the stream framer must cope.
    let (a, b) = (binding_request([1; 12]), binding_request([2; 12]));
    stream.write_all(&a).unwrap();
    stream.write_all(&b[..7]).unwrap();
    stream.flush().unwrap();
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&b[7..]).unwrap();
    let me = stream.local_addr().unwrap();
    assert_binding_success(&read_frame(&mut stream), [1; 12], me);
    assert_binding_success(&read_frame(&mut stream), [2; 12], me);
}

fn tls_client(ca: &rustls::pki_types::CertificateDer<'static>, alpn: bool) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    // ring, not aws-lc-rs: it builds with only a C compiler on these machines. rustls marks it
    // deprecated for lacking post-quantum key exchange, which TURN's TLS (no media keys) can do without.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    if alpn {
        config.alpn_protocols = vec![b"stun.turn".to_vec()];
    }
    Arc::new(config)
}

#[test]
fn tls_binding_with_and_without_alpn() {
    let ip = harness::loopback(4);
    let dir = std::env::temp_dir().join(format!("relay-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec![ip.to_string()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let relay = RelayProcess::start(&[
        "--listening-ip",
        &ip.to_string(),
        "--no-udp",
        "--no-tcp",
        "--tls-listening-port",
        "5349",
        "--cert",
        dir.join("cert.pem").to_str().unwrap(),
        "--pkey",
        dir.join("key.pem").to_str().unwrap(),
    ]);
    for alpn in [true, false] {
        let config = tls_client(cert.cert.der(), alpn);
        let name = rustls::pki_types::ServerName::IpAddress(ip.into());
        let conn = rustls::ClientConnection::new(config, name).unwrap();
        let tcp = TcpStream::connect(SocketAddr::new(ip, 5349)).unwrap();
        tcp.set_read_timeout(Some(IO_LIMIT)).unwrap();
        let me = tcp.local_addr().unwrap();
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(&binding_request([3; 12])).unwrap();
        let resp = read_frame(&mut tls);
        assert_binding_success(&resp, [3; 12], me);
        if alpn {
            assert_eq!(tls.conn.alpn_protocol(), Some(&b"stun.turn"[..]), "RFC 7443 ALPN negotiated");
        }
    }
    drop(relay);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn clean_exit_on_sigterm() {
    let ip = harness::loopback(5);
    let relay = RelayProcess::start(&["--listening-ip", &ip.to_string(), "--no-tls"]);
    let status = relay.stop();
    assert!(status.success(), "relay exited with {status}");
}
