//! The JSON lines the generator prints on stdout, one object per line, for `cargo xtask bench`.

use serde::Serialize;

use super::signalling::Outcome;

/// `drive`: flows are set up and commands are accepted.
#[derive(Debug, Serialize)]
pub struct Ready {
    pub event: &'static str,
    pub flows: usize,
    pub relayed: bool,
    pub server_ready_after_s: f64,
    pub setup: Outcome,
}

/// `alloc`: all allocations done (or given up on).
#[derive(Debug, Serialize)]
pub struct Allocated {
    pub event: &'static str,
    pub requested: usize,
    pub outcome: Outcome,
    /// Successful authenticated allocations per second of wall time.
    pub per_second: f64,
    /// CPU seconds of the watched processes during the allocation phase.
    pub process_cpu_s: Vec<(u32, f64)>,
    pub machine_cpu_s: f64,
}

#[derive(Debug, Serialize)]
pub struct Failure {
    pub event: &'static str,
    pub error: String,
}

/// Prints one JSON line and flushes, so a reader sees it at once.
pub fn emit<T: Serialize>(value: &T) {
    use std::io::Write as _;
    let line = serde_json::to_string(value).unwrap_or_else(|e| format!("{{\"event\":\"error\",\"error\":\"{e}\"}}"));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
