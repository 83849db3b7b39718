//! Benchmark, not a test: ns per packet of the XDP program for each direction and family,
//! measured by the kernel with BPF_PROG_TEST_RUN, on frames that take the full forwarding
//! path (map hit, FIB lookup, rewrite, redirect). Run with
//! `cargo test -p relay-userspace --release --test xdp_bench -- --ignored --nocapture`;
//! prints one `xdp_bench <case> ns_per_packet=<median> mean=<n> baseline=<n> net=<n>` line per
//! case (target: under 100 ns). `baseline` is a non-IP frame, i.e. the measurement overhead
//! plus the cheapest pass; `net` = median - baseline. `pass_*` rows price the slow-path
//! decisions: a map miss, and a FIB lookup that finds no neighbour (the lookup alone).
//! `*_tx` rows have the peer on the client's link (one-NIC deployments: XDP_TX, no redirect);
//! `hairpin_*` rows are both clients of a call on this relay (XDP_TX as well).

mod support;

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use relay::{
    offload::{
        xdp::{self, XdpConfig, XdpMode, XdpOffload},
        ChannelBinding, Offload,
    },
    transport::Transport,
};
use support::{
    packet::{channel_data, Udp},
    relay_lab::*,
};

const XDP_TX: u32 = 3;
const XDP_REDIRECT: u32 = 4;
const SAMPLES: u32 = 20_000;

fn sa(s: &str) -> SocketAddr {
    s.parse().expect("bench address")
}

fn binding(client: &str, server: &str, peer: &str, relay: &str) -> ChannelBinding {
    ChannelBinding {
        client: sa(client),
        server: sa(server),
        channel: if relay.ends_with(":50011") { 0x4011 } else { 0x4001 },
        peer: sa(peer),
        relay: sa(relay),
        expires_at: Instant::now() + Duration::from_secs(3600),
        transport: Transport::Udp,
        user: Arc::from("bench"),
    }
}

