//! Chooses the offload engines for `relay serve` from `--xdp` and `--xdp-interface`.

use super::options::ServeOptions;
use crate::offload::xdp::{self, XdpConfig, XdpMode};
use crate::offload::Offload;
use anyhow::{bail, Context, Result};
use std::io::{Read, Seek, Write};
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What `relay serve` keeps for its life: the engines (dropping them detaches the program) and
/// the lock that makes this daemon the owner of its pin directory.
pub struct XdpSetup {
    pub engines: Vec<Arc<dyn Offload>>,
    owned_pins: Option<(PathBuf, std::fs::File)>,
}

impl XdpSetup {
    fn off() -> XdpSetup {
        XdpSetup { engines: Vec::new(), owned_pins: None }
    }

    /// After a clean shutdown nothing is attached any more, so the pins would only mislead
    /// `relay xdp status`. Only the owner removes them.
    pub fn remove_pins(self) {
        drop(self.engines);
        if let Some((dir, _lock)) = self.owned_pins {
            xdp::remove_pins(&dir);
        }
    }
}

/// The engines to feed bound channels to; none when XDP is off.
pub fn engines(opts: &ServeOptions, listening: &[IpAddr], relay: &[IpAddr], port: u16) -> Result<XdpSetup> {
    let mode = opts.xdp.unwrap_or_default();
    let pin_dir = opts.xdp_pin_dir.clone().unwrap_or_else(xdp::default_pin_dir);
    if mode == XdpMode::Off {
        tracing::info!("xdp: off (--xdp off)");
        return Ok(XdpSetup::off());
    }
    // One daemon per pin directory: a second one would replace the first one's pins, and
    // its clean exit would remove pins the first still uses.
    let lock = match lock_pin_dir(&pin_dir)? {
        Ok(lock) => lock,
        Err(owner) => {
            let why = format!("another relay (pid {owner}) owns {}; give this one --xdp-pin-dir", pin_dir.display());
            if mode == XdpMode::Auto {
                tracing::warn!("xdp: off ({why})");
                return Ok(XdpSetup::off());
            }
            bail!("--xdp {mode}: {why}");
        }
    };
    let interfaces = if opts.xdp_interface.is_empty() {
        let mut ips = listening.to_vec();
        ips.extend_from_slice(relay);
        xdp::interfaces_for_addrs(&ips).context("finding the interfaces that hold our addresses")?
    } else {
        opts.xdp_interface.clone()
    };
    let config = XdpConfig {
        mode,
        interfaces,
        listen_ports: vec![port],
        pin_dir: Some(pin_dir.clone()),
        ..XdpConfig::default()
    };
    let started = xdp::start(&config).with_context(|| format!("--xdp {}", config.mode))?;
    tracing::info!("{}", started.summary);
    Ok(match started.offload {
        Some(engine) => {
            XdpSetup { engines: vec![Arc::new(engine) as Arc<dyn Offload>], owned_pins: Some((pin_dir, lock)) }
        }
        None => XdpSetup::off(),
    })
}

/// Takes an exclusive flock on a file beside (not in: bpffs holds only BPF objects) the pin
/// directory. The kernel releases it when the process dies, crash included. `Ok(Err(pid))`
/// names the live owner.
fn lock_pin_dir(pin_dir: &Path) -> Result<std::result::Result<std::fs::File, String>> {
    let name: String =
        pin_dir.to_string_lossy().chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    let dir = Path::new("/run/relay");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("xdp{name}.lock"));
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: flock on a file descriptor we own.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let mut owner = String::new();
        let _ = file.read_to_string(&mut owner);
        return Ok(Err(owner.trim().to_owned()));
    }
    file.set_len(0)?;
    file.rewind()?;
    write!(file, "{}", std::process::id())?;
    Ok(Ok(file))
}
