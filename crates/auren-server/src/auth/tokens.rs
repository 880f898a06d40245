//! Access tokens (PASETO v4.local: encrypted and authenticated with the server's key, so a client can
//! neither read nor forge one, and there is no algorithm field to downgrade) and refresh tokens (random
//! 256-bit strings stored only as SHA-256 digests).

use pasetors::claims::{Claims, ClaimsValidationRules};
use pasetors::keys::SymmetricKey;
use pasetors::token::UntrustedToken;
use pasetors::version4::V4;
use pasetors::{Local, local};
use sha2::{Digest, Sha256};
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

/// Issues and checks access tokens.
#[derive(Clone)]
pub struct AccessTokens {
    key: SymmetricKey<V4>,
    lifetime: Duration,
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
        Ok(Self { key, lifetime })
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

    /// The claims of `token` if it is ours, untampered and not expired at `now_ms`.
    pub fn verify(&self, token: &str, now_ms: i64) -> Result<AccessClaims, TokenRejection> {
        let untrusted = UntrustedToken::<Local, V4>::try_from(token).map_err(|_| TokenRejection::Invalid)?;
        // Expiry is checked below against `exp_ms` with the caller's clock (pasetors' own check reads the
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
        let user_id = uuid_claim("sub")?;
        let device_id = uuid_claim("dev")?;
        let expires_at_ms = claims
            .get_claim("exp_ms")
            .and_then(serde_json::Value::as_i64)
            .ok_or(TokenRejection::Invalid)?;
        if expires_at_ms <= now_ms {
            return Err(TokenRejection::Expired);
        }
        Ok(AccessClaims {
            user_id,
            device_id,
            expires_at_ms,
        })
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
