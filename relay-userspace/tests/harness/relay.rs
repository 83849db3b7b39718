//! Spawns `relay serve` and waits for it to say it is ready; stops it on drop.
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// A hang guard, not a timing assertion: a relay that never becomes ready fails the test.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Appended to the captured log when the relay's stderr closes.
const EXITED: &str = "<<relay exited>>\n";

pub struct RelayProcess {
    child: Child,
    log: Arc<(Mutex<String>, Condvar)>,
}

impl RelayProcess {
    /// Starts `relay serve ARGS`. XDP is off unless `args` ask for it: the pinned maps live at
    /// one fixed path per host, so only tests that need XDP (and run it alone) turn it on.
    pub fn start(args: &[&str]) -> RelayProcess {
        let xdp_default: &[&str] = if args.contains(&"--xdp") { &[] } else { &["--xdp", "off"] };
        let mut child = Command::new(env!("CARGO_BIN_EXE_relay"))
            .arg("serve")
            .args(xdp_default)
            .args(args)
            .env("RUST_LOG", "debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn relay");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let (m, cv) = &*sink;
                let mut s = m.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
                cv.notify_all();
            }
            // stderr closed: the relay exited. Wake waiters so they fail now, not at the deadline.
            let (m, cv) = &*sink;
            m.lock().unwrap().push_str(EXITED);
            cv.notify_all();
        });
        let relay = RelayProcess { child, log };
        relay.wait_for_log("relay ready", READY_WITHIN);
        relay
    }

    /// Waits until the log contains `needle`; panics with the whole log otherwise.
    pub fn wait_for_log(&self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        let (m, cv) = &*self.log;
        let mut s = m.lock().unwrap();
        while !s.contains(needle) {
            if s.contains(EXITED) {
                panic!("relay exited before logging {needle:?}; its log:\n{s}");
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                panic!("relay did not log {needle:?}; log so far:\n{s}");
            }
            s = cv.wait_timeout(s, left).unwrap().0;
        }
    }

    pub fn log(&self) -> String {
        self.log.0.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM and wait: the relay must exit cleanly by itself.
    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }
}

fn terminate(child: &mut Child) -> std::process::ExitStatus {
    // SAFETY: kill(2) on the PID of a child we spawned and have not reaped.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("wait relay") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return child.wait().expect("wait relay");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for RelayProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            terminate(&mut self.child);
        }
    }
}

/// Fetches the relay's Prometheus text from `--metrics-listen ADDR`.
pub fn scrape(addr: std::net::SocketAddr) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect to metrics");
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

/// The value of one sample line (`name{labels}`) in a scrape, 0 if absent.
pub fn metric(scrape: &str, series: &str) -> u64 {
    scrape.lines().find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok())).unwrap_or(0)
}
