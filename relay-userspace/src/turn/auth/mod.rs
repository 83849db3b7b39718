//! Long-term credential mechanism (RFC 8489 §9.2) with stateless nonces, PASSWORD-ALGORITHMS
//! negotiation, USERHASH, static users and TURN REST usernames.

pub(crate) mod credentials;
pub(crate) mod nonce;
pub mod rest;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use crate::stun::{
    attr_type as at, decode_password_algorithm, decode_password_algorithms, decode_userhash, IntegrityResult, Message,
    PasswordAlgorithm,
};

use credentials::{Key, LookupError, UserDb};
use nonce::{features_of, NonceMinter, FEATURE_PASSWORD_ALGORITHMS};

/// What we offer in PASSWORD-ALGORITHMS, in order of preference (RFC 8489 §14.11).
pub(crate) const SUPPORTED: [PasswordAlgorithm; 2] = [PasswordAlgorithm::Sha256, PasswordAlgorithm::Md5];

/// Which integrity attribute a request used; its response uses the same (RFC 8489 §9.2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mac {
    Sha1,
    Sha256,
}

/// An authenticated identity, cached in the allocation so later requests skip the key
/// derivation (RFC 8656 §5: later requests must use the same credentials).
#[derive(Clone, Debug)]
pub(crate) struct Credential {
    /// USERNAME as sent (or resolved from USERHASH).
    pub(crate) username: Arc<str>,
    /// Identity for quotas and metering (REST: the user part).
    pub(crate) user: Arc<str>,
    pub(crate) alg: PasswordAlgorithm,
    pub(crate) key: Key,
    pub(crate) rest_expiry: Option<u64>,
}

/// A request that passed RFC 8489 §9.2.4.
#[derive(Clone, Debug)]
pub(crate) struct Authenticated {
    pub(crate) cred: Credential,
    pub(crate) mac: Mac,
}

/// How a request failed authentication; each maps to one error response.
#[derive(Clone, Debug)]
pub(crate) enum AuthFailure {
    /// No integrity attribute: 401 challenge with REALM and NONCE (§9.2.4 step 1).
    Challenge,
    /// Missing USERNAME/REALM/NONCE or bad algorithm negotiation: 400 (§9.2.4 steps 2-3).
    BadRequest(&'static str),
    /// Unknown user, expired REST name or wrong key: 401 (§9.2.4 steps 4-5).
    Unauthorized(Unauthorized),
    /// Integrity fine but nonce expired or not ours: 438, signed (§9.2.4).
    StaleNonce(Authenticated),
    /// Credentials differ from the allocation's: 441 (RFC 8656 §5).
    WrongCredentials,
}

/// Why a 401 was not a mere challenge; for the operator log only (the client always gets
/// the same 401, so it learns nothing about which usernames exist).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unauthorized {
    UnknownUser,
    UnknownUserhash,
    ForeignRealm,
    /// REST username past its expiry, or the wall clock not set yet.
    ExpiredRestUsername,
    /// MESSAGE-INTEGRITY(-SHA256) does not verify: wrong password or secret.
    BadIntegrity,
}

impl Unauthorized {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Unauthorized::UnknownUser => "unknown user",
            Unauthorized::UnknownUserhash => "unknown USERHASH",
            Unauthorized::ForeignRealm => "foreign realm",
            Unauthorized::ExpiredRestUsername => "expired REST username",
            Unauthorized::BadIntegrity => "bad integrity (wrong password or secret)",
        }
    }
}

pub(crate) struct Authenticator {
    pub(crate) users: UserDb,
    pub(crate) nonces: NonceMinter,
}

/// Step 3 of RFC 8489 §9.2.4: which password algorithm the request uses.
fn negotiate(msg: &Message<'_>, nonce: &str) -> Result<PasswordAlgorithm, AuthFailure> {
    let bit_set = features_of(nonce).is_some_and(|f| f & FEATURE_PASSWORD_ALGORITHMS != 0);
    let one = msg.get(at::PASSWORD_ALGORITHM);
    let list = msg.get(at::PASSWORD_ALGORITHMS);
    if !bit_set || (one.is_none() && list.is_none()) {
        return Ok(PasswordAlgorithm::Md5);
    }
    let bad = AuthFailure::BadRequest("PASSWORD-ALGORITHM negotiation failed");
    let (Some(one), Some(list)) = (one, list) else {
        return Err(bad);
    };
    let alg = decode_password_algorithm(one.value).map_err(|_| bad.clone())?;
    let list = decode_password_algorithms(list.value).map_err(|_| bad.clone())?;
    // The list must echo ours exactly (downgrade protection) and contain the choice.
    if list[..] != SUPPORTED[..] || !SUPPORTED.contains(&alg) {
        return Err(bad);
    }
    Ok(alg)
}

