//! The person's settings on every device they sign in to, and the device's own settings that stay on it.
//!
//! The split ([`PersonSetting`] is the closed set of what syncs):
//! - **The person's** — max HR, the HR zones, the RR unit and the theme. They describe the person or how
//!   they like to read their numbers, wherever they read them. The theme syncs too: it is a taste, not a
//!   property of the machine, and its `system` value already lets each device follow its own desktop's
//!   light or dark mode.
//! - **The device's** — the data folder, the export folder and the remembered straps. They are paths or
//!   Bluetooth addresses of this machine and would be wrong, or harmful (a data folder that does not exist),
//!   on another. They never reach the field table or the outbox.
//!
//! A person's setting is the record `("setting", <key>, "value")` in the store's field table, merged last
//! writer wins by hybrid logical clock like every editable record. Saving writes the changed ones there (one
//! transaction with their outbox rows) *before* the settings file, so the table is never older than the file:
//! at start and after a sync round that pulled something, the table's values are adopted into the file. A
//! pulled value is checked with the same rules as an edit; one that fails is not adopted (logged, and
//! returned by [`crate::Desktop::adopt_synced_settings`]), and stays in the table: nothing pulled is lost,
//! and a later edit on any device replaces it.

use auren_store::Store;
use std::sync::Mutex as StdMutex;

use crate::desktop::Desktop;
use crate::dto::{RrUnitDto, ThemeDto};
use crate::error::DesktopError;
use crate::settings::{self, MemoryApplyDto, Settings, SettingsBackend};

/// A setting of the person, synced between their devices. Everything else in [`Settings`] is the device's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PersonSetting {
    MaxHr,
    HrZones,
    RrUnit,
    Theme,
    MemoryApply,
}

impl PersonSetting {
    pub const ALL: [Self; 5] = [
        Self::MaxHr,
        Self::HrZones,
        Self::RrUnit,
        Self::Theme,
        Self::MemoryApply,
    ];

    /// The record's key in the field table and on the wire.
    pub fn key(self) -> &'static str {
        match self {
            Self::MaxHr => "max_hr",
            Self::HrZones => "zones_pct",
            Self::RrUnit => "rr_unit",
            Self::Theme => "theme",
            Self::MemoryApply => auren_agents::memory_setting::KEY,
        }
    }

    /// The setting keyed `key`; `None` for a key this build does not know (a newer device's).
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The setting's value in `settings`, as the JSON text the field table keeps.
    pub fn value_json(self, settings: &Settings) -> String {
        let value = match self {
            Self::MaxHr => serde_json::json!(settings.max_hr),
            Self::HrZones => serde_json::json!(settings.zones_pct),
            Self::RrUnit => serde_json::json!(settings.rr_unit),
            Self::Theme => serde_json::json!(settings.theme),
            Self::MemoryApply => serde_json::json!(settings.memory_apply),
        };
        value.to_string()
    }

    /// Puts the value `json` into `settings`; what is wrong when it is not a value of this setting at all.
    fn set(self, settings: &mut Settings, json: &str) -> Result<(), String> {
        let bad = |e: serde_json::Error| format!("{json} is not a value of it ({e})");
        match self {
            Self::MaxHr => settings.max_hr = serde_json::from_str::<u16>(json).map_err(bad)?,
            Self::HrZones => settings.zones_pct = serde_json::from_str::<Vec<u8>>(json).map_err(bad)?,
            Self::RrUnit => settings.rr_unit = serde_json::from_str::<RrUnitDto>(json).map_err(bad)?,
            Self::Theme => settings.theme = serde_json::from_str::<ThemeDto>(json).map_err(bad)?,
            Self::MemoryApply => {
                settings.memory_apply = serde_json::from_str::<MemoryApplyDto>(json).map_err(bad)?;
            }
        }
        Ok(())
    }
}

/// A synced value that was not adopted, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefusedSetting {
    pub setting: PersonSetting,
    /// The value as it arrived (JSON).
    pub value: String,
    /// The same sentence an edit of that value would get, e.g. "setting max HR: 300 bpm is outside 100–240 bpm".
    pub reason: String,
    /// The sentence without the setting's name, for a note beside the setting: "300 bpm is outside 100–240 bpm".
    pub problem: String,
    /// The stamp of the edit that set the value: which edit a window's dismissal of the refusal was for.
    pub stamp: auren_store::Stamp,
}

impl RefusedSetting {
    /// The refused value as a person reads it: `300 bpm`, `50, 60, 70, 80 %`, `neon`; the JSON as it came
    /// when it is not JSON at all.
    pub fn value_text(&self) -> String {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&self.value) else {
            return self.value.clone();
        };
        let plain = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let text = match &value {
            serde_json::Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(", "),
            other => plain(other),
        };
        let numeric = match &value {
            serde_json::Value::Array(items) => items.iter().all(serde_json::Value::is_number),
            other => other.is_number(),
        };
        match self.setting {
            PersonSetting::MaxHr if numeric => format!("{text} bpm"),
            PersonSetting::HrZones if numeric => format!("{text} %"),
            _ => text,
        }
    }
}

/// What adopting the field table's values changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Adoption {
    /// Settings whose value changed here.
    pub adopted: Vec<PersonSetting>,
    pub refused: Vec<RefusedSetting>,
}

/// The settings kept between runs, shared by the façade and the sync loop (which adopts pulled values).
pub(crate) struct SettingsCell {
    value: StdMutex<Settings>,
    backend: Box<dyn SettingsBackend>,
}

