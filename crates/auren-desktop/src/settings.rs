//! The person's settings: validated once when saved, kept by a [`SettingsBackend`] (the shell's
//! tauri-plugin-store file in the app; a JSON file in tests), never holding a secret; and the desktop's
//! settings commands, including moving the database to a new data folder.

use auren_agents::MemoryApply;
use auren_store::Store;
use serde::{Deserialize, Serialize};
use specta::Type;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::desktop::Desktop;
use crate::dto::{RememberedStrapDto, RrUnitDto, SettingsDto, ThemeDto};
use crate::error::DesktopError;
use crate::live::Live;
use crate::places::DB_FILE;

/// Lowest and highest max HR accepted (bpm): below 100 or above 240 is a typing slip, not a person.
pub const MAX_HR_RANGE: std::ops::RangeInclusive<u16> = 100..=240;
/// Zone bounds in % of max HR must lie in this range.
pub const ZONE_PCT_RANGE: std::ops::RangeInclusive<u8> = 30..=99;

/// Whether the coach's memory operations — what it proposes to remember, change or retract after a turn,
/// and a model's own `remember`/`retract` — apply at once or wait for the person's yes in the memory panel.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum MemoryApplyDto {
    Immediate,
    /// The default: nothing enters the cognitive twin without the person's yes.
    #[default]
    AskFirst,
}

impl From<MemoryApplyDto> for MemoryApply {
    fn from(choice: MemoryApplyDto) -> Self {
        match choice {
            MemoryApplyDto::Immediate => Self::Immediate,
            MemoryApplyDto::AskFirst => Self::AskFirst,
        }
    }
}

/// Everything kept between runs: the settings the person edits plus the remembered straps. Theme, RR unit,
/// max HR, zones and how memories apply are the person's and sync between their devices; the folders and the straps belong to
/// this device and never leave it (the split is `settings_sync::PersonSetting`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub theme: ThemeDto,
    pub rr_unit: RrUnitDto,
    pub max_hr: u16,
    pub zones_pct: Vec<u8>,
    /// `None`: the platform data folder.
    pub data_dir: Option<PathBuf>,
    /// `None`: `<Documents>/Auren`.
    pub export_dir: Option<PathBuf>,
    pub remembered_straps: Vec<RememberedStrapDto>,
    pub memory_apply: MemoryApplyDto,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            theme: ThemeDto::System,
            rr_unit: RrUnitDto::Ms,
            // 220 − age is a poor estimate; 190 is a neutral start the person is asked to correct.
            max_hr: 190,
            // The common five-zone model: 60/70/80/90 % of max HR.
            zones_pct: vec![60, 70, 80, 90],
            data_dir: None,
            export_dir: None,
            remembered_straps: Vec::new(),
            memory_apply: MemoryApplyDto::AskFirst,
        }
    }
}

impl Settings {
    /// What the settings view shows, with the folders in effect.
    pub fn to_dto(&self, data_dir: &Path, export_dir: &Path) -> SettingsDto {
        SettingsDto {
            theme: self.theme,
            rr_unit: self.rr_unit,
            max_hr: self.max_hr,
            zones_pct: self.zones_pct.clone(),
            data_dir: data_dir.display().to_string(),
            export_dir: export_dir.display().to_string(),
        }
    }
}

/// Checks edited settings; the error names the field and what is wrong with it.
pub fn validate(dto: &SettingsDto) -> Result<(), DesktopError> {
    check_person(dto.max_hr, &dto.zones_pct)?;
    for (field, dir) in [("data folder", &dto.data_dir), ("export folder", &dto.export_dir)] {
        if dir.trim().is_empty() {
            return Err(DesktopError::InvalidSettings {
                field,
                problem: "it is empty".into(),
            });
        }
        if !Path::new(dir.trim()).is_absolute() {
            return Err(DesktopError::InvalidSettings {
                field,
                problem: format!("{dir:?} is not an absolute path"),
            });
        }
    }
    Ok(())
}

/// Checks the person's settings of `settings` (those that sync; see `settings_sync`) by the rules of
/// [`validate`]: a value pulled from another device gets the same sentence an edit of it would.
pub fn validate_person(settings: &Settings) -> Result<(), DesktopError> {
    check_person(settings.max_hr, &settings.zones_pct)
}

fn check_person(max_hr: u16, zones_pct: &[u8]) -> Result<(), DesktopError> {
    let bad = |field: &'static str, problem: String| Err(DesktopError::InvalidSettings { field, problem });
    if !MAX_HR_RANGE.contains(&max_hr) {
        return bad(
            "max HR",
            format!(
                "{} bpm is outside {}–{} bpm",
                max_hr,
                MAX_HR_RANGE.start(),
                MAX_HR_RANGE.end()
            ),
        );
    }
    if zones_pct.len() != 4 {
        return bad(
            "HR zones",
            format!("4 zone bounds are needed, got {}", zones_pct.len()),
        );
    }
    if let Some(pct) = zones_pct.iter().find(|p| !ZONE_PCT_RANGE.contains(p)) {
        return bad(
            "HR zones",
            format!(
                "{pct} % is outside {}–{} % of max HR",
                ZONE_PCT_RANGE.start(),
                ZONE_PCT_RANGE.end()
            ),
        );
    }
    if zones_pct.windows(2).any(|w| w[0] >= w[1]) {
        return bad(
            "HR zones",
            format!("the bounds must rise from zone to zone, got {zones_pct:?}"),
        );
    }
    Ok(())
}

impl Desktop {
    pub fn get_settings(&self) -> SettingsDto {
        self.settings().to_dto(&self.data_dir(), &self.export_dir())
    }

