//! `relay serve` options -> the TURN core's [`ServerConfig`].

use super::options::ServeOptions;
use crate::net::NetConfig;
use crate::turn::{PeerPolicy, ServerConfig};
use anyhow::{bail, Context, Result};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub fn build(
    opts: &ServeOptions,
    listening_ips: &[IpAddr],
    relay_ips: &[IpAddr],
    net: &NetConfig,
) -> Result<ServerConfig> {
    let mut c = ServerConfig::default();
    if let Some(realm) = &opts.realm {
        c.realm = realm.clone();
    }
    c.software = match opts.software.as_deref() {
        None => Some(concat!("relay ", env!("CARGO_PKG_VERSION")).to_owned()),
        Some("") => None,
        Some(s) => Some(s.to_owned()),
    };
    for user in &opts.user {
        let (name, pass) = user.split_once(':').with_context(|| format!("--user {user:?}: expected name:password"))?;
        c.auth.users.insert(name.to_owned(), pass.to_owned());
    }
    c.auth.use_auth_secret = opts.use_auth_secret;
    c.auth.secrets = opts.static_auth_secret.clone();
    if let Some(sep) = opts.rest_api_separator {
        c.auth.separator = sep;
    }
    if c.auth.use_auth_secret && c.auth.secrets.is_empty() {
        bail!("--use-auth-secret needs at least one --static-auth-secret");
    }
    if !c.auth.use_auth_secret && c.auth.users.is_empty() {
        tracing::warn!("no --user and no --use-auth-secret: every Allocate will be refused (401)");
    }
    c.relay_ips = relay_ips.to_vec();
    for mapping in &opts.external_ip {
        let (public, private) = match mapping.split_once('/') {
            Some((p, q)) => (p, Some(q)),
            None => (mapping.as_str(), None),
        };
        let public: IpAddr = public.parse().with_context(|| format!("--external-ip {mapping:?}"))?;
        let private: IpAddr = match private {
            Some(p) => p.parse().with_context(|| format!("--external-ip {mapping:?}"))?,
            None => *relay_ips
                .iter()
                .find(|ip| ip.is_ipv4() == public.is_ipv4())
                .with_context(|| format!("--external-ip {mapping:?}: no relay ip of that family"))?,
        };
        c.external_ips.insert(private, public);
    }
    let mut ports = vec![net.port];
    ports.extend(&net.tls_ports);
    c.listening = listening_ips.iter().flat_map(|ip| ports.iter().map(|p| SocketAddr::new(*ip, *p))).collect();
    c.min_port = opts.min_port.unwrap_or(c.min_port);
    c.max_port = opts.max_port.unwrap_or(c.max_port);
    if c.min_port > c.max_port {
        bail!("--min-port {} is above --max-port {}", c.min_port, c.max_port);
    }
    if let Some(secs) = opts.max_allocate_lifetime {
        c.max_lifetime = Duration::from_secs(u64::from(secs.max(60)));
        c.default_lifetime = c.default_lifetime.min(c.max_lifetime);
    }
    c.user_quota = opts.user_quota;
    c.total_quota = opts.total_quota;
    c.peer_policy = peer_policy(opts)?;
    Ok(c)
}

fn peer_policy(opts: &ServeOptions) -> Result<PeerPolicy> {
    let mut p = if opts.deny_private_peers { PeerPolicy::strict() } else { PeerPolicy::default() };
    if opts.allow_loopback_peers {
        p.allow_loopback();
    }
    for d in &opts.denied_peer_ip {
        p.parse_deny(d).with_context(|| format!("--denied-peer-ip {d:?}"))?;
    }
    for a in &opts.allowed_peer_ip {
        p.parse_allow(a).with_context(|| format!("--allowed-peer-ip {a:?}"))?;
    }
    Ok(p)
}
