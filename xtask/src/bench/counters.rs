//! Loss counters on every queue of the path, per namespace: UDP (InErrors, RcvbufErrors,
//! SndbufErrors, NoPorts, ...), interface drops from /proc/net/dev, the veth driver's own
//! drop/error counters (`ethtool -S`, which include XDP drops) and the per-CPU backlog drops of
//! /proc/net/softnet_stat. Snapshots are diffed around each load step.
use std::collections::BTreeMap;
use std::process::Command;

use super::netns::Topology;
use crate::cmd::output;

pub type Counters = BTreeMap<String, u64>;

/// UDP counters that mean a datagram was lost or refused.
const UDP_LOSS: &[&str] = &["InErrors", "RcvbufErrors", "SndbufErrors", "NoPorts", "InCsumErrors", "MemErrors"];

pub fn snapshot(t: &Topology) -> Counters {
    let mut c = Counters::new();
    for (label, (ns, devs)) in ["client", "relay", "peer"].iter().zip(t.ends()) {
        let mut script = String::from("cat /proc/net/snmp; echo @dev; cat /proc/net/dev");
        for d in &devs {
            script.push_str(&format!("; echo @ethtool {d}; ethtool -S {d}"));
        }
        let text = output(Command::new("ip").args(["netns", "exec", ns, "sh", "-c", &script])).unwrap_or_default();
        parse_ns(label, &text, &mut c);
    }
    if let Ok(text) = std::fs::read_to_string("/proc/net/softnet_stat") {
        parse_softnet(&text, &mut c);
    }
    c
}

fn parse_ns(label: &str, text: &str, c: &mut Counters) {
    let mut udp_names: Vec<&str> = Vec::new();
    let mut section = "snmp";
    let mut ethdev = "";
    for line in text.lines() {
        if line == "@dev" {
            section = "dev";
            continue;
        }
        if let Some(d) = line.strip_prefix("@ethtool ") {
            section = "ethtool";
            ethdev = d;
            continue;
        }
        match section {
            "snmp" => {
                let Some(rest) = line.strip_prefix("Udp: ") else { continue };
                if udp_names.is_empty() {
                    udp_names = rest.split_whitespace().collect();
                } else {
                    for (n, v) in udp_names.iter().zip(rest.split_whitespace()) {
                        if let Ok(v) = v.parse() {
                            c.insert(format!("{label}.udp.{n}"), v);
                        }
                    }
                }
            }
            "dev" => {
                let Some((dev, rest)) = line.split_once(':') else { continue };
                let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
                if f.len() < 12 || dev.trim() == "lo" {
                    continue;
                }
                for (i, n) in [
                    (1, "rx_packets"),
                    (2, "rx_errs"),
                    (3, "rx_drop"),
                    (9, "tx_packets"),
                    (10, "tx_errs"),
                    (11, "tx_drop"),
                ] {
                    c.insert(format!("{label}.dev.{}.{n}", dev.trim()), f[i]);
                }
            }
            _ => {
                let Some((k, v)) = line.trim().split_once(':') else { continue };
                let k = k.trim();
                if k.contains("drop") || k.contains("err") || k.contains("xdp") {
                    if let Ok(v) = v.trim().parse() {
                        c.insert(format!("{label}.veth.{ethdev}.{k}"), v);
                    }
                }
            }
        }
    }
}

/// softnet_stat: one line per CPU, hex; column 2 is backlog drops, column 3 time squeezes.
fn parse_softnet(text: &str, c: &mut Counters) {
    let (mut dropped, mut squeezed) = (0, 0);
    for line in text.lines() {
        let f: Vec<u64> = line.split_whitespace().filter_map(|x| u64::from_str_radix(x, 16).ok()).collect();
        dropped += f.get(1).copied().unwrap_or(0);
        squeezed += f.get(2).copied().unwrap_or(0);
    }
    c.insert("machine.softnet.backlog_drops".into(), dropped);
    c.insert("machine.softnet.time_squeeze".into(), squeezed);
}

/// Counters that grew between two snapshots.
pub fn delta(before: &Counters, after: &Counters) -> Counters {
    after
        .iter()
        .filter_map(|(k, &v)| {
            let d = v.saturating_sub(before.get(k).copied().unwrap_or(0));
            (d > 0).then(|| (k.clone(), d))
        })
        .collect()
}

/// Only the counters that mean loss (drops and errors anywhere on the path).
pub fn losses(d: &Counters) -> Counters {
    d.iter()
        .filter(|(k, _)| {
            let udp_loss = k.contains(".udp.") && UDP_LOSS.iter().any(|n| k.ends_with(n));
            let dev_loss = (k.contains(".dev.") || k.contains(".veth.")) && (k.contains("drop") || k.contains("err"));
            udp_loss || dev_loss || k.as_str() == "machine.softnet.backlog_drops"
        })
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn parses_and_diffs() {
        let text = "Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors\nUdp: 10 0 2 9 2 0\n@dev\nInter-|\n face |bytes\n  lo: 1 2 0 0 0 0 0 0 1 2 0 0 0 0 0 0\n rb1c: 100 5 0 1 0 0 0 0 200 6 0 0 0 0 0 0\n@ethtool rb1c\nNIC statistics:\n     peer_ifindex: 7\n     rx_queue_0_drops: 3\n     rx_queue_0_xdp_packets: 4\n";
        let mut c = Counters::new();
        parse_ns("client", text, &mut c);
        assert_eq!(c["client.udp.RcvbufErrors"], 2);
        assert_eq!(c["client.dev.rb1c.rx_drop"], 1);
        assert_eq!(c["client.veth.rb1c.rx_queue_0_drops"], 3);
        assert!(!c.contains_key("client.dev.lo.rx_packets"));
        let mut after = c.clone();
        *after.get_mut("client.udp.RcvbufErrors").unwrap() += 5;
        *after.get_mut("client.udp.InDatagrams").unwrap() += 5;
        let d = delta(&c, &after);
        assert_eq!(d.len(), 2);
        assert_eq!(losses(&d).len(), 1);
        let mut s = Counters::new();
        parse_softnet("0000000a 00000002 00000001\n0000000b 00000001 00000000\n", &mut s);
        assert_eq!(s["machine.softnet.backlog_drops"], 3);
    }
}
