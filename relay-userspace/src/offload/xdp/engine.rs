//! [`XdpOffload`]: the XDP engine behind the [`Offload`] trait.

use std::{
    collections::HashMap as StdHashMap,
    path::{Path, PathBuf},
    sync::{Mutex, MutexGuard},
};

use aya::{
    maps::{Array, DevMapHash, HashMap, MapData, MapError, PerCpuArray, PerCpuValues},
    Ebpf,
};
use relay_common::{
    attach_mode, limits, map_names, route_slot, AttachRecord, C2pKey, C2pValue, ChannelStats, P2cKey, P2cValue,
    RouteCache, Verdict,
};

use super::{
    clock, entries, loader, logs, slots::SlotAllocator, AttachedMode, Attachment, XdpConfig, XdpError, XdpMode,
};
use crate::{
    offload::{ChannelBinding, ChannelCounters, Offload, OffloadError},
    transport::Transport,
};

/// The loaded XDP program and its maps. Dropping it detaches the program (BPF links).
pub struct XdpOffload {
    inner: Mutex<Inner>,
    pin_dir: Option<PathBuf>,
    _logs: Option<logs::LogPump>,
}

struct Inner {
    // Field order matters for Drop only in that links live in `ebpf`; maps are independent fds.
    ebpf: Ebpf,
    c2p: HashMap<MapData, C2pKey, C2pValue>,
    p2c: HashMap<MapData, P2cKey, P2cValue>,
    stats: PerCpuArray<MapData, ChannelStats>,
    verdicts: PerCpuArray<MapData, u64>,
    devmap: DevMapHash<MapData>,
    attach: Array<MapData, AttachRecord>,
    routes: Array<MapData, RouteCache>,
    slots: SlotAllocator,
    /// Installed bindings by c2p key: their p2c key and stats slot.
    installed: StdHashMap<C2pKey, (P2cKey, u32)>,
    attached: Vec<Attachment>,
}

impl std::fmt::Debug for XdpOffload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("XdpOffload").field("pin_dir", &self.pin_dir).finish_non_exhaustive()
    }
}

fn take<T>(ebpf: &mut Ebpf, name: &'static str) -> Result<T, XdpError>
where
    T: TryFrom<aya::maps::Map, Error = MapError>,
{
    let map = ebpf.take_map(name).ok_or(XdpError::Missing(name))?;
    T::try_from(map).map_err(|e| XdpError::Map(format!("{name}: {e}")))
}

fn map_err(what: &str) -> impl Fn(MapError) -> XdpError + '_ {
    move |e| XdpError::Map(format!("{what}: {e}"))
}

