//! `cargo xtask run`: release build, then `relay serve` in the foreground.
use crate::cmd::{root, run as run_cmd, stable_cargo};
use anyhow::Result;
use std::os::unix::process::CommandExt;
use std::process::Command;

pub fn run(args: &[String]) -> Result<()> {
    crate::bootstrap::run(false)?;
    let root = root();
    run_cmd(stable_cargo().current_dir(&root).args(["build", "--release", "-p", "relay-userspace", "--bin", "relay"]))?;
    let relay = root.join("target/release/relay");
    // exec: signals (Ctrl-C, SIGTERM) go straight to the relay.
    let err = Command::new(relay).arg("serve").args(args).exec();
    Err(err.into())
}
