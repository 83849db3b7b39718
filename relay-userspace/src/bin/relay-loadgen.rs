//! `relay-loadgen`: the load generator behind `cargo xtask bench` (see `relay::loadgen`).
//!
//! - `reflect --bind A:P ...`: UDP echo peer; runs until stdin closes.
//! - `drive [--server S] --source IP ... --peer A:P ... --flows N`: sets up N flows (TURN
//!   allocation + channel per flow through S, or plain UDP to the peers without S), prints a
//!   `ready` line, then runs one load step per stdin line `run RATE SIZE WARMUP_MS MEASURE_MS
//!   DRAIN_MS` and prints its result as a JSON line. `quit` (or EOF) releases and exits.
//! - `alloc --server S --source IP ... --count N`: authenticated allocations as fast as the
//!   server answers; prints the rate, then holds them until stdin closes.

use std::io::BufRead as _;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use relay::loadgen::report::{emit, Allocated, Failure, Ready};
use relay::loadgen::session::Goal;
use relay::loadgen::signalling::{self, Op, Outcome};
use relay::loadgen::sys::Epoll;
use relay::loadgen::traffic::{self, Flow, RunSpec};
use relay::loadgen::{clients, procstat, reflect, sockets};

#[derive(Parser)]
#[command(about = "Load generator for cargo xtask bench")]
struct Cli {
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand)]
enum Role {
    /// UDP echo peer.
    Reflect {
        #[arg(long, required = true)]
        bind: Vec<SocketAddr>,
    },
    /// Flows through a TURN server (or straight to the peers) driven by stdin commands.
    Drive {
        #[command(flatten)]
        common: Common,
        /// UDP peers (echo); flow i uses peer i mod count.
        #[arg(long, required = true)]
        peer: Vec<SocketAddr>,
        #[arg(long, default_value_t = 64)]
        flows: usize,
        /// Pacing tick in microseconds.
        #[arg(long, default_value_t = 100)]
        tick_us: u64,
    },
    /// Allocation rate and held allocations.
    Alloc {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        /// Transactions in flight.
        #[arg(long, default_value_t = 128)]
        window: usize,
        /// Release the allocations (Refresh 0) when stdin closes, instead of just exiting.
        #[arg(long)]
        release: bool,
        /// Stop allocating after this many seconds (what is allocated by then is reported).
        #[arg(long, default_value_t = 120)]
        time_limit: u64,
    },
}

#[derive(Args)]
struct Common {
    /// TURN server; without it, `drive` sends plain UDP to the peers (the no-relay floor).
    #[arg(long)]
    server: Option<SocketAddr>,
    /// Client source addresses, used round-robin.
    #[arg(long, required = true)]
    source: Vec<IpAddr>,
    /// REST API shared secret (coturn's static-auth-secret).
    #[arg(long, default_value = "bench-secret")]
    secret: String,
    #[arg(long, default_value = "bench")]
    user_prefix: String,
    /// Processes whose CPU time is reported.
    #[arg(long)]
    watch_pid: Vec<u32>,
    /// How long to wait for the server's first Binding answer, seconds.
    #[arg(long, default_value_t = 30)]
    ready_timeout: u64,
}

fn main() {
    sockets::raise_fd_limit();
    let role = Cli::parse().role;
    if let Err(e) = dispatch(role) {
        emit(&Failure { event: "error", error: format!("{e:#}") });
        std::process::exit(1);
    }
}

fn dispatch(role: Role) -> Result<()> {
    match role {
        Role::Reflect { bind } => run_reflect(&bind),
        Role::Drive { common, peer, flows, tick_us } => run_drive(&common, &peer, flows, tick_us),
        Role::Alloc { common, count, window, release, time_limit } => {
            run_alloc(&common, count, window, release, Duration::from_secs(time_limit))
        }
    }
}

/// Stops when stdin reaches EOF (the parent closed it or died).
fn run_reflect(bind: &[SocketAddr]) -> Result<()> {
    let stop = AtomicBool::new(false);
    let counts = std::thread::scope(|s| {
        s.spawn(|| {
            for _ in std::io::stdin().lock().lines() {}
            stop.store(true, Ordering::Relaxed);
        });
        let r = reflect::run(bind, &stop);
        stop.store(true, Ordering::Relaxed);
        r
    })?;
    emit(&serde_json::json!({ "event": "reflector", "received": counts.received, "echoed": counts.echoed }));
    Ok(())
}

fn wait_for_server(common: &Common, server: SocketAddr) -> Result<f64> {
    let probe = sockets::bound(SocketAddr::new(common.source[0], 0), None, false)?;
    let waited = signalling::wait_ready(&probe, server, Duration::from_secs(common.ready_timeout))?;
    Ok(waited.as_secs_f64())
}

