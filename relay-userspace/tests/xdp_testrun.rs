//! Byte-exact fixtures for the XDP program through BPF_PROG_TEST_RUN (real kernel, root):
//! for each direction and family an input frame, the expected verdict and action, and the
//! expected output frame built from scratch (checksums computed in full, then verified again by
//! an independent function); plus a negative row for every pass reason.

mod support;

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use relay::{
    offload::{
        xdp::{XdpConfig, XdpMode, XdpOffload},
        ChannelBinding, Offload,
    },
    transport::Transport,
};
use relay_common::Verdict;
use support::{
    packet::{channel_data, verify_checksums, Udp},
    relay_lab::*,
};

const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;
const XDP_TX: u32 = 3;
const XDP_REDIRECT: u32 = 4;

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("test address")
}

fn binding(client: &str, channel: u16, peer: &str, relay: &str, ttl: i64) -> ChannelBinding {
    let server = if client.starts_with('[') { "[fd00:1::1]:3478" } else { "10.0.1.1:3478" };
    let now = Instant::now();
    ChannelBinding {
        client: sa(client),
        server: sa(server),
        channel,
        peer: sa(peer),
        relay: sa(relay),
        expires_at: if ttl >= 0 { now + Duration::from_secs(ttl as u64) } else { now - Duration::from_secs(1) },
        transport: Transport::Udp,
        user: Arc::from("fixture"),
    }
}

struct Row {
    name: &'static str,
    ingress: &'static str,
    input: Vec<u8>,
    action: u32,
    verdict: Verdict,
    /// `None`: the packet must come back unchanged.
    output: Option<Vec<u8>>,
}

fn pass(name: &'static str, ingress: &'static str, input: Vec<u8>, verdict: Verdict) -> Row {
    Row { name, ingress, input, action: XDP_PASS, verdict, output: None }
}

const DATA: &[u8] = b"\x80\x60media payload (SRTP would be here)...";

