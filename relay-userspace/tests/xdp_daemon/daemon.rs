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
        Daemon { process: Some(process), ns, lock: Some(lock) }
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

    /// `relay xdp status|channels` run in the relay namespace, as an operator would.
    pub fn xdp(&self, what: &str) -> String {
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
        assert!(!pin_dir().exists(), "clean shutdown left {} behind", relay_common::PIN_DIR);
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        if let Some(process) = self.process.take() {
            // A failed test: stop the daemon; a daemon that did not exit cleanly leaves pins
            // that would mislead `relay xdp status`, and nobody else holds them (we hold the lock).
            if !process.stop().success() {
                relay::offload::xdp::remove_pins(pin_dir());
            }
        }
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
