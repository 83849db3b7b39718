//! CLOCK_MONOTONIC for expiries and the route cache, read at most once per tick per CPU.
//!
//! `bpf_ktime_get_coarse_ns` (like `bpf_ktime_get_ns`) cost ~40 ns per call on the VMs we
//! measure on, as much as the rest of a lookup; `bpf_jiffies64` costs next to nothing. The
//! coarse clock only moves on a tick anyway, so each CPU keeps the value it read at the current
//! jiffy and reads the clock again when the jiffy changes. The result is at most two ticks
//! (2-8 ms) behind CLOCK_MONOTONIC: one for the coarse clock, one if jiffies was read just
//! before the timekeeper's update in the same tick.

use aya_ebpf::helpers::generated::{bpf_jiffies64, bpf_ktime_get_coarse_ns};

/// Per-CPU clock cache (in the scratch map).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Clock {
    jiffies: u64,
    ns: u64,
}

impl Clock {
    /// CLOCK_MONOTONIC ns, coarse (see the module docs).
    #[inline(always)]
    pub fn now(&mut self) -> u64 {
        // SAFETY: helpers without preconditions.
        let j = unsafe { bpf_jiffies64() };
        if j != self.jiffies || self.ns == 0 {
            self.jiffies = j;
            // SAFETY: as above.
            self.ns = unsafe { bpf_ktime_get_coarse_ns() };
        }
        self.ns
    }
}
