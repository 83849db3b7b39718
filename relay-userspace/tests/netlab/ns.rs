//! One named network namespace (`ip netns`): commands in it, and sockets in it.
use std::fs::File;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::Command;

#[derive(Clone, Debug)]
pub struct Ns {
    name: String,
}

impl Ns {
    pub fn new(name: &str) -> Ns {
        Ns { name: name.to_owned() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn handle(&self) -> File {
        let path = format!("/run/netns/{}", self.name);
        File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"))
    }

    /// A command that runs in this namespace. Unlike `ip netns exec`, only the network
    /// namespace changes: /sys and bpffs stay as they are, which the XDP loader needs.
    pub fn command(&self, program: &str) -> Command {
        let ns = self.handle();
        let mut cmd = Command::new(program);
        // SAFETY: setns(2) is async-signal-safe; `ns` is moved in and stays open until exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        cmd
    }

    /// Runs a set-up command in the namespace; panics with its output on failure.
    pub fn run(&self, argv: &[&str]) {
        super::sh(self.command(argv[0]).args(&argv[1..]));
    }

    /// Runs a command in the namespace and returns its stdout; panics on failure.
    pub fn output(&self, argv: &[&str]) -> String {
        let out = self.command(argv[0]).args(&argv[1..]).output().expect("spawn");
        assert!(out.status.success(), "{argv:?} in {}: {}", self.name, String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn link_up(&self, dev: &str) {
        self.run(&["ip", "link", "set", dev, "up"]);
    }

    pub fn sysctl(&self, key: &str, value: &str) {
        self.run(&["sysctl", "-q", "-w", &format!("{key}={value}")]);
    }

    /// Moves the calling thread into this namespace: sockets it creates from then on live
    /// there. Use on a thread of its own.
    pub fn enter_current_thread(&self) {
        let ns = self.handle();
        // SAFETY: setns on a valid namespace fd affects only the calling thread for CLONE_NEWNET.
        let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns {}: {}", self.name, std::io::Error::last_os_error());
    }
}
