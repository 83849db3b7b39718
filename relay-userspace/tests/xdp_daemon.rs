//! End to end through the real daemon (issue 4, "Tests"): `relay serve --xdp native` in the
//! relay namespace of a client/relay/peer veth lab, a TURN client in the client namespace, UDP
//! peers in the peer namespace. A bound channel's media must cross the relay in both directions
//! through the XDP program (verdict and per-channel counters), intact with valid checksums, TTL
//! decremented and DSCP/ECN kept, while the daemon's userspace relay counters stay at zero.
//! Traffic the channel does not cover falls back to userspace exactly as RFC 8656 says, and after
//! the allocation is deleted (Refresh LIFETIME 0, §8.2) the kernel bindings are gone and nothing
//! is relayed either way.
//!
//! Also: the same with a mixed-family channel (userspace, counted), with the daemon stopped
//! (the kernel keeps forwarding), after a crash (nothing attached, a restart starts clean), and
//! with coturn's `turnutils_uclient` as an independent client.
//!
//! Needs root, bpffs, `ip`, `ethtool` and coturn's tools; anything missing fails the test by
//! name. Channel and permission lifetimes (600 s / 300 s) are not shortened (the daemon has no
//! option for it): deletion is the expiry that is tested, plus the expiry the daemon writes
//! into the kernel entry. The daemon pins at the host-wide /sys/fs/bpf/relay, so the tests
//! take turns (see `daemon.rs`).

mod harness;
mod support;

#[path = "xdp_daemon/capture.rs"]
mod capture;
#[path = "xdp_daemon/crash.rs"]
mod crash;
#[path = "xdp_daemon/daemon.rs"]
mod daemon;
#[path = "xdp_daemon/observe.rs"]
mod observe;
#[path = "xdp_daemon/steps.rs"]
mod steps;
#[path = "xdp_daemon/turn.rs"]
mod turn;
#[path = "xdp_daemon/uclient.rs"]
mod uclient;

use capture::Capture;
use daemon::Daemon;
use harness::turn_client::Client;
use observe::Status;
use relay::stun::AddressFamily;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
use steps::Run;
use support::relay_lab::RelayLab;

const USER: &str = "alice";
const PASSWORD: &str = "kernel-path";
/// RFC 8656 §9: permissions last 300 s; the kernel entry expires with the earlier of the
/// permission and the channel (600 s, §12).
const PERMISSION_LIFETIME_S: u64 = 300;
/// Senders' TTL / hop limit and TOS / traffic class (DSCP EF + ECT(1); AF11 + ECT(0)).
const CLIENT_TTL: u8 = 50;
const CLIENT_TOS: u8 = 0xb9;
const PEER_TTL: u8 = 40;
const PEER_TOS: u8 = 0x2a;
/// Payload sizes: every padding remainder, plus larger datagrams.
const SIZES: [usize; 8] = [1, 2, 3, 4, 5, 100, 333, 1200];

pub struct Family {
    pub tag: &'static str,
    pub af: AddressFamily,
    pub client: IpAddr,
    pub server: SocketAddr,
    pub peer: IpAddr,
    pub relay: IpAddr,
    pub channel: u16,
    pub suffix: &'static str,
    /// Client and relayed address in different families: userspace relays, XDP counts.
    pub mixed: bool,
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

fn v4() -> Family {
    Family {
        tag: "d4",
        af: AddressFamily::V4,
        client: ip("10.0.1.2"),
        server: "10.0.1.1:3478".parse().expect("addr"),
        peer: ip("10.0.2.2"),
        relay: ip("10.0.2.1"),
        channel: 0x4001,
        suffix: "v4",
        mixed: false,
    }
}

fn v6() -> Family {
    Family {
        tag: "d6",
        af: AddressFamily::V6,
        client: ip("fd00:1::2"),
        server: "[fd00:1::1]:3478".parse().expect("addr"),
        peer: ip("fd00:2::2"),
        relay: ip("fd00:2::1"),
        channel: 0x4abc,
        suffix: "v6",
        mixed: false,
    }
}

/// IPv4 client, IPv6 relayed address and peer.
fn mixed() -> Family {
    Family { tag: "dm", client: ip("10.0.1.2"), server: "10.0.1.1:3478".parse().expect("addr"), mixed: true, ..v6() }
}

#[test]
fn ipv4_channel_media_takes_the_xdp_path_and_stops_at_deallocation() {
    run(&v4());
}

#[test]
fn ipv6_channel_media_takes_the_xdp_path_and_stops_at_deallocation() {
    run(&v6());
}

#[test]
fn mixed_family_channel_is_relayed_in_userspace_and_counted() {
    run(&mixed());
}

/// A UDP socket bound inside `ns`, usable from any thread; the timeout only guards hangs.
fn socket_in(ns: &support::Netns, addr: SocketAddr) -> UdpSocket {
    ns.run(move || {
        let s = UdpSocket::bind(addr).unwrap_or_else(|e| panic!("bind {addr}: {e}"));
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s
    })
}

/// Polls `f` until it returns `Some`; the deadline is a hang guard, not a timing assertion.
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn payload(dir: u8, i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|k| (k as u8).wrapping_mul(31) ^ dir ^ (i as u8).wrapping_mul(7)).collect()
}

