//! The folders the app uses, decided once at start: the platform's folders (passed in by the shell), the
//! person's settings, and the `AUREN_DATA_DIR` / `AUREN_EXPORT_DIR` overrides (portable use, tests).

use std::path::{Path, PathBuf};

/// The database file inside the data folder.
pub const DB_FILE: &str = "auren.db";
/// The edited rules inside the config folder (absent: the shipped defaults).
pub const RULES_FILE: &str = "rules.toml";

/// The platform folders the shell resolved, and the environment's overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Folders {
    pub default_data_dir: PathBuf,
    pub default_export_dir: PathBuf,
    pub config_dir: PathBuf,
    pub log_dir: PathBuf,
    /// `AUREN_DATA_DIR`: wins over the setting.
    pub data_dir_override: Option<PathBuf>,
    /// `AUREN_EXPORT_DIR`: wins over the setting.
    pub export_dir_override: Option<PathBuf>,
}

impl Folders {
    /// Reads the overrides from the environment.
    pub fn with_env_overrides(mut self) -> Self {
        let var = |name| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        self.data_dir_override = var("AUREN_DATA_DIR");
        self.export_dir_override = var("AUREN_EXPORT_DIR");
        self
    }

    pub fn data_dir(&self, setting: Option<&Path>) -> PathBuf {
        pick(&self.data_dir_override, setting, &self.default_data_dir)
    }

    pub fn export_dir(&self, setting: Option<&Path>) -> PathBuf {
        pick(&self.export_dir_override, setting, &self.default_export_dir)
    }

    pub fn rules_path(&self) -> PathBuf {
        self.config_dir.join(RULES_FILE)
    }
}

fn pick(env: &Option<PathBuf>, setting: Option<&Path>, default: &Path) -> PathBuf {
    env.clone()
        .or_else(|| setting.map(Path::to_path_buf))
        .unwrap_or_else(|| default.to_path_buf())
}
