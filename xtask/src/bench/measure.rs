//! The load steps: fixed-rate runs (cost, latency), the max-rate search and the allocation test.
use anyhow::{bail, Result};
use serde::Serialize;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

use super::counters::{self, Counters};
use super::netns::{Topology, CLIENT_SOURCES, RELAY_CLIENT_SIDE};
use super::plan::{Plan, Timing};
use super::procs::Proc;
use super::systems::{PORT, SECRET};

/// One load step as the generator reported it, with the loss counters that grew during it.
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub rate: u64,
    pub size: usize,
    pub pass: bool,
    /// Machine busy share just before the step (NaN when not sampled).
    pub background_busy: f64,
    pub result: Value,
    pub losses: Counters,
    /// All counters that moved (packets too), for the JSON.
    pub moved: Counters,
}

pub fn num(v: &Value, k: &str) -> f64 {
    v[k].as_f64().unwrap_or(f64::NAN)
}

impl Step {
    pub fn relayed_pps(&self) -> f64 {
        num(&self.result, "window_relayed") / num(&self.result, "window_s")
    }

    /// Machine CPU-seconds per million relayed packets.
    pub fn machine_cost(&self) -> f64 {
        num(&self.result, "machine_cpu_s") / num(&self.result, "window_relayed") * 1e6
    }

    /// CPU-seconds of process `pid` in the window.
    pub fn process_cpu(&self, pid: u32) -> f64 {
        let list = self.result["process_cpu_s"].as_array().cloned().unwrap_or_default();
        list.iter().find(|p| p[0].as_u64() == Some(u64::from(pid))).and_then(|p| p[1].as_f64()).unwrap_or(f64::NAN)
    }

    /// Machine CPU-seconds minus other processes' (other sessions, compilers) per million relayed
    /// packets: the machine figure with the shared machine's noise taken out.
    pub fn bench_machine_cost(&self) -> f64 {
        num(&self.result, "bench_machine_cpu_s") / num(&self.result, "window_relayed") * 1e6
    }

    /// Share of machine busy time used by processes outside the benchmark.
    pub fn others_share(&self) -> f64 {
        num(&self.result, "others_processes_cpu_s") / num(&self.result, "machine_cpu_s")
    }

    /// CPU-seconds of every watched process (server, peer, generator, ksoftirqd) per million
    /// relayed packets: the same work as [`Step::machine_cost`] minus whatever else the machine did.
    pub fn watched_cost(&self) -> f64 {
        num(&self.result, "watched_cpu_s") / num(&self.result, "window_relayed") * 1e6
    }

    pub fn process_cost(&self, pid: u32) -> f64 {
        self.process_cpu(pid) / num(&self.result, "window_relayed") * 1e6
    }
}

/// The generator's flags: sources, peers, and the server unless this is the floor.
pub fn drive_args(plan: &Plan, server: Option<&Proc>, reflector: &Proc) -> Vec<String> {
    let mut a = vec!["drive".to_string(), "--flows".into(), plan.flows.to_string(), "--secret".into(), SECRET.into()];
    for s in CLIENT_SOURCES {
        a.extend(["--source".into(), s.to_string()]);
    }
    for p in super::netns::PEERS {
        a.extend(["--peer".into(), format!("{p}:{}", super::PEER_PORT)]);
    }
    if let Some(s) = server {
        a.extend(["--server".into(), format!("{RELAY_CLIENT_SIDE}:{PORT}"), "--watch-pid".into(), s.pid().to_string()]);
    }
    a.extend(["--watch-pid".into(), reflector.pid().to_string()]);
    a
}

pub fn step(gen: &mut Proc, t: &Topology, rate: u64, size: usize, timing: Timing, loss_limit: f64) -> Result<Step> {
    let before = counters::snapshot(t);
    gen.send(&format!("run {rate} {size} {} {} {}", timing.warmup_ms, timing.measure_ms, timing.drain_ms))?;
    let limit = Duration::from_millis(timing.warmup_ms + timing.measure_ms + timing.drain_ms) + Duration::from_secs(20);
    let result = gen.next_json(limit)?;
    if result["event"] != "result" {
        bail!("{}: unexpected line {result}", gen.name);
    }
    let moved = counters::delta(&before, &counters::snapshot(t));
    let losses = counters::losses(&moved);
    let achieved = num(&result, "achieved_rate");
    let pass = num(&result, "loss_ratio") < loss_limit
        && achieved >= 0.97 * rate as f64
        && result["send_refused"].as_u64() == Some(0);
    Ok(Step { rate, size, pass, background_busy: f64::NAN, result, losses, moved })
}

#[derive(Clone, Debug, Serialize)]
pub struct MaxRate {
    /// Highest offered client-to-peer rate that passed, and what was relayed at it (both legs).
    pub best_rate: u64,
    pub best_relayed_pps: f64,
    /// Why the next step failed.
    pub limiter: String,
    pub steps: Vec<Step>,
}

