//! An independent TURN client: coturn's `turnutils_uclient` binds channels and exchanges
//! ChannelData with `turnutils_peer` (a UDP echo) through the daemon; the media must take the
//! XDP path. The client counts every echoed message, so "0 lost" proves both directions.

use crate::harness::tools::{require, run_bounded, Background};
use crate::observe::{userspace_relayed, Status};
use crate::{eventually, lab, start_daemon, PASSWORD, USER};
use std::process::{Command, Stdio};
use std::time::Duration;

/// Two clients, 40 messages each, echoed: 80 datagrams each way.
const MESSAGES: u64 = 80;

/// True once something listens on UDP `port` in the calling thread's namespace.
fn udp_listening(port: u16) -> bool {
    let table = std::fs::read_to_string("/proc/thread-self/net/udp").expect("read /proc/thread-self/net/udp");
    let needle = format!(":{port:04X} ");
    table
        .lines()
        .skip(1)
        .any(|l| l.split_whitespace().nth(1).is_some_and(|local| format!("{local} ").contains(&needle)))
}

#[test]
fn coturn_uclient_channel_media_takes_the_xdp_path() {
    require("turnutils_uclient", "coturn");
    require("turnutils_peer", "coturn");
    let lab = lab("du");
    let daemon = start_daemon(&lab);
    let _peer = lab.peer.run(|| {
        let child = Command::new("turnutils_peer")
            .args(["-L", "10.0.2.2", "-p", "3480"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn turnutils_peer");
        let guard = Background(child);
        eventually("turnutils_peer listens on 3480", || udp_listening(3480).then_some(()));
        guard
    });
    let before = Status::parse(&daemon.xdp("status"));
    let out = lab.client.run(|| {
        let mut cmd = Command::new("turnutils_uclient");
        cmd.args(["-u", USER, "-w", PASSWORD, "-e", "10.0.2.2", "-r", "3480", "-n", "40", "-m", "2", "-l", "200"])
            .args(["-z", "5", "-c", "10.0.1.1"]);
        run_bounded(&mut cmd, Duration::from_secs(90))
    });
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Total lost packets 0 (0.000000%)"), "uclient lost packets or failed:\n{text}");
    assert!(text.contains("tot_send_msgs=80, tot_recv_msgs=80"), "uclient did not get all 80 back:\n{text}");

    let after = Status::parse(&daemon.xdp("status"));
    for v in ["forwarded_c2p_v4", "forwarded_p2c_v4"] {
        let got = after.verdict(v) - before.verdict(v);
        assert_eq!(got, MESSAGES, "XDP forwarded {got} of {MESSAGES} ({v}):\n{}", after.text);
    }
    for (what, count) in userspace_relayed(&daemon.metrics()) {
        assert_eq!(count, 0, "userspace relayed {count} packets ({what}) of uclient's channels");
    }
    daemon.stop();
}