impl XdpOffload {
    /// Loads the program, pins the maps (if `config.pin_dir`) and writes the listening ports.
    /// Does not attach: see [`XdpOffload::attach`] or [`super::start`].
    pub fn load(config: &XdpConfig) -> Result<XdpOffload, XdpError> {
        let mut ebpf = loader::load_object(config.debug_log)?;
        let logs = if config.debug_log { Some(logs::LogPump::start(&mut ebpf)?) } else { None };
        if let Some(dir) = &config.pin_dir {
            loader::pin_maps(&ebpf, dir)?;
        }
        let mut ports: Array<MapData, u32> = take(&mut ebpf, map_names::LISTEN_PORTS)?;
        for &port in &config.listen_ports {
            ports.set(u32::from(port), 1, 0).map_err(map_err("listen ports"))?;
        }
        let inner = Inner {
            c2p: take(&mut ebpf, map_names::C2P)?,
            p2c: take(&mut ebpf, map_names::P2C)?,
            stats: take(&mut ebpf, map_names::CHANNEL_STATS)?,
            verdicts: take(&mut ebpf, map_names::VERDICTS)?,
            devmap: take(&mut ebpf, map_names::DEVMAP)?,
            attach: take(&mut ebpf, map_names::ATTACH)?,
            routes: take(&mut ebpf, map_names::ROUTES)?,
            ebpf,
            slots: SlotAllocator::new(limits::MAX_STATS_SLOTS),
            installed: StdHashMap::new(),
            attached: Vec::new(),
        };
        Ok(XdpOffload { inner: Mutex::new(inner), pin_dir: config.pin_dir.clone(), _logs: logs })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves maps consistent (each update is one syscall).
        self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Attaches to `interface` (in the calling thread's network namespace) and adds it to the
    /// redirect devmap and the attach records.
    pub fn attach(&self, interface: &str, mode: XdpMode) -> Result<AttachedMode, XdpError> {
        let ifindex = loader::ifindex(interface)?;
        let mut inner = self.lock();
        let slot = inner.attached.len() as u32;
        if slot >= limits::MAX_INTERFACES {
            return Err(XdpError::Attach {
                interface: interface.to_owned(),
                reason: format!("at most {} interfaces", limits::MAX_INTERFACES),
            });
        }
        let got = loader::attach(&mut inner.ebpf, interface, mode)?;
        inner.devmap.insert(ifindex, ifindex, None, 0).map_err(|e| XdpError::Map(format!("devmap: {e}")))?;
        let mut name = [0u8; 16];
        let n = interface.len().min(15);
        name[..n].copy_from_slice(&interface.as_bytes()[..n]);
        let record = AttachRecord {
            ifindex,
            mode: match got {
                AttachedMode::Native => attach_mode::NATIVE,
                AttachedMode::Skb => attach_mode::SKB,
            },
            name,
        };
        inner.attach.set(slot, record, 0).map_err(map_err("attach records"))?;
        inner.attached.push(Attachment { interface: interface.to_owned(), ifindex, mode: got });
        Ok(got)
    }

    /// Adds an interface to the redirect devmap without attaching to it (a redirect target
    /// that has its own XDP program, or a test).
    pub fn add_redirect_target(&self, interface: &str) -> Result<u32, XdpError> {
        let ifindex = loader::ifindex(interface)?;
        self.lock().devmap.insert(ifindex, ifindex, None, 0).map_err(|e| XdpError::Map(format!("devmap: {e}")))?;
        Ok(ifindex)
    }

    /// Interfaces attached so far.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.lock().attached.clone()
    }

    pub fn pin_dir(&self) -> Option<&Path> {
        self.pin_dir.as_deref()
    }

    /// Verdict counters summed over CPUs, in slot order.
    pub fn verdict_counters(&self) -> Result<Vec<(Verdict, u64)>, XdpError> {
        let inner = self.lock();
        sum_verdicts(&inner.verdicts)
    }

    /// Number of installed bindings (one entry in each direction's map).
    pub fn installed(&self) -> usize {
        self.lock().installed.len()
    }

    pub(super) fn with_ebpf<R>(&self, f: impl FnOnce(&Ebpf) -> R) -> R {
        f(&self.lock().ebpf)
    }

    fn zero_slot(inner: &mut Inner, slot: u32) -> Result<(), OffloadError> {
        let cpus = aya::util::nr_cpus().map_err(|(what, e)| OffloadError::Map(format!("{what}: {e}")))?;
        let zeros = PerCpuValues::try_from(vec![ChannelStats::default(); cpus])
            .map_err(|e| OffloadError::Map(e.to_string()))?;
        inner.stats.set(slot, zeros, 0).map_err(|e| OffloadError::Map(e.to_string()))
    }
}

pub(super) fn sum_verdicts<T: std::borrow::Borrow<MapData>>(
    map: &PerCpuArray<T, u64>,
) -> Result<Vec<(Verdict, u64)>, XdpError> {
    Verdict::ALL
        .iter()
        .map(|&v| {
            let per_cpu = map.get(&(v as u32), 0).map_err(map_err("verdicts"))?;
            Ok((v, per_cpu.iter().sum()))
        })
        .collect()
}

pub(super) fn sum_stats(per_cpu: &PerCpuValues<ChannelStats>) -> ChannelCounters {
    per_cpu.iter().fold(ChannelCounters::default(), |acc, s| ChannelCounters {
        client_to_peer_packets: acc.client_to_peer_packets + s.c2p_packets,
        client_to_peer_bytes: acc.client_to_peer_bytes + s.c2p_bytes,
        peer_to_client_packets: acc.peer_to_client_packets + s.p2c_packets,
        peer_to_client_bytes: acc.peer_to_client_bytes + s.p2c_bytes,
    })
}

fn offload_err(e: MapError) -> OffloadError {
    // E2BIG from bpf_map_update_elem means the hash map is full.
    if let MapError::SyscallError(s) = &e {
        if s.io_error.raw_os_error() == Some(libc::E2BIG) {
            return OffloadError::Full;
        }
    }
    OffloadError::Map(e.to_string())
}

impl Offload for XdpOffload {
    fn name(&self) -> &'static str {
        "xdp"
    }

