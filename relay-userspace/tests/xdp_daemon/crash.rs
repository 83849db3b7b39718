//! A crashed daemon (SIGKILL) must not leave a half-configured fast path behind (issue 4:
//! attach through BPF links): the program leaves the interfaces with the process, the stale
//! bindings in the pinned maps forward nothing, the counters stay readable, and the next
//! daemon starts from clean maps.

use crate::observe::Status;
use crate::{eventually, lab, payload, socket_in, start_daemon, turn, v4, SERVE_ARGS};
use std::net::SocketAddr;

fn xdp_attached(lab: &crate::RelayLab, dev: &str) -> bool {
    let out = lab.relay.ip(&["link", "show", "dev", dev]);
    String::from_utf8_lossy(&out.stdout).contains("prog/xdp")
}

#[test]
fn crashed_daemon_leaves_nothing_forwarding_and_a_restart_starts_clean() {
    let f = v4();
    let lab = lab("dk");
    let daemon = start_daemon(&lab);
    assert!(xdp_attached(&lab, "r0") && xdp_attached(&lab, "r1"), "the daemon attached XDP to r0 and r1");
    let client = crate::client_in(&lab, &f);
    let relayed = turn::allocate(&client, f.af);
    let peer = socket_in(&lab.peer, SocketAddr::new(f.peer, 0));
    let peer_addr = peer.local_addr().expect("bound");
    turn::channel_bind(&client, f.channel, peer_addr);
    let data = payload(0x11, 0, 32);
    client.send_raw(&turn::channel_data(f.channel, &data, false));
    assert_eq!(turn::recv(&peer, "ChannelData before the crash"), (relayed, data));

    daemon.crash();
    eventually("the BPF links go with the process", || {
        (!xdp_attached(&lab, "r0") && !xdp_attached(&lab, "r1")).then_some(())
    });
    // The pins outlive the process: counters and the stale binding are still readable.
    let stale = Status::parse(&daemon.xdp("status"));
    assert_eq!(stale.verdict("forwarded_c2p_v4"), 1, "{}", stale.text);
    assert_eq!((stale.c2p_entries, stale.p2c_entries), (1, 1), "{}", stale.text);
    // Nothing forwards the stale binding: the datagram reaches the relay's stack, where
    // nothing listens any more, and the client gets ICMP port unreachable.
    client.sock.connect(f.server).expect("connect");
    client.sock.send(&turn::channel_data(f.channel, b"after the crash", false)).expect("send");
    let mut buf = [0u8; 64];
    match client.sock.recv(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
        other => panic!("ChannelData after the crash: expected ICMP port unreachable, got {other:?}"),
    }
    turn::assert_nothing_queued(&peer, "peer after the crash");

    let daemon = daemon.restart(SERVE_ARGS);
    assert!(xdp_attached(&lab, "r0") && xdp_attached(&lab, "r1"), "the new daemon attached XDP again");
    let fresh = Status::parse(&daemon.xdp("status"));
    assert_eq!((fresh.c2p_entries, fresh.p2c_entries), (0, 0), "stale bindings survived a restart:\n{}", fresh.text);
    assert_eq!(fresh.verdict("forwarded_c2p_v4"), 0, "counters of the crashed daemon:\n{}", fresh.text);
    daemon.stop();
}
