//! coturn's `turnutils_uclient` (an independent TURN client) relays through `relay` to
//! `turnutils_peer` (a UDP echo peer) over UDP, TCP and TLS with TURN REST credentials.
//! The client counts every echoed message, so "0 lost" proves both directions.
// Tests panic on failure by design (STYLE.md); unwrap is how they fail.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::relay::RelayProcess;
use harness::tools::{require, run_bounded, Background};
use std::process::Command;
use std::time::Duration;

const SECRET: &str = "north-wing-secret";
/// uclient waits up to ~10 s for stragglers before printing its summary; this only guards hangs.
const UCLIENT_LIMIT: Duration = Duration::from_secs(90);

struct Lab {
    relay: RelayProcess,
    _peer: Background,
    relay_ip: String,
    peer_ip: String,
}

fn lab(n: u8) -> Lab {
    require("turnutils_uclient", "coturn");
    require("turnutils_peer", "coturn");
    let relay_ip = harness::loopback(n).to_string();
    let peer_ip = harness::loopback(n + 100).to_string();
    let peer = Command::new("turnutils_peer")
        .args(["-L", &peer_ip, "-p", "3480"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn turnutils_peer");
    let relay = RelayProcess::start(&[
        "--listening-ip",
        &relay_ip,
        "--tls-listening-port",
        "5349",
        "--realm",
        "clinic.test",
        "--use-auth-secret",
        "--static-auth-secret",
        SECRET,
        "--allow-loopback-peers",
        "--xdp",
        "off",
        "--metrics-listen",
        &format!("{relay_ip}:9641"),
    ]);
    Lab { relay, _peer: Background(peer), relay_ip, peer_ip }
}

fn uclient(lab: &Lab, extra: &[&str]) {
    let mut cmd = Command::new("turnutils_uclient");
    cmd.args(["-u", "patient", "-W", SECRET, "-e", &lab.peer_ip, "-r", "3480", "-n", "40", "-m", "2", "-l", "200"])
        .args(["-z", "5", "-c"])
        .args(extra)
        .arg(&lab.relay_ip);
    let out = run_bounded(&mut cmd, UCLIENT_LIMIT);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let summary = text.lines().filter(|l| l.contains("Total") || l.contains("tot_")).collect::<Vec<_>>().join("\n");
    assert!(
        text.contains("Total lost packets 0 (0.000000%)"),
        "uclient {extra:?} lost packets or failed:\n{text}\n--- relay log ---\n{}",
        lab.relay.log()
    );
    assert!(
        text.contains("tot_send_msgs=80, tot_recv_msgs=80"),
        "uclient {extra:?} did not get all 80 messages back:\n{summary}"
    );
}

#[test]
fn uclient_over_udp_with_channels() {
    let lab = lab(11);
    uclient(&lab, &[]);
    // Bound-channel media took the userspace fast table (batched), not the core.
    let m = harness::relay::scrape(format!("{}:9641", lab.relay_ip).parse().unwrap());
    let fast = |dir: &str| {
        harness::relay::metric(&m, &format!("relay_relayed_packets_total{{path=\"fast\",direction=\"{dir}\"}}"))
    };
    assert!(fast("client_to_peer") > 0 && fast("peer_to_client") > 0, "fast path unused:\n{m}");
}

#[test]
fn uclient_over_udp_with_send_indications() {
    uclient(&lab(12), &["-s"]);
}

#[test]
fn uclient_over_tcp() {
    uclient(&lab(13), &["-t"]);
}

#[test]
fn uclient_over_tls() {
    uclient(&lab(14), &["-t", "-S", "-p", "5349"]);
}
