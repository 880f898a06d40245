//! Where the account's tokens live: the OS keychain when one answers, otherwise a file next to the database
//! that only the user can read (mode 0600), and the caller is told which. Tokens never reach SQLite or logs.

use auren_protocol::auth::TokenPair;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The keychain service name the tokens are stored under.
const SERVICE: &str = "auren-sync";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read or write the token file {path}: {source}")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the token file {path} is not valid: {source}")]
    Malformed {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("the keychain failed: {0}")]
    Keychain(#[source] keyring::Error),
    #[error("the keychain task stopped: {0}")]
    Task(#[source] tokio::task::JoinError),
}

/// Where the tokens are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenPlace {
    /// The OS keychain, under service `auren-sync` and this account name.
    Keychain { account: String },
    /// A file readable only by the user (no keychain answered).
    File(PathBuf),
}

/// The tokens as stored.
#[derive(Clone, Serialize, Deserialize)]
struct Stored {
    tokens: TokenPair,
}

/// The account's token pair, in its [`TokenPlace`].
#[derive(Clone, Debug)]
pub struct TokenVault {
    place: TokenPlace,
}

impl TokenVault {
    /// A vault in `place`.
    pub fn new(place: TokenPlace) -> Self {
        Self { place }
    }

    /// The keychain entry `account` if the keychain answers (a read that finds nothing counts), otherwise the
    /// file `fallback`. `AUREN_SYNC_TOKENS=file` skips the keychain.
    pub async fn choose(account: &str, fallback: &Path) -> Self {
        let file = Self::new(TokenPlace::File(fallback.to_owned()));
        if std::env::var("AUREN_SYNC_TOKENS").is_ok_and(|v| v == "file") {
            return file;
        }
        let keychain = Self::new(TokenPlace::Keychain {
            account: account.to_owned(),
        });
        match keychain.load().await {
            Ok(_) => keychain,
            Err(error) => {
                tracing::info!(%error, "no keychain answered; tokens go to a file only this user can read");
                file
            }
        }
    }

    pub fn place(&self) -> &TokenPlace {
        &self.place
    }

    /// The stored tokens, if any.
    pub async fn load(&self) -> Result<Option<TokenPair>, TokenError> {
        match &self.place {
            TokenPlace::Keychain { account } => {
                let account = account.clone();
                let secret = tokio::task::spawn_blocking(move || {
                    let entry = keyring::Entry::new(SERVICE, &account)?;
                    match entry.get_password() {
                        Ok(secret) => Ok(Some(secret)),
                        Err(keyring::Error::NoEntry) => Ok(None),
                        Err(e) => Err(e),
                    }
                })
                .await
                .map_err(TokenError::Task)?
                .map_err(TokenError::Keychain)?;
                secret.map(|s| parse(&s, "the keychain entry")).transpose()
            }
            TokenPlace::File(path) => match tokio::fs::read_to_string(path).await {
                Ok(text) => parse(&text, &path.display().to_string()).map(Some),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(source) => Err(TokenError::File {
                    path: path.display().to_string(),
                    source,
                }),
            },
        }
    }

    /// Stores `tokens`, replacing what was there.
    pub async fn save(&self, tokens: &TokenPair) -> Result<(), TokenError> {
        let text = serde_json::to_string(&Stored {
            tokens: tokens.clone(),
        })
        .map_err(|source| TokenError::Malformed {
            path: "(tokens)".into(),
            source,
        })?;
        match &self.place {
            TokenPlace::Keychain { account } => {
                let account = account.clone();
                tokio::task::spawn_blocking(move || {
                    keyring::Entry::new(SERVICE, &account)?.set_password(&text)
                })
                .await
                .map_err(TokenError::Task)?
                .map_err(TokenError::Keychain)
            }
            TokenPlace::File(path) => write_private(path, &text).await,
        }
    }

    /// Forgets the tokens (signing out).
    pub async fn clear(&self) -> Result<(), TokenError> {
        match &self.place {
            TokenPlace::Keychain { account } => {
                let account = account.clone();
                tokio::task::spawn_blocking(move || {
                    match keyring::Entry::new(SERVICE, &account)?.delete_credential() {
                        Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                        Err(e) => Err(e),
                    }
                })
                .await
                .map_err(TokenError::Task)?
                .map_err(TokenError::Keychain)
            }
            TokenPlace::File(path) => match tokio::fs::remove_file(path).await {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                Err(source) => Err(TokenError::File {
                    path: path.display().to_string(),
                    source,
                }),
            },
        }
    }
}

fn parse(text: &str, what: &str) -> Result<TokenPair, TokenError> {
    serde_json::from_str::<Stored>(text)
        .map(|s| s.tokens)
        .map_err(|source| TokenError::Malformed {
            path: what.to_owned(),
            source,
        })
}

/// Writes `text` to `path` so that only the user can read it: a temporary file created with mode 0600, then
/// renamed over the old one (a crash leaves the old tokens or the new, never half a file).
async fn write_private(path: &Path, text: &str) -> Result<(), TokenError> {
    let path = path.to_owned();
    let text = text.to_owned();
    let shown = path.display().to_string();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let temporary = path.with_extension("tmp");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, &path)
    })
    .await
    .map_err(TokenError::Task)?
    .map_err(|source| TokenError::File { path: shown, source })
}
