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
    let totals = cargo_test(&root)?;
    if !only_tests {
        fuzz(&root)?;
    }
    eprintln!("xtask: all test steps passed");
    // One closing line for the whole suite (the last `test result` line cargo prints belongs
    // to whichever binary ran last, often doc tests with nothing in them).
    println!("xtask: {} passed, {} failed", totals.0, totals.1);
    if totals.0 == 0 {
        anyhow::bail!("cargo test ran no test");
    }
    Ok(())
}

/// `cargo test --workspace`, its output passed through, with the `test result:` lines summed.
fn cargo_test(root: &std::path::Path) -> Result<(u64, u64)> {
    use std::io::{BufRead, BufReader};
    let mut cmd = stable_cargo();
    cmd.current_dir(root).args(["test", "--workspace"]).stdout(std::process::Stdio::piped());
    eprintln!("xtask: $ {}", crate::cmd::describe(&cmd));
    let mut child = cmd.spawn()?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow::anyhow!("cargo test stdout not piped"))?;
    let (mut passed, mut failed) = (0, 0);
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        println!("{line}");
        if let Some((p, f)) = parse_result(&line) {
            passed += p;
            failed += f;
        }
    }
    let status = child.wait()?;
    if !status.success() {
        println!("xtask: {passed} passed, {} failed", failed.max(1));
        anyhow::bail!("`cargo test --workspace` failed: {status}");
    }
    Ok((passed, failed))
}

/// `test result: ok. 12 passed; 0 failed; 1 ignored; ...` -> (12, 0).
fn parse_result(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("test result: ")?;
    let num = |word: &str| -> Option<u64> {
        rest.split(';').find_map(|part| {
            part.trim()
                .trim_start_matches("ok.")
                .trim_start_matches("FAILED.")
                .trim()
                .strip_suffix(word)?
                .trim()
                .parse()
                .ok()
        })
    };
    Some((num("passed")?, num("failed")?))
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

#[cfg(test)]
mod tests {
    #[test]
    fn parses_cargo_test_summaries() {
        let ok = "test result: ok. 191 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.45s";
        assert_eq!(super::parse_result(ok), Some((191, 0)));
        let bad = "test result: FAILED. 4 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 8.12s";
        assert_eq!(super::parse_result(bad), Some((4, 1)));
        assert_eq!(super::parse_result("test foo ... ok"), None);
    }
}
