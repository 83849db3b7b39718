//! TLS server configuration (rustls): PEM files from the operator, or a self-signed development
//! certificate when none is given. ALPN "stun.turn" (RFC 7443 §4) is offered; clients without
//! ALPN are accepted too (rustls only refuses a client whose ALPN list has no overlap).

use anyhow::{Context, Result};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

/// RFC 7443 §4: the ALPN label for TURN and STUN over (D)TLS.
pub const ALPN_STUN_TURN: &[u8] = b"stun.turn";

pub fn server_config(cert: Option<&Path>, key: Option<&Path>, names: &[IpAddr]) -> Result<Arc<rustls::ServerConfig>> {
    let (chain, key) = match (cert, key) {
        (Some(c), Some(k)) => (load_certs(c)?, load_key(k)?),
        (None, None) => {
            tracing::warn!(
                "no --cert/--pkey given: using a self-signed development certificate for localhost and {names:?}; \
                 browsers will not trust it, so production needs a publicly trusted certificate"
            );
            self_signed(names)?
        }
        _ => anyhow::bail!("--cert and --pkey must be given together"),
    };
    // ring, not aws-lc-rs: it builds with only a C compiler on these machines. rustls marks it
    // deprecated for lacking post-quantum key exchange, which TURN's TLS (no media keys) can do without.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("TLS certificate and key do not match or are unsupported")?;
    config.alpn_protocols = vec![ALPN_STUN_TURN.to_vec()];
    Ok(Arc::new(config))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read certificate {}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("bad PEM in {}", path.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", path.display());
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read private key {}", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .with_context(|| format!("bad PEM in {}", path.display()))?
        .with_context(|| format!("no private key in {}", path.display()))
}

fn self_signed(names: &[IpAddr]) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)> {
    let mut sans = vec!["localhost".to_string()];
    sans.extend(names.iter().map(|ip| ip.to_string()));
    let cert = rcgen::generate_simple_self_signed(sans).context("generating a self-signed certificate")?;
    let key = PrivateKeyDer::try_from(cert.signing_key.serialize_der())
        .map_err(|e| anyhow::anyhow!("self-signed key: {e}"))?;
    Ok((vec![cert.cert.der().clone()], key))
}
