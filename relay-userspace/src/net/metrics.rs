//! A minimal Prometheus text endpoint (`--metrics-listen`): what the core answered, refused and
//! dropped, what each path relayed, and what is open. Plain HTTP/1.0 on a socket the operator
//! chooses (keep it on loopback or a management network).

use super::shared::Shared;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub async fn serve(shared: Arc<Shared>, listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        let shared = shared.clone();
        tokio::spawn(async move {
            // Read (and ignore) the request head; every path gets the metrics.
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut buf)).await;
            let body = render(&shared);
            let head = format!(
                "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes()).await;
            let _ = stream.write_all(body.as_bytes()).await;
        });
    }
}

pub fn render(shared: &Shared) -> String {
    let s = shared.core_stats();
    let mut out = String::new();
    let mut metric = |name: &str, help: &str, kind: &str, rows: &[(String, u64)]| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(out, "{name}{labels} {v}");
        }
    };
    let r = &s.requests;
    metric(
        "relay_requests_total",
        "STUN/TURN requests received, by method.",
        "counter",
        &[
            ("{method=\"binding\"}".into(), r.binding),
            ("{method=\"allocate\"}".into(), r.allocate),
            ("{method=\"refresh\"}".into(), r.refresh),
            ("{method=\"create_permission\"}".into(), r.create_permission),
            ("{method=\"channel_bind\"}".into(), r.channel_bind),
            ("{method=\"other\"}".into(), r.other),
        ],
    );
    let errors: Vec<(String, u64)> = s.errors.iter().map(|(c, n)| (format!("{{code=\"{c}\"}}"), *n)).collect();
    metric("relay_error_responses_total", "Error responses sent, by ERROR-CODE.", "counter", &errors);
    let d = &s.drops;
    let drops: Vec<(String, u64)> = [
        ("malformed", d.malformed),
        ("bad_fingerprint", d.bad_fingerprint),
        ("unexpected_message", d.unexpected_message),
        ("no_allocation", d.no_allocation),
        ("invalid_indication", d.invalid_indication),
        ("no_permission", d.no_permission),
        ("forbidden_peer", d.forbidden_peer),
        ("unbound_channel", d.unbound_channel),
        ("rate_limited", d.rate_limited),
        ("unknown_relay", d.unknown_relay),
        ("too_large", d.too_large),
    ]
    .into_iter()
    .map(|(k, v)| (format!("{{reason=\"{k}\"}}"), v))
    .collect();
    metric("relay_drops_total", "Messages dropped without an answer, by reason.", "counter", &drops);
    metric("relay_allocations", "Allocations alive now.", "gauge", &[(String::new(), s.allocations_active)]);
    metric(
        "relay_allocations_created_total",
        "Allocations created.",
        "counter",
        &[(String::new(), s.allocations_created)],
    );
    let fast = shared.fast.totals.snapshot();
    let rel = s.relayed;
    let traffic = |path: &str, dir: &str, v: u64| (format!("{{path=\"{path}\",direction=\"{dir}\"}}"), v);
    metric(
        "relay_relayed_packets_total",
        "Packets relayed in userspace: by the core (Send/Data, first packets) or the fast table (bound channels).",
        "counter",
        &[
            traffic("core", "client_to_peer", rel.client_to_peer_packets),
            traffic("core", "peer_to_client", rel.peer_to_client_packets),
            traffic("fast", "client_to_peer", fast.client_to_peer_packets),
            traffic("fast", "peer_to_client", fast.peer_to_client_packets),
        ],
    );
    metric(
        "relay_relayed_bytes_total",
        "Payload bytes relayed in userspace, by path and direction.",
        "counter",
        &[
            traffic("core", "client_to_peer", rel.client_to_peer_bytes),
            traffic("core", "peer_to_client", rel.peer_to_client_bytes),
            traffic("fast", "client_to_peer", fast.client_to_peer_bytes),
            traffic("fast", "peer_to_client", fast.peer_to_client_bytes),
        ],
    );
    metric(
        "relay_fast_path_send_failures_total",
        "Datagrams the userspace fast path could not hand to a socket (buffer full).",
        "counter",
        &[(String::new(), shared.fast.totals.dropped.load(std::sync::atomic::Ordering::Relaxed))],
    );
    metric(
        "relay_fast_path_channels",
        "Channels in the userspace fast table.",
        "gauge",
        &[(String::new(), shared.fast.len() as u64)],
    );
    metric(
        "relay_relay_sockets",
        "Relayed-address sockets open.",
        "gauge",
        &[(String::new(), shared.relays.open_count() as u64)],
    );
    let streams = shared.streams.lock().unwrap_or_else(|p| p.into_inner()).len() as u64;
    metric("relay_stream_connections", "TCP and TLS client connections open.", "gauge", &[(String::new(), streams)]);
    out
}