fn run(f: &Family) {
    let lab = lab(f.tag);
    let client_cap = Capture::open(&lab.client, "c0");
    let peer_cap = Capture::open(&lab.peer, "p0");
    let daemon = start_daemon(&lab);
    let log = daemon.log();
    assert!(log.contains("native on r0") && log.contains("native on r1"), "XDP not native on r0+r1:\n{log}");
    assert!(!log.contains("forwarding disabled"), "{log}");
    let idle = Status::parse(&daemon.xdp("status"));
    assert_eq!((idle.c2p_entries, idle.p2c_entries), (0, 0), "{}", idle.text);

    let client = client_in(&lab, f);
    let relayed = turn::allocate(&client, f.af);
    assert_eq!(relayed.ip(), f.relay, "relayed address on r1");
    let peer = socket_in(&lab.peer, SocketAddr::new(f.peer, 0));
    turn::set_ttl_and_tos(&peer, PEER_TTL, PEER_TOS);
    let r = Run { f, lab: &lab, daemon, client, relayed, peer, client_cap, peer_cap };

    r.bind_and_check_installed();
    r.refreshes_move_the_kernel_expiry();
    if f.mixed {
        r.mixed_media_through_userspace();
    } else {
        r.media_through_xdp();
        r.media_while_daemon_stopped();
    }
    r.unbound_traffic_falls_back_to_userspace();
    r.deallocate_and_check_nothing_relayed();
    let Run { daemon, .. } = r;
    daemon.stop();
}

/// The lab with offloads set for this test. Senders carry full checksums (incremental
/// updates need them; the relay's own STUN answers then verify too); receiving veth ends take
/// redirected frames only with GRO on (or an XDP program).
fn lab(tag: &str) -> RelayLab {
    let lab = RelayLab::new(tag);
    for (ns, dev) in [(&lab.client, "c0"), (&lab.peer, "p0")] {
        ns.tx_checksum_off(dev);
        ns.gro_on(dev);
    }
    for dev in ["r0", "r1"] {
        lab.relay.tx_checksum_off(dev);
    }
    lab
}

/// `--user` is `USER:PASSWORD`.
const SERVE_ARGS: &[&str] = &[
    "--listening-ip",
    "10.0.1.1",
    "--listening-ip",
    "fd00:1::1",
    "--relay-ip",
    "10.0.2.1",
    "--relay-ip",
    "fd00:2::1",
    "--user",
    "alice:kernel-path",
    "--realm",
    "xdp.test",
];

fn start_daemon(lab: &RelayLab) -> Daemon<'_> {
    Daemon::start(&lab.relay, SERVE_ARGS)
}

/// A logged-in TURN client whose socket lives in the client namespace.
fn client_in(lab: &RelayLab, f: &Family) -> Client {
    let mut client = lab.client.run(|| Client::new(&SocketAddr::new(f.client, 0).to_string(), f.server));
    turn::set_ttl_and_tos(&client.sock, CLIENT_TTL, CLIENT_TOS);
    client.login(USER, PASSWORD);
    client
}