#[test]
#[ignore = "benchmark: run explicitly (cargo xtask bench)"]
fn xdp_ns_per_packet() {
    let lab = RelayLab::new("bn");
    let offload = lab.relay.run(|| {
        let config = XdpConfig { mode: XdpMode::Native, pin_dir: None, ..XdpConfig::default() };
        let o = XdpOffload::load(&config).expect("load the XDP program");
        o.add_redirect_target("r0").expect("devmap r0");
        o.add_redirect_target("r1").expect("devmap r1");
        o
    });
    offload.upsert(&binding("10.0.1.2:40000", "10.0.1.1:3478", "10.0.2.2:60000", "10.0.2.1:50000")).expect("v4");
    offload
        .upsert(&binding("[fd00:1::2]:40000", "[fd00:1::1]:3478", "[fd00:2::2]:60000", "[fd00:2::1]:50000"))
        .expect("v6");
    offload.upsert(&binding("10.0.1.2:40009", "10.0.1.1:3478", "10.0.2.9:60009", "10.0.2.1:50009")).expect("v4");
    // Peer on the client link: leaves by the interface it came in on (XDP_TX, no redirect).
    offload.upsert(&binding("10.0.1.2:40002", "10.0.1.1:3478", "10.0.1.3:60002", "10.0.1.1:50002")).expect("tx");
    // Hairpin pairs: each client's peer is the other's relayed address on this relay.
    for (srv, a, b, ra, rb) in [
        ("10.0.1.1:3478", "10.0.1.2:40010", "10.0.1.3:40011", "10.0.2.1:50010", "10.0.2.1:50011"),
        ("[fd00:1::1]:3478", "[fd00:1::2]:40010", "[fd00:1::3]:40011", "[fd00:2::1]:50010", "[fd00:2::1]:50011"),
    ] {
        offload.upsert(&binding(a, srv, rb, ra)).expect("hairpin A");
        offload.upsert(&binding(b, srv, ra, rb)).expect("hairpin B");
    }
    // 160 bytes: a typical audio RTP packet with SRTP tag.
    let media = [0x5au8; 160];
    let cd = channel_data(0x4001, &media, &[]);
    let c2p4 = Udp::new(sa("10.0.1.2:40000"), sa("10.0.1.1:3478"), &cd).frame(R0_MAC, C0_MAC);
    let c2p6 = Udp::new(sa("[fd00:1::2]:40000"), sa("[fd00:1::1]:3478"), &cd).frame(R0_MAC, C0_MAC);
    let p2c4 = Udp::new(sa("10.0.2.2:60000"), sa("10.0.2.1:50000"), &media).frame(R1_MAC, P0_MAC);
    let p2c6 = Udp::new(sa("[fd00:2::2]:60000"), sa("[fd00:2::1]:50000"), &media).frame(R1_MAC, P0_MAC);
    let r0 = lab.relay.ifindex("r0");
    let r1 = lab.relay.ifindex("r1");
    let mut arp = vec![0xffu8; 6];
    arp.extend_from_slice(&C0_MAC);
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0u8; 28]);
    let miss =
        Udp::new(sa("10.0.1.2:40000"), sa("10.0.1.1:3478"), &channel_data(0x4002, &media, &[])).frame(R0_MAC, C0_MAC);
    let other = Udp::new(sa("10.0.2.2:61000"), sa("10.0.2.1:50000"), &media).frame(R1_MAC, P0_MAC);
    let nn = Udp::new(sa("10.0.1.2:40009"), sa("10.0.1.1:3478"), &cd).frame(R0_MAC, C0_MAC);
    let hp4 = Udp::new(sa("10.0.1.2:40010"), sa("10.0.1.1:3478"), &cd).frame(R0_MAC, C0_MAC);
    let hp6 = Udp::new(sa("[fd00:1::2]:40010"), sa("[fd00:1::1]:3478"), &cd).frame(R0_MAC, C0_MAC);
    let c2p4tx = Udp::new(sa("10.0.1.2:40002"), sa("10.0.1.1:3478"), &cd).frame(R0_MAC, C0_MAC);
    let p2c4tx = Udp::new(sa("10.0.1.3:60002"), sa("10.0.1.1:50002"), &media).frame(R0_MAC, ONLINK_MAC);
    let cases: [(&str, &[u8], u32); 12] = [
        ("baseline_not_ip", &arp, r0),
        ("pass_no_neigh", &nn, r0),
        ("pass_c2p_miss", &miss, r0),
        ("pass_p2c_miss", &other, r1),
        ("c2p_v4", &c2p4, r0),
        ("c2p_v6", &c2p6, r0),
        ("p2c_v4", &p2c4, r1),
        ("p2c_v6", &p2c6, r1),
        ("c2p_v4_tx", &c2p4tx, r0),
        ("p2c_v4_tx", &p2c4tx, r0),
        ("hairpin_v4", &hp4, r0),
        ("hairpin_v6", &hp6, r0),
    ];
    let results = lab.relay.run(|| xdp::bench(&offload, &cases, SAMPLES).expect("BPF_PROG_TEST_RUN"));
    let baseline = results[0].median.as_nanos();
    for r in &results[1..] {
        if !r.name.starts_with("pass_") {
            // Hairpinned media and `_tx` cases leave by the interface they came in on.
            let want = if r.name.starts_with("hairpin") || r.name.ends_with("_tx") { XDP_TX } else { XDP_REDIRECT };
            assert_eq!(r.action, want, "{}: the benchmark must measure the forwarding path", r.name);
        }
        println!(
            "xdp_bench {} ns_per_packet={} mean={} baseline={baseline} net={} samples={}",
            r.name,
            r.median.as_nanos(),
            r.mean.as_nanos(),
            r.median.as_nanos().saturating_sub(baseline),
            r.samples
        );
    }
}
