//! API keys: a redacting wrapper, and where keys come from (the OS keychain, or memory in tests).

use std::collections::HashMap;
use std::fmt;

/// A provider's API key. `Debug` prints `ApiKey(<redacted>)`; there is no `Display`, so the only way to
/// the text is [`ApiKey::expose`], called where the HTTP header is built.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keychain could not be read for provider {provider:?}: {source}")]
    Keychain {
        provider: String,
        #[source]
        source: keyring::Error,
    },
}

/// Where API keys are kept, by provider name. Implementations may block (the OS keychain does): the
/// gateway calls them once, on a blocking thread, when it is built.
pub trait SecretStore: Send + Sync {
    /// The key stored for `provider`, or `None` when none is stored.
    fn api_key(&self, provider: &str) -> Result<Option<ApiKey>, SecretError>;
}

/// The OS keychain (macOS Keychain, Windows Credential Manager, Secret Service on Linux), one entry per
/// provider under a service name such as `auren`.
#[derive(Clone, Debug)]
pub struct KeychainSecrets {
    service: String,
}

impl KeychainSecrets {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    /// Stores `key` for `provider` (used by settings screens and `auren` commands).
    pub fn set_api_key(&self, provider: &str, key: &ApiKey) -> Result<(), SecretError> {
        let entry = keyring::Entry::new(&self.service, provider).map_err(|e| keychain_error(provider, e))?;
        entry
            .set_password(key.expose())
            .map_err(|e| keychain_error(provider, e))
    }
}

fn keychain_error(provider: &str, source: keyring::Error) -> SecretError {
    // keyring's messages describe the platform failure and never contain the secret.
    SecretError::Keychain {
        provider: provider.to_owned(),
        source,
    }
}

impl SecretStore for KeychainSecrets {
    fn api_key(&self, provider: &str) -> Result<Option<ApiKey>, SecretError> {
        let entry = keyring::Entry::new(&self.service, provider).map_err(|e| keychain_error(provider, e))?;
        match entry.get_password() {
            Ok(key) => Ok(Some(ApiKey(key))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(provider, e)),
        }
    }
}

/// Keys held in memory: for tests and for callers that already have the key.
#[derive(Clone, Debug, Default)]
pub struct MemorySecrets {
    keys: HashMap<String, ApiKey>,
}

impl MemorySecrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with(mut self, provider: impl Into<String>, key: impl Into<String>) -> Self {
        self.keys.insert(provider.into(), ApiKey(key.into()));
        self
    }
}

impl SecretStore for MemorySecrets {
    fn api_key(&self, provider: &str) -> Result<Option<ApiKey>, SecretError> {
        Ok(self.keys.get(provider).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_key() {
        let secrets = MemorySecrets::new().with("openai", "sk-very-secret");
        let shown = format!("{secrets:?} {:?}", ApiKey::new("sk-very-secret"));
        assert!(!shown.contains("sk-very-secret"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
