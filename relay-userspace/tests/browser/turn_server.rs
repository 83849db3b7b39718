//! The TURN server under test, inside the relay namespace: our `relay` by default, or coturn
//! (`BROWSER_TEST_TURN=coturn`) to check the harness itself against a known-good server.
use super::pki::RelayCert;
use crate::netlab::process::{require, run_bounded, Guarded};
use crate::netlab::Ns;
use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

pub const SECRET: &str = "north-wing-secret";
pub const REALM: &str = "clinic.test";
/// A hang guard for start-up, not a timing assertion.
const READY_WITHIN: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Relay,
    Coturn,
}

impl Kind {
    pub fn from_env() -> Kind {
        match std::env::var("BROWSER_TEST_TURN").as_deref() {
            Ok("coturn") => Kind::Coturn,
            Ok("relay") | Err(_) => Kind::Relay,
            Ok(other) => panic!("BROWSER_TEST_TURN={other:?}: use `relay` or `coturn`"),
        }
    }
}

pub struct TurnServer {
    pub kind: Kind,
    pub process: Guarded,
}

pub fn start(kind: Kind, ns: &Ns, ip: Ipv4Addr, cert: &RelayCert) -> TurnServer {
    // The options both servers share (our relay takes coturn's names on purpose).
    let common = [
        format!("--listening-ip={ip}"),
        format!("--relay-ip={ip}"),
        "--listening-port=3478".to_owned(),
        "--tls-listening-port=443".to_owned(),
        format!("--realm={REALM}"),
        "--use-auth-secret".to_owned(),
        format!("--static-auth-secret={SECRET}"),
        format!("--cert={}", cert.cert_pem.display()),
        format!("--pkey={}", cert.key_pem.display()),
    ];
    let (mut process, ready) = match kind {
        Kind::Relay => {
            let mut cmd = ns.command(env!("CARGO_BIN_EXE_relay"));
            // A pin directory of this run's own: another relay on the host (a benchmark, a
            // developer's) may own the default one, and then ours would run without XDP.
            cmd.env("RUST_LOG", "debug,aya=info,aya_obj=info")
                .arg("serve")
                .args(&common)
                .arg("--xdp=auto")
                .arg(format!("--xdp-pin-dir={}", pin_dir().display()));
            (Guarded::spawn("relay", cmd), "relay ready")
        }
        Kind::Coturn => {
            require("turnserver", "coturn");
            // Pid file and user DB in the run's own directory: parallel coturns must not share them.
            let dir = cert.cert_pem.parent().expect("cert lives in the run's directory").display();
            let mut cmd = ns.command("turnserver");
            cmd.args(["-n", "--no-cli", "--log-file=stdout", "--simple-log", "--verbose", "--no-dtls"])
                .arg(format!("--pidfile={dir}/turnserver.pid"))
                .arg(format!("--db={dir}/turndb"))
                .args(&common);
            (Guarded::spawn("turnserver", cmd), "Total General servers")
        }
    };
    process.wait_for_log(ready, READY_WITHIN);
    TurnServer { kind, process }
}

impl TurnServer {
    /// Log lines about one user's allocations (the REST username contains the user), or the
    /// last lines when none mention it.
    pub fn log_for(&self, user: &str) -> String {
        let log = self.process.log();
        let lines: Vec<&str> = log.lines().filter(|l| l.contains(user)).collect();
        if lines.is_empty() {
            let all: Vec<&str> = log.lines().collect();
            let tail = &all[all.len().saturating_sub(80)..];
            return format!("(no line names {user:?}; last {} lines)\n{}", tail.len(), tail.join("\n"));
        }
        lines.join("\n")
    }

    /// `relay xdp status` or `relay xdp channels`: read from the pinned maps while the relay
    /// runs (its clean exit removes the pins). Panics when the command fails.
    pub fn xdp(&self, what: &str) -> String {
        assert_eq!(self.kind, Kind::Relay, "coturn has no XDP fast path: this check is for our relay");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_relay"));
        cmd.args(["xdp", what]).arg(format!("--pin-dir={}", pin_dir().display()));
        let out = run_bounded(cmd, Duration::from_secs(20));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "relay xdp {what} failed ({}):\n{text}", out.status);
        text
    }
}

/// This test process's bpffs pin directory for the relay's maps.
fn pin_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/sys/fs/bpf/relay-browser-test-{}", std::process::id()))
}

/// Packets the XDP program forwarded itself: the `forwarded_*` verdict lines of `relay xdp
/// status` (`  forwarded_c2p_v4    12`), summed.
pub fn xdp_forwarded(status: &str) -> u64 {
    status
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next()?;
            let count = words.next()?.parse::<u64>().ok()?;
            name.starts_with("forwarded_").then_some(count)
        })
        .sum()
}
