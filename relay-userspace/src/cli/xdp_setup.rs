//! Chooses the offload engines for `relay serve` from `--xdp` and `--xdp-interface`.

use super::options::ServeOptions;
use crate::offload::xdp::{self, XdpConfig};
use crate::offload::Offload;
use anyhow::{Context, Result};
use std::net::IpAddr;
use std::sync::Arc;

/// The engines to feed bound channels to; empty when XDP is off. Dropping the returned
/// engines detaches the program (BPF links), so the caller keeps them for the daemon's life.
pub fn engines(
    opts: &ServeOptions,
    listening: &[IpAddr],
    relay: &[IpAddr],
    port: u16,
) -> Result<Vec<Arc<dyn Offload>>> {
    let mode = opts.xdp.unwrap_or_default();
    let interfaces = if opts.xdp_interface.is_empty() {
        let mut ips = listening.to_vec();
        ips.extend_from_slice(relay);
        xdp::interfaces_for_addrs(&ips).context("finding the interfaces that hold our addresses")?
    } else {
        opts.xdp_interface.clone()
    };
    let config = XdpConfig { mode, interfaces, listen_ports: vec![port], ..XdpConfig::default() };
    let started = xdp::start(&config).with_context(|| format!("--xdp {}", config.mode))?;
    tracing::info!("{}", started.summary);
    Ok(match started.offload {
        Some(engine) => vec![Arc::new(engine) as Arc<dyn Offload>],
        None => Vec::new(),
    })
}

/// After a clean shutdown: nothing is attached any more, so the pins would only mislead
/// `relay xdp status`.
pub fn remove_pins() {
    xdp::remove_pins(&xdp::default_pin_dir());
}
