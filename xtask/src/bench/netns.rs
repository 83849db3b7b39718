//! The bench topology: three network namespaces joined by veth pairs, all addresses inside them.
//!
//! ```text
//! client ns (10.98.1.2, sources .10-.13) --veth-- relay ns (10.98.1.1 | 10.98.2.1, forwarding) --veth-- peer ns (10.98.2.2, .3)
//! ```
//! Names carry our PID, so parallel runs do not collide and a crashed run's leftovers are
//! recognised (its PID is gone) and removed by the next run. TX checksum offload is off on every
//! end (partial checksums would break XDP rewrites); GRO is on at the client and peer ends, so
//! frames an XDP program redirects into those veths are not dropped (BENCHMARKING.md).
use anyhow::{Context, Result};
use std::net::Ipv4Addr;
use std::process::Command;

use super::quiet as sh;
use crate::cmd::output;

const PREFIX: &str = "rbench";

pub const RELAY_CLIENT_SIDE: Ipv4Addr = Ipv4Addr::new(10, 98, 1, 1);
pub const RELAY_PEER_SIDE: Ipv4Addr = Ipv4Addr::new(10, 98, 2, 1);
pub const CLIENT_SOURCES: [Ipv4Addr; 4] = [
    Ipv4Addr::new(10, 98, 1, 10),
    Ipv4Addr::new(10, 98, 1, 11),
    Ipv4Addr::new(10, 98, 1, 12),
    Ipv4Addr::new(10, 98, 1, 13),
];
pub const PEERS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 98, 2, 2), Ipv4Addr::new(10, 98, 2, 3)];

/// Client addresses for the allocation test: 10,000 clients come from many addresses, and a
/// relay may rate-limit unauthenticated requests per source address (ours: 50/s, burst 100).
pub fn alloc_sources() -> impl Iterator<Item = Ipv4Addr> {
    (20..=250).map(|i| Ipv4Addr::new(10, 98, 1, i))
}

#[derive(Debug)]
pub struct Topology {
    pub client: String,
    pub relay: String,
    pub peer: String,
    /// veth ends: client side, relay's client side, relay's peer side, peer side.
    pub devs: [String; 4],
}

fn ip(args: &[&str]) -> Result<()> {
    sh(Command::new("ip").args(args))
}

/// Many `ip` commands in one process (`ip -batch`), for the address list.
fn ip_batch(ns: &str, commands: &str) -> Result<()> {
    use std::io::Write as _;
    let mut child = Command::new("ip")
        .args(["-n", ns, "-batch", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .context("cannot start ip -batch")?;
    child.stdin.take().context("ip -batch stdin")?.write_all(commands.as_bytes())?;
    let out = child.wait_with_output()?;
    if !out.status.success() {
        anyhow::bail!("ip -batch failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

fn in_ns(ns: &str, args: &[&str]) -> Result<()> {
    sh(Command::new("ip").args(["netns", "exec", ns]).args(args))
}

impl Topology {
    pub fn create() -> Result<Topology> {
        remove_stale();
        let pid = std::process::id();
        let t = Topology {
            client: format!("{PREFIX}{pid}-client"),
            relay: format!("{PREFIX}{pid}-relay"),
            peer: format!("{PREFIX}{pid}-peer"),
            devs: [format!("rb{pid}c"), format!("rb{pid}rc"), format!("rb{pid}rp"), format!("rb{pid}p")],
        };
        // Built step by step; on any failure Drop removes what exists.
        for ns in [&t.client, &t.relay, &t.peer] {
            ip(&["netns", "add", ns])?;
            ip(&["-n", ns, "link", "set", "lo", "up"])?;
        }
        let [c, rc, rp, p] = &t.devs;
        ip(&["-n", &t.client, "link", "add", c, "type", "veth", "peer", "name", rc, "netns", &t.relay])?;
        ip(&["-n", &t.relay, "link", "add", rp, "type", "veth", "peer", "name", p, "netns", &t.peer])?;
        ip(&["-n", &t.client, "addr", "add", "10.98.1.2/24", "dev", c])?;
        let batch: String =
            CLIENT_SOURCES.into_iter().chain(alloc_sources()).map(|s| format!("addr add {s}/24 dev {c}\n")).collect();
        ip_batch(&t.client, &batch)?;
        ip(&["-n", &t.relay, "addr", "add", &format!("{RELAY_CLIENT_SIDE}/24"), "dev", rc])?;
        ip(&["-n", &t.relay, "addr", "add", &format!("{RELAY_PEER_SIDE}/24"), "dev", rp])?;
        for a in PEERS {
            ip(&["-n", &t.peer, "addr", "add", &format!("{a}/24"), "dev", p])?;
        }
        for (ns, dev) in [(&t.client, c), (&t.relay, rc), (&t.relay, rp), (&t.peer, p)] {
            ip(&["-n", ns, "link", "set", dev, "up"])?;
            in_ns(ns, &["ethtool", "-K", dev, "tx", "off"])?;
        }
        in_ns(&t.client, &["ethtool", "-K", c, "gro", "on"])?;
        in_ns(&t.peer, &["ethtool", "-K", p, "gro", "on"])?;
        ip(&["-n", &t.client, "route", "add", "default", "via", &RELAY_CLIENT_SIDE.to_string()])?;
        ip(&["-n", &t.peer, "route", "add", "default", "via", &RELAY_PEER_SIDE.to_string()])?;
        in_ns(&t.relay, &["sysctl", "-qw", "net.ipv4.ip_forward=1"])?;
        Ok(t)
    }

    /// The namespaces with their veth ends, for counter snapshots.
    pub fn ends(&self) -> [(&str, Vec<&str>); 3] {
        [
            (&self.client, vec![self.devs[0].as_str()]),
            (&self.relay, vec![self.devs[1].as_str(), self.devs[2].as_str()]),
            (&self.peer, vec![self.devs[3].as_str()]),
        ]
    }
}

impl Drop for Topology {
    fn drop(&mut self) {
        for ns in [&self.client, &self.relay, &self.peer] {
            delete_ns(ns);
        }
    }
}

/// Kills whatever still runs inside `ns` (only our own helpers can be there), then deletes it.
fn delete_ns(ns: &str) {
    let pids = output(Command::new("ip").args(["netns", "pids", ns])).unwrap_or_default();
    for pid in pids.split_whitespace() {
        let _ = Command::new("kill").args(["-KILL", pid]).status();
    }
    let _ = Command::new("ip").args(["netns", "del", ns]).status();
}

/// Namespaces left by bench runs whose process no longer exists.
fn remove_stale() {
    let list = output(Command::new("ip").args(["netns", "list"])).unwrap_or_default();
    for name in list.lines().filter_map(|l| l.split_whitespace().next()) {
        let Some(pid) = name.strip_prefix(PREFIX).and_then(|r| r.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            eprintln!("xtask: removing stale namespace {name} (bench run {pid} is gone)");
            delete_ns(name);
        }
    }
}

/// Fails early, with the reason, when we cannot build namespaces.
pub fn check_privileges() -> Result<()> {
    let uid = output(Command::new("id").arg("-u")).context("cannot run id")?;
    if uid.trim() != "0" {
        anyhow::bail!("cargo xtask bench needs root (network namespaces, XDP); run it as root");
    }
    Ok(())
}
