//! The program's maps (names from `relay_common::map_names`; the daemon pins them).

use crate::{clock::Clock, hairpin, parse::Parsed};
use aya_ebpf::{
    bindings::bpf_fib_lookup as FibParams,
    macros::map,
    maps::{Array, DevMapHash, HashMap, PerCpuArray},
};
use relay_common::{limits, AttachRecord, C2pKey, C2pValue, ChannelStats, P2cKey, P2cValue, RouteCache, Verdict};

/// client -> peer bindings, written by the daemon on ChannelBind / refresh.
#[map(name = "RELAY_C2P")]
pub static C2P: HashMap<C2pKey, C2pValue> = HashMap::with_max_entries(limits::MAX_BINDINGS, 0);

/// peer -> client bindings, written by the daemon with the c2p entry.
#[map(name = "RELAY_P2C")]
pub static P2C: HashMap<P2cKey, P2cValue> = HashMap::with_max_entries(limits::MAX_BINDINGS, 0);

/// UDP ports (host order) on which client ChannelData arrives (3478 by default).
#[map(name = "RELAY_PORTS")]
pub static LISTEN_PORTS: Array<u32> = Array::with_max_entries(limits::PORT_FLAGS, 0);

/// Per-CPU packet count per verdict: no shared counter between CPUs.
#[map(name = "RELAY_VERDICTS")]
pub static VERDICTS: PerCpuArray<u64> = PerCpuArray::with_max_entries(Verdict::COUNT, 0);

/// Per-CPU per-channel packet/byte counters, indexed by the binding's stats slot.
#[map(name = "RELAY_CHAN_STATS")]
pub static CHANNEL_STATS: PerCpuArray<ChannelStats> = PerCpuArray::with_max_entries(limits::MAX_STATS_SLOTS, 0);

/// Interfaces we may redirect to (ifindex -> ifindex), filled by the daemon at attach time.
#[map(name = "RELAY_DEVMAP")]
pub static DEVMAP: DevMapHash = DevMapHash::with_max_entries(limits::MAX_INTERFACES, 0);

/// Cached FIB results, two per stats slot (see relay_common::route_slot).
#[map(name = "RELAY_ROUTES")]
pub static ROUTES: Array<RouteCache> = Array::with_max_entries(limits::MAX_STATS_SLOTS * 2, 0);

/// Where the daemon attached and how; the program never reads it (status tools do).
#[map(name = "RELAY_ATTACH")]
pub static ATTACH: Array<AttachRecord> = Array::with_max_entries(limits::MAX_INTERFACES, 0);

#[inline(always)]
pub fn count_verdict(v: Verdict) {
    if let Some(slot) = VERDICTS.get_ptr_mut(v as u32) {
        // SAFETY: per-CPU slot: only this CPU writes it, and XDP does not preempt itself.
        unsafe { *slot += 1 };
    }
}

/// Bumps one direction of a channel's counters.
#[inline(always)]
pub fn count_channel(slot: u32, c2p: bool, bytes: u64) {
    if let Some(s) = CHANNEL_STATS.get_ptr_mut(slot) {
        // SAFETY: per-CPU slot, as above.
        unsafe {
            if c2p {
                (*s).c2p_packets += 1;
                (*s).c2p_bytes += bytes;
            } else {
                (*s).p2c_packets += 1;
                (*s).p2c_bytes += bytes;
            }
        }
    }
}

#[inline(always)]
pub fn is_listen_port(port: u16) -> bool {
    // SAFETY: array value, valid for the program's run; only userspace writes it.
    LISTEN_PORTS.get_ptr(u32::from(port)).is_some_and(|f| unsafe { *f } != 0)
}

/// Per-CPU working memory: the parsed packet and the lookup keys live here because the call
/// chain must fit 512 bytes of stack, and byte-array structs must not be on the stack at all
/// (see `ptr`). Fetched once per packet.
#[repr(C)]
pub struct Scratch {
    pub parsed: Parsed,
    pub c2p_key: C2pKey,
    pub p2c_key: P2cKey,
    /// Set by client->peer when the peer is local; read by the hairpin.
    pub hairpin: hairpin::Pending,
    pub clock: Clock,
}

#[map(name = "RELAY_SCRATCH")]
static SCRATCH: PerCpuArray<Scratch> = PerCpuArray::with_max_entries(1, 0);

/// This CPU's scratch slot. XDP runs to completion per CPU, so nothing else uses it meanwhile.
#[inline(always)]
pub fn scratch() -> Option<&'static mut Scratch> {
    // SAFETY: per-CPU map value, valid for the program's run; one user at a time (see above).
    SCRATCH.get_ptr_mut(0).map(|p| unsafe { &mut *p })
}

#[map(name = "RELAY_FIB_SCRATCH")]
static FIB_SCRATCH: PerCpuArray<FibParams> = PerCpuArray::with_max_entries(1, 0);

/// This CPU's `bpf_fib_lookup` parameter block (only on a route cache miss).
#[inline(always)]
pub fn fib_scratch() -> Option<&'static mut FibParams> {
    // SAFETY: as for scratch().
    FIB_SCRATCH.get_ptr_mut(0).map(|p| unsafe { &mut *p })
}
