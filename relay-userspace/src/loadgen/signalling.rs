//! Drives many [`Session`]s over their sockets at once: a window of transactions in flight,
//! retransmission with back-off (RFC 8489 §6.2.1, shortened for a lab), epoll for readiness.

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::session::{Session, State, Step};
use super::sys::Epoll;
use crate::stun::{Class, Message, MessageBuilder, Method, TransactionId};

/// First retransmission timeout (RFC 8489 §6.2.1's recommended 500 ms); doubles per try.
const RTO: Duration = Duration::from_millis(500);
/// Sends per transaction before it counts as timed out.
const TRIES: u32 = 6;

/// What to do with each session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Establish,
    Release,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Outcome {
    pub ok: usize,
    pub failed: usize,
    /// Not started or still in flight when the time limit struck.
    pub unfinished: usize,
    pub first_error: Option<String>,
    pub retransmits: u64,
    pub elapsed_s: f64,
}

/// Unique transaction IDs: session index, per-run counter and a random salt.
#[derive(Debug)]
pub struct Tids {
    salt: u32,
    n: u32,
}

impl Tids {
    pub fn new() -> Self {
        Tids { salt: rand::random(), n: 0 }
    }

    pub fn next(&mut self, idx: usize) -> TransactionId {
        self.n = self.n.wrapping_add(1);
        let mut t = [0u8; 12];
        t[0..4].copy_from_slice(&(idx as u32).to_be_bytes());
        t[4..8].copy_from_slice(&self.n.to_be_bytes());
        t[8..12].copy_from_slice(&self.salt.to_be_bytes());
        TransactionId(t)
    }
}

impl Default for Tids {
    fn default() -> Self {
        Self::new()
    }
}

struct InFlight {
    idx: usize,
    deadline: Instant,
    tries: u32,
}

/// Runs `op` on every session (socket `i` belongs to session `i`), `window` at a time.
/// Sockets must be connected to the server.
pub fn run(
    sockets: &[UdpSocket],
    sessions: &mut [Session],
    op: Op,
    window: usize,
    limit: Duration,
) -> io::Result<Outcome> {
    let epoll = Epoll::new()?;
    for (i, s) in sockets.iter().enumerate() {
        epoll.add(s.as_raw_fd(), i as u64)?;
    }
    let started = Instant::now();
    let mut tids = Tids::new();
    let mut out = Outcome::default();
    let mut next = 0;
    let mut flight: Vec<InFlight> = Vec::with_capacity(window);
    let mut ready = Vec::new();
    let mut buf = vec![0u8; 2048];
    let mut slot_of = vec![usize::MAX; sessions.len()];
    while (next < sessions.len() || !flight.is_empty()) && started.elapsed() < limit {
        while flight.len() < window && next < sessions.len() {
            let idx = next;
            next += 1;
            let begun = match op {
                Op::Establish => {
                    sessions[idx].start(tids.next(idx));
                    true
                }
                Op::Release => sessions[idx].release(tids.next(idx)),
            };
            if begun {
                send(&sockets[idx], sessions[idx].request());
                slot_of[idx] = flight.len();
                flight.push(InFlight { idx, deadline: Instant::now() + RTO, tries: 1 });
            }
        }
        epoll.wait(&mut ready, 5)?;
        for &tok in &ready {
            let idx = tok as usize;
            while let Ok(n) = sockets[idx].recv(&mut buf) {
                if slot_of[idx] == usize::MAX {
                    continue;
                }
                let tid = tids.next(idx);
                match sessions[idx].handle(&buf[..n], tid) {
                    Step::Send => {
                        send(&sockets[idx], sessions[idx].request());
                        let f = &mut flight[slot_of[idx]];
                        f.deadline = Instant::now() + RTO;
                        f.tries = 1;
                    }
                    Step::Done => {
                        out.ok += 1;
                        remove(&mut flight, &mut slot_of, idx);
                    }
                    Step::Failed => {
                        note_failure(&mut out, sessions[idx].state());
                        remove(&mut flight, &mut slot_of, idx);
                    }
                    Step::Ignored => {}
                }
            }
        }
        retransmit(sockets, sessions, &mut flight, &mut slot_of, &mut out);
    }
    out.unfinished = sessions.len() - out.ok - out.failed;
    out.elapsed_s = started.elapsed().as_secs_f64();
    Ok(out)
}

fn send(sock: &UdpSocket, msg: &[u8]) {
    // A dropped send is recovered by retransmission.
    let _ = sock.send(msg);
}

fn note_failure(out: &mut Outcome, state: &State) {
    out.failed += 1;
    if out.first_error.is_none() {
        out.first_error = Some(match state {
            State::Failed(why) => why.clone(),
            other => format!("{other:?}"),
        });
    }
}

fn remove(flight: &mut Vec<InFlight>, slot_of: &mut [usize], idx: usize) {
    let slot = slot_of[idx];
    flight.swap_remove(slot);
    if let Some(moved) = flight.get(slot) {
        slot_of[moved.idx] = slot;
    }
    slot_of[idx] = usize::MAX;
}

fn retransmit(
    sockets: &[UdpSocket],
    sessions: &mut [Session],
    flight: &mut Vec<InFlight>,
    slot_of: &mut [usize],
    out: &mut Outcome,
) {
    let now = Instant::now();
    let mut i = 0;
    while i < flight.len() {
        let f = &mut flight[i];
        if now < f.deadline {
            i += 1;
            continue;
        }
        if f.tries >= TRIES {
            let idx = f.idx;
            out.failed += 1;
            out.first_error.get_or_insert_with(|| format!("no answer ({:?})", sessions[idx].state()));
            remove(flight, slot_of, idx);
            continue;
        }
        f.tries += 1;
        f.deadline = now + RTO * (1 << (f.tries - 1));
        out.retransmits += 1;
        send(&sockets[f.idx], sessions[f.idx].request());
        i += 1;
    }
}

/// Sends Binding requests from `sock` until the server answers (it may still be starting).
pub fn wait_ready(sock: &UdpSocket, server: SocketAddr, limit: Duration) -> io::Result<Duration> {
    let started = Instant::now();
    let mut tids = Tids::new();
    let mut req = Vec::new();
    let mut buf = [0u8; 1500];
    while started.elapsed() < limit {
        let tid = tids.next(0);
        MessageBuilder::new(&mut req, Class::Request, Method::BINDING, tid).finish();
        let _ = sock.send_to(&req, server);
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            match sock.recv(&mut buf) {
                Ok(n) if Message::parse(&buf[..n]).is_ok_and(|m| m.transaction_id() == tid) => {
                    return Ok(started.elapsed());
                }
                Ok(_) => {}
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    Err(io::Error::new(io::ErrorKind::TimedOut, format!("no Binding answer from {server} within {limit:?}")))
}
