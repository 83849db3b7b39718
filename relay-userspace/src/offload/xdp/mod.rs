//! The XDP engine: loads `relay::XDP_OBJECT`, pins its maps under `/sys/fs/bpf/relay/`,
//! attaches through BPF links, keeps the binding maps in step with the daemon ([`XdpOffload`]),
//! and reads the pinned maps back for `relay xdp status|channels` without the daemon.
//!
//! # For network engineers: inspecting the fast path
//! - `relay xdp status` ([`print_status`]): attached interfaces and mode, listening ports,
//!   binding counts, and one packet counter per verdict summed over CPUs. `forwarded_*` went
//!   through the kernel (`forwarded_hairpin_*`: ChannelData from one client of this relay
//!   turned straight into ChannelData for another, when a client's peer is another
//!   allocation's relayed address here); every `pass_*` names why a packet went to the normal stack instead
//!   (the daemon may still relay it in userspace); `drop_aborted` should stay 0.
//! - `relay xdp channels` ([`print_channels`]): each installed binding with its
//!   packet/byte counters (bytes are ChannelData payload bytes) and time to expiry.
//! - `bpftool map dump pinned /sys/fs/bpf/relay/RELAY_C2P` (or `RELAY_P2C`, `RELAY_VERDICTS`,
//!   `RELAY_CHAN_STATS`, `RELAY_ROUTES`, ...) shows the raw entries with named fields (BTF).
//!   Addresses are 16-byte arrays (IPv4 in the first 4), ports and channels host-order numbers,
//!   expiries CLOCK_MONOTONIC ns.
//! - `bpf_fib_lookup` needs IP forwarding enabled on the ingress interfaces
//!   (`net.ipv4.conf.<if>.forwarding=1`, `net.ipv6.conf.<if>.forwarding=1`); without it every
//!   packet shows up as `pass_fib_forwarding_disabled`. `pass_fib_no_neighbour` clears once the
//!   stack has resolved the next hop (it does so for the packets it is handed).
//! - Routes are cached per binding for one second ([`relay_common::ROUTE_CACHE_NS`]).
//! - Media that leaves by the interface it came in on (`XDP_TX`: a peer on the client's link,
//!   and every hairpin) is only picked up by a *veth* peer that runs an XDP program itself
//!   (drivers/net/veth.c); on a veth-based host (containers, test labs) give the other end an
//!   XDP_PASS program. Physical NICs need nothing.
//! - Packets from local senders on veths carry partial checksums; turn TX checksum offload off
//!   on those senders (`ethtool -K <dev> tx off`) or the rewritten checksums are wrong.
//! - Bindings carry their own expiry; the program reads CLOCK_MONOTONIC coarsely (once per
//!   tick per CPU), so a binding may forward for up to two ticks past it.

mod bench;
mod clock;
mod config;
mod engine;
mod entries;
mod ifaces;
mod loader;
mod logs;
mod slots;
mod status;
mod testrun;

pub use bench::{bench, BenchResult};
pub use clock::{instant_to_monotonic_ns, monotonic_now_ns};
pub use config::{AttachedMode, Attachment, XdpConfig, XdpMode};
pub use engine::XdpOffload;
pub use ifaces::interfaces_for_addrs;
pub use loader::{default_pin_dir, ensure_bpffs, unpin_maps as remove_pins};
pub use status::{
    print_channels, print_status, read_channels, read_status, InstalledChannel, InterfaceStatus, XdpStatus,
};
pub use testrun::TestRunOutput;

/// Why XDP could not be set up. `Auto` turns any of these into "off" with the message.
#[derive(Debug, thiserror::Error)]
pub enum XdpError {
    #[error("XDP is off")]
    Off,
    #[error("loading the XDP program failed: {0}")]
    Load(String),
    #[error("the XDP object has no {0:?} (stale build?)")]
    Missing(&'static str),
    #[error("bpffs: {0}")]
    Bpffs(String),
    #[error("pinning maps: {0}")]
    Pin(String),
    #[error("BPF map: {0}")]
    Map(String),
    #[error("no interface named {0:?}")]
    NoInterface(String),
    #[error("attaching XDP to {interface} failed ({reason})")]
    Attach { interface: String, reason: String },
    #[error("no interfaces to attach to")]
    NoInterfaces,
    #[error("BPF_PROG_TEST_RUN: {0}")]
    TestRun(String),
    #[error("reading pinned map {path}: {reason} (is the daemon running with XDP?)")]
    Pinned { path: String, reason: String },
}

/// What [`start`] set up, and the one log line that says so.
#[derive(Debug)]
pub struct XdpStart {
    /// `None` when XDP is off (requested, or `auto` found no way to attach).
    pub offload: Option<XdpOffload>,
    /// "xdp: native on eth0, skb on eth1" or "xdp: off (reason)".
    pub summary: String,
}

/// Loads and attaches according to `config`. `auto` never fails: it falls back native -> skb
/// -> off and says why in `summary`. `native`/`skb` fail if any interface cannot get that mode.
pub fn start(config: &XdpConfig) -> Result<XdpStart, XdpError> {
    if config.mode == XdpMode::Off {
        return Ok(XdpStart { offload: None, summary: "xdp: off (--xdp off)".into() });
    }
    match try_start(config) {
        Ok((offload, summary)) => Ok(XdpStart { offload: Some(offload), summary }),
        Err(e) if config.mode == XdpMode::Auto => {
            if let Some(dir) = &config.pin_dir {
                loader::unpin_maps(dir);
            }
            Ok(XdpStart { offload: None, summary: format!("xdp: off ({e})") })
        }
        Err(e) => Err(e),
    }
}

fn try_start(config: &XdpConfig) -> Result<(XdpOffload, String), XdpError> {
    if config.interfaces.is_empty() {
        return Err(XdpError::NoInterfaces);
    }
    let offload = XdpOffload::load(config)?;
    let mut parts = Vec::new();
    for interface in &config.interfaces {
        let got = offload.attach(interface, config.mode)?;
        parts.push(format!("{} on {interface}", got.as_str()));
    }
    let mut summary = format!("xdp: {}", parts.join(", "));
    let off = forwarding_off(&config.interfaces);
    if !off.is_empty() {
        summary.push_str(&format!(
            " (forwarding disabled on {}: bpf_fib_lookup refuses, packets stay in userspace)",
            off.join(", ")
        ));
    }
    if config.mode == XdpMode::Auto && parts.iter().any(|p| p.starts_with("skb")) {
        summary.push_str(" (native attach refused by the driver; generic mode is slower)");
    }
    Ok((offload, summary))
}

/// "ipv4 eth0"-style names of interfaces where forwarding is off (read from this namespace's
/// /proc/sys/net); `bpf_fib_lookup` needs it on ingress.
fn forwarding_off(interfaces: &[String]) -> Vec<String> {
    let mut off = Vec::new();
    for i in interfaces {
        for (family, path) in [
            ("ipv4", format!("/proc/sys/net/ipv4/conf/{i}/forwarding")),
            ("ipv6", format!("/proc/sys/net/ipv6/conf/{i}/forwarding")),
        ] {
            if std::fs::read_to_string(&path).is_ok_and(|v| v.trim() == "0") {
                off.push(format!("{family} {i}"));
            }
        }
    }
    off
}
