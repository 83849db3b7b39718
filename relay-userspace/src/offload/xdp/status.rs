//! `relay xdp status` / `relay xdp channels`: read the pinned maps directly, so they work
//! without the daemon's cooperation (root needed to open pins).

use std::{
    io::Write,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use aya::maps::{Array, HashMap, Map, MapData, PerCpuArray};
use relay_common::{
    attach_mode, map_names, AttachRecord, C2pKey, C2pValue, ChannelStats, P2cKey, P2cValue, Verdict, PROGRAM_NAME,
};

use super::{clock, engine, entries::socket_addr, XdpError};
use crate::offload::ChannelCounters;

/// One interface in the attach records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceStatus {
    pub name: String,
    pub ifindex: u32,
    /// "native" or "skb".
    pub mode: &'static str,
}

/// Everything `relay xdp status` shows.
#[derive(Clone, Debug)]
pub struct XdpStatus {
    pub pin_dir: PathBuf,
    /// A program named `relay_xdp` is loaded in the kernel right now.
    pub program_loaded: bool,
    pub interfaces: Vec<InterfaceStatus>,
    pub listen_ports: Vec<u16>,
    pub c2p_entries: usize,
    pub p2c_entries: usize,
    /// Verdict counters summed over CPUs, in slot order.
    pub verdicts: Vec<(Verdict, u64)>,
}

/// One installed binding as the kernel sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstalledChannel {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub channel: u16,
    pub peer: SocketAddr,
    pub relay: SocketAddr,
    /// Time left before the program ignores the entry; `None` once expired.
    pub expires_in: Option<Duration>,
    pub stats_slot: u32,
    pub counters: ChannelCounters,
}

fn open(pin_dir: &Path, name: &str) -> Result<Map, XdpError> {
    let path = pin_dir.join(name);
    let pinned = |reason: String| XdpError::Pinned { path: path.display().to_string(), reason };
    let data = MapData::from_pin(&path).map_err(|e| pinned(e.to_string()))?;
    Map::from_map_data(data).map_err(|e| pinned(e.to_string()))
}

fn typed<T>(pin_dir: &Path, name: &str) -> Result<T, XdpError>
where
    T: TryFrom<Map, Error = aya::maps::MapError>,
{
    T::try_from(open(pin_dir, name)?)
        .map_err(|e| XdpError::Pinned { path: pin_dir.join(name).display().to_string(), reason: e.to_string() })
}

/// Reads mode, interfaces, entry counts and verdict counters from the pins under `pin_dir`.
pub fn read_status(pin_dir: &Path) -> Result<XdpStatus, XdpError> {
    let verdicts: PerCpuArray<MapData, u64> = typed(pin_dir, map_names::VERDICTS)?;
    let c2p: HashMap<MapData, C2pKey, C2pValue> = typed(pin_dir, map_names::C2P)?;
    let p2c: HashMap<MapData, P2cKey, P2cValue> = typed(pin_dir, map_names::P2C)?;
    let ports: Array<MapData, u32> = typed(pin_dir, map_names::LISTEN_PORTS)?;
    let attach: Array<MapData, AttachRecord> = typed(pin_dir, map_names::ATTACH)?;
    let interfaces = attach
        .iter()
        .filter_map(Result::ok)
        .filter(|r| r.mode != attach_mode::NONE)
        .map(|r| InterfaceStatus {
            name: String::from_utf8_lossy(&r.name).trim_end_matches('\0').to_owned(),
            ifindex: r.ifindex,
            mode: if r.mode == attach_mode::NATIVE { "native" } else { "skb" },
        })
        .collect();
    let listen_ports: Vec<u16> =
        (0..=u16::MAX).filter(|&p| ports.get(&u32::from(p), 0).is_ok_and(|f| f != 0)).collect();
    let program_loaded =
        aya::programs::loaded_programs().filter_map(Result::ok).any(|p| p.name_as_str() == Some(PROGRAM_NAME));
    Ok(XdpStatus {
        pin_dir: pin_dir.to_owned(),
        program_loaded,
        interfaces,
        listen_ports,
        c2p_entries: c2p.keys().filter(Result::is_ok).count(),
        p2c_entries: p2c.keys().filter(Result::is_ok).count(),
        verdicts: engine::sum_verdicts(&verdicts)?,
    })
}

