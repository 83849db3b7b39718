//! Everything the core needs to know about its deployment; the CLI fills it.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::peer_policy::PeerPolicy;
use super::rate_limit::RateLimitConfig;

/// Who may allocate (RFC 8489 §9.2 long-term credentials, plus the TURN REST API scheme).
/// `Debug` shows user names but never passwords or secrets.
#[derive(Clone, PartialEq, Eq)]
pub struct AuthConfig {
    /// Static users: name -> password (`--user name:password`).
    pub users: HashMap<String, String>,
    /// Accept `<unix-expiry><separator><user>` usernames whose password is
    /// base64(HMAC-SHA1(secret, username)) (`--use-auth-secret`).
    pub use_auth_secret: bool,
    /// Shared secrets, all accepted at once so operators can rotate (`--static-auth-secret`).
    pub secrets: Vec<String>,
    /// Separator between expiry and user in REST usernames (coturn default ':').
    pub separator: char,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig { users: HashMap::new(), use_auth_secret: false, secrets: Vec::new(), separator: ':' }
    }
}

/// Core configuration. Fields are public; start from [`ServerConfig::default`] and override.
/// `Debug` redacts `server_secret` (and, through [`AuthConfig`], passwords and secrets).
#[derive(Clone)]
pub struct ServerConfig {
    /// REALM of the long-term credential mechanism (RFC 8489 §14.9).
    pub realm: String,
    /// SOFTWARE attribute in responses, if any (RFC 8489 §14.14).
    pub software: Option<String>,
    pub auth: AuthConfig,
    /// Local addresses relay sockets bind to; at most one per family is used. Must be
    /// concrete (not unspecified): they are advertised unless `external_ips` maps them.
    pub relay_ips: Vec<IpAddr>,
    /// Relay IP -> public IP for XOR-RELAYED-ADDRESS behind 1:1 NAT (`--external-ip`).
    pub external_ips: HashMap<IpAddr, IpAddr>,
    /// The server's own listening transport addresses; refused as peers (see `PeerPolicy`).
    pub listening: Vec<SocketAddr>,
    /// Relay port range (RFC 8656 §7.2: 49152-65535 unless the operator knows better).
    pub min_port: u16,
    pub max_port: u16,
    /// Allocation lifetime when the client asks for less or nothing (RFC 8656 §6: 600 s; §7.2).
    pub default_lifetime: Duration,
    /// Longest allocation lifetime granted (RFC 8656 §7.2: 3600 s recommended).
    pub max_lifetime: Duration,
    /// RFC 8656 §9: 300 s, not negotiable.
    pub permission_lifetime: Duration,
    /// RFC 8656 §12: 600 s.
    pub channel_lifetime: Duration,
    /// How long a nonce stays valid before 438 (RFC 8489 §9.2).
    pub nonce_lifetime: Duration,
    /// How long an EVEN-PORT R-bit reservation is held (RFC 8656 §7.2: at least 30 s).
    pub reservation_lifetime: Duration,
    pub peer_policy: PeerPolicy,
    /// Allocations per user (486 beyond, RFC 8656 §7.2).
    pub user_quota: Option<u32>,
    /// Allocations in total (486 beyond).
    pub total_quota: Option<u32>,
    /// Permissions per allocation (508 beyond).
    pub max_permissions_per_allocation: usize,
    /// Channels per allocation (508 beyond).
    pub max_channels_per_allocation: usize,
    /// Budget of unauthenticated requests per source IP.
    pub rate_limit: RateLimitConfig,
    /// Whether the edge can send with the DF bit. When false, DONT-FRAGMENT is treated as an
    /// unknown comprehension-required attribute (RFC 8656 §7.2 step 4, §11.2).
    pub supports_dont_fragment: bool,
    /// Accept channel numbers 0x5000-0x7FFF too (RFC 5766's range). RFC 8656 §12 narrowed
    /// the range to 0x4000-0x4FFF, but libwebrtc, pion and coturn's clients still pick from
    /// 0x4000-0x7FFF: refusing them would fail most of their ChannelBinds. On by default;
    /// off gives the strict RFC 8656 400.
    pub legacy_channel_numbers: bool,
    /// Key of the stateless nonces and seed of the core's randomness. Random by default;
    /// set it explicitly only in tests or to share nonces between processes.
    pub server_secret: [u8; 32],
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            realm: "relay".to_owned(),
            software: None,
            auth: AuthConfig::default(),
            relay_ips: Vec::new(),
            external_ips: HashMap::new(),
            listening: Vec::new(),
            min_port: 49152,
            max_port: 65535,
            default_lifetime: Duration::from_secs(600),
            max_lifetime: Duration::from_secs(3600),
            permission_lifetime: Duration::from_secs(300),
            channel_lifetime: Duration::from_secs(600),
            nonce_lifetime: Duration::from_secs(600),
            reservation_lifetime: Duration::from_secs(30),
            peer_policy: PeerPolicy::default(),
            user_quota: None,
            total_quota: None,
            max_permissions_per_allocation: 64,
            max_channels_per_allocation: 64,
            rate_limit: RateLimitConfig::default(),
            supports_dont_fragment: false,
            legacy_channel_numbers: true,
            server_secret: rand::random(),
        }
    }
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut users: Vec<&String> = self.users.keys().collect();
        users.sort();
        f.debug_struct("AuthConfig")
            .field("users", &users)
            .field("use_auth_secret", &self.use_auth_secret)
            .field("secrets", &format_args!("[{} redacted]", self.secrets.len()))
            .field("separator", &self.separator)
            .finish()
    }
}

impl fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerConfig")
            .field("realm", &self.realm)
            .field("software", &self.software)
            .field("auth", &self.auth)
            .field("relay_ips", &self.relay_ips)
            .field("external_ips", &self.external_ips)
            .field("listening", &self.listening)
            .field("ports", &(self.min_port..=self.max_port))
            .field("default_lifetime", &self.default_lifetime)
            .field("max_lifetime", &self.max_lifetime)
            .field("permission_lifetime", &self.permission_lifetime)
            .field("channel_lifetime", &self.channel_lifetime)
            .field("nonce_lifetime", &self.nonce_lifetime)
            .field("reservation_lifetime", &self.reservation_lifetime)
            .field("peer_policy", &self.peer_policy)
            .field("user_quota", &self.user_quota)
            .field("total_quota", &self.total_quota)
            .field("max_permissions_per_allocation", &self.max_permissions_per_allocation)
            .field("max_channels_per_allocation", &self.max_channels_per_allocation)
            .field("rate_limit", &self.rate_limit)
            .field("supports_dont_fragment", &self.supports_dont_fragment)
            .field("legacy_channel_numbers", &self.legacy_channel_numbers)
            .field("server_secret", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_secrets() {
        let mut c = ServerConfig::default();
        c.auth.users.insert("alice".into(), "hunter2-password".into());
        c.auth.secrets.push("rest-shared-secret".into());
        c.server_secret = [0xAB; 32];
        let s = format!("{c:?}");
        assert!(s.contains("alice"));
        for leak in ["hunter2-password", "rest-shared-secret", "171, 171"] {
            assert!(!s.contains(leak), "{leak} leaked: {s}");
        }
    }
}
