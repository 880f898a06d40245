//! [`Desktop`]: the façade every Tauri command calls in one line. It owns the open store, the settings,
//! the rules and the one live session, and turns the engine's answers into the UI's DTOs.

use auren_cep::{Baselines, RuleSet, SessionKind};
use auren_engine::dto::{BeatDto, MorningResultDto, ReadinessDto, SessionDetailDto, SessionSummaryDto};
use auren_engine::{SessionConfig, StrapIdentity, morning, query, start_session};
use auren_store::{SessionId, Store};
use std::path::{Path, PathBuf};
use std::sync::Mutex as StdMutex;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::{RwLock, oneshot};
use tokio_util::sync::CancellationToken;

use crate::dto::*;
use crate::error::DesktopError;
use crate::live::{self, Running, Slot, UpdateSink};
use crate::places::{DB_FILE, Folders};
use crate::settings::{self, Settings, SettingsBackend};

/// How long a scan may be asked to run, s.
pub const MAX_SCAN_S: u32 = 60;
/// Most days of readiness trend one query returns.
pub const MAX_TREND_DAYS: u32 = 3_650;
/// Most sessions one page of the list returns.
pub const MAX_PAGE: u32 = 500;

/// The app's state behind the commands.
pub struct Desktop {
    folders: Folders,
    store: RwLock<Store>,
    settings: StdMutex<Settings>,
    backend: Box<dyn SettingsBackend>,
    live: Slot,
    /// Cancelled when the app quits: every running session stops and is stored.
    shutdown: CancellationToken,
    version: String,
}

/// Now, Unix ms (the façade is glue: the pure cores get time passed in, from here).
pub fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The day a moment counts for (UTC calendar days since 1970-01-01, as the CLI stores readings).
fn day_of(unix_ms: i64) -> i64 {
    unix_ms.div_euclid(86_400_000)
}

impl Desktop {
    /// Loads the settings, opens (creating and migrating) the database in the data folder.
    pub async fn open(
        folders: Folders,
        backend: Box<dyn SettingsBackend>,
        version: impl Into<String>,
    ) -> Result<Self, DesktopError> {
        let settings = settings::load(backend.as_ref());
        let data_dir = folders.data_dir(settings.data_dir.as_deref());
        let store = Store::open(&data_dir.join(DB_FILE)).await?;
        tracing::info!(data_dir = %data_dir.display(), "database open");
        Ok(Self {
            folders,
            store: RwLock::new(store),
            settings: StdMutex::new(settings),
            backend,
            live: Slot::default(),
            shutdown: CancellationToken::new(),
            version: version.into(),
        })
    }

