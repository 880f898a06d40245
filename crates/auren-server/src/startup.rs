//! How a server process starts and stops, shared by `auren serve` and the `auren-server` binary: its
//! configuration — the keys [`KEYS`] from the environment, or from a TOML file with the same keys
//! (`--config FILE`; the environment wins over the file, so a deployment can keep secrets out of it) — and
//! the signals that stop it ([`stop_signal`]).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::server::ServerConfig;

/// The keys read from the environment and the config file.
pub const KEYS: [&str; 7] = [
    "AUREN_DATABASE_URL",
    "AUREN_APP_DATABASE_URL",
    "AUREN_REDIS_URL",
    "AUREN_KAFKA_BROKERS",
    "AUREN_KAFKA_RETENTION_HOURS",
    "AUREN_KAFKA_PARTITIONS",
    "AUREN_LISTEN",
];

/// Where the server listens when `AUREN_LISTEN` is not given.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Why the configuration cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not valid TOML", path.display())]
    NotToml {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("{}: unknown key {key:?} (known: {})", path.display(), KEYS.join(", "))]
    UnknownKey { path: PathBuf, key: String },
    #[error("{}: {key} must be a string", path.display())]
    NotAString { path: PathBuf, key: String },
    #[error("AUREN_DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/auren)")]
    NoDatabaseUrl,
    #[error("AUREN_KAFKA_RETENTION_HOURS {value:?} is not a whole number of hours from 1 up (e.g. 168)")]
    BadRetention { value: String },
    #[error("AUREN_KAFKA_PARTITIONS {value:?} is not a whole number from 1 to {MOST_PARTITIONS} (e.g. 12)")]
    BadPartitions { value: String },
    #[error("AUREN_LISTEN {value:?} is not an address like 127.0.0.1:8080")]
    BadListen {
        value: String,
        #[source]
        source: std::net::AddrParseError,
    },
}

/// The server's configuration from `file` (if any) and `env` (a key's value, e.g. `std::env::var`), with
/// the production defaults for everything the keys do not set.
pub fn server_config(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ServerConfig, ConfigError> {
    config_of(&settings(file, env)?)
}

/// The settings: the file's keys, overridden by the environment's (an empty value counts as unset).
pub fn settings(
    file: Option<&Path>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut settings = BTreeMap::new();
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let table: toml::Table = toml::from_str(&text).map_err(|source| ConfigError::NotToml {
            path: path.to_owned(),
            source,
        })?;
        for (key, value) in table {
            if !KEYS.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    path: path.to_owned(),
                    key,
                });
            }
            let Some(value) = value.as_str() else {
                return Err(ConfigError::NotAString {
                    path: path.to_owned(),
                    key,
                });
            };
            settings.insert(key, value.to_owned());
        }
    }
    for key in KEYS {
        if let Some(value) = env(key).filter(|v| !v.is_empty()) {
            settings.insert(key.to_owned(), value);
        }
    }
    Ok(settings)
}

/// The configuration the settings give.
pub fn config_of(settings: &BTreeMap<String, String>) -> Result<ServerConfig, ConfigError> {
    let database_url = settings
        .get("AUREN_DATABASE_URL")
        .ok_or(ConfigError::NoDatabaseUrl)?;
    let listen = listen_address(settings)?;
    let mut config = ServerConfig::new(database_url.clone(), listen);
    config.app_database_url = settings.get("AUREN_APP_DATABASE_URL").cloned();
    config.redis_url = settings.get("AUREN_REDIS_URL").cloned();
    config.kafka_brokers = settings.get("AUREN_KAFKA_BROKERS").cloned();
    if let Some(hours) = settings.get("AUREN_KAFKA_RETENTION_HOURS") {
        config.kafka_retention = retention_hours(hours)?;
    }
    if let Some(count) = settings.get("AUREN_KAFKA_PARTITIONS") {
        config.kafka_partitions = match count.trim().parse::<i32>() {
            Ok(count @ 1..=MOST_PARTITIONS) => count,
            _ => {
                return Err(ConfigError::BadPartitions {
                    value: count.to_owned(),
                });
            }
        };
    }
    Ok(config)
}

/// The most partitions `AUREN_KAFKA_PARTITIONS` may ask for (each takes a broker's file handles and memory).
const MOST_PARTITIONS: i32 = 1_000;

/// `AUREN_KAFKA_RETENTION_HOURS` as a duration: whole hours, at least one, at most a century (so that the
/// milliseconds stay an integer the broker reads).
fn retention_hours(value: &str) -> Result<Duration, ConfigError> {
    const MOST: u64 = 100 * 365 * 24;
    match value.trim().parse::<u64>() {
        Ok(hours @ 1..=MOST) => Ok(Duration::from_secs(hours * 3600)),
        _ => Err(ConfigError::BadRetention {
            value: value.to_owned(),
        }),
    }
}

