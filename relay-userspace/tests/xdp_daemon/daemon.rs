//! The real `relay serve --xdp native` inside the lab's relay namespace, and what an operator
//! reads from it: `relay xdp status|channels` and the Prometheus endpoint.
//!
//! The daemon pins its maps at the one host-wide path `/sys/fs/bpf/relay` (there is no pin-dir
//! option), so these tests take a host-wide lock and wait for any other live XDP daemon to let
//! go of the pins before starting theirs.

use crate::harness::relay::RelayProcess;
use crate::support::Netns;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Shared by every test that runs an XDP daemon on the default pins (flock, released on exit).
const LOCK_FILE: &str = "/tmp/relay-xdp-default-pins.lock";
/// Hang guard while another test or benchmark holds the lock or the pins.
const WAIT_FOR_PINS: Duration = Duration::from_secs(600);
pub const METRICS: &str = "127.0.0.1:9641";

/// A running daemon; dropping it (also on panic) stops it and removes pins it left behind.
pub struct Daemon<'lab> {
    process: Option<RelayProcess>,
    ns: &'lab Netns,
    /// `None` only while being handed to the next daemon by [`Daemon::restart`].
    lock: Option<File>,
    /// Kernel id of the verdict map this daemon pinned: tells our pins from another daemon's.
    pinned_id: u32,
}

fn pin_dir() -> &'static Path {
    Path::new(relay_common::PIN_DIR)
}

/// Exclusive host-wide lock; polled so a stuck holder fails the test instead of hanging it.
fn lock() -> File {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_FILE)
        .unwrap_or_else(|e| panic!("open {LOCK_FILE}: {e}"));
    let deadline = Instant::now() + WAIT_FOR_PINS;
    // SAFETY: flock on an fd we own.
    while unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        assert!(Instant::now() < deadline, "{LOCK_FILE} held by another XDP daemon test for {WAIT_FOR_PINS:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    file
}

/// True when a loaded program uses the map pinned as the verdict counters: a live daemon (a
/// benchmark, `cargo xtask run`) owns the pins. Stale pins of a dead daemon are replaced.
fn pins_in_use() -> bool {
    let path = pin_dir().join(relay_common::map_names::VERDICTS);
    let Ok(map) = aya::maps::MapData::from_pin(&path) else { return false };
    let Ok(info) = map.info() else { return false };
    let id = info.id();
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .any(|p| p.map_ids().ok().flatten().is_some_and(|ids| ids.contains(&id)))
}

