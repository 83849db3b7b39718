//! The data phase: a paced sender thread and a receiving thread over the same flows.
//!
//! The sender spreads the packets due at each tick round-robin over the flows, one sendmmsg
//! per flow per tick. The receiver times every echoed probe that carries this run's id. Machine
//! and per-process CPU are sampled by the sender exactly at the measurement window's edges.

use std::collections::HashMap;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::hist::Histogram;
use super::pacer::Pacer;
use super::payload::{Stamp, STAMP_LEN};
use super::procstat;
use super::sys::{self, Epoll, RecvBatch, BATCH};
use crate::stun::ChannelData;

/// One client socket, connected to the relay (or, for the no-relay floor, to the peer).
#[derive(Clone, Copy, Debug)]
pub struct Flow {
    pub fd: RawFd,
    /// ChannelData channel, or `None` for plain UDP straight to the peer.
    pub channel: Option<u16>,
}

#[derive(Clone, Debug)]
pub struct RunSpec {
    pub run: u32,
    /// Client-to-peer messages per second, all flows together.
    pub rate: u64,
    /// Application payload bytes (what the peer receives).
    pub size: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub drain: Duration,
    pub tick: Duration,
    /// Processes whose CPU time is reported for the window.
    pub watch: Vec<u32>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct RunResult {
    pub run: u32,
    pub offered_rate: u64,
    pub size: usize,
    /// Packets handed to the kernel over the whole run (warm-up, window and all).
    pub sent: u64,
    /// Packets the kernel would not take (socket buffer full): a generator limit.
    pub send_refused: u64,
    pub received: u64,
    pub lost: u64,
    pub loss_ratio: f64,
    /// Echoes with an older run's id or that are not probes.
    pub foreign: u64,
    pub window_s: f64,
    pub window_sent: u64,
    pub window_received: u64,
    pub achieved_rate: f64,
    /// 2 × echoes received in the window: both legs of each round trip were relayed.
    pub window_relayed: u64,
    pub machine_cpu_s: f64,
    pub process_cpu_s: Vec<(u32, f64)>,
    /// Sum of the watched processes (server, peer, generator, ksoftirqd): immune to other work.
    pub watched_cpu_s: f64,
    /// Machine CPU no watched process was charged for: other sessions' work (noise), or kernel
    /// work done outside any process.
    pub other_cpu_s: f64,
    /// Of that, what other processes (compilers, other sessions) used.
    pub others_processes_cpu_s: f64,
    /// Machine CPU minus other processes: the benchmark's own cost, kernel work in no process
    /// (interrupts, softirq on otherwise idle CPUs, idle exits) included.
    pub bench_machine_cpu_s: f64,
    pub rtt_p50_us: f64,
    pub rtt_p90_us: f64,
    pub rtt_p99_us: f64,
    pub rtt_max_us: f64,
}

#[derive(Default)]
struct Shared {
    done: AtomicBool,
    window_open: AtomicU64,
    window_close: AtomicU64,
}

struct Sent {
    sent: u64,
    refused: u64,
    window_sent: u64,
    window_s: f64,
    machine_cpu_s: f64,
    process_cpu_s: Vec<(u32, f64)>,
    others_cpu_s: f64,
}

pub fn run(flows: &[Flow], epoll: &Epoll, spec: &RunSpec) -> RunResult {
    let shared = Shared::default();
    let (sent, recv) = std::thread::scope(|s| {
        let sender = s.spawn(|| send_loop(flows, spec, &shared));
        let recv = recv_loop(flows, epoll, spec, &shared);
        // The sender only returns values; a panic there is a bug worth seeing.
        #[allow(clippy::expect_used)]
        (sender.join().expect("sender thread panicked"), recv)
    });
    let lost = sent.sent.saturating_sub(recv.received);
    let q = |p: f64| recv.hist.quantile(p) as f64 / 1000.0;
    RunResult {
        run: spec.run,
        offered_rate: spec.rate,
        size: spec.size,
        sent: sent.sent,
        send_refused: sent.refused,
        received: recv.received,
        lost,
        loss_ratio: if sent.sent == 0 { 0.0 } else { lost as f64 / sent.sent as f64 },
        foreign: recv.foreign,
        window_s: sent.window_s,
        window_sent: sent.window_sent,
        window_received: recv.window_received,
        achieved_rate: if sent.window_s > 0.0 { sent.window_sent as f64 / sent.window_s } else { 0.0 },
        window_relayed: 2 * recv.window_received,
        machine_cpu_s: sent.machine_cpu_s,
        watched_cpu_s: sent.process_cpu_s.iter().map(|p| p.1).sum(),
        other_cpu_s: sent.machine_cpu_s - sent.process_cpu_s.iter().map(|p| p.1).sum::<f64>(),
        others_processes_cpu_s: sent.others_cpu_s,
        bench_machine_cpu_s: sent.machine_cpu_s - sent.others_cpu_s,
        process_cpu_s: sent.process_cpu_s,
        rtt_p50_us: q(0.5),
        rtt_p90_us: q(0.9),
        rtt_p99_us: q(0.99),
        rtt_max_us: q(1.0),
    }
}

fn cpu_of(pids: &[u32]) -> Vec<(u32, f64)> {
    pids.iter().map(|&p| (p, procstat::process_cpu_seconds(p).unwrap_or(f64::NAN))).collect()
}

/// CPU and packet counts at the opening of the measurement window.
struct WindowStart {
    at_ns: u64,
    sent: u64,
    machine: procstat::MachineSample,
    procs: Vec<(u32, f64)>,
    others: HashMap<u32, f64>,
}

impl WindowStart {
    fn open(now: u64, sent: u64, spec: &RunSpec, shared: &Shared) -> Option<WindowStart> {
        shared.window_open.store(now, Ordering::Relaxed);
        let others = procstat::all_processes_cpu(&spec.watch);
        Some(WindowStart { at_ns: now, sent, machine: procstat::machine()?, procs: cpu_of(&spec.watch), others })
    }