/// Lists the client->peer bindings with their per-channel counters summed over CPUs.
pub fn read_channels(pin_dir: &Path) -> Result<Vec<InstalledChannel>, XdpError> {
    let c2p: HashMap<MapData, C2pKey, C2pValue> = typed(pin_dir, map_names::C2P)?;
    let stats: PerCpuArray<MapData, ChannelStats> = typed(pin_dir, map_names::CHANNEL_STATS)?;
    let now_ns = clock::monotonic_now_ns();
    let mut out = Vec::new();
    for item in c2p.iter() {
        let (k, v) = item.map_err(|e| XdpError::Map(e.to_string()))?;
        let counters = stats.get(&v.stats_slot, 0).map(|per_cpu| engine::sum_stats(&per_cpu)).unwrap_or_default();
        out.push(InstalledChannel {
            client: socket_addr(&k.client_addr, k.family, k.client_port),
            server: socket_addr(&k.server_addr, k.family, k.server_port),
            channel: k.channel,
            peer: socket_addr(&v.peer_addr, v.family, v.peer_port),
            relay: socket_addr(&v.relay_addr, v.family, v.relay_port),
            expires_in: v.expires_ns.checked_sub(now_ns).map(Duration::from_nanos),
            stats_slot: v.stats_slot,
            counters,
        });
    }
    out.sort_by_key(|c| (c.client, c.channel));
    Ok(out)
}

/// Human-readable `relay xdp status`.
pub fn print_status(pin_dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let s = read_status(pin_dir)?;
    writeln!(out, "pinned maps:   {}", s.pin_dir.display())?;
    writeln!(out, "program:       {}", if s.program_loaded { "loaded" } else { "not loaded" })?;
    if s.interfaces.is_empty() {
        writeln!(out, "interfaces:    none")?;
    }
    for i in &s.interfaces {
        writeln!(out, "interface:     {} (ifindex {}) mode {}", i.name, i.ifindex, i.mode)?;
    }
    let ports: Vec<String> = s.listen_ports.iter().map(u16::to_string).collect();
    writeln!(out, "listen ports:  {}", ports.join(", "))?;
    writeln!(out, "bindings:      {} client->peer, {} peer->client", s.c2p_entries, s.p2c_entries)?;
    writeln!(out, "verdicts (packets, summed over CPUs):")?;
    for (v, n) in &s.verdicts {
        writeln!(out, "  {:<32} {n}", v.name())?;
    }
    Ok(())
}

/// Human-readable `relay xdp channels`.
pub fn print_channels(pin_dir: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    let channels = read_channels(pin_dir)?;
    writeln!(
        out,
        "{:<46} {:<7} {:<46} {:>10} {:>12} {:>10} {:>12} {:>9}",
        "client", "channel", "peer", "c2p_pkts", "c2p_bytes", "p2c_pkts", "p2c_bytes", "expires"
    )?;
    for c in &channels {
        let expires = match c.expires_in {
            Some(d) => format!("{}s", d.as_secs()),
            None => "expired".to_owned(),
        };
        writeln!(
            out,
            "{:<46} {:<#7x} {:<46} {:>10} {:>12} {:>10} {:>12} {:>9}",
            c.client.to_string(),
            c.channel,
            c.peer.to_string(),
            c.counters.client_to_peer_packets,
            c.counters.client_to_peer_bytes,
            c.counters.peer_to_client_packets,
            c.counters.peer_to_client_bytes,
            expires
        )?;
    }
    writeln!(out, "{} binding(s)", channels.len())?;
    Ok(())
}