/// Geometric search upwards, then bisection between the last pass and the first failure.
pub fn max_rate(gen: &mut Proc, t: &Topology, plan: &Plan, size: usize, names: &[(u32, String)]) -> Result<MaxRate> {
    let mut steps = Vec::new();
    let mut rate = plan.max_start;
    let (mut good, mut bad): (Option<Step>, Option<Step>) = (None, None);
    for _ in 0..plan.max_steps {
        let s = step(gen, t, rate, size, plan.max, plan.loss_limit)?;
        steps.push(s.clone());
        if s.pass {
            good = Some(s);
            rate = (rate as f64 * plan.max_factor) as u64;
        } else {
            bad = Some(s);
            break;
        }
    }
    // The first step already failed: step down until something passes.
    let mut down = rate;
    for _ in 0..3 {
        if good.is_some() {
            break;
        }
        down /= 2;
        let s = step(gen, t, down, size, plan.max, plan.loss_limit)?;
        steps.push(s.clone());
        if s.pass {
            good = Some(s);
        } else {
            bad = Some(s);
        }
    }
    for _ in 0..plan.max_bisect {
        let (Some(g), Some(b)) = (&good, &bad) else { break };
        let mid = (g.rate + b.rate) / 2;
        let s = step(gen, t, mid, size, plan.max, plan.loss_limit)?;
        steps.push(s.clone());
        if s.pass {
            good = Some(s);
        } else {
            bad = Some(s);
        }
    }
    let limiter = match &bad {
        Some(b) => limiter(b, names),
        None => format!("not reached: every step up to {rate} msg/s passed"),
    };
    let (best_rate, best_relayed_pps) = good.as_ref().map_or((0, 0.0), |g| (g.rate, g.relayed_pps()));
    Ok(MaxRate { best_rate, best_relayed_pps, limiter, steps })
}

/// What limited a failing step: which queues dropped, who was short of CPU.
pub fn limiter(s: &Step, names: &[(u32, String)]) -> String {
    let r = &s.result;
    let window = num(r, "window_s");
    let mut parts = Vec::new();
    let achieved = num(r, "achieved_rate");
    if achieved < 0.97 * s.rate as f64 || r["send_refused"].as_u64().unwrap_or(0) > 0 {
        parts.push(format!("generator sent only {:.0}k of {}k msg/s", achieved / 1e3, s.rate / 1000));
    }
    let mut drops: Vec<(&String, &u64)> = s.losses.iter().collect();
    drops.sort_by(|a, b| b.1.cmp(a.1));
    for (k, v) in drops.iter().take(3) {
        parts.push(format!("{k} +{v}"));
    }
    if drops.is_empty() && parts.is_empty() {
        parts.push(format!("{:.2}% lost with no queue counting a drop", num(r, "loss_ratio") * 100.0));
    }
    let mut cpu: Vec<String> =
        names.iter().map(|(pid, n)| format!("{n} {:.0}%", s.process_cpu(*pid) / window * 100.0)).collect();
    cpu.push(format!("machine {:.0}% of 2 cores", num(r, "machine_cpu_s") / window / 2.0 * 100.0));
    format!("at {}k msg/s: {} (CPU of one core: {})", s.rate / 1000, parts.join(", "), cpu.join(", "))
}

#[derive(Clone, Debug, Serialize)]
pub struct Alloc {
    pub requested: usize,
    pub ok: u64,
    pub failed: u64,
    /// Not done when the time limit struck.
    pub unfinished: u64,
    pub first_error: Option<String>,
    pub per_second: f64,
    pub server_cpu_ms_per_alloc: f64,
    pub rss_before_kb: u64,
    pub rss_after_kb: u64,
    pub rss_per_alloc_bytes: f64,
    pub raw: Value,
}

/// `count` authenticated allocations as fast as the server takes them, held while RSS is read.
pub fn alloc(t: &Topology, loadgen: &Path, logs: &Path, server: &Proc, plan: &Plan) -> Result<Alloc> {
    let count = plan.alloc_count;
    let rss_before_kb = server.rss_kb().unwrap_or(0);
    let mut args = vec!["alloc".to_string(), "--count".into(), count.to_string(), "--secret".into(), SECRET.into()];
    args.extend(["--ready-timeout".into(), "10".into(), "--time-limit".into(), plan.alloc_time_limit_s.to_string()]);
    args.extend([
        "--server".into(),
        format!("{RELAY_CLIENT_SIDE}:{PORT}"),
        "--watch-pid".into(),
        server.pid().to_string(),
    ]);
    for s in super::netns::alloc_sources() {
        args.extend(["--source".into(), s.to_string()]);
    }
    let mut gen = Proc::spawn(&t.client, &format!("alloc-{}", server.name), loadgen, &args, logs)?;
    let raw = gen.next_json(Duration::from_secs(plan.alloc_time_limit_s + 30))?;
    // Let the server finish any deferred work before reading its RSS.
    std::thread::sleep(Duration::from_millis(300));
    let rss_after_kb = server.rss_kb().unwrap_or(0);
    gen.stop(Duration::from_secs(5));
    let ok = raw["outcome"]["ok"].as_u64().unwrap_or(0);
    let server_cpu = raw["process_cpu_s"].as_array().and_then(|a| a.first()).and_then(|p| p[1].as_f64());
    Ok(Alloc {
        requested: count,
        ok,
        failed: raw["outcome"]["failed"].as_u64().unwrap_or(0),
        unfinished: raw["outcome"]["unfinished"].as_u64().unwrap_or(0),
        first_error: raw["outcome"]["first_error"].as_str().map(String::from),
        per_second: num(&raw, "per_second"),
        server_cpu_ms_per_alloc: server_cpu.map_or(f64::NAN, |c| c * 1e3 / ok.max(1) as f64),
        rss_before_kb,
        rss_after_kb,
        rss_per_alloc_bytes: (rss_after_kb as f64 - rss_before_kb as f64) * 1024.0 / ok.max(1) as f64,
        raw,
    })
}