    fn close(self, now: u64, sent: u64, spec: &RunSpec, out: &mut Sent) {
        let Some(m1) = procstat::machine() else { return };
        out.window_sent = sent - self.sent;
        out.window_s = (now - self.at_ns) as f64 / 1e9;
        out.machine_cpu_s = procstat::busy_seconds(&self.machine, &m1);
        out.process_cpu_s = cpu_of(&spec.watch).iter().zip(&self.procs).map(|(a, b)| (a.0, a.1 - b.1)).collect();
        out.others_cpu_s = procstat::others_cpu_seconds(&self.others, &procstat::all_processes_cpu(&spec.watch));
    }
}

/// Packet buffers with the stamp (and ChannelData header) rewritten per send.
struct Outgoing {
    bufs: Vec<Vec<u8>>,
    hdr: usize,
}

impl Outgoing {
    fn new(flows: &[Flow], size: usize) -> Outgoing {
        let hdr = if flows.iter().any(|f| f.channel.is_some()) { 4 } else { 0 };
        Outgoing { bufs: vec![vec![0u8; hdr + size.max(STAMP_LEN)]; BATCH], hdr }
    }

    /// Sends `k` stamped packets on `flow`; returns how many the kernel took.
    fn send(&mut self, flow: &Flow, k: usize, run: u32, first_seq: u64, now: u64) -> usize {
        let hdr = self.hdr;
        for (i, b) in self.bufs[..k].iter_mut().enumerate() {
            if let Some(ch) = flow.channel {
                let len = u16::try_from(b.len() - 4).unwrap_or(u16::MAX);
                b[..4].copy_from_slice(&ChannelData::encode_header(ch, len));
            }
            let stamp = Stamp { run, flow: flow.fd as u32, seq: first_seq + i as u64, sent_ns: now };
            stamp.write(&mut b[hdr..]);
        }
        sys::send_connected(flow.fd, &self.bufs[..k]).unwrap_or(0)
    }
}

fn send_loop(flows: &[Flow], spec: &RunSpec, shared: &Shared) -> Sent {
    sys::tighten_timer_slack();
    let mut out_bufs = Outgoing::new(flows, spec.size);
    let pacer = Pacer::new(spec.rate);
    let start = sys::mono_ns();
    let open = start + spec.warmup.as_nanos() as u64;
    let close = open + spec.measure.as_nanos() as u64;
    let tick = spec.tick.as_nanos() as u64;
    let (mut attempted, mut sent, mut cursor) = (0u64, 0u64, 0usize);
    let mut window: Option<WindowStart> = None;
    let mut window_opened = false;
    let mut out = Sent {
        sent: 0,
        refused: 0,
        window_sent: 0,
        window_s: 0.0,
        machine_cpu_s: 0.0,
        process_cpu_s: vec![],
        others_cpu_s: 0.0,
    };
    loop {
        let now = sys::mono_ns();
        if !window_opened && now >= open {
            window_opened = true;
            window = WindowStart::open(now, sent, spec, shared);
        }
        if now >= close {
            shared.window_close.store(now, Ordering::Relaxed);
            if let Some(w) = window.take() {
                w.close(now, sent, spec, &mut out);
            }
            break;
        }
        let due = pacer.due(now - start).saturating_sub(attempted);
        if due == 0 {
            let next = start + pacer.due_at(attempted + 1);
            sys::sleep_until(next.max(now + tick).min(close));
            continue;
        }
        // Spread what is due over the flows: a few per flow keeps every flow alive at low rates.
        let per_flow = (due as usize).div_ceil(flows.len()).clamp(1, BATCH);
        let mut left = due;
        while left > 0 {
            let flow = &flows[cursor % flows.len()];
            cursor = cursor.wrapping_add(1);
            let k = (left as usize).min(per_flow);
            sent += out_bufs.send(flow, k, spec.run, attempted, now) as u64;
            attempted += k as u64;
            left -= k as u64;
        }
    }
    shared.done.store(true, Ordering::Release);
    out.sent = sent;
    out.refused = attempted - sent;
    out
}

struct Received {
    received: u64,
    window_received: u64,
    foreign: u64,
    hist: Histogram,
}

fn recv_loop(flows: &[Flow], epoll: &Epoll, spec: &RunSpec, shared: &Shared) -> Received {
    let hdr = if flows.iter().any(|f| f.channel.is_some()) { 4 } else { 0 };
    let mut batch = RecvBatch::new(2048);
    let mut r = Received { received: 0, window_received: 0, foreign: 0, hist: Histogram::default() };
    let mut ready = Vec::new();
    let mut drain_until = u64::MAX;
    loop {
        if drain_until == u64::MAX && shared.done.load(Ordering::Acquire) {
            drain_until = sys::mono_ns() + spec.drain.as_nanos() as u64;
        }
        if sys::mono_ns() >= drain_until {
            break;
        }
        if epoll.wait(&mut ready, 2).is_err() {
            continue;
        }
        for &tok in &ready {
            let Some(flow) = flows.get(tok as usize) else { continue };
            while let Ok(n @ 1..) = batch.recv(flow.fd) {
                let now = sys::mono_ns();
                let (open, close) =
                    (shared.window_open.load(Ordering::Relaxed), shared.window_close.load(Ordering::Relaxed));
                let in_window = open != 0 && now >= open && (close == 0 || now < close);
                for i in 0..n {
                    let stamp = batch.msg(i).get(hdr..).and_then(Stamp::read);
                    match stamp {
                        Some(s) if s.run == spec.run => {
                            r.received += 1;
                            if in_window {
                                r.window_received += 1;
                                r.hist.record(now.saturating_sub(s.sent_ns));
                            }
                        }
                        _ => r.foreign += 1,
                    }
                }
            }
        }
    }
    r
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;
    use crate::loadgen::{reflect, sockets};
    use std::net::SocketAddr;
    use std::os::fd::AsRawFd;

    /// The whole data path on loopback: paced sendmmsg, the echo peer, recvmmsg and the stamps.
    #[test]
    fn echoes_every_probe_over_loopback() {
        let peer: SocketAddr = "127.0.77.1:40111".parse().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            let echo = s.spawn(|| reflect::run(&[peer], &stop).unwrap());
            let socks: Vec<_> =
                (0..4).map(|_| sockets::bound("127.0.77.2:0".parse().unwrap(), Some(peer), true).unwrap()).collect();
            let flows: Vec<Flow> = socks.iter().map(|s| Flow { fd: s.as_raw_fd(), channel: None }).collect();
            let epoll = Epoll::new().unwrap();
            for (i, s) in socks.iter().enumerate() {
                epoll.add(s.as_raw_fd(), i as u64).unwrap();
            }
            // The echo peer may still be binding: a first run warms up, the second is checked.
            let mut spec = RunSpec {
                run: 1,
                rate: 2000,
                size: 100,
                warmup: Duration::from_millis(50),
                measure: Duration::from_millis(200),
                drain: Duration::from_millis(300),
                tick: Duration::from_micros(100),
                watch: vec![std::process::id()],
            };
            run(&flows, &epoll, &spec);
            spec.run = 2;
            let r = run(&flows, &epoll, &spec);
            stop.store(true, Ordering::Relaxed);
            let counts = echo.join().unwrap();
            assert!(r.sent > 0);
            assert_eq!(r.received, r.sent, "{r:?}");
            assert_eq!(r.lost, 0);
            assert!(r.window_received > 0 && r.rtt_p50_us > 0.0);
            assert!(counts.echoed >= r.sent);
        });
    }
}
