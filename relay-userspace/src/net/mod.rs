//! The I/O edges around the sans-IO core: sockets, TLS, timers, and the userspace fast path.

mod batch;
pub mod fast_table;
pub mod interfaces;
mod metrics;
mod relay_sockets;
mod shared;
mod stream;
mod timer;
pub mod tls;
mod udp;

use crate::offload::Offload;
use crate::turn::{Server, ServerConfig};
use anyhow::{Context, Result};
use relay_sockets::{Binder, RelayRegistry};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Where and how to listen.
#[derive(Clone, Debug)]
pub struct NetConfig {
    pub listening_ips: Vec<IpAddr>,
    pub port: u16,
    pub tls_ports: Vec<u16>,
    pub udp: bool,
    pub tcp: bool,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub udp_workers: usize,
    /// Prometheus endpoint, if any.
    pub metrics: Option<SocketAddr>,
}

/// A running relay: listeners bound, tasks spawned.
pub struct Running {
    shared: Arc<shared::Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Binds every listener (failing fast on the first bind error) and starts serving.
pub fn start(core_config: ServerConfig, net: &NetConfig, offloads: Vec<Arc<dyn Offload>>) -> Result<Running> {
    let registry = Arc::new(RelayRegistry::default());
    let mut tasks_pre = Vec::new();
    let core = Server::new(core_config, Box::new(Binder(registry.clone())), std::time::Instant::now());

    let mut udp_sockets = Vec::new();
    let mut udp_servers = HashMap::new();
    if net.udp {
        for ip in &net.listening_ips {
            let addr = SocketAddr::new(*ip, net.port);
            let socks = udp::bind(addr, net.udp_workers).with_context(|| format!("cannot bind UDP {addr}"))?;
            udp_servers.insert(addr, socks[0].clone());
            udp_sockets.extend(socks.into_iter().map(|s| (addr, s)));
            tracing::info!("listening on udp {addr} ({} workers)", net.udp_workers);
        }
    }
    let mut listeners = Vec::new();
    for ip in &net.listening_ips {
        if net.tcp {
            let addr = SocketAddr::new(*ip, net.port);
            listeners.push((stream::bind(addr).with_context(|| format!("cannot bind TCP {addr}"))?, None));
            tracing::info!("listening on tcp {addr}");
        }
        if let Some(tls) = &net.tls {
            for port in &net.tls_ports {
                let addr = SocketAddr::new(*ip, *port);
                let acceptor = tokio_rustls::TlsAcceptor::from(tls.clone());
                listeners
                    .push((stream::bind(addr).with_context(|| format!("cannot bind TLS {addr}"))?, Some(acceptor)));
                tracing::info!("listening on tls {addr}");
            }
        }
    }

    let metrics = match net.metrics {
        Some(addr) => {
            let std_listener =
                std::net::TcpListener::bind(addr).with_context(|| format!("cannot bind metrics {addr}"))?;
            std_listener.set_nonblocking(true)?;
            tracing::info!("metrics on http://{}/metrics", std_listener.local_addr()?);
            Some(tokio::net::TcpListener::from_std(std_listener)?)
        }
        None => None,
    };
    let shared = shared::Shared::new(core, udp_servers, registry, offloads);
    if let Some(listener) = metrics {
        tasks_pre.push(tokio::spawn(metrics::serve(shared.clone(), listener)));
    }
    let mut tasks = tasks_pre;
    for (addr, sock) in udp_sockets {
        tasks.push(tokio::spawn(udp::serve(shared.clone(), sock, addr)));
    }
    let limit = Arc::new(Semaphore::new(stream::MAX_CONNECTIONS));
    for (listener, tls) in listeners {
        tasks.push(tokio::spawn(stream::serve(shared.clone(), listener, tls, limit.clone())));
    }
    tasks.push(tokio::spawn(timer::run(shared.clone())));
    Ok(Running { shared, tasks })
}

impl Running {
    /// RFC 8656 has no shutdown message; releasing everything makes the core withdraw every
    /// channel from the offload engines so no kernel entry outlives the daemon.
    pub fn shutdown(self) {
        for t in &self.tasks {
            t.abort();
        }
        self.shared.with_core(|core, now| core.shutdown(now));
        tracing::info!("shut down: allocations released, fast-path entries removed");
    }

    /// The metrics text an operator would scrape.
    pub fn metrics(&self) -> String {
        metrics::render(&self.shared)
    }

    /// Userspace fast-path totals, for logs and metrics.
    pub fn fast_path(&self) -> crate::offload::ChannelCounters {
        self.shared.fast.totals.snapshot()
    }
}
