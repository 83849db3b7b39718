//! `cargo xtask test`: what CI runs (.ci/run). Fails on the first failing step.
use crate::cmd::{nightly_cargo, root, run as sh, stable_cargo};
use anyhow::Result;

/// Bounded fuzzing per target: enough to catch shallow panics on every CI run.
const FUZZ_RUNS: &str = "-runs=200000";
const FUZZ_SECONDS: &str = "-max_total_time=30";

pub fn run(only_tests: bool) -> Result<()> {
    crate::bootstrap::run(true)?;
    let root = root();
    if !only_tests {
        sh(stable_cargo().current_dir(&root).args(["fmt", "--all", "--check"]))?;
        // Nightly: relay-ebpf is a nightly-only crate (build-std, and its manifest may use
        // nightly cargo features), which stable cargo cannot even parse.
        sh(nightly_cargo().current_dir(root.join("relay-ebpf")).args(["fmt", "--check"]))?;
        sh(stable_cargo().current_dir(&root).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
        sh(nightly_cargo()
            .current_dir(root.join("relay-ebpf"))
            .args(["clippy", "--release", "--target", "bpfel-unknown-none", "-Z", "build-std=core", "--target-dir"])
            .arg(root.join("target/ebpf"))
            .args(["--", "-D", "warnings"]))?;
    }
    sh(stable_cargo().current_dir(&root).args(["test", "--workspace"]))?;
    if !only_tests {
        fuzz(&root)?;
    }
    eprintln!("xtask: all test steps passed");
    Ok(())
}

fn fuzz(root: &std::path::Path) -> Result<()> {
    let fuzz_dir = root.join("fuzz");
    if !fuzz_dir.join("Cargo.toml").exists() {
        anyhow::bail!("fuzz/Cargo.toml is missing: the fuzz targets are part of the test suite");
    }
    sh(stable_cargo().current_dir(&fuzz_dir).args(["fmt", "--check"]))?;
    let list = crate::cmd::output(nightly_cargo().current_dir(&fuzz_dir).args(["fuzz", "list"])).unwrap_or_default();
    let targets: Vec<&str> = list.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    if targets.is_empty() {
        anyhow::bail!("`cargo fuzz list` found no fuzz targets");
    }
    for target in targets {
        sh(nightly_cargo().current_dir(&fuzz_dir).args(["fuzz", "run", target, "--", FUZZ_RUNS, FUZZ_SECONDS]))?;
    }
    Ok(())
}
