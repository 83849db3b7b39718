//! XDP fast path for TURN ChannelData over UDP (RFC 8656 §12), IPv4 and IPv6.
//!
//! client -> peer: ChannelData to a listening port whose (client, server, channel) is bound is
//! stripped of its 4-byte header and sent from the relayed address to the peer.
//! peer -> client: UDP whose (peer, relayed address) is bound gets a ChannelData header and is
//! sent from the server address to the client. Everything else goes to the stack untouched,
//! counted by reason (relay_common::Verdict), so the daemon can still relay it.
#![no_std]
#![no_main]

mod c2p;
mod clock;
mod csum;
mod hairpin;
mod maps;
mod p2c;
mod parse;
mod ptr;
mod rewrite;
mod route;

use aya_ebpf::{bindings::xdp_action, macros::xdp, programs::XdpContext};
use aya_log_ebpf::debug;
use ptr::{V4, V6};
use relay_common::{Verdict, FAMILY_V4};

#[xdp]
pub fn relay_xdp(ctx: XdpContext) -> u32 {
    let packed = match maps::scratch() {
        // Cannot happen (a one-entry per-CPU array always has slot 0); pass untouched.
        None => pack(Err(Verdict::AdjustFailed)),
        Some(s) => match parse::parse(&ctx, &mut s.parsed) {
            Ok(()) if s.parsed.family == u32::from(FAMILY_V4) => forward::<V4>(&ctx, s),
            Ok(()) => forward::<V6>(&ctx, s),
            Err(reason) => pack(Err(reason)),
        },
    };
    let (verdict, action) = unpack(packed);
    maps::count_verdict(verdict);
    // Off unless the daemon loads the program with debug logging (AYA_LOG_LEVEL).
    debug!(&ctx, "verdict {}", verdict as u32);
    action
}

/// ChannelData to a listening port goes client->peer (and perhaps on to the hairpin), all other
/// UDP peer->client.
#[inline(always)]
fn forward<F: ptr::Family>(ctx: &XdpContext, s: &mut maps::Scratch) -> u64 {
    if !maps::is_listen_port(s.parsed.dport) {
        return p2c::forward::<F>(ctx, s);
    }
    match c2p::forward::<F>(ctx, s) {
        c2p::HAIRPIN => hairpin::forward::<F>(ctx, s),
        r => r,
    }
}

/// Verdict and XDP action in one register: BPF subprograms cannot return aggregates.
#[inline(always)]
fn pack(r: Result<(Verdict, u32), Verdict>) -> u64 {
    let (verdict, action) = match r {
        Ok(done) => done,
        Err(Verdict::Aborted) => (Verdict::Aborted, xdp_action::XDP_DROP),
        Err(reason) => (reason, xdp_action::XDP_PASS),
    };
    (u64::from(verdict as u32) << 32) | u64::from(action)
}

#[inline(always)]
fn unpack(packed: u64) -> (Verdict, u32) {
    (verdict_from((packed >> 32) as u32), packed as u32)
}

/// Verdict from its slot number; only our own code produces these, out of range means a bug.
#[inline(always)]
fn verdict_from(v: u32) -> Verdict {
    if v < Verdict::COUNT {
        Verdict::ALL[v as usize]
    } else {
        Verdict::Aborted
    }
}

#[cfg(not(test))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
