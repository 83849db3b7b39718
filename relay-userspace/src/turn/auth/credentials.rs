//! Who the users are and how their long-term keys are derived (RFC 8489 §9.2.2).

use std::collections::HashMap;
use std::sync::Arc;

use crate::stun::{long_term_key_md5, long_term_key_sha256, userhash, PasswordAlgorithm};

use super::super::config::AuthConfig;
use super::rest::{parse_rest_username, rest_password};

/// The long-term key of one user under one password algorithm (RFC 8489 §9.2.2, §18.5.1):
/// MD5(user:realm:pass) or SHA-256(user:realm:pass).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Key {
    bytes: [u8; 32],
    len: u8,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

impl Key {
    pub(crate) fn derive(alg: PasswordAlgorithm, user: &str, realm: &str, pass: &str) -> Self {
        let mut bytes = [0u8; 32];
        match alg {
            PasswordAlgorithm::Sha256 => {
                bytes = long_term_key_sha256(user, realm, pass);
                Key { bytes, len: 32 }
            }
            // Only MD5 and SHA-256 are ever negotiated (see `auth::SUPPORTED`).
            _ => {
                bytes[..16].copy_from_slice(&long_term_key_md5(user, realm, pass));
                Key { bytes, len: 16 }
            }
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

/// Why a username has no password.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum LookupError {
    Unknown,
    /// REST username past its expiry, or the wall clock is not known yet (fail closed).
    Expired,
}

/// Passwords a username may use: one for a static user, one per secret for REST names.
pub(crate) struct Candidates {
    pub(crate) passwords: Vec<String>,
    /// The user identity for quotas and metering (REST: the part after the separator).
    pub(crate) user: Arc<str>,
    /// REST expiry, re-checked on every later request of the allocation.
    pub(crate) rest_expiry: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct UserDb {
    realm: String,
    users: HashMap<String, String>,
    /// USERHASH (RFC 8489 §14.4) -> username, for static users.
    by_hash: HashMap<[u8; 32], String>,
    use_auth_secret: bool,
    secrets: Vec<String>,
    separator: char,
}

impl UserDb {
    pub(crate) fn new(cfg: &AuthConfig, realm: &str) -> Self {
        let by_hash = cfg.users.keys().map(|u| (userhash(u, realm), u.clone())).collect();
        UserDb {
            realm: realm.to_owned(),
            users: cfg.users.clone(),
            by_hash,
            use_auth_secret: cfg.use_auth_secret,
            secrets: cfg.secrets.clone(),
            separator: cfg.separator,
        }
    }

    pub(crate) fn realm(&self) -> &str {
        &self.realm
    }

    /// The username behind a USERHASH value (static users only: REST names are not known in
    /// advance).
    pub(crate) fn by_userhash(&self, hash: &[u8; 32]) -> Option<&str> {
        self.by_hash.get(hash).map(String::as_str)
    }

    /// Passwords to try for `username`; `unix_now` is `None` while the wall clock is unknown.
    pub(crate) fn lookup(&self, username: &str, unix_now: Option<u64>) -> Result<Candidates, LookupError> {
        if let Some(p) = self.users.get(username) {
            return Ok(Candidates { passwords: vec![p.clone()], user: username.into(), rest_expiry: None });
        }
        if !self.use_auth_secret || self.secrets.is_empty() {
            return Err(LookupError::Unknown);
        }
        let (expiry, user) = parse_rest_username(username, self.separator).ok_or(LookupError::Unknown)?;
        if unix_now.is_none_or(|now| expiry <= now) {
            return Err(LookupError::Expired);
        }
        Ok(Candidates {
            passwords: self.secrets.iter().map(|s| rest_password(s, username)).collect(),
            user: user.into(),
            rest_expiry: Some(expiry),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> UserDb {
        let mut cfg = AuthConfig::default();
        cfg.users.insert("alice".into(), "pw".into());
        cfg.use_auth_secret = true;
        cfg.secrets = vec!["old".into(), "new".into()];
        UserDb::new(&cfg, "example.org")
    }

    #[test]
    fn static_user_and_userhash() {
        let d = db();
        let c = d.lookup("alice", None).unwrap();
        assert_eq!(c.passwords, vec!["pw".to_string()]);
        assert_eq!(d.by_userhash(&userhash("alice", "example.org")), Some("alice"));
        assert_eq!(d.by_userhash(&[0; 32]), None);
        assert_eq!(d.lookup("bob", Some(0)).err(), Some(LookupError::Unknown));
    }

    #[test]
    fn rest_users_all_secrets_and_expiry() {
        let d = db();
        let c = d.lookup("2000:bob", Some(1999)).unwrap();
        assert_eq!(&*c.user, "bob");
        assert_eq!(c.passwords.len(), 2);
        assert_eq!(c.passwords[1], rest_password("new", "2000:bob"));
        assert_eq!(d.lookup("2000:bob", Some(2000)).err(), Some(LookupError::Expired));
        assert_eq!(d.lookup("2000:bob", None).err(), Some(LookupError::Expired));
    }

    #[test]
    fn key_lengths_follow_algorithm() {
        let md5 = Key::derive(PasswordAlgorithm::Md5, "u", "r", "p");
        assert_eq!(md5.as_slice(), &long_term_key_md5("u", "r", "p"));
        let sha = Key::derive(PasswordAlgorithm::Sha256, "u", "r", "p");
        assert_eq!(sha.as_slice().len(), 32);
    }
}
