//! `relay credentials`: what a web app's backend does to mint TURN REST credentials
//! (draft-uberti-behave-turn-rest-00 as implemented by coturn), printed as `iceServers` JSON.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Args, Debug)]
pub struct CredentialsArgs {
    /// The shared secret configured on the relay (`--static-auth-secret`).
    #[arg(long)]
    pub static_auth_secret: String,
    /// The application's user id (not a secret; appears in the relay's logs and usage).
    #[arg(long)]
    pub user: String,
    /// How long the credentials stay valid: seconds, or with a unit (30m, 24h, 7d).
    #[arg(long, default_value = "24h", value_parser = parse_ttl)]
    pub ttl: Duration,
    /// TURN URLs to list, e.g. `turns:turn.example.org:443?transport=tcp` (repeatable).
    #[arg(long = "url", required = true)]
    pub urls: Vec<String>,
    /// Separator between expiry and user (must match the relay's `--rest-api-separator`).
    #[arg(long, default_value_t = ':')]
    pub separator: char,
}

pub fn run(args: &CredentialsArgs) -> Result<()> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context("clock before 1970")?;
    let expiry = now.as_secs() + args.ttl.as_secs();
    let username = crate::turn::rest_username(expiry, &args.user, args.separator);
    let credential = crate::turn::rest_password(&args.static_auth_secret, &username);
    let json = serde_json::json!({
        "iceServers": [{ "urls": args.urls, "username": username, "credential": credential }]
    });
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(())
}

/// `3600`, `90s`, `30m`, `24h`, `7d`.
pub fn parse_ttl(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num.parse().with_context(|| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => bail!("bad duration unit in {s:?} (use s, m, h or d)"),
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::parse_ttl;
    use std::time::Duration;

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("3600").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_ttl("24h").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_ttl("30m").unwrap(), Duration::from_secs(1800));
        assert!(parse_ttl("5y").is_err());
        assert!(parse_ttl("h").is_err());
    }
}
