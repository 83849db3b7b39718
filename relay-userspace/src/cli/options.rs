//! `relay serve` options. One struct serves both the command line (clap) and the config file
//! (TOML, same kebab-case keys as coturn's long options), so the two can never drift apart.
//! Precedence: command line over config file over embedded defaults.

use crate::offload::xdp::XdpMode;
use clap::Args;
use serde::{Deserialize, Deserializer};
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(Clone, Debug, Default, Args, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct ServeOptions {
    /// TOML config file with the same keys as these options (unknown keys are an error).
    #[arg(long, short = 'c')]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address to listen on (repeatable). Default: every address of every interface.
    #[arg(long = "listening-ip", short = 'L')]
    pub listening_ip: Vec<IpAddr>,
    /// UDP and TCP port for plain STUN/TURN (default 3478).
    #[arg(long, short = 'p')]
    pub listening_port: Option<u16>,
    /// TLS port (repeatable; default 5349 and 443).
    #[arg(long)]
    pub tls_listening_port: Vec<u16>,
    /// Address relayed ports are opened on (repeatable, at most one per family).
    /// Default: the first non-loopback IPv4 and IPv6 address, else the first listening address.
    #[arg(long = "relay-ip", short = 'E')]
    pub relay_ip: Vec<IpAddr>,
    /// Public address put into XOR-RELAYED-ADDRESS when the relay sits behind 1:1 NAT
    /// (`PUBLIC` or `PUBLIC/PRIVATE`, repeatable, coturn syntax).
    #[arg(long = "external-ip", short = 'X')]
    pub external_ip: Vec<String>,
    /// Lowest relay port (default 49152).
    #[arg(long)]
    pub min_port: Option<u16>,
    /// Highest relay port (default 65535).
    #[arg(long)]
    pub max_port: Option<u16>,

    /// Realm for long-term credentials (default "relay").
    #[arg(long, short = 'r')]
    pub realm: Option<String>,
    /// Accept TURN REST API credentials (time-limited usernames signed with a shared secret).
    #[arg(long)]
    pub use_auth_secret: bool,
    /// Shared secret for REST credentials (repeatable: all are accepted, for rotation).
    #[arg(long)]
    pub static_auth_secret: Vec<String>,
    /// Separator between expiry and user name in REST usernames (default ':').
    #[arg(long)]
    pub rest_api_separator: Option<char>,
    /// Static user `name:password` (repeatable).
    #[arg(long, short = 'u')]
    pub user: Vec<String>,

    /// TLS certificate chain (PEM).
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// TLS private key (PEM).
    #[arg(long)]
    pub pkey: Option<PathBuf>,

    /// Peer addresses to refuse (repeatable): CIDR or `first-last`.
    #[arg(long)]
    pub denied_peer_ip: Vec<String>,
    /// Peer addresses to allow even if denied (repeatable): CIDR or `first-last`.
    #[arg(long)]
    pub allowed_peer_ip: Vec<String>,
    /// Allow loopback peers (labs and tests only).
    #[arg(long)]
    pub allow_loopback_peers: bool,
    /// Also deny private and other special-purpose ranges (RFC 1918, CGNAT 100.64/10, ...).
    #[arg(long)]
    pub deny_private_peers: bool,

    /// Allocations per user (486 beyond it).
    #[arg(long)]
    pub user_quota: Option<u32>,
    /// Allocations in total (486 beyond it).
    #[arg(long)]
    pub total_quota: Option<u32>,
    /// Longest allocation lifetime a client may ask for, seconds (default 3600).
    #[arg(long)]
    pub max_allocate_lifetime: Option<u32>,

    /// Do not listen on UDP.
    #[arg(long)]
    pub no_udp: bool,
    /// Do not listen on TCP.
    #[arg(long)]
    pub no_tcp: bool,
    /// Do not listen on TLS.
    #[arg(long)]
    pub no_tls: bool,

    /// SOFTWARE attribute in responses (empty string: none).
    #[arg(long)]
    pub software: Option<String>,

    /// XDP fast path for UDP channels: auto (native, else skb, else off), native, skb, off.
    #[arg(long, value_parser = parse_xdp_mode)]
    #[serde(deserialize_with = "deserialize_xdp_mode")]
    pub xdp: Option<XdpMode>,
    /// Interfaces to attach XDP to (repeatable). Default: those holding listening/relay addresses.
    #[arg(long)]
    pub xdp_interface: Vec<String>,
    /// bpffs directory for the XDP maps (default /sys/fs/bpf/relay); one daemon per directory.
    #[arg(long)]
    pub xdp_pin_dir: Option<PathBuf>,
    /// Serve Prometheus metrics over plain HTTP on this address (e.g. 127.0.0.1:9641).
    #[arg(long)]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Runtime worker threads. Default: one per 4 CPUs (at least one). Measured here: with a
    /// worker per CPU, waking another thread for each packet cost more CPU and latency than the
    /// parallelism gave back at telehealth packet rates; raise it on big multi-core relays.
    #[arg(long)]
    pub threads: Option<usize>,
    /// UDP receive workers per listening address (SO_REUSEPORT). Default: number of CPUs.
    #[arg(long)]
    pub udp_workers: Option<usize>,
}

fn parse_xdp_mode(s: &str) -> Result<XdpMode, String> {
    s.parse()
}

fn deserialize_xdp_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<XdpMode>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map(Some).map_err(serde::de::Error::custom)
}

