//! The systems under test and how each is started in the relay namespace.
use anyhow::Result;
use std::path::Path;

use super::netns::{Topology, RELAY_CLIENT_SIDE, RELAY_PEER_SIDE};
use super::procs::Proc;

pub const PORT: u16 = 3478;
pub const SECRET: &str = "bench-secret";
pub const REALM: &str = "bench";

/// Where `relay --xdp native` pins its maps during the bench (removed afterwards).
pub fn pin_dir() -> std::path::PathBuf {
    std::path::PathBuf::from(format!("/sys/fs/bpf/relay-bench-{}", std::process::id()))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    /// Plain routed path, no relay: the floor.
    Floor,
    Coturn,
    RelayUserspace,
    RelayXdp,
}

impl System {
    pub fn key(self) -> &'static str {
        match self {
            System::Floor => "floor",
            System::Coturn => "coturn",
            System::RelayUserspace => "relay_xdp_off",
            System::RelayXdp => "relay_xdp_native",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            System::Floor => "no relay (floor)",
            System::Coturn => "coturn 4.6.1",
            System::RelayUserspace => "relay --xdp off",
            System::RelayXdp => "relay --xdp native",
        }
    }

    /// Starts the server (none for the floor). Readiness is checked by the load generator,
    /// which retries a Binding request until the server answers.
    pub fn start(self, t: &Topology, relay_bin: &Path, logs: &Path) -> Result<Option<Proc>> {
        let common = [
            "--listening-ip".to_string(),
            RELAY_CLIENT_SIDE.to_string(),
            "--relay-ip".into(),
            RELAY_PEER_SIDE.to_string(),
            "--listening-port".into(),
            PORT.to_string(),
            "--min-port".into(),
            "49152".into(),
            "--max-port".into(),
            "65535".into(),
            "--realm".into(),
            REALM.into(),
            "--use-auth-secret".into(),
            "--static-auth-secret".into(),
            SECRET.into(),
            "--allowed-peer-ip".into(),
            "10.98.2.0-10.98.2.255".into(),
            "--no-tcp".into(),
            "--no-tls".into(),
        ];
        let (program, mut args): (&Path, Vec<String>) = match self {
            System::Floor => return Ok(None),
            System::Coturn => (Path::new("/usr/bin/turnserver"), common.to_vec()),
            System::RelayUserspace | System::RelayXdp => {
                let mut a = vec!["serve".to_string()];
                a.extend(common);
                (relay_bin, a)
            }
        };
        match self {
            System::Coturn => args.extend(
                [
                    "-n",
                    "--no-cli",
                    "--no-dtls",
                    "--simple-log",
                    "--pidfile",
                    &logs.join("turnserver.pid").to_string_lossy(),
                    "--log-file",
                    &logs.join("turnserver-coturn.log").to_string_lossy(),
                ]
                .map(String::from),
            ),
            System::RelayUserspace => args.extend(["--xdp", "off"].map(String::from)),
            // A pin directory of our own: one daemon per directory, and another relay on the host
            // (a test, a service) must neither block ours nor be disturbed.
            _ => args.extend(["--xdp", "native", "--xdp-pin-dir", &pin_dir().to_string_lossy()].map(String::from)),
        }
        Proc::spawn(&t.relay, self.key(), program, &args, logs).map(Some)
    }
}
