//! Real headless Chromium makes a video visit through the relay, in network namespaces
//! (issue 5): from a patient behind a hospital firewall that lets only TCP 443 out, and from an
//! open clinic network over UDP and TCP. Each call must echo data-channel messages, decode fake
//! camera frames at the receiver, and select relay candidates over the expected transport.
//!
//! Needs root, `chromium`, `certutil` (libnss3-tools), `nft` and `ip`; a missing one fails the
//! test by name. `BROWSER_TEST_TURN=coturn` runs the same scenarios against coturn.

mod netlab;

#[path = "browser/chromium.rs"]
mod chromium;
#[path = "browser/pki.rs"]
mod pki;
#[path = "browser/report.rs"]
mod report;
#[path = "browser/scenario.rs"]
mod scenario;
#[path = "browser/server.rs"]
mod server;
#[path = "browser/turn_server.rs"]
mod turn_server;

use netlab::firewall::{TCP_3478_BLOCKED, TCP_443_ALLOWED, UDP_BLOCKED};
use scenario::{From, Scenario};

#[test]
fn patient_behind_hospital_firewall_connects_over_turns_443() {
    let out = scenario::run(&Scenario {
        name: "patient-tls443",
        from: From::Patient,
        url: "turns:{relay}:443?transport=tcp",
        relay_protocol: "tls",
        // The same browser also tries plain TURN; the firewall must be what stops it.
        probe_urls: &["turn:{relay}:3478?transport=udp", "turn:{relay}:3478?transport=tcp"],
    });
    let fw = &out.firewall;
    for (counter, what) in [
        (UDP_BLOCKED, "UDP (TURN over UDP 3478)"),
        (TCP_3478_BLOCKED, "TCP to 3478"),
        (TCP_443_ALLOWED, "TCP to 443 let through"),
    ] {
        assert!(fw.packets(counter) > 0, "firewall counter {counter} ({what}) is 0\n{}", out.diagnostics);
    }
}

const CLINIC_UDP: Scenario = Scenario {
    name: "clinic-udp",
    from: From::Clinic,
    url: "turn:{relay}:3478?transport=udp",
    relay_protocol: "udp",
    probe_urls: &[],
};

#[test]
fn clinic_connects_over_turn_udp() {
    scenario::run(&CLINIC_UDP);
}

/// Issue 5, scenario 2: the UDP call's media must take the kernel path. Both peers of the page
/// use the same relay, so each allocation's peer is the relay's own relayed address: the XDP
/// program has to hairpin (client A's ChannelData straight out as client B's ChannelData).
#[test]
fn clinic_udp_media_takes_the_xdp_path() {
    let out = scenario::run(&CLINIC_UDP);
    let status = out.server.xdp("status");
    let forwarded = turn_server::xdp_forwarded(&status);
    assert!(
        forwarded > 0,
        "the relay's XDP program forwarded no packets of a UDP call (all went through userspace)\n\
         --- relay xdp status ---\n{status}\n--- relay xdp channels ---\n{}\n{}",
        out.server.xdp("channels"),
        out.diagnostics
    );
    eprintln!("xdp forwarded {forwarded} packets");
}

#[test]
fn clinic_connects_over_turn_tcp() {
    scenario::run(&Scenario {
        name: "clinic-tcp",
        from: From::Clinic,
        url: "turn:{relay}:3478?transport=tcp",
        relay_protocol: "tcp",
        probe_urls: &[],
    });
}

#[test]
fn xdp_status_forwarded_lines_are_summed() {
    let status = "verdicts (packets, summed over CPUs):\n  forwarded_c2p_v4    12\n  forwarded_p2c_v4   30\n  \
                  forwarded_c2p_v6 0\n  pass_fib_failed   168\nbindings:      2 client->peer\n";
    assert_eq!(turn_server::xdp_forwarded(status), 42);
}
