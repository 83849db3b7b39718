//! How much to measure: `--quick` (under 3 minutes on 2 cores) or the full run.
use serde::Serialize;

/// One load step: warm-up (not measured), measurement window, drain (late echoes).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Timing {
    pub warmup_ms: u64,
    pub measure_ms: u64,
    pub drain_ms: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub quick: bool,
    pub flows: usize,
    /// Client-to-peer messages/s for the cost and latency figures; every system must carry it.
    pub fixed_rate: u64,
    pub sizes: Vec<usize>,
    pub fixed_reps: usize,
    pub fixed: Timing,
    /// Max-rate search: geometric steps from `max_start` until loss >= 0.1%.
    pub max_start: u64,
    pub max_factor: f64,
    pub max_steps: usize,
    /// Halvings of the interval between the last passing and the first failing rate.
    pub max_bisect: usize,
    pub max_reps: usize,
    pub max: Timing,
    pub alloc_count: usize,
    /// The allocation test stops after this long; what is held by then is measured.
    pub alloc_time_limit_s: u64,
    /// Before each system, wait up to this long for the machine to be quiet (< 10% busy).
    pub quiet_wait_s: u64,
    /// The same before each fixed-rate step (the cost figures), in milliseconds.
    pub step_quiet_wait_ms: u64,
    /// Loss above this fails a step (the issue's < 0.1%).
    pub loss_limit: f64,
}

impl Plan {
    pub fn new(quick: bool) -> Plan {
        if quick {
            Plan {
                quick,
                flows: 64,
                fixed_rate: 20_000,
                sizes: vec![100, 1200],
                fixed_reps: 3,
                fixed: Timing { warmup_ms: 300, measure_ms: 1000, drain_ms: 200 },
                max_start: 40_000,
                max_factor: 1.25,
                max_steps: 8,
                max_bisect: 1,
                max_reps: 1,
                max: Timing { warmup_ms: 200, measure_ms: 800, drain_ms: 200 },
                alloc_count: 10_000,
                alloc_time_limit_s: 15,
                quiet_wait_s: 5,
                step_quiet_wait_ms: 1500,
                loss_limit: 0.001,
            }
        } else {
            Plan {
                quick,
                flows: 256,
                fixed_rate: 20_000,
                sizes: vec![100, 1200],
                fixed_reps: 5,
                fixed: Timing { warmup_ms: 1000, measure_ms: 4000, drain_ms: 300 },
                max_start: 30_000,
                max_factor: 1.2,
                max_steps: 12,
                max_bisect: 2,
                max_reps: 3,
                max: Timing { warmup_ms: 500, measure_ms: 1500, drain_ms: 300 },
                alloc_count: 10_000,
                alloc_time_limit_s: 60,
                quiet_wait_s: 60,
                step_quiet_wait_ms: 20_000,
                loss_limit: 0.001,
            }
        }
    }
}
