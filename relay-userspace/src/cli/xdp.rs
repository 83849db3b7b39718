//! `relay xdp status|channels`: reads the pinned maps directly, so it works while the daemon is
//! stalled or gone.

use crate::offload::xdp;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum XdpCommand {
    /// Attach mode, interfaces, map entry counts and verdict counters summed over CPUs.
    Status {
        /// bpffs directory holding the pinned maps.
        #[arg(long, default_value_os_t = xdp::default_pin_dir())]
        pin_dir: PathBuf,
    },
    /// Installed channel bindings with their packet and byte counters.
    Channels {
        #[arg(long, default_value_os_t = xdp::default_pin_dir())]
        pin_dir: PathBuf,
    },
}

pub fn run(command: XdpCommand) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match command {
        XdpCommand::Status { pin_dir } => xdp::print_status(&pin_dir, &mut out),
        XdpCommand::Channels { pin_dir } => xdp::print_channels(&pin_dir, &mut out),
    }
}
