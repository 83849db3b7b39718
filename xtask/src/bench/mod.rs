//! `cargo xtask bench`: coturn, our relay (userspace and XDP) and the bare routed path under the
//! same load on the same machine in the same run, reported as ratios to coturn.
//!
//! Everything runs inside network namespaces this command creates (see [`netns`]); the load
//! generator is `relay-loadgen` (relay-userspace/src/loadgen). The report goes to stdout,
//! `target/bench/report.md` and `target/bench/report.json`; process logs to `target/bench/logs/`.
mod counters;
mod measure;
mod netns;
mod plan;
mod procs;
mod report;
mod stats;
mod systems;
mod xdp_prog;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::cmd::{describe, have, root, run as sh, stable_cargo};
use measure::{Alloc, MaxRate, Step};
use netns::{Topology, PEERS};
use plan::Plan;
use procs::Proc;
use systems::System;

/// UDP port of the echo peers.
pub const PEER_PORT: u16 = 40000;

/// Runs a set-up command quietly; on failure the error carries its stderr.
pub(crate) fn quiet(cmd: &mut Command) -> Result<()> {
    let out: Output = cmd.output().with_context(|| format!("cannot start {}", describe(cmd)))?;
    if !out.status.success() {
        bail!("`{}` failed: {}", describe(cmd), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// Everything measured for one system; `error` says where it stopped if it did.
#[derive(Debug, Serialize)]
pub struct SystemResult {
    pub key: &'static str,
    pub title: &'static str,
    pub error: Option<String>,
    /// Share of the machine busy with other work just before this system ran (noise indicator).
    pub background_busy: f64,
    pub server_pid: Option<u32>,
    pub generator_pid: Option<u32>,
    pub reflector_pid: u32,
    pub setup: serde_json::Value,
    pub fixed: BTreeMap<usize, Vec<Step>>,
    pub max: BTreeMap<usize, Vec<MaxRate>>,
    pub alloc: Option<Alloc>,
}

struct Env {
    topo: Topology,
    relay: PathBuf,
    loadgen: PathBuf,
    logs: PathBuf,
    reflector: Proc,
}

pub fn run(quick: bool) -> Result<()> {
    let started = Instant::now();
    netns::check_privileges()?;
    ensure_tools()?;
    let root = root();
    sh(stable_cargo().current_dir(&root).args(["build", "--release", "-p", "relay-userspace", "--bins"]))?;
    let xdp_exe = xdp_prog::build(&root).unwrap_or_else(|e| {
        eprintln!("xtask: bench: the XDP program benchmark does not build: {e:#}");
        None
    });
    let out_dir = root.join("target/bench");
    let logs = out_dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("create {}", logs.display()))?;
    let plan = Plan::new(quick);
    let (relay, loadgen) = (root.join("target/release/relay"), root.join("target/release/relay-loadgen"));
    let topo = Topology::create()?;
    let binds: Vec<String> = PEERS.iter().flat_map(|p| ["--bind".to_string(), format!("{p}:{PEER_PORT}")]).collect();
    let args: Vec<String> = std::iter::once("reflect".to_string()).chain(binds).collect();
    let reflector = Proc::spawn(&topo.peer, "reflector", &loadgen, &args, &logs)?;
    let mut env = Env { topo, relay, loadgen, logs, reflector };
    let measure_start = Instant::now();
    let mut results = Vec::new();
    for sys in [System::Floor, System::Coturn, System::RelayUserspace, System::RelayXdp] {
        eprintln!("xtask: bench: {} ({:.0} s so far)", sys.title(), started.elapsed().as_secs_f64());
        let r = bench_system(sys, &plan, &mut env);
        if let Some(e) = &r.error {
            eprintln!("xtask: bench: {} failed: {e}", sys.title());
        }
        results.push(r);
    }
    eprintln!("xtask: bench: XDP program ({:.0} s so far)", started.elapsed().as_secs_f64());
    let xdp = xdp_prog::measure(&root, xdp_exe.as_deref());
    env.reflector.stop(Duration::from_secs(2));
    // The relay removes its pins on a clean exit; this covers one that did not exit cleanly.
    let _ = std::fs::remove_dir_all(systems::pin_dir());
    drop(env);
    let took = (started.elapsed(), measure_start.elapsed());
    let md = report::markdown(&plan, &results, &xdp, took);
    println!("{md}");
    std::fs::write(out_dir.join("report.md"), &md)?;
    let json = serde_json::json!({ "plan": plan, "systems": results, "xdp_program": xdp,
        "elapsed_s": took.0.as_secs_f64(), "measure_s": took.1.as_secs_f64() });
    std::fs::write(out_dir.join("report.json"), serde_json::to_string_pretty(&json)?)?;
    eprintln!(
        "xtask: bench: wrote {} and report.json ({:.0} s)",
        out_dir.join("report.md").display(),
        took.0.as_secs_f64()
    );
    Ok(())
}

fn bench_system(sys: System, plan: &Plan, env: &mut Env) -> SystemResult {
    let mut r = SystemResult {
        key: sys.key(),
        title: sys.title(),
        error: None,
        background_busy: wait_for_quiet(Duration::from_secs(plan.quiet_wait_s)),
        server_pid: None,
        generator_pid: None,
        reflector_pid: env.reflector.pid(),
        setup: serde_json::Value::Null,
        fixed: BTreeMap::new(),
        max: BTreeMap::new(),
        alloc: None,
    };
    let mut server = match sys.start(&env.topo, &env.relay, &env.logs) {
        Ok(s) => s,
        Err(e) => {
            r.error = Some(format!("{e:#}"));
            return r;
        }
    };
    r.server_pid = server.as_ref().map(Proc::pid);
    if let Err(e) = fill(sys, plan, env, server.as_mut(), &mut r) {
        let tail = match server.as_mut() {
            Some(s) => {
                if s.alive() {
                    String::new()
                } else {
                    s.tail()
                }
            }
            None => String::new(),
        };
        r.error = Some(format!("{e:#}{tail}"));
    }
    if let Some(s) = server.as_mut() {
        // Servers ignore stdin: SIGTERM straight away.
        s.stop(Duration::ZERO);
    }
    r
}

fn fill(sys: System, plan: &Plan, env: &mut Env, mut server: Option<&mut Proc>, r: &mut SystemResult) -> Result<()> {
    // A server that refuses its options exits at once; say so instead of waiting for Binding.
    std::thread::sleep(Duration::from_millis(300));
    still_running(server.as_deref_mut())?;
    let args = measure::drive_args(plan, server.as_deref(), &env.reflector);
    let mut gen = Proc::spawn(&env.topo.client, &format!("drive-{}", sys.key()), &env.loadgen, &args, &env.logs)?;
    r.generator_pid = Some(gen.pid());
    r.setup = gen.next_json(Duration::from_secs(60))?;
    let mut names = Vec::new();
    if let Some(s) = server.as_deref() {
        names.push((s.pid(), if sys == System::Coturn { "coturn" } else { "relay" }.to_string()));
    }
    names.push((env.reflector.pid(), "echo peer".into()));
    names.push((gen.pid(), "generator".into()));
    for &size in &plan.sizes {
        for _ in 0..plan.fixed_reps {
            let background = wait_for_quiet(Duration::from_millis(plan.step_quiet_wait_ms));
            let mut s = measure::step(&mut gen, &env.topo, plan.fixed_rate, size, plan.fixed, plan.loss_limit)?;
            s.background_busy = background;
            r.fixed.entry(size).or_default().push(s);
            still_running(server.as_deref_mut())?;
        }
    }
    for &size in &plan.sizes {
        for _ in 0..plan.max_reps {
            let m = measure::max_rate(&mut gen, &env.topo, plan, size, &names)?;
            r.max.entry(size).or_default().push(m);
            still_running(server.as_deref_mut())?;
        }
    }
    gen.send("quit")?;
    gen.stop(Duration::from_secs(15));
    if let Some(s) = server {
        still_running(Some(&mut *s))?;
        r.alloc = Some(measure::alloc(&env.topo, &env.loadgen, &env.logs, s, plan)?);
    }
    Ok(())
}

/// A server that exits mid-run fails the system with its log, rather than producing figures
/// for a dead process.
fn still_running(server: Option<&mut Proc>) -> Result<()> {
    if let Some(s) = server {
        if !s.alive() {
            bail!("{} exited during the run{}", s.name, s.tail());
        }
    }
    Ok(())
}

/// Samples the machine until it is under 10% busy or `limit` passes; returns the last sample.
fn wait_for_quiet(limit: Duration) -> f64 {
    let deadline = Instant::now() + limit;
    loop {
        let busy = background_busy(Duration::from_millis(300));
        if busy < 0.1 || Instant::now() >= deadline {
            return busy;
        }
    }
}

/// Fraction of the machine busy over `d` while we do nothing (other sessions, compilers).
fn background_busy(d: Duration) -> f64 {
    let read = || -> Option<(u64, usize)> {
        let text = std::fs::read_to_string("/proc/stat").ok()?;
        let cpus = text.lines().filter(|l| l.starts_with("cpu") && !l.starts_with("cpu ")).count();
        let f: Vec<u64> = text.lines().next()?.split_whitespace().skip(1).filter_map(|x| x.parse().ok()).collect();
        Some((f.get(3)? + f.get(4)?, cpus))
    };
    let (Some((a, cpus)), t0) = (read(), Instant::now()) else { return f64::NAN };
    std::thread::sleep(d);
    let Some((b, _)) = read() else { return f64::NAN };
    let elapsed = t0.elapsed().as_secs_f64() * cpus as f64;
    (1.0 - (b - a) as f64 / 100.0 / elapsed).clamp(0.0, 1.0)
}

/// coturn (the reference), ethtool and iproute2; installed with apt-get when missing.
fn ensure_tools() -> Result<()> {
    let missing: Vec<&str> = [("turnserver", "coturn"), ("ethtool", "ethtool"), ("ip", "iproute2")]
        .iter()
        .filter(|(bin, _)| !have(bin))
        .map(|(_, pkg)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    eprintln!("xtask: bench: installing {}", missing.join(" "));
    let install = |update: bool| -> Result<()> {
        if update {
            sh(Command::new("apt-get").arg("update"))?;
        }
        sh(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    install(false).or_else(|_| install(true))
}