/// Client ChannelData frame arriving on r0.
fn c2p_in(client: &str, server: &str, channel: u16, data: &[u8], pad: &[u8]) -> Udp {
    Udp::new(sa(client), sa(server), &channel_data(channel, data, pad))
}

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    // --- forwarded, client -> peer ---
    let i = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, DATA, &[]);
    let mut o = Udp::new(sa("10.0.2.1:50000"), sa("10.0.2.2:60000"), DATA);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v4 redirect r0->r1",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedC2pV4,
        output: Some(o.frame(P0_MAC, R1_MAC)),
    });
    let i = c2p_in("[fd00:1::2]:40000", "[fd00:1::1]:3478", 0x4001, DATA, &[]);
    let mut o = Udp::new(sa("[fd00:2::1]:50000"), sa("[fd00:2::2]:60000"), DATA);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v6 redirect r0->r1",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedC2pV6,
        output: Some(o.frame(P0_MAC, R1_MAC)),
    });
    let i = c2p_in("10.0.1.2:40001", "10.0.1.1:3478", 0x4002, DATA, &[]);
    let mut o = Udp::new(sa("10.0.1.1:50001"), sa("10.0.1.3:60001"), DATA);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v4 XDP_TX (peer on the client link)",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedC2pV4,
        output: Some(o.frame(ONLINK_MAC, R0_MAC)),
    });
    let i = c2p_in("[fd00:1::2]:40001", "[fd00:1::1]:3478", 0x4002, DATA, &[]);
    let mut o = Udp::new(sa("[fd00:1::1]:50001"), sa("[fd00:1::3]:60001"), DATA);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v6 XDP_TX",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedC2pV6,
        output: Some(o.frame(ONLINK_MAC, R0_MAC)),
    });
    // Odd length with three non-zero padding bytes: trimmed, checksum still right.
    let odd = &DATA[..9];
    let i = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, odd, &[0xaa, 0xbb, 0xcc]);
    let mut o = Udp::new(sa("10.0.2.1:50000"), sa("10.0.2.2:60000"), odd);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v4 padding trimmed",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedC2pV4,
        output: Some(o.frame(P0_MAC, R1_MAC)),
    });
    let i = c2p_in("[fd00:1::2]:40000", "[fd00:1::1]:3478", 0x4001, &DATA[..10], &[0x11, 0x22]);
    let mut o = Udp::new(sa("[fd00:2::1]:50000"), sa("[fd00:2::2]:60000"), &DATA[..10]);
    o.ttl = 63;
    rows.push(Row {
        name: "c2p v6 padding trimmed",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedC2pV6,
        output: Some(o.frame(P0_MAC, R1_MAC)),
    });
    // IPv4 without UDP checksum stays without; Ethernet minimum-size trailer is trimmed.
    let mut i = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, b"hi", &[]);
    i.no_checksum = true;
    let mut input = i.frame(R0_MAC, C0_MAC);
    input.resize(60, 0);
    let mut o = Udp::new(sa("10.0.2.1:50000"), sa("10.0.2.2:60000"), b"hi");
    o.ttl = 63;
    o.no_checksum = true;
    rows.push(Row {
        name: "c2p v4 zero checksum stays zero, trailer trimmed",
        ingress: "r0",
        input,
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedC2pV4,
        output: Some(o.frame(P0_MAC, R1_MAC)),
    });
    // --- forwarded, peer -> client ---
    let i = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), DATA);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.2:40000"), &channel_data(0x4001, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "p2c v4 redirect r1->r0",
        ingress: "r1",
        input: i.frame(R1_MAC, P0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedP2cV4,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    let i = Udp::new(sa("[fd00:2::2]:60000"), sa("[fd00:2::1]:50000"), DATA);
    let mut o = Udp::new(sa("[fd00:1::1]:3478"), sa("[fd00:1::2]:40000"), &channel_data(0x4001, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "p2c v6 redirect r1->r0",
        ingress: "r1",
        input: i.frame(R1_MAC, P0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedP2cV6,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    let i = Udp::new(sa("10.0.1.3:60001"), sa("10.0.1.1:50001"), DATA);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.2:40001"), &channel_data(0x4002, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "p2c v4 XDP_TX",
        ingress: "r0",
        input: i.frame(R0_MAC, ONLINK_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedP2cV4,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    let i = Udp::new(sa("[fd00:1::3]:60001"), sa("[fd00:1::1]:50001"), DATA);
    let mut o = Udp::new(sa("[fd00:1::1]:3478"), sa("[fd00:1::2]:40001"), &channel_data(0x4002, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "p2c v6 XDP_TX",
        ingress: "r0",
        input: i.frame(R0_MAC, ONLINK_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedP2cV6,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    let mut i = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), &DATA[..7]);
    i.no_checksum = true;
    let mut input = i.frame(R1_MAC, P0_MAC);
    input.resize(60, 0);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.2:40000"), &channel_data(0x4001, &DATA[..7], &[]));
    o.ttl = 63;
    o.no_checksum = true;
    rows.push(Row {
        name: "p2c v4 zero checksum stays zero, trailer trimmed",
        ingress: "r1",
        input,
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedP2cV4,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    // RFC 5766 channel numbers (0x5000-0x7FFF) bound by the daemon are forwarded too.
    for (client, channel, relay, peer) in [
        ("10.0.1.2:40020", 0x5000, "10.0.2.1:50020", "10.0.2.2:60020"),
        ("10.0.1.2:40021", 0x7fff, "10.0.2.1:50021", "10.0.2.2:60021"),
    ] {
        let i = c2p_in(client, "10.0.1.1:3478", channel, DATA, &[]);
        let mut o = Udp::new(sa(relay), sa(peer), DATA);
        o.ttl = 63;
        rows.push(Row {
            name: if channel == 0x5000 { "c2p v4 RFC 5766 channel 0x5000" } else { "c2p v4 RFC 5766 channel 0x7fff" },
            ingress: "r0",
            input: i.frame(R0_MAC, C0_MAC),
            action: XDP_REDIRECT,
            verdict: Verdict::ForwardedC2pV4,
            output: Some(o.frame(P0_MAC, R1_MAC)),
        });
    }
    let i = Udp::new(sa("10.0.2.2:60021"), sa("10.0.2.1:50021"), DATA);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.2:40021"), &channel_data(0x7fff, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "p2c v4 RFC 5766 channel 0x7fff",
        ingress: "r1",
        input: i.frame(R1_MAC, P0_MAC),
        action: XDP_REDIRECT,
        verdict: Verdict::ForwardedP2cV4,
        output: Some(o.frame(C0_MAC, R0_MAC)),
    });
    hairpin_rows(&mut rows);
    negative_rows(&mut rows);
    rows
}

/// Client A (10.0.1.2:40010, relayed 10.0.2.1:50010) and client B (10.0.1.3:40011, relayed
/// 10.0.2.1:50011) talk through the same relay: each one's peer is the other's relayed address.
/// A's ChannelData leaves as B's ChannelData, sent from the server address straight to B.
fn hairpin_rows(rows: &mut Vec<Row>) {
    let i = c2p_in("10.0.1.2:40010", "10.0.1.1:3478", 0x4010, DATA, &[]);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.3:40011"), &channel_data(0x4011, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "hairpin v4 (peer is another allocation's relayed address)",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedHairpinV4,
        output: Some(o.frame(ONLINK_MAC, R0_MAC)),
    });
    let i = c2p_in("[fd00:1::2]:40010", "[fd00:1::1]:3478", 0x4010, DATA, &[]);
    let mut o = Udp::new(sa("[fd00:1::1]:3478"), sa("[fd00:1::3]:40011"), &channel_data(0x4011, DATA, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "hairpin v6",
        ingress: "r0",
        input: i.frame(R0_MAC, C0_MAC),
        action: XDP_TX,
        verdict: Verdict::ForwardedHairpinV6,
        output: Some(o.frame(ONLINK_MAC, R0_MAC)),
    });
    // Padding and the Ethernet trailer are trimmed; the data length field stays.
    let odd = &DATA[..5];
    let i = c2p_in("10.0.1.2:40010", "10.0.1.1:3478", 0x4010, odd, &[0xde, 0xad, 0xbe]);
    let mut input = i.frame(R0_MAC, C0_MAC);
    input.resize(70, 0x77);
    let mut o = Udp::new(sa("10.0.1.1:3478"), sa("10.0.1.3:40011"), &channel_data(0x4011, odd, &[]));
    o.ttl = 63;
    rows.push(Row {
        name: "hairpin v4 padding and trailer trimmed",
        ingress: "r0",
        input,
        action: XDP_TX,
        verdict: Verdict::ForwardedHairpinV4,
        output: Some(o.frame(ONLINK_MAC, R0_MAC)),
    });
    let miss = c2p_in("10.0.1.2:40012", "10.0.1.1:3478", 0x4012, DATA, &[]);
    rows.push(pass(
        "hairpin miss (local peer, no binding back)",
        "r0",
        miss.frame(R0_MAC, C0_MAC),
        Verdict::HairpinMiss,
    ));
}

fn negative_rows(rows: &mut Vec<Row>) {
    let good = || c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, DATA, &[]);
    let good_frame = || good().frame(R0_MAC, C0_MAC);
    let mut arp = vec![0xff; 6];
    arp.extend_from_slice(&C0_MAC);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0u8; 28]);
    rows.push(pass("ARP", "r0", arp, Verdict::NotIp));
    let mut vlan = good_frame();
    vlan.splice(12..12, [0x81, 0x00, 0x00, 0x05]);
    rows.push(pass("802.1Q tag", "r0", vlan, Verdict::Vlan));
    let mut tcp = good_frame();
    tcp[14 + 9] = 6;
    rows.push(pass("TCP", "r0", tcp, Verdict::NotUdp));
    let mut opts = good_frame();
    opts[14] = 0x46;
    rows.push(pass("IPv4 options", "r0", opts, Verdict::IpOptions));
    let mut frag = good_frame();
    frag[14 + 6] = 0x20; // MF
    rows.push(pass("IPv4 fragment (MF)", "r0", frag, Verdict::Fragment));
    let mut frag_off = good_frame();
    frag_off[14 + 7] = 0x10; // offset 16
    rows.push(pass("IPv4 fragment (offset)", "r0", frag_off, Verdict::Fragment));
    let v6 = || c2p_in("[fd00:1::2]:40000", "[fd00:1::1]:3478", 0x4001, DATA, &[]).frame(R0_MAC, C0_MAC);
    let mut frag6 = v6();
    frag6[14 + 6] = 44;
    rows.push(pass("IPv6 fragment header", "r0", frag6, Verdict::Fragment));
    let mut hbh = v6();
    hbh[14 + 6] = 0;
    rows.push(pass("IPv6 hop-by-hop header", "r0", hbh, Verdict::Ipv6ExtHeader));
    let mut short = good_frame();
    short.truncate(short.len() - 10);
    rows.push(pass("IP length beyond frame", "r0", short, Verdict::Malformed));
    let mut ttl = good();
    ttl.ttl = 1;
    rows.push(pass("TTL 1", "r0", ttl.frame(R0_MAC, C0_MAC), Verdict::TtlExpired));
    let mut hop = c2p_in("[fd00:1::2]:40000", "[fd00:1::1]:3478", 0x4001, DATA, &[]);
    hop.ttl = 1;
    rows.push(pass("hop limit 1", "r0", hop.frame(R0_MAC, C0_MAC), Verdict::TtlExpired));
    let stun = Udp::new(sa("10.0.1.2:40000"), sa("10.0.1.1:3478"), &[0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]);
    rows.push(pass("STUN Binding to 3478", "r0", stun.frame(R0_MAC, C0_MAC), Verdict::NotChannelData));
    let bad = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x8000, DATA, &[]);
    rows.push(pass("first bits 0b10 (channel 0x8000)", "r0", bad.frame(R0_MAC, C0_MAC), Verdict::BadChannel));
    let unbound = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x5000, DATA, &[]);
    rows.push(pass("RFC 5766 channel 0x5000, not bound", "r0", unbound.frame(R0_MAC, C0_MAC), Verdict::C2pMiss));
    let mut long = channel_data(0x4001, DATA, &[]);
    long[3] += 8;
    let long = Udp::new(sa("10.0.1.2:40000"), sa("10.0.1.1:3478"), &long);
    rows.push(pass("ChannelData length > UDP", "r0", long.frame(R0_MAC, C0_MAC), Verdict::LengthMismatch));
    let pad4 = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, DATA, &[0, 0, 0, 0]);
    rows.push(pass("4 trailing bytes", "r0", pad4.frame(R0_MAC, C0_MAC), Verdict::LengthMismatch));
    let miss = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4fff, DATA, &[]);
    rows.push(pass("unbound channel", "r0", miss.frame(R0_MAC, C0_MAC), Verdict::C2pMiss));
    let stranger = Udp::new(sa("10.0.2.2:61000"), sa("10.0.2.1:50000"), DATA);
    rows.push(pass("unknown peer port", "r1", stranger.frame(R1_MAC, P0_MAC), Verdict::P2cMiss));
    let exp = c2p_in("10.0.1.2:40003", "10.0.1.1:3478", 0x4003, DATA, &[]);
    rows.push(pass("expired binding", "r0", exp.frame(R0_MAC, C0_MAC), Verdict::Expired));
    let mixed = c2p_in("10.0.1.2:40004", "10.0.1.1:3478", 0x4004, DATA, &[]);
    rows.push(pass("v4 client, v6 peer", "r0", mixed.frame(R0_MAC, C0_MAC), Verdict::MixedFamily));
    let noneigh = c2p_in("10.0.1.2:40005", "10.0.1.1:3478", 0x4005, DATA, &[]);
    rows.push(pass("no neighbour", "r0", noneigh.frame(R0_MAC, C0_MAC), Verdict::FibNoNeighbour));
    let noroute = c2p_in("10.0.1.2:40006", "10.0.1.1:3478", 0x4006, DATA, &[]);
    rows.push(pass("no route", "r0", noroute.frame(R0_MAC, C0_MAC), Verdict::FibFailed));
    let nodev = c2p_in("10.0.1.2:40007", "10.0.1.1:3478", 0x4007, DATA, &[]);
    rows.push(pass("egress not in devmap", "r0", nodev.frame(R0_MAC, C0_MAC), Verdict::NoDevmapEntry));
    // 1472 bytes of UDP payload fill a 1500 MTU; +4 for ChannelData does not fit.
    let big = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), &[0x5a; 1472]);
    rows.push(pass("p2c over MTU", "r1", big.frame(R1_MAC, P0_MAC), Verdict::MtuExceeded));
    let mut zero6 = Udp::new(sa("[fd00:2::2]:60000"), sa("[fd00:2::1]:50000"), DATA).frame(R1_MAC, P0_MAC);
    zero6[14 + 40 + 6] = 0;
    zero6[14 + 40 + 7] = 0;
    rows.push(pass("IPv6 UDP checksum 0", "r1", zero6, Verdict::Ipv6ZeroChecksum));
}

