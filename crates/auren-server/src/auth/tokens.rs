//! Access tokens (PASETO v4.local: encrypted and authenticated with the server's key, so a client can
//! neither read nor forge one, and there is no algorithm field to downgrade) and refresh tokens (random
//! 256-bit strings stored only as SHA-256 digests).
//!
//! Decrypting an access token (XChaCha20, a BLAKE2b tag, the claims' JSON) is the largest share of the
//! server's own CPU on a small request such as an empty pull, and a device presents the same token on every
//! request for its 15 minutes. So each process remembers the claims of tokens it has already opened, keyed
//! by the SHA-256 of the token's text ([`AccessTokens::verify`]): a lookup is an exact match on the whole
//! token (a tampered token is another key and is decrypted, and refused, as before), the expiry is compared
//! with the caller's clock on every use, cached or not, and nothing about a refused token is kept. Revocation
//! is not the token's business: it is checked after this, on every request
//! ([`crate::auth::revocation`]).

use pasetors::claims::{Claims, ClaimsValidationRules};
use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::V4;
use pasetors::{Local, local};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use uuid::Uuid;

/// Binds tokens to this use, so a v4.local token made with the same key for something else is refused.
const IMPLICIT_ASSERTION: &[u8] = b"auren-access-v1";

/// Who a valid access token speaks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: Uuid,
    pub device_id: Uuid,
    pub expires_at_ms: i64,
}

/// Why an access token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the access token is malformed, tampered with, or was not issued by this server")]
    Invalid,
    #[error("the access token has expired")]
    Expired,
}

/// Opened tokens kept per process before the expired ones are dropped (and, were they all still valid,
/// everything): ~100 bytes each, so the bound is ~10 MB.
const MAX_OPENED: usize = 100_000;

/// Issues and checks access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    key: SymmetricKey<V4>,
    lifetime: Duration,
    /// The claims of tokens this key has already decrypted and authenticated, by the SHA-256 of the
    /// token's text. Shared by clones: they hold the same key.
    opened: Arc<Mutex<HashMap<[u8; 32], AccessClaims>>>,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot issue an access token: {0}")]
pub struct IssueError(String);

impl AccessTokens {
    pub fn new(key: &[u8; 32], lifetime: Duration) -> Result<Self, IssueError> {
        let key = SymmetricKey::<V4>::from(key).map_err(|e| IssueError(e.to_string()))?;
        Ok(Self {
            key,
            lifetime,
            opened: Arc::default(),
        })
    }

    /// A token for `device_id` of `user_id`, valid until `now_ms + lifetime`; returns it and that time.
    pub fn issue(&self, user_id: Uuid, device_id: Uuid, now_ms: i64) -> Result<(String, i64), IssueError> {
        let lifetime_ms = i64::try_from(self.lifetime.as_millis()).unwrap_or(i64::MAX);
        self.issue_until(user_id, device_id, now_ms.saturating_add(lifetime_ms))
    }

    /// A token valid until `expires_at_ms` (tests make expired ones with it).
    pub fn issue_until(
        &self,
        user_id: Uuid,
        device_id: Uuid,
        expires_at_ms: i64,
    ) -> Result<(String, i64), IssueError> {
        let fail = |e: pasetors::errors::Error| IssueError(e.to_string());
        let mut claims = Claims::new().map_err(fail)?;
        claims.subject(&user_id.to_string()).map_err(fail)?;
        claims
            .add_additional("dev", device_id.to_string())
            .map_err(fail)?;
        claims.add_additional("exp_ms", expires_at_ms).map_err(fail)?;
        let token = local::encrypt(&self.key, &claims, None, Some(IMPLICIT_ASSERTION)).map_err(fail)?;
        Ok((token, expires_at_ms))
    }

