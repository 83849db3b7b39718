//! The `relay` command line: `serve`, `credentials`, `xdp status|channels`.

mod core_config;
mod credentials;
pub mod options;
mod serve;
mod xdp;
mod xdp_setup;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "relay", version, about = "TURN relay (RFC 8656) with an XDP fast path for UDP media")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the relay in the foreground (logs to stderr; stops cleanly on SIGINT/SIGTERM).
    Serve(Box<options::ServeOptions>),
    /// Print the RTCPeerConnection `iceServers` JSON for REST (shared-secret) credentials.
    Credentials(credentials::CredentialsArgs),
    /// Inspect the XDP fast path through its pinned maps (works without the daemon).
    Xdp {
        #[command(subcommand)]
        command: xdp::XdpCommand,
    },
}

pub fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Serve(opts) => serve::run(opts.resolve()?),
        Command::Credentials(args) => credentials::run(&args),
        Command::Xdp { command } => xdp::run(command),
    }
}
