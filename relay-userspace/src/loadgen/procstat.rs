//! CPU accounting from /proc. Machine CPU is `cores × elapsed − (idle + iowait)`: on these
//! tickless guests idle time is accounted precisely while the user/system/softirq ticks miss
//! most of the busy time (shared/docs/BENCHMARKING.md). A process's utime+stime is fine.

use std::collections::HashMap;
use std::time::Instant;

#[derive(Clone, Copy, Debug)]
pub struct MachineSample {
    at: Instant,
    idle_ticks: u64,
    cpus: u32,
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no memory effects.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Parses /proc/stat: idle + iowait of the aggregate `cpu` line, and the number of `cpuN` lines.
pub fn parse_stat(text: &str) -> Option<(u64, u32)> {
    let mut idle = None;
    let mut cpus = 0;
    for line in text.lines() {
        let mut f = line.split_whitespace();
        match f.next() {
            Some("cpu") => {
                let v: Vec<u64> = f.filter_map(|x| x.parse().ok()).collect();
                idle = Some(v.get(3)? + v.get(4).copied().unwrap_or(0));
            }
            Some(name) if name.starts_with("cpu") => cpus += 1,
            _ => {}
        }
    }
    Some((idle?, cpus))
}

pub fn machine() -> Option<MachineSample> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let (idle_ticks, cpus) = parse_stat(&text)?;
    Some(MachineSample { at: Instant::now(), idle_ticks, cpus })
}

/// Busy CPU-seconds of the whole machine between two samples.
pub fn busy_seconds(a: &MachineSample, b: &MachineSample) -> f64 {
    let elapsed = b.at.duration_since(a.at).as_secs_f64();
    let idle = b.idle_ticks.saturating_sub(a.idle_ticks) as f64 / clock_ticks();
    (f64::from(a.cpus) * elapsed - idle).max(0.0)
}

/// Fields 14-17 of /proc/PID/stat: utime, stime, and the same for reaped children.
fn stat_ticks(pid: u32) -> Option<[u64; 4]> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the parenthesised command name (which may contain spaces).
    let rest = text.get(text.rfind(')')? + 2..)?;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let at = |i: usize| f.get(i).and_then(|x| x.parse::<u64>().ok());
    Some([at(11)?, at(12)?, at(13)?, at(14)?])
}

/// utime + stime of a process (all its threads) in seconds.
pub fn process_cpu_seconds(pid: u32) -> Option<f64> {
    let t = stat_ticks(pid)?;
    Some((t[0] + t[1]) as f64 / clock_ticks())
}

/// utime+stime of every process except `skip`. Reaped children's time (cutime) is left out:
/// it lands all at once when a parent reaps, however long before the child ran. Processes that
/// start and exit inside a window are therefore missed (they count as benchmark CPU).
pub fn all_processes_cpu(skip: &[u32]) -> HashMap<u32, f64> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return HashMap::new() };
    let hz = clock_ticks();
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| !skip.contains(pid))
        .filter_map(|pid| {
            let t = stat_ticks(pid)?;
            Some((pid, (t[0] + t[1]) as f64 / hz))
        })
        .collect()
}

/// CPU the other processes used between two [`all_processes_cpu`] snapshots; processes born
/// in between count in full.
pub fn others_cpu_seconds(before: &HashMap<u32, f64>, after: &HashMap<u32, f64>) -> f64 {
    after.iter().map(|(pid, &a)| (a - before.get(pid).copied().unwrap_or(0.0)).max(0.0)).sum()
}

/// The per-CPU softirq threads: network work deferred out of the sender's context lands there.
pub fn ksoftirqd_pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.starts_with("ksoftirqd/")))
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests panic rather than return Result
mod tests {
    use super::*;

    #[test]
    fn parses_proc_stat() {
        let text = "cpu  10 0 20 1000 5 0 3 0 0 0\ncpu0 5 0 10 500 2 0 1 0 0 0\ncpu1 5 0 10 500 3 0 2 0 0 0\nintr 1\n";
        assert_eq!(parse_stat(text), Some((1005, 2)));
        assert_eq!(parse_stat("intr 1\n"), None);
    }

    #[test]
    fn reads_own_cpu() {
        assert!(process_cpu_seconds(std::process::id()).is_some());
        assert!(machine().is_some());
        let me = std::process::id();
        let all = all_processes_cpu(&[]);
        assert!(all.contains_key(&me));
        assert!(!all_processes_cpu(&[me]).contains_key(&me));
        assert_eq!(others_cpu_seconds(&all, &all), 0.0);
    }
}
