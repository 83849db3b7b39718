//! Chooses the offload engines for `relay serve` from `--xdp`.

use super::options::{ServeOptions, XdpMode};
use crate::net::interfaces::IfAddr;
use crate::offload::Offload;
use anyhow::Result;
use std::net::IpAddr;
use std::sync::Arc;

pub fn engines(
    opts: &ServeOptions,
    _local: &[IfAddr],
    _listening: &[IpAddr],
    _relay: &[IpAddr],
) -> Result<Vec<Arc<dyn Offload>>> {
    match opts.xdp.unwrap_or_default() {
        XdpMode::Off => {
            tracing::info!("xdp: off (--xdp off): every packet is relayed in userspace");
            Ok(Vec::new())
        }
        mode => {
            tracing::warn!("xdp: {mode:?} requested, but the XDP engine is not wired yet: userspace only");
            Ok(Vec::new())
        }
    }
}
