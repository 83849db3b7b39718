//! The XDP program on real veths in fresh network namespaces (root, real kernel):
//! native attach through a BPF link with counters read back from the pinned maps, and a
//! client -> relay -> peer forward in both directions and both families.

mod support;

use std::{
    net::{SocketAddr, UdpSocket},
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use relay::{
    offload::{
        xdp::{self, AttachedMode, XdpConfig, XdpMode, XdpOffload},
        ChannelBinding, Offload,
    },
    transport::Transport,
};
use relay_common::Verdict;
use support::{packet::channel_data, relay_lab::RelayLab};

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

/// A unique bpffs pin directory, removed on drop (also when the test panics).
struct PinDir(PathBuf);

impl PinDir {
    fn new(tag: &str) -> PinDir {
        PinDir(PathBuf::from(format!("/sys/fs/bpf/relay-test-{}-{tag}", std::process::id())))
    }
}

impl Drop for PinDir {
    fn drop(&mut self) {
        xdp::remove_pins(&self.0);
    }
}

fn load_attached(lab: &RelayLab, pins: &PinDir, interfaces: &[&str]) -> XdpOffload {
    lab.relay.run(|| {
        let config = XdpConfig {
            mode: XdpMode::Native,
            pin_dir: Some(pins.0.clone()),
            listen_ports: vec![3478],
            ..XdpConfig::default()
        };
        let offload = XdpOffload::load(&config).expect("load the XDP program (root, bpffs)");
        for dev in interfaces {
            let mode = offload.attach(dev, XdpMode::Native).expect("native XDP attach on a veth");
            assert_eq!(mode, AttachedMode::Native);
        }
        offload
    })
}

fn verdict(status: &xdp::XdpStatus, v: Verdict) -> u64 {
    status.verdicts.iter().find(|(x, _)| *x == v).map(|(_, n)| *n).expect("every verdict is listed")
}

fn socket_in(ns: &support::Netns, addr: &str) -> UdpSocket {
    let addr = sa(addr);
    ns.run(move || {
        let s = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        // Only so a broken fast path fails the test instead of hanging it.
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s
    })
}

#[test]
fn native_attach_counts_verdicts_readable_from_pins() {
    let lab = RelayLab::new("na");
    lab.client.tx_checksum_off("c0");
    let pins = PinDir::new("na");
    let offload = load_attached(&lab, &pins, &["r0"]);
    let client = socket_in(&lab.client, "10.0.1.2:40000");
    // STUN-looking datagrams and ChannelData for an unbound channel: both must be passed.
    let stun = [0u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    for _ in 0..3 {
        client.send_to(&stun, sa("10.0.1.1:3478")).expect("send");
        client.send_to(&channel_data(0x4abc, b"x", &[]), sa("10.0.1.1:3478")).expect("send");
    }
    // The counters are read from the pinned maps, as `relay xdp status` does without the daemon.
    // Packets are counted before send_to returns on a veth (synchronous xmit into the peer).
    let status = xdp::read_status(&pins.0).expect("read pinned maps");
    assert!(status.program_loaded);
    assert_eq!(status.listen_ports, vec![3478]);
    assert_eq!(status.interfaces.len(), 1);
    assert_eq!(status.interfaces[0].name, "r0");
    assert_eq!(status.interfaces[0].mode, "native");
    assert_eq!(verdict(&status, Verdict::NotChannelData), 3);
    assert_eq!(verdict(&status, Verdict::C2pMiss), 3);
    let mut text = Vec::new();
    xdp::print_status(&pins.0, &mut text).expect("print status");
    let text = String::from_utf8(text).expect("utf-8");
    assert!(text.contains("pass_not_channel_data"), "{text}");
    assert!(text.contains("r0"), "{text}");
    drop(offload);
}

fn binding(client: &str, server: &str, channel: u16, peer: &str, relay: &str) -> ChannelBinding {
    ChannelBinding {
        client: sa(client),
        server: sa(server),
        channel,
        peer: sa(peer),
        relay: sa(relay),
        expires_at: Instant::now() + Duration::from_secs(600),
        transport: Transport::Udp,
        user: Arc::from("e2e"),
    }
}

/// One round trip through the relay namespace with nothing listening there: if XDP does not
/// forward, the datagram is never delivered and recv times out.
fn round_trip(lab: &RelayLab, b: &ChannelBinding) {
    let client = socket_in(&lab.client, &b.client.to_string());
    let peer = socket_in(&lab.peer, &b.peer.to_string());
    let payload: Vec<u8> = (0..200u8).collect();
    client.send_to(&channel_data(b.channel, &payload, &[]), b.server).expect("client send");
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).expect("peer receives the forwarded payload");
    assert_eq!(from, b.relay, "peer sees the relayed address as source");
    assert_eq!(&buf[..n], &payload[..], "payload intact (the kernel verified the UDP checksum)");
    let reply = b"reply from the peer";
    peer.send_to(reply, b.relay).expect("peer send");
    let (n, from) = client.recv_from(&mut buf).expect("client receives ChannelData");
    assert_eq!(from, b.server, "client sees the server address as source");
    assert_eq!(&buf[..n], &channel_data(b.channel, reply, &[])[..]);
}

#[test]
fn forwards_both_directions_both_families_between_namespaces() {
    let lab = RelayLab::new("e2");
    for (ns, dev) in [(&lab.client, "c0"), (&lab.peer, "p0")] {
        ns.tx_checksum_off(dev);
        ns.gro_on(dev);
    }
    let pins = PinDir::new("e2");
    let offload = load_attached(&lab, &pins, &["r0", "r1"]);
    let v4 = binding("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, "10.0.2.2:60000", "10.0.2.1:50000");
    let v6 = binding("[fd00:1::2]:40000", "[fd00:1::1]:3478", 0x4002, "[fd00:2::2]:60000", "[fd00:2::1]:50000");
    for b in [&v4, &v6] {
        offload.upsert(b).expect("install binding");
        round_trip(&lab, b);
    }
    let status = xdp::read_status(&pins.0).expect("read pinned maps");
    assert_eq!(verdict(&status, Verdict::ForwardedC2pV4), 1);
    assert_eq!(verdict(&status, Verdict::ForwardedP2cV4), 1);
    assert_eq!(verdict(&status, Verdict::ForwardedC2pV6), 1);
    assert_eq!(verdict(&status, Verdict::ForwardedP2cV6), 1);
    assert_eq!((status.c2p_entries, status.p2c_entries), (2, 2));
    let channels = xdp::read_channels(&pins.0).expect("read channels");
    assert_eq!(channels.len(), 2);
    let c4 = channels.iter().find(|c| c.client == v4.client).expect("v4 binding listed");
    assert_eq!((c4.peer, c4.relay, c4.channel), (v4.peer, v4.relay, 0x4001));
    assert_eq!(c4.counters.client_to_peer_packets, 1);
    assert_eq!(c4.counters.client_to_peer_bytes, 200);
    assert_eq!(c4.counters.peer_to_client_packets, 1);
    assert!(c4.expires_in.is_some());
    assert_eq!(offload.counters(&v6).expect("v6 counters").peer_to_client_packets, 1);
    let mut text = Vec::new();
    xdp::print_channels(&pins.0, &mut text).expect("print channels");
    assert!(String::from_utf8_lossy(&text).contains("2 binding(s)"));
}

#[test]
fn start_reports_mode_and_falls_back_to_off_with_a_reason() {
    let lab = RelayLab::new("st");
    let pins = PinDir::new("st");
    let config = |mode: XdpMode, interfaces: &[&str]| XdpConfig {
        mode,
        interfaces: interfaces.iter().map(|s| s.to_string()).collect(),
        pin_dir: Some(pins.0.clone()),
        debug_log: true,
        ..XdpConfig::default()
    };
    let off = lab.relay.run(|| xdp::start(&config(XdpMode::Auto, &["nosuch0"])).expect("auto never fails"));
    assert!(off.offload.is_none());
    assert!(off.summary.starts_with("xdp: off (") && off.summary.contains("nosuch0"), "{}", off.summary);
    let err = lab.relay.run(|| xdp::start(&config(XdpMode::Native, &["nosuch0"])).expect_err("native must fail"));
    assert!(err.to_string().contains("nosuch0"), "{err}");
    let disabled = xdp::start(&config(XdpMode::Off, &["r0"])).expect("off");
    assert!(disabled.offload.is_none() && disabled.summary.contains("off"));
    let skb = lab.relay.run(|| xdp::start(&config(XdpMode::Skb, &["r0"])).expect("generic XDP on a veth"));
    assert_eq!(skb.summary, "xdp: skb on r0");
    let offload = skb.offload.expect("loaded");
    assert_eq!(offload.attachments()[0].mode, AttachedMode::Skb);
    drop(offload);
    let auto = lab.relay.run(|| xdp::start(&config(XdpMode::Auto, &["r0", "r1"])).expect("auto"));
    assert_eq!(auto.summary, "xdp: native on r0, native on r1");
}

/// Both clients of a call on this relay (client A's peer is B's relayed address and the other
/// way round): A's ChannelData reaches B as B's ChannelData, turned around by XDP on r0 alone
/// (nothing listens in the relay namespace, so only the fast path can deliver it).
#[test]
fn hairpin_between_two_allocations_of_this_relay() {
    let lab = RelayLab::new("hp");
    lab.client.tx_checksum_off("c0");
    lab.client.gro_on("c0");
    let pins = PinDir::new("hp");
    let offload = load_attached(&lab, &pins, &["r0"]);
    // XDP_TX on a veth only wakes the other end if that end runs XDP too: a second, private
    // instance of the program (no bindings, so it passes everything) is the stub.
    let _stub = lab.client.run(|| {
        let stub = XdpOffload::load(&XdpConfig { mode: XdpMode::Native, pin_dir: None, ..XdpConfig::default() })
            .expect("load the stub");
        stub.attach("c0", XdpMode::Native).expect("attach the stub to c0");
        stub
    });
    for (a_client, b_client, server, a_relay, b_relay) in [
        ("10.0.1.2:40010", "10.0.1.2:40011", "10.0.1.1:3478", "10.0.2.1:50010", "10.0.2.1:50011"),
        ("[fd00:1::2]:40010", "[fd00:1::2]:40011", "[fd00:1::1]:3478", "[fd00:2::1]:50010", "[fd00:2::1]:50011"),
    ] {
        let a = binding(a_client, server, 0x4010, b_relay, a_relay);
        let b = binding(b_client, server, 0x4011, a_relay, b_relay);
        offload.upsert(&a).expect("install A");
        offload.upsert(&b).expect("install B");
        let sock_a = socket_in(&lab.client, a_client);
        let sock_b = socket_in(&lab.client, b_client);
        let payload: Vec<u8> = (0..123u8).collect();
        sock_a.send_to(&channel_data(0x4010, &payload, &[]), sa(server)).expect("A sends");
        let mut buf = [0u8; 2048];
        let (n, from) = sock_b.recv_from(&mut buf).expect("B receives A's data as its ChannelData");
        assert_eq!(from, sa(server), "B sees the server address as source");
        assert_eq!(&buf[..n], &channel_data(0x4011, &payload, &[])[..], "B's channel, payload intact");
        sock_b.send_to(&channel_data(0x4011, b"back", &[]), sa(server)).expect("B sends");
        let (n, _) = sock_a.recv_from(&mut buf).expect("A receives B's reply");
        assert_eq!(&buf[..n], &channel_data(0x4010, b"back", &[])[..]);
    }
    let status = xdp::read_status(&pins.0).expect("read pinned maps");
    assert_eq!(verdict(&status, Verdict::ForwardedHairpinV4), 2);
    assert_eq!(verdict(&status, Verdict::ForwardedHairpinV6), 2);
    let mut text = Vec::new();
    xdp::print_status(&pins.0, &mut text).expect("print status");
    assert!(String::from_utf8_lossy(&text).contains("forwarded_hairpin_v4"));
}