fn bindings() -> Vec<ChannelBinding> {
    vec![
        binding("10.0.1.2:40000", 0x4001, "10.0.2.2:60000", "10.0.2.1:50000", 600),
        binding("[fd00:1::2]:40000", 0x4001, "[fd00:2::2]:60000", "[fd00:2::1]:50000", 600),
        binding("10.0.1.2:40001", 0x4002, "10.0.1.3:60001", "10.0.1.1:50001", 600),
        binding("[fd00:1::2]:40001", 0x4002, "[fd00:1::3]:60001", "[fd00:1::1]:50001", 600),
        binding("10.0.1.2:40003", 0x4003, "10.0.2.2:60003", "10.0.2.1:50003", -1),
        binding("10.0.1.2:40004", 0x4004, "[fd00:2::2]:60004", "[fd00:2::1]:50004", 600),
        binding("10.0.1.2:40005", 0x4005, "10.0.2.9:60005", "10.0.2.1:50005", 600),
        binding("10.0.1.2:40006", 0x4006, "203.0.113.5:60006", "10.0.2.1:50006", 600),
        binding("10.0.1.2:40007", 0x4007, "10.0.3.2:60007", "10.0.3.1:50007", 600),
        // Hairpin pairs (see hairpin_rows) and a local peer nobody relays for.
        binding("10.0.1.2:40010", 0x4010, "10.0.2.1:50011", "10.0.2.1:50010", 600),
        binding("10.0.1.3:40011", 0x4011, "10.0.2.1:50010", "10.0.2.1:50011", 600),
        binding("[fd00:1::2]:40010", 0x4010, "[fd00:2::1]:50011", "[fd00:2::1]:50010", 600),
        binding("[fd00:1::3]:40011", 0x4011, "[fd00:2::1]:50010", "[fd00:2::1]:50011", 600),
        binding("10.0.1.2:40012", 0x4012, "10.0.2.1:50099", "10.0.2.1:50012", 600),
        binding("10.0.1.2:40020", 0x5000, "10.0.2.2:60020", "10.0.2.1:50020", 600),
        binding("10.0.1.2:40021", 0x7fff, "10.0.2.2:60021", "10.0.2.1:50021", 600),
    ]
}