    fn settings(&self) -> Settings {
        // A poisoned lock only means a panic elsewhere mid-update; the value is still a whole Settings.
        match self.settings.lock() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings, DesktopError> {
        let mut guard = match self.settings.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut next = guard.clone();
        change(&mut next);
        settings::save(self.backend.as_ref(), &next)?;
        *guard = next.clone();
        Ok(next)
    }

    async fn store(&self) -> Store {
        self.store.read().await.clone()
    }

    fn data_dir(&self) -> PathBuf {
        self.folders.data_dir(self.settings().data_dir.as_deref())
    }

    pub fn export_dir(&self) -> PathBuf {
        self.folders.export_dir(self.settings().export_dir.as_deref())
    }

    pub fn log_dir(&self) -> PathBuf {
        self.folders.log_dir.clone()
    }

    // --- app ---------------------------------------------------------------------------------------

    pub fn app_info(&self) -> AppInfoDto {
        let data_dir = self.data_dir();
        AppInfoDto {
            version: self.version.clone(),
            db_path: data_dir.join(DB_FILE).display().to_string(),
            data_dir: data_dir.display().to_string(),
            log_dir: self.folders.log_dir.display().to_string(),
            export_dir: self.export_dir().display().to_string(),
        }
    }

    /// Stops the running session (stored, as on a normal stop); called when the app quits.
    pub async fn shut_down(&self) {
        self.shutdown.cancel();
        let running = self.live.lock().await.take();
        if let Some(running) = running {
            live::log_end(running.session.finish().await);
        }
    }

    // --- Bluetooth and straps ----------------------------------------------------------------------

    pub async fn bluetooth_status(&self) -> BluetoothDto {
        use auren_strap::ble::{self, BleError};
        let status = |state, message: &str| BluetoothDto {
            state,
            message: message.to_owned(),
        };
        let adapters = match ble::adapters().await {
            Ok(adapters) => adapters,
            Err(BleError::Stack {
                source: btleplug_error,
                ..
            }) if btleplug_error.to_string().to_lowercase().contains("permission") => {
                return status(
                    BluetoothState::PermissionDenied,
                    "Auren may not use Bluetooth. Allow it in your system settings, or use the simulator.",
                );
            }
            Err(error) => {
                tracing::info!(%error, "Bluetooth unavailable");
                return status(
                    BluetoothState::Unavailable,
                    "Bluetooth is not available on this computer (the Bluetooth service is not running). \
                     Start it, or use the built-in simulator.",
                );
            }
        };
        if adapters.is_empty() {
            return status(
                BluetoothState::NoAdapter,
                "This computer has no Bluetooth adapter. Plug one in, or use the built-in simulator.",
            );
        }
        match ble::adapter_powered(0).await {
            Ok(true) => status(
                BluetoothState::Ready,
                "Bluetooth is on. Put your strap on and scan.",
            ),
            Ok(false) => status(
                BluetoothState::Off,
                "Bluetooth is switched off. Switch it on in your system settings, then scan.",
            ),
            Err(error) => {
                tracing::info!(%error, "adapter state unknown");
                status(
                    BluetoothState::Ready,
                    "Bluetooth adapter found. Put your strap on and scan.",
                )
            }
        }
    }

    pub async fn scan_straps(&self, seconds: u32) -> Result<Vec<FoundStrapDto>, DesktopError> {
        if !(1..=MAX_SCAN_S).contains(&seconds) {
            return Err(DesktopError::InvalidInput(format!(
                "a scan lasts 1–{MAX_SCAN_S} s, not {seconds} s"
            )));
        }
        let found = auren_strap::ble::scan(0, std::time::Duration::from_secs(seconds.into())).await?;
        let remembered = self.settings().remembered_straps;
        Ok(found
            .into_iter()
            .map(|s| FoundStrapDto {
                remembered: remembered.iter().any(|r| r.address == s.address),
                address: s.address,
                name: s.name,
                rssi: s.rssi,
            })
            .collect())
    }

    pub fn remembered_straps(&self) -> Vec<RememberedStrapDto> {
        self.settings().remembered_straps
    }

    pub fn remember_strap(&self, address: &str, name: &str) -> Result<Vec<RememberedStrapDto>, DesktopError> {
        let address = address.trim();
        if address.is_empty() {
            return Err(DesktopError::InvalidInput("the strap address is empty".into()));
        }
        let name = if name.trim().is_empty() {
            address
        } else {
            name.trim()
        };
        let next = self.update_settings(|s| {
            s.remembered_straps.retain(|r| r.address != address);
            s.remembered_straps.insert(
                0,
                RememberedStrapDto {
                    address: address.to_owned(),
                    name: name.to_owned(),
                    last_used_unix_ms: None,
                },
            );
        })?;
        Ok(next.remembered_straps)
    }

    pub fn forget_strap(&self, address: &str) -> Result<Vec<RememberedStrapDto>, DesktopError> {
        Ok(self
            .update_settings(|s| s.remembered_straps.retain(|r| r.address != address))?
            .remembered_straps)
    }

    // --- live sessions -----------------------------------------------------------------------------

    async fn rules_and_baselines(
        &self,
        store: &Store,
        now: i64,
    ) -> Result<(RuleSet, Baselines), DesktopError> {
        let rules = self.rules_text()?;
        // `check` lists every problem where `compile` stops at the first.
        let rules = auren_cep::compile(&rules.text)
            .map_err(|_| DesktopError::InvalidRules(self.check_rules(&rules.text)))?;
        let baselines = Baselines::from(&query::baselines(store, day_of(now)).await?);
        Ok((rules, baselines))
    }

    async fn begin(
        &self,
        choice: &SourceChoiceDto,
        kind: SessionKindDto,
        morning: Option<u64>,
        sink: UpdateSink,
        done: Option<oneshot::Sender<()>>,
    ) -> Result<LiveStartedDto, DesktopError> {
        let mut slot = self.live.lock().await;
        if let Some(running) = slot.as_ref() {
            return Err(DesktopError::SessionRunning(running.info.session_id));
        }
        let store = self.store().await;
        let now = now_unix_ms();
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        // A new seed per session: two simulated sessions are two different (reproducible) hearts.
        let seed = u64::try_from(now).unwrap_or(0);
        let (source, simulated) = live::source(choice, seed)?;
        let label = live::source_label(choice);
        let session_kind = match (morning, kind) {
            (Some(_), _) => SessionKind::Morning,
            (None, SessionKindDto::Rest) => SessionKind::Rest,
            (None, SessionKindDto::Exercise) => SessionKind::Exercise,
            (None, SessionKindDto::Breathing) => SessionKind::Breathing,
            (None, SessionKindDto::Other) => SessionKind::Other,
        };
        let mut config = SessionConfig::new(session_kind, now, rules, baselines);
        config.max_duration_ms = morning;
        config.source_label = Some(label.clone());
        if let SourceChoiceDto::Strap { address, name } = choice {
            config.strap = Some(StrapIdentity {
                address: address.clone(),
                name: name.clone(),
            });
        }
        let cancel = self.shutdown.child_token();
        let mut session = start_session(&store, source, config, cancel.clone()).await?;
        let info = LiveStartedDto {
            session_id: session.session_id(),
            source_label: label,
            simulated,
            kind,
            started_at_unix_ms: now,
        };
        let fresh = session.subscribe();
        let updates = std::mem::replace(&mut session.updates, fresh);
        live::forward(updates, sink, self.live.clone(), info.session_id, done);
        if let SourceChoiceDto::Strap { address, .. } = choice {
            let address = address.clone();
            self.update_settings(|s| {
                if let Some(r) = s.remembered_straps.iter_mut().find(|r| r.address == address) {
                    r.last_used_unix_ms = Some(now);
                }
            })?;
        }
        tracing::info!(session_id = info.session_id, source = %info.source_label, "session started");
        *slot = Some(Running {
            session,
            info: info.clone(),
            cancel,
            morning: morning.is_some(),
        });
        Ok(info)
    }

    pub async fn start_live(
        &self,
        choice: SourceChoiceDto,
        kind: SessionKindDto,
        sink: UpdateSink,
    ) -> Result<LiveStartedDto, DesktopError> {
        self.begin(&choice, kind, None, sink, None).await
    }

    /// Sends the running session's updates to `sink` from now on (a reloaded window re-attaching).
    pub async fn watch_live(&self, sink: UpdateSink) -> Result<LiveStartedDto, DesktopError> {
        let slot = self.live.lock().await;
        let running = slot.as_ref().ok_or(DesktopError::NoLiveSession)?;
        live::forward(
            running.session.subscribe(),
            sink,
            self.live.clone(),
            running.info.session_id,
            None,
        );
        Ok(running.info.clone())
    }

    pub async fn live_status(&self) -> Option<LiveStartedDto> {
        self.live.lock().await.as_ref().map(|r| r.info.clone())
    }

    pub async fn stop_live(&self) -> Result<SessionSummaryDto, DesktopError> {
        let running = self.live.lock().await.take().ok_or(DesktopError::NoLiveSession)?;
        let id = running.info.session_id;
        running.cancel.cancel();
        if !running.morning {
            live::log_end(running.session.stop().await);
        } else {
            // The waiting morning command finds the slot empty and reports the reading as incomplete.
            live::log_end(running.session.finish().await);
        }
        self.session_summary(id).await
    }

    pub async fn tag_live(&self, tag: &str) -> Result<(), DesktopError> {
        let tag = tag.trim();
        if tag.is_empty() || tag.chars().count() > 64 {
            return Err(DesktopError::InvalidInput("a tag has 1–64 characters".into()));
        }
        let slot = self.live.lock().await;
        let running = slot.as_ref().ok_or(DesktopError::NoLiveSession)?;
        Ok(running.session.tag(tag).await?)
    }

    /// The guided 3-minute reading: resolves when it is done and stored as today's reading.
    pub async fn start_morning(
        &self,
        choice: SourceChoiceDto,
        sink: UpdateSink,
    ) -> Result<MorningResultDto, DesktopError> {
        let (done, ended) = oneshot::channel();
        let info = self
            .begin(
                &choice,
                SessionKindDto::Rest,
                Some(morning::MORNING_READING_MS),
                sink,
                Some(done),
            )
            .await?;
        // Either the reading ends by itself (the forwarder saw the last update) or stop_live took it.
        let _ = ended.await;
        let running = {
            let mut slot = self.live.lock().await;
            match slot.as_ref() {
                Some(r) if r.info.session_id == info.session_id => slot.take(),
                _ => None,
            }
        };
        let Some(running) = running else {
            let reached = self
                .session_summary(info.session_id)
                .await?
                .duration_s
                .unwrap_or(0.0);
            return Err(DesktopError::ReadingIncomplete {
                reached_s: reached as i64,
                needed_s: (morning::MORNING_READING_MS / 1000) as i64,
            });
        };
        let summary = running.session.finish().await?;
        let store = self.store().await;
        Ok(morning::complete(&store, &summary, day_of(info.started_at_unix_ms)).await?)
    }

    // --- history -----------------------------------------------------------------------------------

    pub async fn readiness_today(&self) -> Result<ReadinessDto, DesktopError> {
        let store = self.store().await;
        Ok(query::readiness_on(&store, day_of(now_unix_ms())).await?)
    }

    pub async fn daily_trend(&self, days: u32) -> Result<Vec<ReadinessDto>, DesktopError> {
        if !(1..=MAX_TREND_DAYS).contains(&days) {
            return Err(DesktopError::InvalidInput(format!(
                "a trend covers 1–{MAX_TREND_DAYS} days, not {days}"
            )));
        }
        let today = day_of(now_unix_ms());
        let store = self.store().await;
        Ok(query::daily_trend(&store, today - i64::from(days) + 1, today).await?)
    }

    pub async fn list_sessions(
        &self,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<SessionSummaryDto>, DesktopError> {
        let store = self.store().await;
        Ok(query::sessions(&store, limit.clamp(1, MAX_PAGE), offset).await?)
    }

    async fn session_summary(&self, id: i64) -> Result<SessionSummaryDto, DesktopError> {
        let store = self.store().await;
        let row = store
            .session(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        Ok(query::session_summary(&row))
    }

    pub async fn session_detail(&self, id: i64) -> Result<SessionDetailDto, DesktopError> {
        let store = self.store().await;
        Ok(query::session_detail(&store, id).await?)
    }

    pub async fn session_charts(&self, id: i64) -> Result<SessionChartsDto, DesktopError> {
        let store = self.store().await;
        let detail = store
            .session_detail(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        let beats = detail
            .beats
            .iter()
            .map(|b| BeatDto {
                at_ms: b.t_ms,
                rr_ms: b.rr_ms,
                artifact: b.artifact.clone(),
            })
            .collect();
        let (spectrum, spectrum_absent) = match spectrum_of(&query::corrected_nn(&detail.beats, &detail.gaps))
        {
            Ok(s) => (Some(s), None),
            Err(why) => (None, Some(why)),
        };
        Ok(SessionChartsDto {
            beats,
            spectrum,
            spectrum_absent,
        })
    }

    // --- rules -------------------------------------------------------------------------------------

    pub fn rules_text(&self) -> Result<RulesDto, DesktopError> {
        let path = self.folders.rules_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(RulesDto {
                text,
                is_default: false,
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(RulesDto {
                text: auren_cep::DEFAULT_RULES.to_owned(),
                is_default: true,
            }),
            Err(source) => Err(DesktopError::Io {
                what: "reading the rules",
                path,
                source,
            }),
        }
    }

    pub fn check_rules(&self, text: &str) -> Vec<RuleProblemDto> {
        match auren_cep::check(text) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(problem).collect(),
        }
    }

    /// Saves edited rules once they compile; they apply to the next session.
    pub fn save_rules(&self, text: &str) -> Result<RulesDto, DesktopError> {
        let problems = self.check_rules(text);
        if !problems.is_empty() {
            return Err(DesktopError::InvalidRules(problems));
        }
        let path = self.folders.rules_path();
        write_atomically(&path, text.as_bytes(), "saving the rules")?;
        self.rules_text()
    }

    pub fn reset_rules(&self) -> Result<RulesDto, DesktopError> {
        let path = self.folders.rules_path();
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(DesktopError::Io {
                    what: "removing the edited rules",
                    path,
                    source,
                });
            }
        }
        self.rules_text()
    }

    // --- settings ----------------------------------------------------------------------------------

    pub fn get_settings(&self) -> SettingsDto {
        self.settings().to_dto(&self.data_dir(), &self.export_dir())
    }

    /// Saves validated settings. A new data folder takes the database along: it is copied there
    /// consistently (SQLite `VACUUM INTO`) unless that folder already holds one, and used from now on.
    pub async fn save_settings(&self, dto: SettingsDto) -> Result<SettingsDto, DesktopError> {
        settings::validate(&dto)?;
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
        self.update_settings(|s| {
            s.theme = dto.theme;
            s.rr_unit = dto.rr_unit;
            s.max_hr = dto.max_hr;
            s.zones_pct = dto.zones_pct.clone();
            s.data_dir = (new_data != default_data).then_some(new_data);
            s.export_dir = (new_export != default_export).then_some(new_export);
        })?;
        Ok(self.get_settings())
    }

    async fn move_database(&self, to_dir: &Path) -> Result<(), DesktopError> {
        let live = self.live.lock().await;
        if let Some(running) = live.as_ref() {
            return Err(DesktopError::SessionRunning(running.info.session_id));
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

    // --- import and export -------------------------------------------------------------------------

    pub async fn import_recording(&self, path: &Path) -> Result<ImportedDto, DesktopError> {
        let store = self.store().await;
        let now = now_unix_ms();
        let (rules, baselines) = self.rules_and_baselines(&store, now).await?;
        let config = auren_engine::import::ImportConfig {
            started_at_unix_ms: now,
            rules,
            baselines,
            kind: SessionKind::Other,
        };
        let imported = auren_engine::import::import_recording(&store, path, config)
            .await
            .map_err(|e| DesktopError::Import {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(ImportedDto {
            session_id: imported.session_id,
            format: imported.format.as_str().to_owned(),
            beats: imported.beats,
            artifacts: imported.artifacts,
            warnings: imported.warnings,
        })
    }

    pub async fn export_session(&self, id: i64, format: ExportFormat) -> Result<ExportedDto, DesktopError> {
        let store = self.store().await;
        let detail = store
            .session_detail(SessionId(id))
            .await?
            .ok_or(DesktopError::NoSuchSession(id))?;
        let panel = query::session_detail(&store, id).await?;
        let dir = self.export_dir();
        crate::export::write(&dir, &detail, &panel, format)
    }
}

/// A rule problem where the editor shows it.
fn problem(e: &auren_cep::RuleError) -> RuleProblemDto {
    RuleProblemDto {
        line: u32::try_from(e.line).unwrap_or(u32::MAX),
        column: u32::try_from(e.column).unwrap_or(u32::MAX),
        rule: e.rule.clone(),
        message: e.kind.to_string(),
    }
}

/// The Welch spectrum of the corrected intervals, joined across gaps exactly as the session panel's
/// frequency domain joins them, so the chart and the numbers agree.
pub(crate) fn spectrum_of(segments: &[Vec<f64>]) -> Result<SpectrumDto, String> {
    use auren_hrv::frequency::{HF, LF, VLF, welch_psd};
    let nn = segments.concat();
    let psd = welch_psd(&nn).map_err(|why| why.to_string())?;
    let n = psd.density.len();
    let freq_hz: Vec<f64> = (0..n).map(|k| psd.frequency(k)).collect();
    let keep = freq_hz.iter().take_while(|f| **f <= 0.5).count();
    let bands = [("vlf", VLF), ("lf", LF), ("hf", HF)]
        .into_iter()
        .map(|(name, band)| BandDto {
            name: name.to_owned(),
            lo_hz: band.lo,
            hi_hz: band.hi,
        })
        .collect();
    Ok(SpectrumDto {
        freq_hz: freq_hz[..keep].to_vec(),
        power_ms2_hz: psd.density[..keep].to_vec(),
        method: "welch".to_owned(),
        bands,
    })
}

/// Writes `bytes` to `path` through a temporary file and a rename, so a crash never leaves half a file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8], what: &'static str) -> Result<(), DesktopError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DesktopError::Io { what, path, source }
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    let tmp = path.with_extension("partial");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}
