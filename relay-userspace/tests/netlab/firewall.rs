//! The patient's hospital firewall (nftables, inside the patient namespace): outbound only
//! TCP to port 443 and loopback; inbound only loopback and replies. Named counters on the drop
//! rules prove what the firewall blocked.
use super::Ns;
use std::collections::BTreeMap;
use std::io::Write;
use std::process::Stdio;

pub const TABLE: &str = "hospital";
/// Every UDP datagram leaving the patient (TURN over UDP, STUN, DNS, mDNS...).
pub const UDP_BLOCKED: &str = "udp_blocked";
/// TCP connection attempts to port 3478 (TURN over TCP).
pub const TCP_3478_BLOCKED: &str = "tcp3478_blocked";
/// TCP connection attempts to any other port but 443.
pub const TCP_OTHER_BLOCKED: &str = "tcp_other_blocked";
/// New TCP connections to port 443 (TURN over TLS), let through.
pub const TCP_443_ALLOWED: &str = "tcp443_allowed";
/// Anything arriving that is not a reply.
pub const INBOUND_BLOCKED: &str = "inbound_blocked";

fn ruleset() -> String {
    format!(
        r#"
table inet {TABLE} {{
    counter {UDP_BLOCKED} {{ }}
    counter {TCP_3478_BLOCKED} {{ }}
    counter {TCP_OTHER_BLOCKED} {{ }}
    counter {TCP_443_ALLOWED} {{ }}
    counter {INBOUND_BLOCKED} {{ }}
    chain egress {{
        type filter hook output priority filter; policy drop;
        oifname "lo" accept
        ct state established,related accept
        meta l4proto udp counter name {UDP_BLOCKED} drop
        tcp dport 3478 counter name {TCP_3478_BLOCKED} drop
        tcp dport 443 ct state new counter name {TCP_443_ALLOWED} accept
        meta l4proto tcp counter name {TCP_OTHER_BLOCKED} drop
    }}
    chain ingress {{
        type filter hook input priority filter; policy drop;
        iifname "lo" accept
        ct state established,related accept
        counter name {INBOUND_BLOCKED} drop
    }}
}}
"#
    )
}

pub fn install_hospital(ns: &Ns) {
    let mut child = ns
        .command("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn nft");
    child.stdin.take().expect("piped stdin").write_all(ruleset().as_bytes()).expect("write ruleset");
    let out = child.wait_with_output().expect("wait nft");
    assert!(out.status.success(), "nft ruleset in {}: {}", ns.name(), String::from_utf8_lossy(&out.stderr));
}

/// Packet counts of the named counters.
#[derive(Debug, Default)]
pub struct Counters(pub BTreeMap<String, u64>);

impl Counters {
    pub fn packets(&self, name: &str) -> u64 {
        self.0.get(name).copied().unwrap_or(0)
    }
}

pub fn read(ns: &Ns) -> Counters {
    let json = ns.output(&["nft", "-j", "list", "counters", "table", "inet", TABLE]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("nft -j output is JSON");
    let mut map = BTreeMap::new();
    for item in v["nftables"].as_array().into_iter().flatten() {
        let c = &item["counter"];
        if let (Some(name), Some(packets)) = (c["name"].as_str(), c["packets"].as_u64()) {
            map.insert(name.to_owned(), packets);
        }
    }
    Counters(map)
}
