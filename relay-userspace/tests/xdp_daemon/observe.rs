//! Reads the operator's views as text: `relay xdp status`, `relay xdp channels` and the
//! Prometheus endpoint. Parsing panics with the whole text when a line is not as documented.

use std::collections::HashMap;
use std::net::SocketAddr;

/// `relay xdp status`: verdict counters by name, and the binding counts.
#[derive(Debug)]
pub struct Status {
    pub text: String,
    verdicts: HashMap<String, u64>,
    pub c2p_entries: u64,
    pub p2c_entries: u64,
}

impl Status {
    pub fn parse(text: &str) -> Status {
        let mut verdicts = HashMap::new();
        let mut entries = None;
        let mut in_verdicts = false;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("bindings:") {
                // "bindings:      1 client->peer, 1 peer->client"
                let n: Vec<u64> = rest.split_whitespace().filter_map(|w| w.parse().ok()).collect();
                assert_eq!(n.len(), 2, "bindings line {line:?} in\n{text}");
                entries = Some((n[0], n[1]));
            } else if line.starts_with("verdicts") {
                in_verdicts = true;
            } else if in_verdicts {
                let mut words = line.split_whitespace();
                let (Some(name), Some(count)) = (words.next(), words.next()) else { continue };
                let count = count.parse().unwrap_or_else(|_| panic!("verdict line {line:?} in\n{text}"));
                verdicts.insert(name.to_owned(), count);
            }
        }
        let (c2p_entries, p2c_entries) = entries.unwrap_or_else(|| panic!("no bindings line in\n{text}"));
        assert!(verdicts.contains_key("forwarded_c2p_v4"), "no verdict counters in\n{text}");
        Status { text: text.to_owned(), verdicts, c2p_entries, p2c_entries }
    }

    /// A verdict counter by its printed name (`forwarded_c2p_v4`, `pass_c2p_miss`, ...).
    pub fn verdict(&self, name: &str) -> u64 {
        *self.verdicts.get(name).unwrap_or_else(|| panic!("no verdict {name:?} in\n{}", self.text))
    }

    /// Packets passed to the stack, per reason, whose count differs from `before`.
    pub fn changed_since(&self, before: &Status) -> Vec<(String, u64)> {
        let mut out: Vec<(String, u64)> = self
            .verdicts
            .iter()
            .filter(|(k, v)| before.verdicts.get(*k) != Some(v))
            .map(|(k, v)| (k.clone(), v - before.verdicts.get(k).copied().unwrap_or(0)))
            .collect();
        out.sort();
        out
    }
}

/// One row of `relay xdp channels`.
#[derive(Debug, PartialEq, Eq)]
pub struct ChannelRow {
    pub client: SocketAddr,
    pub channel: u16,
    pub peer: SocketAddr,
    pub c2p_packets: u64,
    pub c2p_bytes: u64,
    pub p2c_packets: u64,
    pub p2c_bytes: u64,
    /// Seconds left, `None` when printed as "expired".
    pub expires_s: Option<u64>,
}

/// `relay xdp channels`: header, one row per binding, "N binding(s)".
pub fn channels(text: &str) -> Vec<ChannelRow> {
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(header.starts_with("client") && header.contains("expires"), "unexpected header in\n{text}");
    let mut rows = Vec::new();
    for line in lines {
        if line.ends_with("binding(s)") {
            let n: usize = line.split_whitespace().next().and_then(|w| w.parse().ok()).expect("count");
            assert_eq!(n, rows.len(), "row count vs summary in\n{text}");
            return rows;
        }
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(w.len(), 8, "channel row {line:?} in\n{text}");
        let num = |s: &str| s.parse::<u64>().unwrap_or_else(|_| panic!("number {s:?} in row {line:?}"));
        rows.push(ChannelRow {
            client: w[0].parse().unwrap_or_else(|_| panic!("client address in {line:?}")),
            channel: u16::from_str_radix(w[1].trim_start_matches("0x"), 16).expect("channel number"),
            peer: w[2].parse().unwrap_or_else(|_| panic!("peer address in {line:?}")),
            c2p_packets: num(w[3]),
            c2p_bytes: num(w[4]),
            p2c_packets: num(w[5]),
            p2c_bytes: num(w[6]),
            expires_s: w[7].strip_suffix('s').map(num),
        });
    }
    panic!("no \"binding(s)\" summary in\n{text}");
}

/// A sample from Prometheus text: `name{labels} value` with the labels exactly as printed.
pub fn metric(text: &str, name_and_labels: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name_and_labels} in\n{text}"))
}

/// `relay_relayed_packets_total` for every path and direction: what userspace relayed.
pub fn userspace_relayed(text: &str) -> [(&'static str, u64); 4] {
    let row = |path: &str, dir: &str| {
        metric(text, &format!("relay_relayed_packets_total{{path=\"{path}\",direction=\"{dir}\"}}"))
    };
    [
        ("core c2p", row("core", "client_to_peer")),
        ("core p2c", row("core", "peer_to_client")),
        ("fast c2p", row("fast", "client_to_peer")),
        ("fast p2c", row("fast", "peer_to_client")),
    ]
}

/// `relay_drops_total{reason=...}`.
pub fn drops(text: &str, reason: &str) -> u64 {
    metric(text, &format!("relay_drops_total{{reason=\"{reason}\"}}"))
}