    /// The claims of `token` if it is ours, untampered and not expired at `now_ms`. A token opened before
    /// is not decrypted again, but its expiry is checked all the same.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<AccessClaims, TokenRejection> {
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let cached = self.opened_map().get(&digest).copied();
        let claims = match cached {
            Some(claims) => claims,
            None => {
                let claims = self.open(token)?;
                // An expired token is not kept: it can never be accepted again.
                if claims.expires_at_ms > now_ms {
                    self.remember(digest, claims, now_ms);
                }
                claims
            }
        };
        if claims.expires_at_ms <= now_ms {
            return Err(TokenRejection::Expired);
        }
        Ok(claims)
    }

    /// Decrypts and authenticates `token` and reads its claims (expired or not).
    fn open(&self, token: &str) -> Result<AccessClaims, TokenRejection> {
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| TokenRejection::Invalid)?;
        // Expiry is checked by the caller against `exp_ms` with its clock (pasetors' own check reads the
        // system clock and would make expiry untestable).
        let mut rules = ClaimsValidationRules::new();
        rules.disable_valid_at();
        let trusted = local::decrypt(&self.key, &untrusted, &rules, None, Some(IMPLICIT_ASSERTION))
            .map_err(|_| TokenRejection::Invalid)?;
        let claims = trusted.payload_claims().ok_or(TokenRejection::Invalid)?;
        let uuid_claim = |name: &str| {
            claims
                .get_claim(name)
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or(TokenRejection::Invalid)
        };
        Ok(AccessClaims {
            user_id: uuid_claim("sub")?,
            device_id: uuid_claim("dev")?,
            expires_at_ms: claims
                .get_claim("exp_ms")
                .and_then(serde_json::Value::as_i64)
                .ok_or(TokenRejection::Invalid)?,
        })
    }

    /// Keeps an opened token's claims; at the bound, drops the expired ones first, then all.
    fn remember(&self, digest: [u8; 32], claims: AccessClaims, now_ms: i64) {
        let mut opened = self.opened_map();
        if opened.len() >= MAX_OPENED {
            opened.retain(|_, kept| kept.expires_at_ms > now_ms);
            if opened.len() >= MAX_OPENED {
                opened.clear();
            }
        }
        opened.insert(digest, claims);
    }

    fn opened_map(&self) -> MutexGuard<'_, HashMap<[u8; 32], AccessClaims>> {
        // Entries are inserted whole: a panic elsewhere cannot leave one half-written.
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A fresh random secret (a refresh token or a device code), URL-safe text.
pub fn random_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// A short code a person types on the signed-in device: 8 characters from an alphabet without look-alikes.
pub fn user_code() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";
    let mut bytes = [0_u8; 8];
    getrandom::fill(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// What the database stores of a secret.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::{AccessTokens, TokenRejection};
    use std::time::Duration;
    use uuid::Uuid;

    const KEY: [u8; 32] = [7; 32];

    /// What `verify` answers: the user, the device and the expiry, or why not.
    type Opened = Result<(Uuid, Uuid, i64), TokenRejection>;

    fn tokens() -> AccessTokens {
        AccessTokens::new(&KEY, Duration::from_secs(900)).unwrap()
    }

    /// A copy of `token` with one character of its payload changed.
    fn tampered(token: &str) -> String {
        let mut bytes = token.as_bytes().to_vec();
        let at = bytes.len() - 3;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_cached_token_is_still_refused_once_expired_and_a_tampered_one_is_never_taken_from_the_cache() {
        let tokens = tokens();
        let (user, device) = (Uuid::new_v4(), Uuid::new_v4());
        let (token, expires) = tokens.issue_until(user, device, 10_000).unwrap();
        let other_key = AccessTokens::new(&[8; 32], Duration::from_secs(900)).unwrap();
        let (foreign, _) = other_key.issue_until(user, device, 10_000).unwrap();
        // In order, against one cache: (token, now, expected).
        let cases: [(&str, i64, Opened); 7] = [
            (&token, 9_000, Ok((user, device, expires))),
            // Opened before: the same answer from the cache.
            (&token, 9_999, Ok((user, device, expires))),
            (&tampered(&token), 9_999, Err(TokenRejection::Invalid)),
            (&foreign, 9_999, Err(TokenRejection::Invalid)),
            (&token[..token.len() - 1], 9_999, Err(TokenRejection::Invalid)),
            (&token, 10_000, Err(TokenRejection::Expired)),
            (&token, 50_000, Err(TokenRejection::Expired)),
        ];
        for (i, (presented, now, expected)) in cases.into_iter().enumerate() {
            let got = tokens
                .verify(presented, now)
                .map(|c| (c.user_id, c.device_id, c.expires_at_ms));
            assert_eq!(got, expected, "case {i}");
        }
        assert_eq!(tokens.opened_map().len(), 1, "only the valid token is kept");
    }

    #[test]
    fn an_expired_token_is_not_kept_and_clones_share_what_was_opened() {
        let tokens = tokens();
        let (user, device) = (Uuid::new_v4(), Uuid::new_v4());
        let (old, _) = tokens.issue_until(user, device, 1_000).unwrap();
        assert_eq!(tokens.verify(&old, 2_000), Err(TokenRejection::Expired));
        assert!(tokens.opened_map().is_empty());
        let (fresh, _) = tokens.issue_until(user, device, 5_000).unwrap();
        let clone = tokens.clone();
        assert!(clone.verify(&fresh, 2_000).is_ok());
        assert_eq!(tokens.opened_map().len(), 1);
    }

    #[test]
    fn at_the_bound_expired_entries_go_first() {
        let tokens = tokens();
        let (user, device) = (Uuid::new_v4(), Uuid::new_v4());
        {
            let mut opened = tokens.opened_map();
            for i in 0..super::MAX_OPENED {
                let mut digest = [0_u8; 32];
                digest[..8].copy_from_slice(&(i as u64).to_le_bytes());
                // Half expire at 1,000, half live on.
                let expires_at_ms = if i % 2 == 0 { 1_000 } else { 100_000 };
                opened.insert(
                    digest,
                    super::AccessClaims {
                        user_id: user,
                        device_id: device,
                        expires_at_ms,
                    },
                );
            }
        }
        let (token, _) = tokens.issue_until(user, device, 100_000).unwrap();
        assert!(tokens.verify(&token, 2_000).is_ok());
        assert_eq!(tokens.opened_map().len(), super::MAX_OPENED / 2 + 1);
    }
}
