//! The XDP program's own cost: ns per packet per direction and family from BPF_PROG_TEST_RUN
//! with repeat. The measurement is relay-userspace's ignored test `xdp_bench` (owned by the
//! XDP engine; it builds its own namespace lab); this runs it and reads its
//! `xdp_bench <case> ns_per_packet=<median> mean=<n> baseline=<n> net=<n>` lines.
use anyhow::{bail, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::stable_cargo;

const TEST: &str = "xdp_bench";

#[derive(Clone, Debug, Default, Serialize)]
pub struct XdpProg {
    /// "ok", or why there are no figures.
    pub status: String,
    /// (case, median ns per packet, the rest of the line: mean, baseline, net).
    pub rows: Vec<(String, f64, String)>,
}

fn test_cmd(root: &Path) -> Command {
    let mut c = stable_cargo();
    c.current_dir(root).args(["test", "-p", "relay-userspace", "--release", "--test", TEST]);
    c
}

/// Whether the benchmark exists in this tree.
pub fn available(root: &Path) -> bool {
    root.join("relay-userspace/tests").join(format!("{TEST}.rs")).exists()
}

/// Builds the benchmark binary up front and returns its path, so the measured part of the run
/// neither compiles nor picks up sources edited meanwhile.
pub fn build(root: &Path) -> Result<Option<PathBuf>> {
    if !available(root) {
        return Ok(None);
    }
    let mut cmd = test_cmd(root);
    cmd.args(["--no-run", "--message-format=json-render-diagnostics"]);
    eprintln!("xtask: $ {}", crate::cmd::describe(&cmd));
    let out = cmd.output()?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        bail!("{}", err.lines().find(|l| l.trim_start().starts_with("error")).unwrap_or("build failed"));
    }
    let exe = String::from_utf8_lossy(&out.stdout).lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        (v["target"]["name"] == TEST).then(|| v["executable"].as_str().map(PathBuf::from)).flatten()
    });
    exe.map(Some).ok_or_else(|| anyhow::anyhow!("cargo did not report the {TEST} executable"))
}

pub fn measure(root: &Path, exe: Option<&Path>) -> XdpProg {
    let Some(exe) = exe else {
        return XdpProg {
            status: "n/a (pending: relay-userspace/tests/xdp_bench.rs missing or not built)".into(),
            rows: vec![],
        };
    };
    match run(root, exe) {
        Ok(x) => x,
        Err(e) => XdpProg { status: format!("failed: {e:#}"), rows: vec![] },
    }
}

fn run(root: &Path, exe: &Path) -> Result<XdpProg> {
    // cargo runs test binaries from the package directory; so do we.
    let out = Command::new(exe)
        .current_dir(root.join("relay-userspace"))
        .args(["--ignored", "--nocapture", "--test-threads=1"])
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let rows = parse(&stdout);
    if !out.status.success() || rows.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        let why = stdout.lines().chain(err.lines()).filter(|l| l.contains("panicked") || l.contains("error")).take(3);
        bail!("{TEST} failed ({}): {}", out.status, why.collect::<Vec<_>>().join(" | "));
    }
    Ok(XdpProg { status: "ok".into(), rows })
}

fn parse(stdout: &str) -> Vec<(String, f64, String)> {
    stdout
        .lines()
        .filter_map(|l| {
            // libtest prints the first line right after "test <name> ... ".
            let mut f = l[l.find("xdp_bench ")? + "xdp_bench ".len()..].split_whitespace();
            let case = f.next()?.to_string();
            let rest: Vec<&str> = f.collect();
            // The program's own cost is `net`: the median minus the cost of BPF_PROG_TEST_RUN
            // itself on an empty program (`baseline`), which no real packet pays.
            let gross: f64 = rest.iter().find_map(|kv| kv.strip_prefix("ns_per_packet="))?.parse().ok()?;
            let ns = rest.iter().find_map(|kv| kv.strip_prefix("net=")).and_then(|v| v.parse().ok()).unwrap_or(gross);
            let detail = format!(
                "test-run median {gross} ns, {}",
                rest.iter().filter(|kv| !kv.starts_with("ns_per_packet=")).copied().collect::<Vec<_>>().join(" ")
            );
            Some((case, ns, detail))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn parses_bench_lines() {
        let out = "running 1 test\ntest x ... xdp_bench c2p_v4 ns_per_packet=61 mean=64 baseline=20 net=41 samples=20000\nok\n";
        let rows = parse(out);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "c2p_v4");
        assert_eq!(rows[0].1, 41.0, "net of the test-run baseline");
        assert!(rows[0].2.contains("median 61"), "{}", rows[0].2);
    }
}