impl<'lab> Daemon<'lab> {
    /// Starts `relay serve ARGS --xdp native` in `ns` (a thread that entered the namespace
    /// spawns it, so only the network namespace differs: bpffs and /sys stay the host's).
    pub fn start(ns: &'lab Netns, args: &[&str]) -> Daemon<'lab> {
        Daemon::start_locked(ns, args, lock())
    }

    fn start_locked(ns: &'lab Netns, args: &[&str], lock: File) -> Daemon<'lab> {
        let deadline = Instant::now() + WAIT_FOR_PINS;
        while pins_in_use() {
            assert!(
                Instant::now() < deadline,
                "another relay daemon with XDP kept {} for {WAIT_FOR_PINS:?}",
                relay_common::PIN_DIR
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        let mut full = vec!["--xdp", "native", "--metrics-listen", METRICS, "--no-tcp", "--no-tls"];
        full.extend_from_slice(args);
        let process = ns.run(|| RelayProcess::start(&full));
        let pinned_id = pinned_verdict_map().unwrap_or_else(|| panic!("no pins after start:\n{}", process.log()));
        let prog = attached_prog(ns, "r0");
        let ours = loaded_program_maps(prog).contains(&pinned_id);
        assert!(ours, "{} is not our daemon's right after start{}", relay_common::PIN_DIR, others(process.pid()));
        Daemon { process: Some(process), ns, lock: Some(lock), pinned_id }
    }

    /// Reaps this daemon (however it ended) without touching its pins, and starts a new one
    /// under the same lock: what a service manager does after a crash.
    pub fn restart(mut self, args: &[&str]) -> Daemon<'lab> {
        if let Some(process) = self.process.take() {
            process.stop();
        }
        let lock = self.lock.take().expect("held until drop");
        Daemon::start_locked(self.ns, args, lock)
    }

    pub fn log(&self) -> String {
        self.process.as_ref().map(RelayProcess::log).unwrap_or_default()
    }

    /// Panics when the pins were replaced by a daemon this test does not control (the pin
    /// path is host-wide and not every XDP daemon takes [`LOCK_FILE`]).
    pub fn assert_pins_ours(&self) {
        let pid = self.process.as_ref().map_or(0, RelayProcess::pid);
        assert_eq!(
            pinned_verdict_map(),
            Some(self.pinned_id),
            "another daemon replaced or removed {} while this test ran; counters are not ours{}",
            relay_common::PIN_DIR,
            others(pid)
        );
    }

    /// `relay xdp status|channels` run in the relay namespace, as an operator would.
    pub fn xdp(&self, what: &str) -> String {
        self.assert_pins_ours();
        let out = self
            .ns
            .run(|| Command::new(env!("CARGO_BIN_EXE_relay")).args(["xdp", what]).output().expect("run relay xdp"));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "relay xdp {what} failed: {}{}\n--- daemon log ---\n{}",
            text,
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        self.assert_pins_ours();
        text
    }

    /// The Prometheus text from `--metrics-listen` (loopback of the relay namespace).
    pub fn metrics(&self) -> String {
        self.ns.run(|| {
            let mut s = TcpStream::connect(METRICS).expect("connect to the metrics endpoint");
            s.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
            s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").expect("send request");
            let mut body = String::new();
            s.read_to_string(&mut body).expect("read metrics");
            body
        })
    }

    /// SIGSTOP until the guard drops (SIGCONT, also on panic): the daemon can neither relay
    /// nor change the maps meanwhile.
    pub fn pause(&self) -> Paused {
        let pid = self.process.as_ref().expect("running").pid();
        signal(pid, libc::SIGSTOP);
        Paused(pid)
    }

    /// SIGKILL, as a crash: no clean-up code of the daemon runs.
    pub fn crash(&self) {
        let pid = self.process.as_ref().expect("running").pid();
        signal(pid, libc::SIGKILL);
    }

    /// SIGTERM; the daemon must exit 0 and remove its pins (clean shutdown).
    pub fn stop(mut self) {
        let process = self.process.take().expect("running");
        let log_before = process.log();
        let status = process.stop();
        assert!(status.success(), "relay exited with {status}\n--- daemon log ---\n{log_before}");
        // Pins of a daemon started since by someone else may be there; ours must not.
        assert_ne!(pinned_verdict_map(), Some(self.pinned_id), "clean shutdown left {} behind", relay_common::PIN_DIR);
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            // A failed test: stop the daemon; one that did not exit cleanly leaves pins that
            // would mislead `relay xdp status`. Only ours are removed.
            if !process.stop().success() && pinned_verdict_map() == Some(self.pinned_id) {
                relay::offload::xdp::remove_pins(pin_dir());
            }
        }
    }
}

/// Kernel id of the map pinned as the verdict counters, if any.
fn pinned_verdict_map() -> Option<u32> {
    let map = aya::maps::MapData::from_pin(pin_dir().join(relay_common::map_names::VERDICTS)).ok()?;
    Some(map.info().ok()?.id())
}

/// Id of the XDP program attached to `dev` (from `ip link`, which shows `prog/xdp id N`).
fn attached_prog(ns: &Netns, dev: &str) -> u32 {
    let out = ns.ip(&["link", "show", "dev", dev]);
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("prog/xdp id ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no XDP program on {dev}:\n{text}"))
}

fn loaded_program_maps(prog: u32) -> Vec<u32> {
    aya::programs::loaded_programs()
        .filter_map(Result::ok)
        .find(|p| p.id() == prog)
        .and_then(|p| p.map_ids().ok().flatten())
        .unwrap_or_default()
}

/// Other `relay serve` processes on the host, for the failure message.
fn others(ours: u32) -> String {
    let mut found = String::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else { continue };
        let args: Vec<String> = cmd.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let is_relay = args.first().is_some_and(|a| a.ends_with("/relay") || a == "relay");
        if pid != ours && is_relay && args.get(1).is_some_and(|a| a == "serve") {
            found.push_str(&format!("\n  pid {pid}: {}", args.join(" ")));
        }
    }
    if found.is_empty() {
        String::new()
    } else {
        format!("; other relay daemons running:{found}")
    }
}

/// A stopped daemon; continued on drop.
pub struct Paused(u32);

impl Drop for Paused {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our child's PID; no assertion here, this may run while unwinding.
        unsafe { libc::kill(self.0 as i32, libc::SIGCONT) };
    }
}

fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) on the PID of a child this process spawned and has not reaped.
    let rc = unsafe { libc::kill(pid as i32, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}): {}", std::io::Error::last_os_error());
}
