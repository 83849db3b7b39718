//! Processes the bench starts inside a namespace: stdout read line by line (JSON), stderr to a
//! log file, stopped by PID on drop (stdin closed first, then SIGTERM, then SIGKILL).
use anyhow::{anyhow, bail, Context, Result};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

#[derive(Debug)]
pub struct Proc {
    pub name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    log: PathBuf,
}

impl Proc {
    /// Runs `program args` inside `ns` (`ip netns exec` execs it, so the PID is the program's).
    pub fn spawn(ns: &str, name: &str, program: &Path, args: &[String], logs: &Path) -> Result<Proc> {
        let log = logs.join(format!("{name}.log"));
        let err = std::fs::File::create(&log).with_context(|| format!("create {}", log.display()))?;
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .with_context(|| format!("start {}", program.display()))?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no stdout pipe"))?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Proc { name: name.to_owned(), child, stdin, lines, log })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn send(&mut self, line: &str) -> Result<()> {
        let stdin = self.stdin.as_mut().ok_or_else(|| anyhow!("{}: stdin closed", self.name))?;
        writeln!(stdin, "{line}").and_then(|_| stdin.flush()).with_context(|| format!("{}: write command", self.name))
    }

    /// The next JSON line from stdout; an `"event":"error"` line or an exit is an error.
    pub fn next_json(&mut self, within: Duration) -> Result<Value> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(l) => l,
                Err(RecvTimeoutError::Timeout) => bail!("{}: no answer within {within:?}{}", self.name, self.tail()),
                Err(RecvTimeoutError::Disconnected) => bail!("{}: exited{}", self.name, self.tail()),
            };
            let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
            if v["event"] == "error" {
                bail!("{}: {}{}", self.name, v["error"].as_str().unwrap_or("error"), self.tail());
            }
            return Ok(v);
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// First and last lines of the stderr log, for error messages (errors often come first,
    /// with a long verifier or backtrace dump after them).
    pub fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        if lines.is_empty() {
            return String::new();
        }
        let head = lines.len().min(4);
        let start = lines.len().saturating_sub(10).max(head);
        let gap = if start > head { "\n[...]\n" } else { "\n" };
        format!("\n--- {} ---\n{}{gap}{}", self.log.display(), lines[..head].join("\n"), lines[start..].join("\n"))
    }

    /// VmRSS in kB from /proc/PID/status.
    pub fn rss_kb(&self) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Closes stdin and waits up to `grace`, then SIGTERM, then SIGKILL.
    pub fn stop(&mut self, grace: Duration) {
        self.stdin.take();
        if !grace.is_zero() && self.wait_for(grace) {
            return;
        }
        let _ = Command::new("kill").args(["-TERM", &self.pid().to_string()]).status();
        if self.wait_for(Duration::from_secs(5)) {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn wait_for(&mut self, d: Duration) -> bool {
        let deadline = Instant::now() + d;
        while Instant::now() < deadline {
            if !self.alive() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        !self.alive()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.alive() {
            self.stop(Duration::from_millis(500));
        }
    }
}