impl ServeOptions {
    /// Reads `--config` if given and lays the command line over it.
    pub fn resolve(self) -> anyhow::Result<ServeOptions> {
        let Some(path) = self.config.clone() else {
            return Ok(self);
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| anyhow::anyhow!("cannot read config file {}: {e}", path.display()))?;
        let file: ServeOptions =
            toml::from_str(&text).map_err(|e| anyhow::anyhow!("config file {}: {e}", path.display()))?;
        Ok(self.over(file))
    }

    /// `self` (command line) wins over `file` field by field.
    fn over(self, file: ServeOptions) -> ServeOptions {
        fn list<T>(cli: Vec<T>, file: Vec<T>) -> Vec<T> {
            if cli.is_empty() {
                file
            } else {
                cli
            }
        }
        ServeOptions {
            config: self.config,
            listening_ip: list(self.listening_ip, file.listening_ip),
            listening_port: self.listening_port.or(file.listening_port),
            tls_listening_port: list(self.tls_listening_port, file.tls_listening_port),
            relay_ip: list(self.relay_ip, file.relay_ip),
            external_ip: list(self.external_ip, file.external_ip),
            min_port: self.min_port.or(file.min_port),
            max_port: self.max_port.or(file.max_port),
            realm: self.realm.or(file.realm),
            use_auth_secret: self.use_auth_secret || file.use_auth_secret,
            static_auth_secret: list(self.static_auth_secret, file.static_auth_secret),
            rest_api_separator: self.rest_api_separator.or(file.rest_api_separator),
            user: list(self.user, file.user),
            cert: self.cert.or(file.cert),
            pkey: self.pkey.or(file.pkey),
            denied_peer_ip: list(self.denied_peer_ip, file.denied_peer_ip),
            allowed_peer_ip: list(self.allowed_peer_ip, file.allowed_peer_ip),
            allow_loopback_peers: self.allow_loopback_peers || file.allow_loopback_peers,
            deny_private_peers: self.deny_private_peers || file.deny_private_peers,
            user_quota: self.user_quota.or(file.user_quota),
            total_quota: self.total_quota.or(file.total_quota),
            max_allocate_lifetime: self.max_allocate_lifetime.or(file.max_allocate_lifetime),
            no_udp: self.no_udp || file.no_udp,
            no_tcp: self.no_tcp || file.no_tcp,
            no_tls: self.no_tls || file.no_tls,
            software: self.software.or(file.software),
            xdp: self.xdp.or(file.xdp),
            xdp_interface: list(self.xdp_interface, file.xdp_interface),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            xdp_pin_dir: self.xdp_pin_dir.or(file.xdp_pin_dir),
            udp_workers: self.udp_workers.or(file.udp_workers),
            threads: self.threads.or(file.threads),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_config_key_is_an_error_naming_it() {
        let err = toml::from_str::<ServeOptions>("realm = \"x\"\nlistening-prot = 1\n").unwrap_err();
        assert!(err.to_string().contains("listening-prot"), "{err}");
    }

    #[test]
    fn command_line_wins_over_file() {
        let file: ServeOptions =
            toml::from_str("realm = \"file\"\nmin-port = 50000\nuser = [\"a:b\"]\nno-tls = true\nxdp = \"off\"\n")
                .unwrap();
        let cli = ServeOptions { realm: Some("cli".into()), ..Default::default() };
        let merged = cli.over(file);
        assert_eq!(merged.realm.as_deref(), Some("cli"));
        assert_eq!(merged.min_port, Some(50000));
        assert_eq!(merged.user, vec!["a:b".to_string()]);
        assert!(merged.no_tls);
        assert_eq!(merged.xdp, Some(XdpMode::Off));
    }
}
