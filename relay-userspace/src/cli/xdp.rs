//! `relay xdp status|channels`: reads the pinned maps directly, so it works while the daemon is
//! stalled or gone.

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum XdpCommand {
    /// Attach mode, interfaces, map entry counts and verdict counters summed over CPUs.
    Status,
    /// Installed channel bindings with their packet and byte counters.
    Channels,
}

pub fn run(command: XdpCommand) -> anyhow::Result<()> {
    match command {
        XdpCommand::Status => anyhow::bail!("xdp status: not wired yet"),
        XdpCommand::Channels => anyhow::bail!("xdp channels: not wired yet"),
    }
}
