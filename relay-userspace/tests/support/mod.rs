//! Network-namespace helpers for integration tests: namespaces, veth pairs with addresses,
//! running code or commands inside a namespace, ethtool tweaks; and packet builders.
//!
//! Every namespace name is unique per process and per call, so tests run in parallel. Dropping
//! a [`Netns`] deletes it (and the veth ends inside), also while a test panics. Missing tools
//! (`ip`, `ethtool`, `sysctl`) fail the test with their name; nothing is skipped.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod packet;
pub mod relay_lab;

use std::{
    fs::File,
    os::fd::AsRawFd,
    process::{Command, Output},
    sync::atomic::{AtomicU32, Ordering},
};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// Panics loudly if `tool` is not on PATH (or in /usr/sbin, /sbin).
pub fn require_tool(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .any(|dir| dir.join(tool).is_file());
    assert!(found, "required tool `{tool}` is not installed (Debian: apt-get install iproute2 ethtool procps)");
}

fn tool_path(tool: &str) -> String {
    for dir in ["/usr/sbin", "/sbin", "/usr/bin", "/bin"] {
        let p = format!("{dir}/{tool}");
        if std::path::Path::new(&p).is_file() {
            return p;
        }
    }
    tool.to_owned()
}

/// Runs a command, panicking with its stderr if it fails.
pub fn run(program: &str, args: &[&str]) -> Output {
    require_tool(program);
    let out =
        Command::new(tool_path(program)).args(args).output().unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    assert!(out.status.success(), "`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    out
}

/// A network namespace created with `ip netns add`, deleted on drop.
#[derive(Debug)]
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// New namespace named `t<pid>-<n>-<tag>`; loopback is brought up.
    pub fn new(tag: &str) -> Netns {
        require_tool("ip");
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("t{}-{n}-{tag}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// `ip -n <ns> <args>`.
    pub fn ip(&self, args: &[&str]) -> Output {
        let mut full = vec!["-n", &self.name];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// Runs `program args` inside the namespace (`ip netns exec`).
    pub fn exec(&self, program: &str, args: &[&str]) -> Output {
        require_tool(program);
        let path = tool_path(program);
        let mut full = vec!["netns", "exec", &self.name, &path];
        full.extend_from_slice(args);
        run("ip", &full)
    }

    /// `sysctl -w key=value` inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        self.exec("sysctl", &["-qw", &format!("{key}={value}")]);
    }

    /// Turns IPv4 and IPv6 forwarding on (what `bpf_fib_lookup` requires on ingress).
    pub fn enable_forwarding(&self) {
        self.sysctl("net.ipv4.conf.all.forwarding", "1");
        self.sysctl("net.ipv6.conf.all.forwarding", "1");
    }

    /// `ethtool -K dev tx off`: locally generated packets then carry full checksums, which
    /// incremental updates need (CHECKSUM_PARTIAL would be garbage after a rewrite).
    pub fn tx_checksum_off(&self, dev: &str) {
        self.exec("ethtool", &["-K", dev, "tx", "off"]);
    }

    /// `ethtool -K dev gro on`: a veth end without an XDP program only accepts XDP_TX /
    /// redirected frames with GRO on.
    pub fn gro_on(&self, dev: &str) {
        self.exec("ethtool", &["-K", dev, "gro", "on"]);
    }

    /// Runs `f` on a dedicated thread that has entered this namespace (setns), so sockets,
    /// ifindex lookups, XDP attach and BPF_PROG_TEST_RUN all happen inside it.
    pub fn run<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                // SAFETY: a valid netns fd; only this (new) thread switches namespace.
                let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(rc, 0, "setns({path}): {}", std::io::Error::last_os_error());
                f()
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    /// Interface index of `dev` in this namespace.
    pub fn ifindex(&self, dev: &str) -> u32 {
        let dev = dev.to_owned();
        self.run(move || {
            let c = std::ffi::CString::new(dev.clone()).expect("interface name");
            // SAFETY: NUL-terminated string.
            let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
            assert_ne!(i, 0, "no interface {dev}");
            i
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting the namespace removes every veth end inside it. Errors are ignored so a
        // failing test still reports its own panic.
        let _ = Command::new(tool_path("ip")).args(["netns", "del", &self.name]).output();
    }
}

/// One veth end: its namespace name, device name and MAC.
#[derive(Clone, Debug)]
pub struct VethEnd {
    pub ns: String,
    pub dev: String,
    pub mac: [u8; 6],
}

/// A veth pair between two namespaces; removed with them (and on drop if they outlive it).
#[derive(Debug)]
pub struct Veth {
    pub a: VethEnd,
    pub b: VethEnd,
}

fn mac_str(m: &[u8; 6]) -> String {
    m.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

impl Veth {
    /// Creates `dev_a` in `ns_a` paired with `dev_b` in `ns_b`, sets the MACs, brings both up.
    pub fn new(ns_a: &Netns, dev_a: &str, mac_a: [u8; 6], ns_b: &Netns, dev_b: &str, mac_b: [u8; 6]) -> Veth {
        run(
            "ip",
            &[
                "link",
                "add",
                dev_a,
                "netns",
                &ns_a.name,
                "address",
                &mac_str(&mac_a),
                "type",
                "veth",
                "peer",
                "name",
                dev_b,
                "netns",
                &ns_b.name,
                "address",
                &mac_str(&mac_b),
            ],
        );
        ns_a.ip(&["link", "set", dev_a, "up"]);
        ns_b.ip(&["link", "set", dev_b, "up"]);
        Veth {
            a: VethEnd { ns: ns_a.name.clone(), dev: dev_a.to_owned(), mac: mac_a },
            b: VethEnd { ns: ns_b.name.clone(), dev: dev_b.to_owned(), mac: mac_b },
        }
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        let _ = Command::new(tool_path("ip")).args(["-n", &self.a.ns, "link", "del", &self.a.dev]).output();
    }
}

/// Adds `cidr` (e.g. "10.0.1.1/24" or "fd00:1::1/64") to `dev`; IPv6 without DAD so it is
/// usable at once.
pub fn add_addr(ns: &Netns, dev: &str, cidr: &str) {
    if cidr.contains(':') {
        ns.ip(&["-6", "addr", "add", cidr, "dev", dev, "nodad"]);
    } else {
        ns.ip(&["addr", "add", cidr, "dev", dev]);
    }
}

/// Permanent neighbour entry, so no ARP/ND is needed (and the FIB lookup sees a neighbour).
pub fn add_neigh(ns: &Netns, dev: &str, ip: &str, mac: [u8; 6]) {
    ns.ip(&["neigh", "replace", ip, "lladdr", &mac_str(&mac), "dev", dev, "nud", "permanent"]);
}
