//! `cargo xtask`: the project's only entry points for set-up, running, testing and benchmarking.
//! Each command bootstraps what it needs first (idempotent, seconds when everything is present).

mod bench;
mod bootstrap;
mod cmd;
mod run;
mod test;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(about = "Build, run, test and benchmark the relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install what the build needs: nightly rust-src and bpf-linker (against nightly's LLVM).
    Bootstrap {
        /// Also install the Debian packages and tools the test suite uses.
        #[arg(long)]
        test_deps: bool,
    },
    /// Build everything (release) and run `relay serve` with the embedded defaults.
    Run {
        /// Extra arguments passed to `relay serve`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Side-by-side benchmark against coturn (needs root); report in target/bench/.
    Bench {
        /// Shorter runs and fewer repeats: under 3 minutes.
        #[arg(long)]
        quick: bool,
    },
    /// The whole suite: formatting, clippy (userspace and eBPF), unit/integration tests, fuzzing.
    Test {
        /// Skip fmt/clippy and fuzzing; run only `cargo test`.
        #[arg(long)]
        only_tests: bool,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Bootstrap { test_deps } => bootstrap::run(test_deps),
        Command::Run { args } => run::run(&args),
        Command::Test { only_tests } => test::run(only_tests),
        Command::Bench { quick } => bench::run(quick),
    }
}
