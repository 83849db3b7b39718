//! Processes the lab starts: each in a process group of its own, whose id is the PID we got
//! from spawn; dropping the guard ends that group (the program and any helpers it forked,
//! e.g. Chromium's renderers) and reaps it. Stderr (and stdout) are collected as a log.
use std::io::{BufRead, BufReader, Read};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A missing tool fails the test with the package that provides it: never a silent skip.
pub fn require(bin: &str, package: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {bin}")]).output().map(|o| o.status.success());
    assert!(
        found.unwrap_or(false),
        "`{bin}` is missing: install Debian package `{package}` (cargo xtask bootstrap --test-deps does)"
    );
}

type Log = Arc<(Mutex<String>, Condvar)>;

pub struct Guarded {
    child: Child,
    log: Log,
    what: String,
}

impl Guarded {
    pub fn spawn(what: &str, mut cmd: Command) -> Guarded {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {what} ({cmd:?}): {e}"));
        let log: Log = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        collect(out, log.clone());
        collect(err, log.clone());
        Guarded { child, log, what: what.to_owned() }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log(&self) -> String {
        self.log.0.lock().expect("log lock").clone()
    }

    /// Waits until the log contains `needle` (a hang guard, not a timing check); panics with
    /// the log if the process exits or the guard expires first.
    pub fn wait_for_log(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        loop {
            {
                let (m, cv) = &*self.log;
                let s = m.lock().expect("log lock");
                if s.contains(needle) {
                    return;
                }
                let _ = cv.wait_timeout(s, Duration::from_millis(100)).expect("log lock");
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{} exited ({status}) before logging {needle:?}:\n{}", self.what, self.log());
            }
            if Instant::now() > deadline {
                panic!("{} did not log {needle:?} within {within:?}:\n{}", self.what, self.log());
            }
        }
    }

    /// Still running?
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

fn collect(stream: impl Read + Send + 'static, log: Log) {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let (m, cv) = &*log;
            let mut s = m.lock().expect("log lock");
            s.push_str(&line);
            s.push('\n');
            cv.notify_all();
        }
    });
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let pgid = self.child.id() as i32;
        // SAFETY: kill(2) on the process group whose id is our own child's PID (process_group(0)).
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: as above; SIGKILL whatever of the group is left (helpers may outlive the leader).
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// Runs a command to completion, killing it if it hangs (a hang guard, not a timing check).
pub fn run_bounded(mut cmd: Command, limit: Duration) -> std::process::Output {
    let mut child =
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    while matches!(child.try_wait(), Ok(None)) {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}
