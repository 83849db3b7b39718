//! The steps of one family's run, in order: bind, media, media with the daemon stopped,
//! fallback for traffic the channel does not cover, deletion.

use crate::capture::Capture;
use crate::daemon::Daemon;
use crate::harness::turn_client::Client;
use crate::observe::{channels, drops, userspace_relayed, Status};
use crate::support::relay_lab::RelayLab;
use crate::{
    eventually, payload, socket_in, turn, Family, CLIENT_TOS, CLIENT_TTL, PEER_TOS, PEER_TTL, PERMISSION_LIFETIME_S,
    SIZES,
};
use relay::offload::xdp::{monotonic_now_ns, read_channels};
use relay::stun::{attr_type, ChannelData, Class, Method};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Everything one family's run holds. The daemon (a field) stops before the sockets close;
/// the lab outlives the run.
pub struct Run<'lab> {
    pub f: &'lab Family,
    pub lab: &'lab RelayLab,
    pub daemon: Daemon<'lab>,
    pub client: Client,
    pub relayed: SocketAddr,
    pub peer: UdpSocket,
    pub client_cap: Capture,
    pub peer_cap: Capture,
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
    pub fn bind_and_check_installed(&self) {
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

    /// The kernel entry's own expiry (CLOCK_MONOTONIC ns, read from the pins at full
    /// precision) follows the daemon's lifetimes: a permission refresh (RFC 8656 §9.2) and a
    /// channel refresh (§12.2, which also refreshes the permission) move it to now + 300 s;
    /// an allocation refresh (§8.2) leaves it alone.
    pub fn refreshes_move_the_kernel_expiry(&self) {
        let bound = self.kernel_expiry();
        // A gap so "later" is unambiguous; the check below does not depend on its length.
        std::thread::sleep(Duration::from_millis(20));
        let r = self.client.create_permission(self.peer_addr());
        assert_eq!(r.class(), Class::Success, "CreatePermission refresh: {:?}", r.error());
        let permitted = self.kernel_expiry();
        assert!(permitted.0 > bound.1, "permission refresh did not move the kernel expiry: {bound:?} -> {permitted:?}");
        std::thread::sleep(Duration::from_millis(20));
        turn::channel_bind(&self.client, self.f.channel, self.peer_addr());
        let rebound = self.kernel_expiry();
        assert!(
            rebound.0 > permitted.1,
            "channel refresh did not move the kernel expiry: {permitted:?} -> {rebound:?}"
        );
        let r = self.client.request(Method::REFRESH, |b| {
            b.add_u32(attr_type::LIFETIME, 600);
        });
        assert_eq!(r.class(), Class::Success, "allocation Refresh: {:?}", r.error());
        let refreshed = self.kernel_expiry();
        // Same entry: the intervals overlap (1 ms for the daemon's Instant -> ns conversion).
        let slack = 1_000_000;
        assert!(
            refreshed.0 <= rebound.1 + slack && rebound.0 <= refreshed.1 + slack,
            "an allocation refresh moved the channel's kernel expiry: {rebound:?} -> {refreshed:?}"
        );
    }

    /// `(earliest, latest)` CLOCK_MONOTONIC ns the single binding's kernel entry can expire at:
    /// `expires_in` is relative to a clock read inside `read_channels`, bracketed here.
    fn kernel_expiry(&self) -> (u64, u64) {
        let pins = std::path::Path::new(relay_common::PIN_DIR);
        eventually("a read bracketed within 1 ms", || {
            self.daemon.assert_pins_ours();
            let before = monotonic_now_ns();
            let rows = read_channels(pins).expect("read the pinned channel map");
            let after = monotonic_now_ns();
            assert_eq!(rows.len(), 1, "{rows:?}");
            let left = rows[0].expires_in.expect("live binding").as_nanos() as u64;
            assert!(left <= PERMISSION_LIFETIME_S * 1_000_000_000, "{left} ns left: beyond the permission");
            (after - before < 1_000_000).then_some((before + left, after + left))
        })
    }

    /// Both directions, every padding case; checked at the sockets and on the wire.
    pub fn media_through_xdp(&self) {
        let before = self.status();
        self.exchange();
        // Counters first: if userspace relayed the media, that is the failure to report.
        self.check_media_counters(&before);
        self.check_wire(true);
    }

    /// With the daemon stopped (SIGSTOP) nothing in userspace can relay, yet the channel keeps
    /// carrying media: the kernel entries live on their own until their expiry, and the
    /// counters stay readable from the pins without the daemon.
    pub fn media_while_daemon_stopped(&self) {
        let row = |text: &str| {
            let rows = channels(text);
            assert_eq!(rows.len(), 1, "{text}");
            (rows[0].c2p_packets, rows[0].p2c_packets)
        };
        let before = row(&self.daemon.xdp("channels"));
        let _paused = self.daemon.pause();
        let rounds = 3;
        for i in 0..rounds {
            let data = payload(0x57, i, 64);
            self.client.send_raw(&turn::channel_data(self.f.channel, &data, false));
            assert_eq!(turn::recv(&self.peer, "client->peer, daemon stopped"), (self.relayed, data.clone()));
            self.peer.send_to(&data, self.relayed).expect("peer send");
            let (from, got) = turn::recv(&self.client.sock, "peer->client, daemon stopped");
            assert_eq!(from, self.f.server);
            assert_eq!(ChannelData::parse(&got).map(|c| (c.channel, c.data)), Ok((self.f.channel, &data[..])));
        }
        let text = self.daemon.xdp("channels");
        let n = rounds as u64;
        assert_eq!(row(&text), (before.0 + n, before.1 + n), "channel counters while stopped:\n{text}");
    }

    /// A v4 client with a v6 relayed address (RFC 8656 §7.1 REQUESTED-ADDRESS-FAMILY): the
    /// kernel entries exist, but the program leaves translation between families to
    /// userspace and counts each packet as `pass_mixed_family` (issue 4).
    pub fn mixed_media_through_userspace(&self) {
        let before = self.status();
        let metrics_before = userspace_relayed(&self.daemon.metrics());
        self.exchange();
        let n = SIZES.len() as u64;
        let after = self.status();
        let mixed = after.verdict("pass_mixed_family") - before.verdict("pass_mixed_family");
        assert_eq!(mixed, 2 * n, "both directions counted as mixed family:\n{}", after.text);
        for v in ["forwarded_c2p_v4", "forwarded_p2c_v4", "forwarded_c2p_v6", "forwarded_p2c_v6"] {
            assert_eq!(after.verdict(v), before.verdict(v), "XDP forwarded across families:\n{}", after.text);
        }
        let relayed = userspace_relayed(&self.daemon.metrics());
        let moved = |i: usize| relayed[i].1 - metrics_before[i].1;
        assert_eq!((moved(0) + moved(2), moved(1) + moved(3)), (n, n), "userspace relayed (c2p, p2c): {relayed:?}");
        self.check_wire(false);
    }

    /// Every size both ways through the channel, checked at the receiving sockets.
    fn exchange(&self) {
        let f = self.f;
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
    }

    /// Frames as received, checksums verified from scratch; for the fast path also TTL
    /// decremented and TOS kept (userspace sends with its own socket's TTL and TOS).
    fn check_wire(&self, forwarded: bool) {
        let at_peer = self.peer_cap.udp_to(self.peer_addr());
        assert_eq!(at_peer.len(), SIZES.len(), "frames at the peer: {at_peer:?}");
        for (seen, (i, &len)) in at_peer.iter().zip(SIZES.iter().enumerate()) {
            assert_eq!(seen.src, self.relayed);
            assert_eq!(seen.payload, payload(0xc2, i, len));
            if forwarded {
                assert_eq!((seen.ttl, seen.tos), (CLIENT_TTL - 1, CLIENT_TOS), "TTL -1, DSCP/ECN kept (c2p)");
            }
        }
        let at_client = self.client_cap.udp_to(self.client_addr());
        assert_eq!(at_client.len(), SIZES.len(), "frames at the client: {at_client:?}");
        for seen in &at_client {
            assert_eq!(seen.src, self.f.server);
            if forwarded {
                assert_eq!((seen.ttl, seen.tos), (PEER_TTL - 1, PEER_TOS), "TTL -1, DSCP/ECN kept (p2c)");
            }
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
    pub fn unbound_traffic_falls_back_to_userspace(&self) {
        let before = self.status();
        let relayed_before = userspace_relayed(&self.daemon.metrics());
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
        let relayed = userspace_relayed(&self.daemon.metrics());
        let moved: Vec<u64> = relayed.iter().zip(relayed_before).map(|(now, then)| now.1 - then.1).collect();
        // [core c2p, core p2c, fast c2p, fast p2c]: the Send and the Data indication, by the core.
        assert_eq!(moved, [1, 1, 0, 0], "userspace relay counters moved by {moved:?}: {relayed:?}");
        turn::assert_nothing_queued(&self.peer, "bound peer during the fallback");
    }

    /// RFC 8656 §8.2: LIFETIME 0 deletes the allocation with its channels and permissions;
    /// ChannelData is then discarded (§12.6) and the relayed address is gone, so nothing crosses.
    pub fn deallocate_and_check_nothing_relayed(&self) {
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
