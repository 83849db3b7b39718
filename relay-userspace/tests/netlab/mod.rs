//! A hospital-network lab in network namespaces: `patient` (behind a firewall that lets only
//! TCP 443 out), `clinic` (open), `relay`, all routed through a `router` namespace. Addresses
//! are from 10.99.0.0/16 and exist only inside these namespaces; nothing leaves the machine.
//! Dropping the [`Lab`] deletes every namespace (and with them every veth and rule), also
//! when a test panics.
#![allow(dead_code)] // each test binary uses a different subset

pub mod firewall;
pub mod ns;
pub mod process;

pub use ns::Ns;

use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Names start with this, then the test process's PID, so stale labs of dead runs can be found.
const PREFIX: &str = "netlab";

/// One site of the lab: its namespace, address and the router's address on its link.
pub struct Site {
    pub ns: Ns,
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
}

pub struct Lab {
    pub patient: Site,
    pub clinic: Site,
    pub relay: Site,
    pub router: Ns,
    names: Vec<String>,
    _xdp_stub: Option<relay::offload::xdp::XdpOffload>,
}

impl Lab {
    /// Builds the topology and the patient's firewall. Panics (after cleaning up what exists)
    /// when a step fails.
    pub fn new() -> Lab {
        require_root_tools();
        remove_stale_labs();
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let tag = format!("{PREFIX}-{}-{}", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed));
        let name = |role: &str| format!("{tag}-{role}");
        let names: Vec<String> = ["router", "patient", "clinic", "relay"].iter().map(|r| name(r)).collect();
        // Build into a guard first so a failing step still deletes what was made.
        let mut guard = Cleanup(names.clone());
        for n in &names {
            sh(Command::new("ip").args(["netns", "add", n]));
        }
        let router = Ns::new(&names[0]);
        router.sysctl("net.ipv4.ip_forward", "1");
        router.link_up("lo");
        let site = |ns_name: &str, octet: u8| {
            let ns = Ns::new(ns_name);
            let inside = format!("r{octet}");
            sh(Command::new("ip")
                .args(["link", "add", &inside, "netns", router.name()])
                .args(["type", "veth", "peer", "name", "eth0", "netns", ns_name]));
            let gateway = Ipv4Addr::new(10, 99, octet, 1);
            let ip = Ipv4Addr::new(10, 99, octet, 2);
            router.run(&["ip", "addr", "add", &format!("{gateway}/24"), "dev", &inside]);
            router.link_up(&inside);
            ns.run(&["ip", "addr", "add", &format!("{ip}/24"), "dev", "eth0"]);
            ns.link_up("eth0");
            ns.link_up("lo");
            // Full checksums on the wire, as from a real NIC: a veth otherwise hands on partial
            // ones (CHECKSUM_PARTIAL), which the relay's XDP checksum updates cannot fix up.
            ns.run(&["ethtool", "-K", "eth0", "tx", "off"]);
            ns.run(&["ip", "route", "add", "default", "via", &gateway.to_string()]);
            Site { ns, ip, gateway }
        };
        let patient = site(&names[1], 1);
        let clinic = site(&names[2], 2);
        let relay = site(&names[3], 3);
        // bpf_fib_lookup answers FWD_DISABLED unless the ingress device forwards, so a relay
        // host whose XDP program forwards packets must have IPv4 forwarding on.
        relay.ns.sysctl("net.ipv4.ip_forward", "1");
        firewall::install_hospital(&patient.ns);
        let _xdp_stub = xdp_stub(&router, "r3");
        guard.0.clear();
        Lab { patient, clinic, relay, router, names, _xdp_stub }
    }

    /// The patient firewall's counters (`nft` named counters), by name.
    pub fn firewall_counters(&self) -> firewall::Counters {
        firewall::read(&self.patient.ns)
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        delete_namespaces(&self.names);
    }
}

/// XDP_TX on a veth wakes the other end only if that end runs an XDP program too
/// (drivers/net/veth.c, veth_xdp_flush); a physical NIC needs nothing of the kind. The relay's
/// XDP program sends hairpinned media (both browsers on this relay) back out of the interface
/// it came in on, so the router's end of the relay link gets a pass-everything stub: a private
/// instance of the relay's own program, without bindings. None where XDP cannot load (the
/// relay then runs without XDP as well).
fn xdp_stub(router: &Ns, dev: &str) -> Option<relay::offload::xdp::XdpOffload> {
    use relay::offload::xdp::{XdpConfig, XdpMode, XdpOffload};
    std::thread::scope(|s| {
        s.spawn(|| {
            router.enter_current_thread();
            let config = XdpConfig { mode: XdpMode::Native, pin_dir: None, ..XdpConfig::default() };
            let stub = XdpOffload::load(&config).ok()?;
            stub.attach(dev, XdpMode::Native).ok()?;
            Some(stub)
        })
        .join()
        .ok()
        .flatten()
    })
}

struct Cleanup(Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        delete_namespaces(&self.0);
    }
}

fn delete_namespaces(names: &[String]) {
    for n in names {
        let _ = Command::new("ip").args(["netns", "del", n]).output();
    }
}

/// Labs whose test process is gone (killed before its Drop ran) are deleted.
fn remove_stale_labs() {
    let Ok(out) = Command::new("ip").args(["netns", "list"]).output() else { return };
    let stale: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| {
            let mut parts = n.split('-');
            parts.next() == Some(PREFIX)
                && parts
                    .next()
                    .and_then(|p| p.parse::<u32>().ok())
                    .is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists())
        })
        .map(str::to_owned)
        .collect();
    delete_namespaces(&stale);
}

fn require_root_tools() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(unsafe { libc::geteuid() }, 0, "the network-namespace lab needs root (CAP_NET_ADMIN)");
    crate::netlab::process::require("ip", "iproute2");
    crate::netlab::process::require("nft", "nftables");
}

/// Runs a set-up command; a failure panics with its output.
pub(crate) fn sh(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
