//! Argon2id password hashes (m = 19456 KiB, t = 2, p = 1, OWASP's first choice). Hashing takes tens of
//! milliseconds of CPU and 19 MiB, so it runs on the blocking pool and at most `permits` at once: a burst of
//! sign-ins queues instead of starving the async threads or the memory.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Why hashing failed (never the client's fault: a malformed stored hash, a closed pool).
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("argon2 failed: {0}")]
    Argon2(String),
    #[error("the hashing task stopped")]
    Task(#[source] tokio::task::JoinError),
    #[error("the operating system's random source failed")]
    Random,
    #[error("the hashing limiter is closed")]
    Closed,
}

/// The bounded hasher.
#[derive(Clone, Debug)]
pub struct PasswordHashing {
    permits: Arc<Semaphore>,
    params: Params,
}

/// Hash strength: the production parameters, or cheap ones for tests that create many accounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashCost {
    /// m = 19456 KiB, t = 2, p = 1.
    Production,
    /// m = 64 KiB, t = 1, p = 1: only for tests.
    Minimal,
}

impl PasswordHashing {
    pub fn new(permits: usize, cost: HashCost) -> Result<Self, PasswordError> {
        let (m, t) = match cost {
            HashCost::Production => (19_456, 2),
            HashCost::Minimal => (64, 1),
        };
        let params = Params::new(m, t, 1, None).map_err(|e| PasswordError::Argon2(e.to_string()))?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(permits.max(1))),
            params,
        })
    }

    /// The PHC string of `password` with a fresh salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        let mut salt = [0_u8; 16];
        getrandom::fill(&mut salt).map_err(|_| PasswordError::Random)?;
        let params = self.params.clone();
        self.run(move || {
            let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Argon2(e.to_string()))?;
            Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(password.as_bytes(), &salt)
                .map(|hash| hash.to_string())
                .map_err(|e| PasswordError::Argon2(e.to_string()))
        })
        .await
    }

    /// Whether `password` matches the stored PHC string (its own parameters are used).
    pub async fn verify(&self, password: String, stored: String) -> Result<bool, PasswordError> {
        self.run(move || {
            let parsed = PasswordHash::new(&stored).map_err(|e| PasswordError::Argon2(e.to_string()))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let _permit = self.permits.acquire().await.map_err(|_| PasswordError::Closed)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(PasswordError::Task)?
    }
}

#[cfg(test)]
mod tests {
    use super::{HashCost, PasswordHashing};

    /// Production hashes are Argon2id with OWASP's first parameters, in the PHC string stored per account;
    /// a hash verifies its own password only.
    #[tokio::test]
    async fn production_hashes_are_argon2id_19_mib_two_passes_and_verify_only_their_password() {
        let hashing = PasswordHashing::new(2, HashCost::Production).unwrap();
        let (a, b) = (
            hashing.hash("correct horse battery".to_owned()).await.unwrap(),
            hashing.hash("correct horse battery".to_owned()).await.unwrap(),
        );
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "a fresh salt per hash");
        assert!(
            hashing
                .verify("correct horse battery".to_owned(), a.clone())
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("correct horse batterY".to_owned(), a)
                .await
                .unwrap()
        );
        // A stored hash keeps its own parameters: one made with the test cost still verifies.
        let minimal = PasswordHashing::new(1, HashCost::Minimal).unwrap();
        let cheap = minimal.hash("pw".to_owned()).await.unwrap();
        assert!(cheap.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{cheap}");
        assert!(hashing.verify("pw".to_owned(), cheap).await.unwrap());
    }
}
