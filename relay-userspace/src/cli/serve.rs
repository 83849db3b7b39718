//! `relay serve`: options -> core and network configuration, then run until SIGINT/SIGTERM.

use super::options::ServeOptions;
use crate::net::{self, interfaces, NetConfig};
use crate::offload::Offload;
use anyhow::{Context, Result};
use std::net::IpAddr;
use std::sync::Arc;

/// Plain STUN/TURN over UDP and TCP (RFC 8656 §3.1... IANA "stun"/"turn" port).
pub const DEFAULT_PORT: u16 = 3478;
/// TURN over TLS: the IANA "turns" port and 443, which passes nearly every firewall.
pub const DEFAULT_TLS_PORTS: [u16; 2] = [5349, 443];

pub fn run(opts: ServeOptions) -> Result<()> {
    init_logging();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = opts.threads.unwrap_or(cpus.div_ceil(4)).max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("tokio runtime")?;
    runtime.block_on(serve(opts))
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}

async fn serve(opts: ServeOptions) -> Result<()> {
    let local = interfaces::local_addresses().context("listing local addresses")?;
    let listening_ips = if opts.listening_ip.is_empty() {
        let mut ips: Vec<IpAddr> = local.iter().map(|a| a.ip).collect();
        ips.dedup();
        ips
    } else {
        opts.listening_ip.clone()
    };
    anyhow::ensure!(!listening_ips.is_empty(), "no address to listen on");
    let relay_ips = if opts.relay_ip.is_empty() { default_relay_ips(&listening_ips) } else { opts.relay_ip.clone() };
    let udp_workers = opts.udp_workers.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));

    let tls = if opts.no_tls {
        None
    } else {
        Some(net::tls::server_config(opts.cert.as_deref(), opts.pkey.as_deref(), &listening_ips)?)
    };
    let net_config = NetConfig {
        listening_ips: listening_ips.clone(),
        port: opts.listening_port.unwrap_or(DEFAULT_PORT),
        tls_ports: if opts.tls_listening_port.is_empty() {
            DEFAULT_TLS_PORTS.to_vec()
        } else {
            opts.tls_listening_port.clone()
        },
        udp: !opts.no_udp,
        tcp: !opts.no_tcp,
        tls,
        udp_workers,
        metrics: opts.metrics_listen,
    };
    let core_config = super::core_config::build(&opts, &listening_ips, &relay_ips, &net_config)?;
    let xdp = super::xdp_setup::engines(&opts, &listening_ips, &relay_ips, net_config.port)?;
    let offloads: Vec<Arc<dyn Offload>> = xdp.engines.clone();
    tracing::info!(
        "relay ips {relay_ips:?}; realm {:?}; fast path: userspace{}",
        core_config.realm,
        offloads.iter().map(|o| format!(" + {}", o.name())).collect::<String>()
    );

    // Handlers first: a SIGTERM right after "ready" must still shut down cleanly.
    let signals = Signals::install()?;
    let running = net::start(core_config, &net_config, offloads)?;
    // Tests and service managers wait for this line.
    tracing::info!("relay ready");
    signals.wait().await?;
    tracing::info!("signal received, shutting down");
    running.shutdown();
    xdp.remove_pins();
    Ok(())
}

/// First non-loopback address of each family among the listening ones, else the first one.
fn default_relay_ips(listening: &[IpAddr]) -> Vec<IpAddr> {
    let pick = |v4: bool| listening.iter().copied().find(|ip| ip.is_ipv4() == v4 && !ip.is_loopback());
    let ips: Vec<IpAddr> = [pick(true), pick(false)].into_iter().flatten().collect();
    if ips.is_empty() {
        listening.iter().copied().take(1).collect()
    } else {
        ips
    }
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate()).context("SIGTERM handler")?,
            int: signal(SignalKind::interrupt()).context("SIGINT handler")?,
        })
    }

    async fn wait(mut self) -> Result<()> {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
        Ok(())
    }
}
