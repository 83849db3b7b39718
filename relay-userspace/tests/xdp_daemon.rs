//! End to end through the real daemon (issue 4, "Tests"): `relay serve --xdp native` in the
//! relay namespace of a client/relay/peer veth lab, a TURN client in the client namespace, UDP
//! peers in the peer namespace. A bound channel's media must cross the relay in both directions
//! through the XDP program (verdict and per-channel counters), intact with valid checksums, TTL
//! decremented and DSCP/ECN kept, while the daemon's userspace relay counters stay at zero.
//! Traffic the channel does not cover falls back to userspace exactly as RFC 8656 says, and after
//! the allocation is deleted (Refresh LIFETIME 0, §8.2) the kernel bindings are gone and nothing
//! is relayed either way.
//!
//! Needs root, bpffs, `ip` and `ethtool`; anything missing fails the test by name. Channel and
//! permission lifetimes (600 s / 300 s) are not shortened: deletion is the expiry that is tested,
//! plus the expiry the daemon writes into the kernel entry.

mod harness;
mod support;

#[path = "xdp_daemon/capture.rs"]
mod capture;
#[path = "xdp_daemon/daemon.rs"]
mod daemon;
#[path = "xdp_daemon/observe.rs"]
mod observe;
#[path = "xdp_daemon/turn.rs"]
mod turn;

use capture::Capture;
use daemon::Daemon;
use harness::turn_client::Client;
use observe::{channels, drops, userspace_relayed, Status};
use relay::stun::{AddressFamily, ChannelData};
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};
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

struct Family {
    tag: &'static str,
    af: AddressFamily,
    client: IpAddr,
    server: SocketAddr,
    peer: IpAddr,
    relay: IpAddr,
    channel: u16,
    suffix: &'static str,
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
    }
}

#[test]
fn ipv4_channel_media_takes_the_xdp_path_and_stops_at_deallocation() {
    run(&v4());
}

#[test]
fn ipv6_channel_media_takes_the_xdp_path_and_stops_at_deallocation() {
    run(&v6());
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

/// Everything one family's run holds; fields drop in order: sockets, daemon, then the lab.
struct Run<'lab> {
    f: &'lab Family,
    lab: &'lab RelayLab,
    daemon: Daemon<'lab>,
    client: Client,
    relayed: SocketAddr,
    peer: UdpSocket,
    client_cap: Capture,
    peer_cap: Capture,
}

fn run(f: &Family) {
    let lab = RelayLab::new(f.tag);
    // Senders carry full checksums (incremental updates need them; the relay's own STUN
    // answers then verify too); receiving veth ends take redirected frames only with GRO on
    // (or an XDP program).
    for (ns, dev) in [(&lab.client, "c0"), (&lab.peer, "p0")] {
        ns.tx_checksum_off(dev);
        ns.gro_on(dev);
    }
    for dev in ["r0", "r1"] {
        lab.relay.tx_checksum_off(dev);
    }
    let client_cap = Capture::open(&lab.client, "c0");
    let peer_cap = Capture::open(&lab.peer, "p0");
    let daemon = Daemon::start(
        &lab.relay,
        &[
            "--listening-ip",
            "10.0.1.1",
            "--listening-ip",
            "fd00:1::1",
            "--relay-ip",
            "10.0.2.1",
            "--relay-ip",
            "fd00:2::1",
            "--user",
            &format!("{USER}:{PASSWORD}"),
            "--realm",
            "xdp.test",
        ],
    );
    let log = daemon.log();
    assert!(log.contains("native on r0") && log.contains("native on r1"), "XDP not native on r0+r1:\n{log}");
    assert!(!log.contains("forwarding disabled"), "{log}");
    let idle = Status::parse(&daemon.xdp("status"));
    assert_eq!((idle.c2p_entries, idle.p2c_entries), (0, 0), "{}", idle.text);

    let mut client = lab.client.run(|| Client::new(&SocketAddr::new(f.client, 0).to_string(), f.server));
    turn::set_ttl_and_tos(&client.sock, CLIENT_TTL, CLIENT_TOS);
    client.login(USER, PASSWORD);
    let relayed = turn::allocate(&client, f.af);
    assert_eq!(relayed.ip(), f.relay, "relayed address on r1");
    let peer = socket_in(&lab.peer, SocketAddr::new(f.peer, 0));
    turn::set_ttl_and_tos(&peer, PEER_TTL, PEER_TOS);
    let r = Run { f, lab: &lab, daemon, client, relayed, peer, client_cap, peer_cap };

    r.bind_and_check_installed();
    r.media_through_xdp();
    r.unbound_traffic_falls_back_to_userspace();
    r.deallocate_and_check_nothing_relayed();
    let Run { daemon, .. } = r;
    daemon.stop();
}