/// `AUREN_LISTEN` of the settings, or [`DEFAULT_LISTEN`].
pub fn listen_address(settings: &BTreeMap<String, String>) -> Result<SocketAddr, ConfigError> {
    let listen = settings
        .get("AUREN_LISTEN")
        .map_or(DEFAULT_LISTEN, String::as_str);
    listen.parse().map_err(|source| ConfigError::BadListen {
        value: listen.to_owned(),
        source,
    })
}

/// Resolves at the first SIGINT or SIGTERM (what `docker stop` and systemd send), so the server can stop
/// after the requests in flight instead of being killed mid-request.
pub async fn stop_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::{ConfigError, config_of, server_config, settings};
    use std::collections::BTreeMap;

    /// Whether an error is the one a case expects.
    type IsExpected = fn(&ConfigError) -> bool;

    #[test]
    fn the_environment_overrides_the_file_and_unknown_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("server.toml");
        std::fs::write(
            &file,
            "AUREN_DATABASE_URL = \"postgres://file\"\nAUREN_LISTEN = \"127.0.0.1:9\"\n\
             AUREN_APP_DATABASE_URL = \"postgres://auren_app@file\"\n",
        )
        .unwrap();
        let env = |key: &str| match key {
            "AUREN_DATABASE_URL" => Some("postgres://env".to_owned()),
            // Empty counts as unset: the file's value stands.
            "AUREN_APP_DATABASE_URL" => Some(String::new()),
            _ => None,
        };
        let config = server_config(Some(&file), env).unwrap();
        assert_eq!(config.database_url, "postgres://env");
        assert_eq!(
            config.app_database_url.as_deref(),
            Some("postgres://auren_app@file")
        );
        assert_eq!(config.listen.port(), 9);
        assert_eq!(
            config.kafka_retention,
            crate::kafka::KafkaConfig::DEFAULT_RETENTION
        );
        // The environment with a database and one more key.
        let with = |set: &'static str, value: &'static str| {
            move |key: &str| match key {
                "AUREN_DATABASE_URL" => Some("postgres://env".to_owned()),
                _ if key == set => Some(value.to_owned()),
                _ => None,
            }
        };
        let config = server_config(None, with("AUREN_KAFKA_RETENTION_HOURS", "24")).unwrap();
        assert_eq!(config.kafka_retention, std::time::Duration::from_secs(24 * 3600));
        assert_eq!(
            config.kafka_partitions,
            crate::kafka::KafkaConfig::DEFAULT_PARTITIONS
        );
        let config = server_config(None, with("AUREN_KAFKA_PARTITIONS", "12")).unwrap();
        assert_eq!(config.kafka_partitions, 12);

        let cases: [(&str, IsExpected); 9] = [
            (
                "AUREN_DATABSE_URL = \"typo\"\n",
                |e| matches!(e, ConfigError::UnknownKey { key, .. } if key == "AUREN_DATABSE_URL"),
            ),
            ("AUREN_LISTEN = 8080\n", |e| {
                matches!(e, ConfigError::NotAString { .. })
            }),
            ("AUREN_LISTEN = \n", |e| matches!(e, ConfigError::NotToml { .. })),
            ("AUREN_DATABASE_URL = \"x\"\nAUREN_LISTEN = \"nowhere\"\n", |e| {
                matches!(e, ConfigError::BadListen { .. })
            }),
            (
                "AUREN_DATABASE_URL = \"x\"\nAUREN_KAFKA_RETENTION_HOURS = \"0\"\n",
                |e| matches!(e, ConfigError::BadRetention { value } if value == "0"),
            ),
            (
                "AUREN_DATABASE_URL = \"x\"\nAUREN_KAFKA_RETENTION_HOURS = \"7d\"\n",
                |e| matches!(e, ConfigError::BadRetention { value } if value == "7d"),
            ),
            (
                "AUREN_DATABASE_URL = \"x\"\nAUREN_KAFKA_RETENTION_HOURS = \"-5\"\n",
                |e| matches!(e, ConfigError::BadRetention { .. }),
            ),
            (
                "AUREN_DATABASE_URL = \"x\"\nAUREN_KAFKA_PARTITIONS = \"0\"\n",
                |e| matches!(e, ConfigError::BadPartitions { value } if value == "0"),
            ),
            (
                "AUREN_DATABASE_URL = \"x\"\nAUREN_KAFKA_PARTITIONS = \"1001\"\n",
                |e| matches!(e, ConfigError::BadPartitions { value } if value == "1001"),
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(&file, text).unwrap();
            let error = server_config(Some(&file), |_| None).unwrap_err();
            assert!(expected(&error), "{text:?}: {error}");
        }
        assert!(matches!(
            server_config(Some(&dir.path().join("absent.toml")), |_| None),
            Err(ConfigError::Read { .. })
        ));
        assert!(matches!(
            config_of(&BTreeMap::new()),
            Err(ConfigError::NoDatabaseUrl)
        ));
        assert_eq!(
            settings(None, |k| (k == "AUREN_REDIS_URL").then(|| "redis://r".to_owned()))
                .unwrap()
                .len(),
            1
        );
    }
}
