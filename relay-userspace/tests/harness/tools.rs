//! External tools the tests need. A missing tool fails the test with its package name: never
//! a silent skip (`cargo xtask test` installs them).
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

pub fn require(bin: &str, package: &str) {
    let found = Command::new("sh").args(["-c", &format!("command -v {bin}")]).output().map(|o| o.status.success());
    assert!(
        found.unwrap_or(false),
        "`{bin}` is missing: install Debian package `{package}` (cargo xtask bootstrap --test-deps does)"
    );
}

/// Runs a command to completion, killing it if it hangs (a hang guard, not a timing check).
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("collect output")
}

/// A background helper process killed by PID on drop.
pub struct Background(pub Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
