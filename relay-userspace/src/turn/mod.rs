//! The TURN server core (RFC 8656, RFC 8489 long-term credentials), sans-IO.
//!
//! The edge feeds [`Server`] client frames, peer datagrams and `now`, drains [`Output`]s and
//! sleeps until [`Server::poll_timeout`]. Relay sockets are opened through [`RelayBinder`].
//! Peer safety lives in [`PeerPolicy`]; REST credentials in [`rest_password`] and
//! [`rest_username`].
//!
//! ```ignore
//! let mut core = Server::new(config, Box::new(binder), Instant::now());
//! loop {
//!     core.set_unix_time(unix_seconds());          // REST expiry; fail-closed until set
//!     match next_event_until(core.poll_timeout()) {
//!         Client(ft, frame) => core.handle_client(Instant::now(), ft, &frame),
//!         Peer(relay, peer, dgram) => core.handle_peer(Instant::now(), relay, peer, &dgram),
//!         Closed(ft) => core.client_closed(Instant::now(), ft),
//!         Tick => core.handle_timeout(Instant::now()),
//!     }
//!     while let Some(out) = core.poll_output() { dispatch(out) }
//! }
//! ```

// Tests panic rather than return Result (team rule); production code is still checked.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod allocation;
mod auth;
mod channel;
mod config;
mod error_response;
mod five_tuple;
mod handlers;
mod ip_filter;
mod log;
mod output;
mod peer_policy;
mod permission;
mod port_pool;
mod rate_limit;
mod server;
mod stats;
mod timers;

#[cfg(test)]
mod tests;

pub use allocation::AllocationInfo;
pub use auth::rest::{rest_password, rest_username};
pub use config::{AuthConfig, ServerConfig};
pub use five_tuple::{FiveTuple, Transport};
pub use ip_filter::{IpRange, RangeParseError};
pub use output::Output;
pub use peer_policy::PeerPolicy;
pub use port_pool::RelayBinder;
pub use rate_limit::RateLimitConfig;
pub use server::Server;
pub use stats::{DropCounters, DropReason, RequestCounters, Stats, TrafficCounters};