    /// Saves validated settings. A new data folder takes the database along: it is copied there
    /// consistently (SQLite `VACUUM INTO`) unless that folder already holds one, and used from now on.
    pub async fn save_settings(&self, dto: SettingsDto) -> Result<SettingsDto, DesktopError> {
        validate(&dto)?;
        let new_data = PathBuf::from(dto.data_dir.trim());
        let new_export = PathBuf::from(dto.export_dir.trim());
        if new_data != self.data_dir() {
            if self.folders.data_dir_override.is_some() {
                return Err(DesktopError::InvalidSettings {
                    field: "data folder",
                    problem: "AUREN_DATA_DIR is set, and it decides the data folder".into(),
                });
            }
            self.move_database(&new_data).await?;
        }
        let default_data = self.folders.default_data_dir.clone();
        let default_export = self.folders.default_export_dir.clone();
        let edit = |s: &mut Settings| {
            s.theme = dto.theme;
            s.rr_unit = dto.rr_unit;
            s.max_hr = dto.max_hr;
            s.zones_pct = dto.zones_pct.clone();
            s.data_dir = (new_data != default_data).then_some(new_data.clone());
            s.export_dir = (new_export != default_export).then_some(new_export.clone());
        };
        self.edit_settings(edit).await?;
        Ok(self.get_settings())
    }

    /// Applies `edit` to the settings: the person's changed settings go to the field table (and the outbox)
    /// before the file, so the table is never older than the file (see `settings_sync`). The settings saved.
    async fn edit_settings(&self, edit: impl Fn(&mut Settings)) -> Result<Settings, DesktopError> {
        let before = self.settings();
        let mut after = before.clone();
        edit(&mut after);
        let now = auren_clock::now_unix_ms();
        crate::settings_sync::record_edits(&self.store().await, &before, &after, now).await?;
        self.update_settings(edit)
    }

    /// Whether the coach's memory operations apply at once or wait for the person's yes.
    pub fn get_memory_apply(&self) -> MemoryApplyDto {
        self.settings().memory_apply
    }

    /// Sets how the coach's memory operations apply, from the next turn on; a person's setting, so it
    /// reaches their other devices (the field table and the outbox first, then the file, as every save).
    pub async fn set_memory_apply(&self, choice: MemoryApplyDto) -> Result<MemoryApplyDto, DesktopError> {
        Ok(self
            .edit_settings(|s| s.memory_apply = choice)
            .await?
            .memory_apply)
    }

    async fn move_database(&self, to_dir: &Path) -> Result<(), DesktopError> {
        let mut live = self.live.lock().await;
        match live.take() {
            Some(Live::Recording(running)) => {
                let id = running.info.session_id;
                *live = Some(Live::Recording(running));
                return Err(DesktopError::SessionRunning(id));
            }
            // A monitor would record into the old database: it stops, the window connects again.
            Some(Live::Monitoring(monitoring)) => {
                crate::live::log_monitor_end(monitoring.monitor.stop().await);
            }
            None => {}
        }
        let target = to_dir.join(DB_FILE);
        let mut store = self.store.write().await;
        if !target.exists() {
            std::fs::create_dir_all(to_dir).map_err(|source| DesktopError::Io {
                what: "creating the data folder",
                path: to_dir.to_path_buf(),
                source,
            })?;
            store.copy_to(&target).await?;
        }
        *store = Store::open(&target).await?;
        tracing::info!(data_dir = %to_dir.display(), "database moved");
        Ok(())
    }
}

/// Where settings are kept between runs.
pub trait SettingsBackend: Send + Sync {
    /// The stored settings as JSON, `None` on a first run.
    fn load(&self) -> Option<serde_json::Value>;
    fn save(&self, value: serde_json::Value) -> Result<(), SettingsBackendError>;
}

/// Why settings could not be kept.
#[derive(Debug, thiserror::Error)]
pub enum SettingsBackendError {
    #[error("encoding the settings: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    /// A thread panicked while writing the settings file; what it left is not trusted.
    #[error("an earlier save of the settings failed midway")]
    Poisoned,
    /// The shell's own store (tauri-plugin-store in the app).
    #[error("the settings store: {0}")]
    Store(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SettingsBackendError {
    /// The shell's store failing with `error`.
    pub fn store(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Store(Box::new(error))
    }
}

/// Reads the settings from `backend`; stored settings that no longer parse are replaced by the defaults
/// (logged), so a bad file never keeps the app from starting.
pub fn load(backend: &dyn SettingsBackend) -> Settings {
    match backend.load() {
        None => Settings::default(),
        Some(value) => serde_json::from_value(value).unwrap_or_else(|error| {
            tracing::warn!(%error, "stored settings unreadable; using the defaults");
            Settings::default()
        }),
    }
}

pub fn save(backend: &dyn SettingsBackend, settings: &Settings) -> Result<(), DesktopError> {
    let value = serde_json::to_value(settings).map_err(SettingsBackendError::from)?;
    Ok(backend.save(value)?)
}

/// Settings in a JSON file, written atomically (write then rename): for tests and tools.
#[derive(Debug)]
pub struct JsonFileSettings {
    path: PathBuf,
    lock: Mutex<()>,
}

impl JsonFileSettings {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }
}

impl SettingsBackend for JsonFileSettings {
    fn load(&self) -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(&self.path).ok()?;
        serde_json::from_str(&text).ok()
    }

    fn save(&self, value: serde_json::Value) -> Result<(), SettingsBackendError> {
        let _guard = self.lock.lock().map_err(|_| SettingsBackendError::Poisoned)?;
        let io = |what: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| SettingsBackendError::Io { what, path, source }
        };
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        let tmp = self.path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(&value)?;
        std::fs::write(&tmp, text).map_err(io("writing", &tmp))?;
        std::fs::rename(&tmp, &self.path).map_err(io("replacing", &self.path))
    }
}