/// Loads the program in the lab's relay namespace with r0 and r1 as redirect targets.
fn load(lab: &RelayLab) -> XdpOffload {
    lab.relay.run(|| {
        let config = XdpConfig { mode: XdpMode::Native, pin_dir: None, ..XdpConfig::default() };
        let offload = XdpOffload::load(&config).expect("load the XDP program (root, BTF kernel)");
        offload.add_redirect_target("r0").expect("devmap r0");
        offload.add_redirect_target("r1").expect("devmap r1");
        offload
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

#[test]
fn fixture_table() {
    let lab = RelayLab::new("fx");
    let offload = load(&lab);
    for b in bindings() {
        offload.upsert(&b).expect("install binding");
    }
    let mut failures = Vec::new();
    for row in rows() {
        let ifindex = lab.relay.ifindex(row.ingress);
        let before = offload.verdict_counters().expect("verdicts");
        let out =
            lab.relay.run(|| offload.test_run(&row.input, ifindex, 1)).unwrap_or_else(|e| panic!("{}: {e}", row.name));
        let after = offload.verdict_counters().expect("verdicts");
        let bumped: Vec<Verdict> = before.iter().zip(&after).filter(|(b, a)| a.1 != b.1).map(|(b, _)| b.0).collect();
        if bumped != [row.verdict] {
            failures.push(format!("{}: verdicts bumped {bumped:?}, expected [{:?}]", row.name, row.verdict));
        }
        if out.action != row.action {
            failures.push(format!("{}: action {} expected {}", row.name, out.action, row.action));
        }
        let expected = row.output.as_ref().unwrap_or(&row.input);
        if &out.packet != expected {
            failures.push(format!(
                "{}: output differs\n  got      {}\n  expected {}",
                row.name,
                hex(&out.packet),
                hex(expected)
            ));
        }
        if row.output.is_some() {
            if let Err(e) = verify_checksums(&out.packet) {
                failures.push(format!("{}: {e}", row.name));
            }
        }
    }
    assert!(failures.is_empty(), "{} fixture failure(s):\n{}", failures.len(), failures.join("\n"));
    assert_ne!(XDP_DROP, 0);
}

#[test]
fn channel_counters_count_forwarded_packets_and_payload_bytes() {
    let lab = RelayLab::new("cc");
    let offload = load(&lab);
    let b = binding("10.0.1.2:40000", 0x4001, "10.0.2.2:60000", "10.0.2.1:50000", 600);
    offload.upsert(&b).expect("install binding");
    let r0 = lab.relay.ifindex("r0");
    let r1 = lab.relay.ifindex("r1");
    let c2p = c2p_in("10.0.1.2:40000", "10.0.1.1:3478", 0x4001, DATA, &[]).frame(R0_MAC, C0_MAC);
    let p2c = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), &DATA[..5]).frame(R1_MAC, P0_MAC);
    lab.relay.run(|| {
        for _ in 0..3 {
            assert_eq!(offload.test_run(&c2p, r0, 1).expect("run").action, XDP_REDIRECT);
        }
        assert_eq!(offload.test_run(&p2c, r1, 1).expect("run").action, XDP_REDIRECT);
    });
    let c = offload.counters(&b).expect("installed binding has counters");
    assert_eq!(c.client_to_peer_packets, 3);
    assert_eq!(c.client_to_peer_bytes, 3 * DATA.len() as u64);
    assert_eq!(c.peer_to_client_packets, 1);
    assert_eq!(c.peer_to_client_bytes, 5);
    // Removing the binding makes the same packets miss.
    offload.remove(&b).expect("remove");
    let out = lab.relay.run(|| offload.test_run(&c2p, r0, 1).expect("run"));
    assert_eq!(out.action, XDP_PASS);
    assert_eq!(out.packet, c2p);
    assert!(offload.counters(&b).is_none());
}

#[test]
fn hairpin_counts_both_bindings_and_stops_when_the_reverse_binding_goes() {
    let lab = RelayLab::new("hp");
    let offload = load(&lab);
    let a = binding("10.0.1.2:40010", 0x4010, "10.0.2.1:50011", "10.0.2.1:50010", 600);
    let b = binding("10.0.1.3:40011", 0x4011, "10.0.2.1:50010", "10.0.2.1:50011", 600);
    offload.upsert(&a).expect("install A");
    offload.upsert(&b).expect("install B");
    let r0 = lab.relay.ifindex("r0");
    let frame = c2p_in("10.0.1.2:40010", "10.0.1.1:3478", 0x4010, DATA, &[]).frame(R0_MAC, C0_MAC);
    lab.relay.run(|| {
        for _ in 0..2 {
            assert_eq!(offload.test_run(&frame, r0, 1).expect("run").action, XDP_TX);
        }
    });
    let ca = offload.counters(&a).expect("A counters");
    let cb = offload.counters(&b).expect("B counters");
    // A relayed to its peer, B relayed to its client: both allocations are billed.
    assert_eq!((ca.client_to_peer_packets, ca.client_to_peer_bytes), (2, 2 * DATA.len() as u64));
    assert_eq!((ca.peer_to_client_packets, cb.client_to_peer_packets), (0, 0));
    assert_eq!((cb.peer_to_client_packets, cb.peer_to_client_bytes), (2, 2 * DATA.len() as u64));
    // Without B's binding the datagram goes up to the stack untouched (the daemon relays it).
    offload.remove(&b).expect("remove B");
    let out = lab.relay.run(|| offload.test_run(&frame, r0, 1).expect("run"));
    assert_eq!((out.action, &out.packet), (XDP_PASS, &frame));
    let counters = offload.verdict_counters().expect("verdicts");
    assert_eq!(counters[Verdict::ForwardedHairpinV4 as usize], (Verdict::ForwardedHairpinV4, 2));
    assert_eq!(counters[Verdict::HairpinMiss as usize], (Verdict::HairpinMiss, 1));
}

#[test]
fn forwarding_disabled_on_ingress_is_a_counted_pass() {
    let lab = RelayLab::new("fw");
    lab.relay.sysctl("net.ipv4.conf.r1.forwarding", "0");
    let offload = load(&lab);
    let b = binding("10.0.1.2:40000", 0x4001, "10.0.2.2:60000", "10.0.2.1:50000", 600);
    offload.upsert(&b).expect("install binding");
    let r1 = lab.relay.ifindex("r1");
    let p2c = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), DATA).frame(R1_MAC, P0_MAC);
    let out = lab.relay.run(|| offload.test_run(&p2c, r1, 1).expect("run"));
    assert_eq!(out.action, XDP_PASS);
    assert_eq!(out.packet, p2c, "passed untouched");
    let counters = offload.verdict_counters().expect("verdicts");
    assert_eq!(counters[Verdict::FibForwardingDisabled as usize], (Verdict::FibForwardingDisabled, 1));
}