    fn upsert(&self, binding: &ChannelBinding) -> Result<(), OffloadError> {
        // ChannelData over TCP/TLS is framed in a stream: only UDP can be forwarded per packet.
        if binding.transport != Transport::Udp {
            return Ok(());
        }
        let mut inner = self.lock();
        let inner = &mut *inner;
        let key = entries::c2p_key(binding);
        let slot = match inner.installed.get(&key) {
            Some(&(_, slot)) => slot,
            None => {
                let slot = inner.slots.alloc().ok_or(OffloadError::Full)?;
                if let Err(e) = Self::zero_slot(inner, slot) {
                    inner.slots.free(slot);
                    return Err(e);
                }
                slot
            }
        };
        // A refresh may follow a route change the daemon knows of: drop cached routes.
        for c2p in [true, false] {
            if let Err(e) = inner.routes.set(route_slot(slot, c2p), RouteCache::default(), 0) {
                if !inner.installed.contains_key(&key) {
                    inner.slots.free(slot);
                }
                return Err(offload_err(e));
            }
        }
        let expires_ns = clock::instant_to_monotonic_ns(binding.expires_at);
        let e = entries::entries(binding, slot, expires_ns);
        // A refresh that moved the peer side (should not happen, RFC 8656 §12.1) drops the
        // stale reverse entry first.
        if let Some(&(old_p2c, _)) = inner.installed.get(&key) {
            if old_p2c != e.p2c_key {
                let _ = inner.p2c.remove(&old_p2c);
            }
        }
        let res =
            inner.p2c.insert(e.p2c_key, e.p2c_value, 0).and_then(|()| inner.c2p.insert(e.c2p_key, e.c2p_value, 0));
        if let Err(err) = res {
            if !inner.installed.contains_key(&key) {
                let _ = inner.p2c.remove(&e.p2c_key);
                inner.slots.free(slot);
            }
            return Err(offload_err(err));
        }
        inner.installed.insert(key, (e.p2c_key, slot));
        Ok(())
    }

    fn remove(&self, binding: &ChannelBinding) -> Result<(), OffloadError> {
        let mut inner = self.lock();
        let key = entries::c2p_key(binding);
        let Some((p2c_key, slot)) = inner.installed.remove(&key) else {
            return Ok(());
        };
        let a = inner.c2p.remove(&key);
        let b = inner.p2c.remove(&p2c_key);
        inner.slots.free(slot);
        for r in [a, b] {
            match r {
                Ok(()) | Err(MapError::KeyNotFound) => {}
                Err(e) => return Err(offload_err(e)),
            }
        }
        Ok(())
    }

    fn counters(&self, binding: &ChannelBinding) -> Option<ChannelCounters> {
        let inner = self.lock();
        let &(_, slot) = inner.installed.get(&entries::c2p_key(binding))?;
        inner.stats.get(&slot, 0).ok().map(|v| sum_stats(&v))
    }
}

impl Drop for XdpOffload {
    fn drop(&mut self) {
        // The links go with the Ebpf object; clear the attach records so status tools do not
        // report interfaces we no longer serve. Bindings are the daemon's to remove.
        let mut inner = self.lock();
        for slot in 0..inner.attached.len() as u32 {
            let _ = inner.attach.set(slot, AttachRecord::default(), 0);
        }
    }
}