fn run_drive(common: &Common, peers: &[SocketAddr], flows: usize, tick_us: u64) -> Result<()> {
    if flows == 0 {
        bail!("--flows must be at least 1");
    }
    let (socks, mut sessions, ready_after, setup) = match common.server {
        Some(server) => {
            let ready_after = wait_for_server(common, server)?;
            let socks = clients::open(&common.source, flows, server, true)?;
            let mut sessions = clients::sessions(&common.secret, &common.user_prefix, peers, flows, Goal::ChannelBound);
            let setup = signalling::run(&socks, &mut sessions, Op::Establish, 64, Duration::from_secs(30))?;
            if setup.failed + setup.unfinished > 0 {
                let why = setup.first_error.unwrap_or_else(|| "time limit reached".into());
                bail!("{} of {flows} flows failed to set up: {why}", setup.failed + setup.unfinished);
            }
            (socks, sessions, ready_after, setup)
        }
        None => {
            let socks: Vec<UdpSocket> = (0..flows)
                .map(|i| {
                    sockets::bound(
                        SocketAddr::new(common.source[i % common.source.len()], 0),
                        Some(peers[i % peers.len()]),
                        true,
                    )
                })
                .collect::<std::io::Result<_>>()?;
            (socks, Vec::new(), 0.0, Outcome::default())
        }
    };
    let relayed = common.server.is_some();
    let flow_list: Vec<Flow> = socks
        .iter()
        .enumerate()
        .map(|(i, s)| Flow { fd: s.as_raw_fd(), channel: sessions.get(i).map(|x| x.channel()) })
        .collect();
    let epoll = Epoll::new()?;
    for (i, s) in socks.iter().enumerate() {
        epoll.add(s.as_raw_fd(), i as u64)?;
    }
    emit(&Ready { event: "ready", flows, relayed, server_ready_after_s: ready_after, setup });
    let mut watch = common.watch_pid.clone();
    watch.push(std::process::id());
    watch.extend(procstat::ksoftirqd_pids());
    let mut run_id = 0u32;
    for line in std::io::stdin().lock().lines() {
        let line = line?;
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["run", rate, size, warm, measure, drain] => {
                run_id += 1;
                let ms =
                    |s: &str| -> Result<Duration> { Ok(Duration::from_millis(s.parse().context("milliseconds")?)) };
                let spec = RunSpec {
                    run: run_id,
                    rate: rate.parse().context("rate")?,
                    size: size.parse().context("size")?,
                    warmup: ms(warm)?,
                    measure: ms(measure)?,
                    drain: ms(drain)?,
                    tick: Duration::from_micros(tick_us),
                    watch: watch.clone(),
                };
                let mut r = serde_json::to_value(traffic::run(&flow_list, &epoll, &spec))?;
                r["event"] = "result".into();
                emit(&r);
            }
            ["quit"] => break,
            [] => {}
            other => bail!("unknown command {other:?}"),
        }
    }
    if relayed {
        signalling::run(&socks, &mut sessions, Op::Release, 64, Duration::from_secs(10))?;
    }
    Ok(())
}

fn run_alloc(common: &Common, count: usize, window: usize, release: bool, limit: Duration) -> Result<()> {
    let Some(server) = common.server else { bail!("alloc needs --server") };
    wait_for_server(common, server)?;
    let socks = clients::open(&common.source, count, server, false)?;
    let mut sessions = clients::sessions(&common.secret, &common.user_prefix, &[], count, Goal::Allocated);
    let m0 = procstat::machine();
    let p0: Vec<f64> = common.watch_pid.iter().map(|&p| procstat::process_cpu_seconds(p).unwrap_or(0.0)).collect();
    let outcome = signalling::run(&socks, &mut sessions, Op::Establish, window.max(1), limit)?;
    let machine_cpu_s = match (m0, procstat::machine()) {
        (Some(a), Some(b)) => procstat::busy_seconds(&a, &b),
        _ => f64::NAN,
    };
    let process_cpu_s = common
        .watch_pid
        .iter()
        .zip(&p0)
        .map(|(&p, &before)| (p, procstat::process_cpu_seconds(p).unwrap_or(0.0) - before))
        .collect();
    let per_second = if outcome.elapsed_s > 0.0 { outcome.ok as f64 / outcome.elapsed_s } else { 0.0 };
    emit(&Allocated { event: "allocated", requested: count, outcome, per_second, process_cpu_s, machine_cpu_s });
    for _ in std::io::stdin().lock().lines() {}
    if release {
        let out = signalling::run(&socks, &mut sessions, Op::Release, window.max(1), Duration::from_secs(60))?;
        emit(&serde_json::json!({ "event": "released", "ok": out.ok, "failed": out.failed }));
    }
    Ok(())
}
