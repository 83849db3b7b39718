//! Load generator for `cargo xtask bench` (binary `relay-loadgen`).
//!
//! Three roles: `drive` (TURN clients: allocate, bind channels, then paced ChannelData or plain
//! UDP with timestamps in the payload), `reflect` (the UDP echo peer) and `alloc` (allocation
//! rate and held-allocation memory). The protocol parts ([`session`], [`payload`], [`pacer`],
//! [`hist`], [`rest`]) are pure; sockets, threads and the clock live in the other modules.

pub mod clients;
pub mod hist;
pub mod pacer;
pub mod payload;
pub mod procstat;
pub mod reflect;
pub mod report;
pub mod rest;
pub mod session;
pub mod signalling;
pub mod sockets;
pub mod sys;
pub mod traffic;
