//! A second independent TURN client implementation, aioice (Python, PyPI), allocates, binds a
//! channel and exchanges data through `relay` over UDP, TCP and TLS, with a static user.
// Tests panic on failure by design (STYLE.md); unwrap is how they fail.
#![allow(clippy::unwrap_used)]

mod harness;

use harness::relay::RelayProcess;
use harness::tools::run_bounded;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

fn python() -> PathBuf {
    let py = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv/bin/python");
    assert!(
        py.exists(),
        "{} is missing: `cargo xtask bootstrap --test-deps` creates it with aioice from PyPI",
        py.display()
    );
    py
}

fn exchange(n: u8, transport: &str, port: &str) {
    let py = python();
    let ip = harness::loopback(n).to_string();
    let peer = harness::loopback(n + 100).to_string();
    let relay = RelayProcess::start(&[
        "--listening-ip",
        &ip,
        "--tls-listening-port",
        "5349",
        "--user",
        "nurse:correct horse",
        "--realm",
        "ward.test",
        "--allow-loopback-peers",
        "--xdp",
        "off",
    ]);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/aioice_turn.py");
    let out = run_bounded(
        Command::new(py).arg(script).args(["--server", &ip, "--port", port, "--transport", transport]).args([
            "--username",
            "nurse",
            "--password",
            "correct horse",
            "--peer-host",
            &peer,
        ]),
        Duration::from_secs(60),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("\"ok\": true"),
        "aioice over {transport} failed:\n{stdout}\n{}\n--- relay log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        relay.log()
    );
    assert!(stdout.contains(&format!("\"relayed\": [\"{ip}\"")), "relayed address on the relay ip: {stdout}");
}

#[test]
fn aioice_over_udp() {
    exchange(21, "udp", "3478");
}

#[test]
fn aioice_over_tcp() {
    exchange(22, "tcp", "3478");
}

#[test]
fn aioice_over_tls() {
    exchange(23, "tls", "5349");
}