fn verify(msg: &Message<'_>, key: &Key, mac: Mac) -> IntegrityResult {
    match mac {
        Mac::Sha256 => msg.verify_integrity_sha256(key.as_slice()),
        Mac::Sha1 => msg.verify_integrity_sha1(key.as_slice()),
    }
}

impl Authenticator {
    pub(crate) fn realm(&self) -> &str {
        self.users.realm()
    }

    /// A fresh nonce for challenges and 438s.
    pub(crate) fn nonce(&self, ip: IpAddr, now: Instant) -> String {
        self.nonces.issue(ip, now)
    }

    /// RFC 8489 §9.2.4 for one request. `cached` is the allocation's credential, if the
    /// request arrived on an allocation's 5-tuple.
    pub(crate) fn authenticate(
        &self,
        msg: &Message<'_>,
        ip: IpAddr,
        now: Instant,
        unix_now: Option<u64>,
        cached: Option<&Credential>,
    ) -> Result<Authenticated, AuthFailure> {
        // Step 1: MESSAGE-INTEGRITY-SHA256 preferred when both are present (step 5).
        let mac = if msg.has(at::MESSAGE_INTEGRITY_SHA256) {
            Mac::Sha256
        } else if msg.has(at::MESSAGE_INTEGRITY) {
            Mac::Sha1
        } else {
            return Err(AuthFailure::Challenge);
        };
        // Step 2: USERNAME or USERHASH, REALM and NONCE are required.
        let missing = AuthFailure::BadRequest("missing USERNAME, REALM or NONCE");
        let realm = match msg.text(at::REALM) {
            Some(Ok(r)) => r,
            _ => return Err(missing),
        };
        let nonce = match msg.text(at::NONCE) {
            Some(Ok(n)) => n,
            _ => return Err(missing),
        };
        let username: &str = if let Some(u) = msg.text(at::USERNAME) {
            u.map_err(|_| missing.clone())?
        } else if let Some(h) = msg.get(at::USERHASH) {
            let h = decode_userhash(h.value).map_err(|_| missing.clone())?;
            // Step 4: an unknown hash is an invalid username.
            self.users.by_userhash(&h).ok_or(AuthFailure::Unauthorized(Unauthorized::UnknownUserhash))?
        } else {
            return Err(missing);
        };
        // Step 3.
        let alg = negotiate(msg, nonce)?;
        // Step 4: a foreign realm can never produce a valid key.
        if realm != self.realm() {
            return Err(AuthFailure::Unauthorized(Unauthorized::ForeignRealm));
        }
        let cred = match cached {
            Some(c) if *c.username != *username => return Err(AuthFailure::WrongCredentials),
            Some(c) if c.rest_expiry.is_some_and(|e| unix_now.is_none_or(|n| e <= n)) => {
                return Err(AuthFailure::Unauthorized(Unauthorized::ExpiredRestUsername))
            }
            Some(c) if c.alg == alg => self.check_cached(msg, c, mac)?,
            _ => self.check_lookup(msg, username, alg, mac, unix_now)?,
        };
        let ok = Authenticated { cred, mac };
        // Step 6 (after integrity, so a 438 can be signed).
        if !self.nonces.is_valid(nonce, ip, now) {
            return Err(AuthFailure::StaleNonce(ok));
        }
        Ok(ok)
    }

    fn check_cached(&self, msg: &Message<'_>, c: &Credential, mac: Mac) -> Result<Credential, AuthFailure> {
        match verify(msg, &c.key, mac) {
            IntegrityResult::Ok => Ok(c.clone()),
            IntegrityResult::Malformed => Err(AuthFailure::BadRequest("malformed integrity")),
            IntegrityResult::Mismatch | IntegrityResult::Missing => {
                Err(AuthFailure::Unauthorized(Unauthorized::BadIntegrity))
            }
        }
    }

    fn check_lookup(
        &self,
        msg: &Message<'_>,
        username: &str,
        alg: PasswordAlgorithm,
        mac: Mac,
        unix_now: Option<u64>,
    ) -> Result<Credential, AuthFailure> {
        let cands = self.users.lookup(username, unix_now).map_err(|e| {
            AuthFailure::Unauthorized(match e {
                LookupError::Unknown => Unauthorized::UnknownUser,
                LookupError::Expired => Unauthorized::ExpiredRestUsername,
            })
        })?;
        for pw in &cands.passwords {
            let key = Key::derive(alg, username, self.realm(), pw);
            match verify(msg, &key, mac) {
                IntegrityResult::Ok => {
                    return Ok(Credential {
                        username: username.into(),
                        user: cands.user.clone(),
                        alg,
                        key,
                        rest_expiry: cands.rest_expiry,
                    })
                }
                IntegrityResult::Malformed => return Err(AuthFailure::BadRequest("malformed integrity")),
                IntegrityResult::Mismatch | IntegrityResult::Missing => {}
            }
        }
        Err(AuthFailure::Unauthorized(Unauthorized::BadIntegrity))
    }
}