impl SettingsCell {
    /// The settings `backend` keeps (the defaults on a first run or an unreadable file).
    pub(crate) fn load(backend: Box<dyn SettingsBackend>) -> Self {
        Self {
            value: StdMutex::new(settings::load(backend.as_ref())),
            backend,
        }
    }

    pub(crate) fn get(&self) -> Settings {
        // A poisoned lock only means a panic elsewhere mid-update; the value is still a whole Settings.
        match self.value.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Applies `change` and keeps the result when it differs (file first, then memory); returns the settings
    /// now in effect and what `change` returned.
    pub(crate) fn update<R>(
        &self,
        change: impl FnOnce(&mut Settings) -> R,
    ) -> Result<(Settings, R), DesktopError> {
        let mut guard = match self.value.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = guard.clone();
        let outcome = change(&mut next);
        if next != *guard {
            settings::save(self.backend.as_ref(), &next)?;
            *guard = next.clone();
        }
        Ok((next, outcome))
    }

    /// The field table's values of `store` that fail the edit's rules: refused when they were pulled, and
    /// still the table's (until an edit on any device replaces them), so the window keeps showing them.
    pub(crate) async fn refusals(&self, store: &Store) -> Result<Vec<RefusedSetting>, DesktopError> {
        let fields = store.setting_fields().await?;
        Ok(adopt(&mut self.get(), &fields).refused)
    }

    /// Makes the person's settings what the field table of `store` holds, each value checked as an edit is.
    pub(crate) async fn adopt_synced(&self, store: &Store) -> Result<Adoption, DesktopError> {
        let fields = store.setting_fields().await?;
        let (_, adoption) = self.update(|current| adopt(current, &fields))?;
        for refused in &adoption.refused {
            tracing::warn!(
                key = refused.setting.key(),
                value = %refused.value,
                reason = %refused.reason,
                "a synced setting was not adopted"
            );
        }
        if !adoption.adopted.is_empty() {
            let keys: Vec<_> = adoption.adopted.iter().map(|s| s.key()).collect();
            tracing::info!(?keys, "synced settings adopted");
        }
        Ok(adoption)
    }

    /// At start: the person's settings edited before this build synced them (in the file, not in the table,
    /// and not the defaults) are stamped now so the person's other devices get them; then the table's values
    /// are adopted. A failure is logged: the settings file stands, and the app starts.
    pub(crate) async fn reconcile(&self, store: &Store, now_ms: i64) {
        let current = self.get();
        let defaults = Settings::default();
        let outcome = async {
            let known: Vec<String> = store
                .setting_fields()
                .await?
                .into_iter()
                .map(|(key, ..)| key)
                .collect();
            let unsynced: Vec<(&str, String)> = PersonSetting::ALL
                .into_iter()
                .filter(|s| !known.iter().any(|k| k == s.key()))
                .filter(|s| s.value_json(&current) != s.value_json(&defaults))
                .map(|s| (s.key(), s.value_json(&current)))
                .collect();
            store.edit_settings(&unsynced, now_ms).await?;
            self.adopt_synced(store).await
        };
        if let Err(error) = outcome.await {
            tracing::warn!(%error, "the synced settings could not be read; the settings file stands");
        }
    }
}

/// Puts each known, valid value of `fields` (`(key, value JSON, stamp)` from the field table) into `current`.
/// Each is checked on its own against the settings as they stand, so one bad value refuses only itself.
fn adopt(current: &mut Settings, fields: &[(String, String, auren_store::Stamp)]) -> Adoption {
    let mut adoption = Adoption::default();
    for (key, json, stamp) in fields {
        // A newer device's setting stays in the table for the build that knows it.
        let Some(setting) = PersonSetting::parse(key) else {
            continue;
        };
        let mut candidate = current.clone();
        let checked = match setting.set(&mut candidate, json) {
            Err(problem) => Err((format!("setting {}: {problem}", setting.key()), problem)),
            Ok(()) => settings::validate_person(&candidate).map_err(|e| {
                let problem = match &e {
                    DesktopError::InvalidSettings { problem, .. } => problem.clone(),
                    other => other.to_string(),
                };
                (e.to_string(), problem)
            }),
        };
        match checked {
            Err((reason, problem)) => adoption.refused.push(RefusedSetting {
                setting,
                value: json.clone(),
                reason,
                problem,
                stamp: stamp.clone(),
            }),
            Ok(()) if candidate != *current => {
                *current = candidate;
                adoption.adopted.push(setting);
            }
            Ok(()) => {}
        }
    }
    adoption
}

/// Writes the person's settings that differ between `before` and `after` to the field table with their
/// outbox rows (one transaction); unchanged ones and the device's settings write nothing.
pub(crate) async fn record_edits(
    store: &Store,
    before: &Settings,
    after: &Settings,
    now_ms: i64,
) -> Result<(), DesktopError> {
    let changed: Vec<(&str, String)> = PersonSetting::ALL
        .into_iter()
        .filter(|s| s.value_json(before) != s.value_json(after))
        .map(|s| (s.key(), s.value_json(after)))
        .collect();
    if !changed.is_empty() {
        store.edit_settings(&changed, now_ms).await?;
    }
    Ok(())
}

impl Desktop {
    /// Adopts the person's settings as the field table holds them now (the sync loop does this after each
    /// round that pulled something, and the app at start); returns what changed and what was refused.
    pub async fn adopt_synced_settings(&self) -> Result<Adoption, DesktopError> {
        let store = self.store().await;
        self.settings.adopt_synced(&store).await
    }
}
