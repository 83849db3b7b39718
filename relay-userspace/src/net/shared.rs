//! State shared by every I/O task: the core behind one lock, the sockets, the fast table and
//! the offload engines. Outputs are drained under the lock and sent after it is released.

use super::fast_table::{ClientSink, FastTable};
use super::relay_sockets::RelayRegistry;
use crate::offload::{ChannelBinding, Offload};
use crate::transport::Transport;
use crate::turn::{FiveTuple, Output, Server};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, Notify};

pub struct Shared {
    core: Mutex<Server>,
    /// One sending socket per UDP server address (any of its SO_REUSEPORT workers will do).
    pub udp_servers: HashMap<SocketAddr, Arc<UdpSocket>>,
    pub streams: Mutex<HashMap<FiveTuple, mpsc::Sender<Vec<u8>>>>,
    pub relays: Arc<RelayRegistry>,
    pub fast: FastTable,
    pub offloads: Vec<Arc<dyn Offload>>,
    /// Wakes the timer task when an input may have moved the core's next deadline.
    pub timer: Notify,
}

impl Shared {
    pub fn new(
        core: Server,
        udp_servers: HashMap<SocketAddr, Arc<UdpSocket>>,
        relays: Arc<RelayRegistry>,
        offloads: Vec<Arc<dyn Offload>>,
    ) -> Arc<Shared> {
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            udp_servers,
            streams: Mutex::new(HashMap::new()),
            relays,
            fast: FastTable::default(),
            offloads,
            timer: Notify::new(),
        });
        shared.relays.set_shared(&shared);
        shared
    }

    /// Runs `f` on the core with the current time, then dispatches what it produced.
    pub fn with_core<R>(&self, f: impl FnOnce(&mut Server, Instant) -> R) -> R {
        let now = Instant::now();
        let mut outputs = Vec::new();
        let r = {
            let mut core = self.core.lock().unwrap_or_else(|p| p.into_inner());
            core.set_unix_time(unix_now());
            let r = f(&mut core, now);
            while let Some(o) = core.poll_output() {
                outputs.push(o);
            }
            r
        };
        for o in outputs {
            self.dispatch(o);
        }
        self.timer.notify_one();
        r
    }

    /// A copy of the core's counters.
    pub fn core_stats(&self) -> crate::turn::Stats {
        self.core.lock().unwrap_or_else(|p| p.into_inner()).stats().clone()
    }

    /// The core's next deadline.
    pub fn next_timeout(&self) -> Option<Instant> {
        self.core.lock().unwrap_or_else(|p| p.into_inner()).poll_timeout()
    }

    fn dispatch(&self, output: Output) {
        match output {
            Output::ToClient { ft, data } => self.send_to_client(&ft, data),
            Output::ToPeer { relay, peer, data } => {
                if let Some(sock) = self.relays.socket(&relay) {
                    let _ = sock.try_send_to(&data, peer);
                }
            }
            Output::ChannelBound(b) => self.bind_channel(&b),
            Output::ChannelUnbound(b) => {
                self.fast.remove(&b);
                // Each engine knows which bindings it took (XDP: UDP only).
                for engine in &self.offloads {
                    if let Err(e) = engine.remove(&b) {
                        tracing::warn!(engine = engine.name(), "removing channel {:#06x}: {e}", b.channel);
                    }
                }
            }
            Output::RelayClosed { .. } => {} // the binder already closed it, synchronously
        }
    }

    fn send_to_client(&self, ft: &FiveTuple, data: Vec<u8>) {
        match ft.transport {
            Transport::Udp => {
                if let Some(sock) = self.udp_servers.get(&ft.server) {
                    let _ = sock.try_send_to(&data, ft.client);
                }
            }
            Transport::Tcp | Transport::Tls => {
                let streams = self.streams.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(tx) = streams.get(ft) {
                    // A full queue means the client is not reading; dropping is what UDP would do.
                    let _ = tx.try_send(data);
                }
            }
        }
    }

    fn bind_channel(&self, b: &ChannelBinding) {
        let Some(relay) = self.relays.socket(&b.relay) else { return };
        let ft = FiveTuple { client: b.client, server: b.server, transport: b.transport };
        let sink = match b.transport {
            Transport::Udp => match self.udp_servers.get(&b.server) {
                Some(s) => ClientSink::Udp(s.clone()),
                None => return,
            },
            _ => match self.streams.lock().unwrap_or_else(|p| p.into_inner()).get(&ft) {
                Some(tx) => ClientSink::Stream(tx.clone()),
                None => return,
            },
        };
        self.fast.install(b, relay, sink);
        // Each engine decides what it can accelerate (XDP: UDP only).
        for engine in &self.offloads {
            if let Err(e) = engine.upsert(b) {
                tracing::warn!(engine = engine.name(), "installing channel {:#06x}: {e}", b.channel);
            }
        }
    }
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}