impl Run<'_> {
    fn peer_addr(&self) -> SocketAddr {
        self.peer.local_addr().expect("bound")
    }

    fn client_addr(&self) -> SocketAddr {
        self.client.sock.local_addr().expect("bound")
    }

    fn status(&self) -> Status {
        Status::parse(&self.daemon.xdp("status"))
    }

    /// RFC 8656 §12.2: ChannelBind installs the channel (and its permission); the daemon puts
    /// both directions into the kernel before it answers.
    fn bind_and_check_installed(&self) {
        turn::channel_bind(&self.client, self.f.channel, self.peer_addr());
        let status = self.status();
        assert_eq!((status.c2p_entries, status.p2c_entries), (1, 1), "{}", status.text);
        let text = self.daemon.xdp("channels");
        let rows = channels(&text);
        assert_eq!(rows.len(), 1, "{text}");
        let row = &rows[0];
        assert_eq!((row.client, row.channel, row.peer), (self.client_addr(), self.f.channel, self.peer_addr()));
        assert_eq!((row.c2p_packets, row.p2c_packets), (0, 0), "{text}");
        // The kernel entry carries the binding's own expiry: the permission's 300 s.
        let left = row.expires_s.unwrap_or_else(|| panic!("fresh binding already expired:\n{text}"));
        assert!(left > 0 && left <= PERMISSION_LIFETIME_S, "expiry {left}s not within the permission:\n{text}");
    }

    /// Both directions, every padding case; checked at the sockets and on the wire.
    fn media_through_xdp(&self) {
        let (f, peer_addr, client_addr) = (self.f, self.peer_addr(), self.client_addr());
        let before = self.status();
        self.client_cap.drain();
        self.peer_cap.drain();
        for (i, &len) in SIZES.iter().enumerate() {
            let data = payload(0xc2, i, len);
            self.client.send_raw(&turn::channel_data(f.channel, &data, i % 2 == 0));
            let (from, got) = turn::recv(&self.peer, "client->peer ChannelData");
            assert_eq!(from, self.relayed, "the peer sees the relayed address");
            assert_eq!(got, data, "client->peer payload {i} ({len} bytes) intact");
        }
        for (i, &len) in SIZES.iter().enumerate() {
            let data = payload(0x2c, i, len);
            self.peer.send_to(&data, self.relayed).expect("peer send");
            let (from, got) = turn::recv(&self.client.sock, "peer->client ChannelData");
            assert_eq!(from, f.server, "the client sees the server address");
            let cd = ChannelData::parse(&got).unwrap_or_else(|e| panic!("not ChannelData ({e:?}): {got:02x?}"));
            assert_eq!((cd.channel, cd.data), (f.channel, &data[..]), "peer->client payload {i} ({len} bytes)");
            assert!(got.len() - 4 - len < 4, "at most 3 padding bytes (RFC 8656 §12.5)");
        }
        // Counters first: if userspace relayed the media, that is the failure to report.
        self.check_media_counters(&before);
        self.check_wire(peer_addr, client_addr);
    }

    /// Frames as received: checksums verified from scratch, TTL decremented, TOS kept.
    fn check_wire(&self, peer_addr: SocketAddr, client_addr: SocketAddr) {
        let at_peer = self.peer_cap.udp_to(peer_addr);
        assert_eq!(at_peer.len(), SIZES.len(), "frames at the peer: {at_peer:?}");
        for (seen, (i, &len)) in at_peer.iter().zip(SIZES.iter().enumerate()) {
            assert_eq!(seen.src, self.relayed);
            assert_eq!((seen.ttl, seen.tos), (CLIENT_TTL - 1, CLIENT_TOS), "TTL -1, DSCP/ECN kept (c2p)");
            assert_eq!(seen.payload, payload(0xc2, i, len));
        }
        let at_client = self.client_cap.udp_to(client_addr);
        assert_eq!(at_client.len(), SIZES.len(), "frames at the client: {at_client:?}");
        for seen in &at_client {
            assert_eq!(seen.src, self.f.server);
            assert_eq!((seen.ttl, seen.tos), (PEER_TTL - 1, PEER_TOS), "TTL -1, DSCP/ECN kept (p2c)");
        }
    }

    /// The kernel forwarded every packet; the daemon's userspace relay saw none.
    fn check_media_counters(&self, before: &Status) {
        let n = SIZES.len() as u64;
        let bytes: u64 = SIZES.iter().map(|&l| l as u64).sum();
        let s = self.f.suffix;
        let after = self.status();
        let (c2p, p2c) = (format!("forwarded_c2p_{s}"), format!("forwarded_p2c_{s}"));
        for v in [&c2p, &p2c] {
            let got = after.verdict(v) - before.verdict(v);
            assert_eq!(got, n, "XDP forwarded {got} of {n} packets ({v}):\n{}", after.text);
        }
        // Nothing else moved but link-local noise: ND is not UDP, MLD reports carry a hop-by-hop
        // header, and the kernel may send either at any time.
        const NOISE: [&str; 3] = ["pass_not_ip", "pass_not_udp", "pass_ipv6_ext_header"];
        let expected = |k: &str| k == c2p || k == p2c || NOISE.contains(&k);
        let changed = after.changed_since(before);
        let unexpected: Vec<_> = changed.iter().filter(|(k, _)| !expected(k)).collect();
        assert!(unexpected.is_empty(), "other verdicts moved during the media: {unexpected:?}\n{}", after.text);
        let text = self.daemon.xdp("channels");
        let row = &channels(&text)[0];
        assert_eq!((row.c2p_packets, row.c2p_bytes), (n, bytes), "per-channel c2p counters:\n{text}");
        assert_eq!((row.p2c_packets, row.p2c_bytes), (n, bytes), "per-channel p2c counters:\n{text}");
        let metrics = self.daemon.metrics();
        for (what, count) in userspace_relayed(&metrics) {
            assert_eq!(count, 0, "userspace relayed {count} packets ({what}) that XDP should have forwarded");
        }
    }

    /// RFC 8656 §9: a permission covers the peer's IP, but only the bound transport address
    /// uses the channel (§12). Another port of the same peer gets Data indications (§11.4) and
    /// is reached with Send indications (§11.2): userspace, and counted there.
    fn unbound_traffic_falls_back_to_userspace(&self) {
        let before = self.status();
        let other = socket_in(&self.lab.peer, SocketAddr::new(self.f.peer, 0));
        let other_addr = other.local_addr().expect("bound");
        other.send_to(b"from a port without a channel", self.relayed).expect("send");
        let (from, got) = turn::recv(&self.client.sock, "Data indication");
        assert_eq!(from, self.f.server);
        assert_eq!(turn::data_indication(&got), (other_addr, b"from a port without a channel".to_vec()));
        turn::send_indication(&self.client, other_addr, b"send indication");
        let (from, got) = turn::recv(&other, "Send indication payload");
        assert_eq!((from, &got[..]), (self.relayed, &b"send indication"[..]));
        let after = self.status();
        assert_eq!(after.verdict("pass_p2c_miss") - before.verdict("pass_p2c_miss"), 1, "{}", after.text);
        let metrics = self.daemon.metrics();
        let relayed = userspace_relayed(&metrics);
        assert_eq!(relayed[0], ("core c2p", 1), "the Send indication, relayed by the core");
        assert_eq!(relayed[1], ("core p2c", 1), "the Data indication, relayed by the core");
        turn::assert_nothing_queued(&self.peer, "bound peer during the fallback");
    }

    /// RFC 8656 §8.2: LIFETIME 0 deletes the allocation with its channels and permissions;
    /// ChannelData is then discarded (§12.6) and the relayed address is gone, so nothing crosses.
    fn deallocate_and_check_nothing_relayed(&self) {
        turn::deallocate(&self.client);
        let before = self.status();
        assert_eq!((before.c2p_entries, before.p2c_entries), (0, 0), "kernel bindings left:\n{}", before.text);
        let text = self.daemon.xdp("channels");
        assert!(channels(&text).is_empty(), "`relay xdp channels` still lists:\n{text}");
        let metrics_before = self.daemon.metrics();
        let relayed_before = userspace_relayed(&metrics_before);
        let unbound_before = drops(&metrics_before, "unbound_channel");

        self.peer_cap.drain();
        self.client_cap.drain();
        let stale = 3;
        for i in 0..stale {
            self.client.send_raw(&turn::channel_data(self.f.channel, &payload(0xdd, i, 40), false));
        }
        // Both verdicts are final: XDP passed them, then the daemon discarded them.
        eventually("the daemon discards the stale ChannelData", || {
            let m = self.daemon.metrics();
            (drops(&m, "unbound_channel") - unbound_before == stale as u64).then_some(())
        });
        let after = self.status();
        assert_eq!(after.verdict("pass_c2p_miss") - before.verdict("pass_c2p_miss"), stale as u64, "{}", after.text);

        // The relayed port is closed: the peer's datagram draws ICMP port unreachable.
        self.peer.connect(self.relayed).expect("connect");
        self.peer.send(b"after deletion").expect("peer send");
        let mut buf = [0u8; 64];
        match self.peer.recv(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
            other => panic!("peer->deleted relayed address: expected ICMP port unreachable, got {other:?}"),
        }
        let after = self.status();
        assert_eq!(after.verdict("pass_p2c_miss") - before.verdict("pass_p2c_miss"), 1, "{}", after.text);
        let fwd = |st: &Status| {
            let s = self.f.suffix;
            st.verdict(&format!("forwarded_c2p_{s}")) + st.verdict(&format!("forwarded_p2c_{s}"))
        };
        assert_eq!(fwd(&after), fwd(&before), "XDP forwarded after deletion:\n{}", after.text);
        assert_eq!(userspace_relayed(&self.daemon.metrics()), relayed_before, "userspace relayed after deletion");
        turn::assert_nothing_queued(&self.peer, "peer after deletion");
        turn::assert_nothing_queued(&self.client.sock, "client after deletion");
        assert!(self.peer_cap.udp_to(self.peer_addr()).is_empty(), "a frame reached the peer after deletion");
        assert!(self.client_cap.udp_to(self.client_addr()).is_empty(), "a frame reached the client after deletion");
    }
}
