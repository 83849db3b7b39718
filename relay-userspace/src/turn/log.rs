//! Helpers for the core's operator log (`tracing`; the edge installs the subscriber).
//!
//! What an operator sees, by level (target `relay::turn`):
//! - INFO: allocation created / refreshed / deleted (reason, lifetime, how many permissions
//!   and channels it installed, and `core_*` packet/byte counts: what the core relayed.
//!   Bound-channel traffic forwarded by the edge's fast table or XDP bypasses the core and
//!   is counted by those engines, not here), a
//!   relayed address released from a dual allocation, relay port range exhausted (WARN).
//! - DEBUG: permissions and channels installed or expired, authentication failures with
//!   their cause, every error response (403 with the peer, 486 with the quota, ...), and
//!   at most one summary of dropped packets per [`DROP_LOG_INTERVAL`].
//! - TRACE: 401 challenges, permission and channel refreshes.
//!
//! Every allocation line carries `alloc` (a number unique in this process), `user` and
//! `client`, so `grep 'user=alice'` follows a visit. Nothing is logged per relayed packet,
//! and passwords, keys and secrets never reach a log call.

use std::fmt;
use std::time::{Duration, Instant};

use crate::stun::Method;

use super::allocation::RelayAddr;

/// Longest stretch of client-chosen text (USERNAME) copied into a log line.
const MAX_LOGGED_CHARS: usize = 128;

/// Minimum gap between two summaries of dropped packets (and two port-exhaustion warnings).
pub(crate) const DROP_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Text from the network, escaped (no control characters, no line breaks) and truncated,
/// so a client cannot forge or flood log lines through its USERNAME.
pub(crate) struct Untrusted<'a>(pub(crate) &'a str);

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut chars = self.0.chars();
        for c in chars.by_ref().take(MAX_LOGGED_CHARS) {
            write!(f, "{}", c.escape_debug())?;
        }
        if chars.next().is_some() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// The relayed addresses of an allocation, with the advertised one when 1:1 NAT differs.
pub(crate) struct Relays<'a>(pub(crate) &'a [RelayAddr]);

impl fmt::Display for Relays<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{}", r.local)?;
            if r.public != r.local {
                write!(f, "(advertised {})", r.public)?;
            }
        }
        Ok(())
    }
}

/// A channel number as operators and RFC 8656 write it (`0x4000`).
pub(crate) struct ChannelNumber(pub(crate) u16);

impl fmt::Display for ChannelNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#06x}", self.0)
    }
}

/// A method's name as RFC 8489 / RFC 8656 §17 spell it.
pub(crate) fn method_name(m: Method) -> &'static str {
    match m {
        Method::BINDING => "Binding",
        Method::ALLOCATE => "Allocate",
        Method::REFRESH => "Refresh",
        Method::SEND => "Send",
        Method::DATA => "Data",
        Method::CREATE_PERMISSION => "CreatePermission",
        Method::CHANNEL_BIND => "ChannelBind",
        _ => "unknown",
    }
}

/// Lets one line through per interval; driven by the caller's `now` (sans-IO).
#[derive(Debug, Default)]
pub(crate) struct LogLimiter {
    next: Option<Instant>,
}

impl LogLimiter {
    pub(crate) fn ready(&mut self, now: Instant) -> bool {
        if self.next.is_some_and(|t| now < t) {
            return false;
        }
        self.next = Some(now + DROP_LOG_INTERVAL);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_is_escaped_and_truncated() {
        assert_eq!(Untrusted("alice").to_string(), "alice");
        assert_eq!(Untrusted("a\nuser=root\r").to_string(), "a\\nuser=root\\r");
        let long = "x".repeat(500);
        assert_eq!(Untrusted(&long).to_string().len(), MAX_LOGGED_CHARS + 3);
    }

    #[test]
    fn limiter_lets_one_line_per_interval() {
        let t0 = Instant::now();
        let mut l = LogLimiter::default();
        assert!(l.ready(t0));
        assert!(!l.ready(t0 + Duration::from_secs(9)));
        assert!(l.ready(t0 + DROP_LOG_INTERVAL));
    }
}
