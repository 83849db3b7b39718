//! Drives the core's timers: sleeps until `poll_timeout`, then `handle_timeout`. Inputs wake it
//! early because they can move the deadline forward.

use super::shared::Shared;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Upper bound on one sleep, so a missed wake-up costs at most this much lateness.
const MAX_SLEEP: Duration = Duration::from_secs(1);

pub async fn run(shared: Arc<Shared>) {
    loop {
        let now = Instant::now();
        let deadline = shared.next_timeout().map(Instant::from_std).unwrap_or(now + MAX_SLEEP).min(now + MAX_SLEEP);
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shared.timer.notified() => continue,
        }
        shared.with_core(|core, now| core.handle_timeout(now));
    }
}
