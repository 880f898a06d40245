//! The desktop's own IPC types (the engine's live/session/readiness DTOs are re-used as they are): what the
//! commands take and return, with `specta::Type` so the TypeScript bindings are generated from them.

pub use auren_engine::dto::SessionKindDto;
use serde::{Deserialize, Serialize};
use specta::Type;

/// Version and the folders the app uses, for the settings view and "open folder" buttons.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct AppInfoDto {
    pub version: String,
    pub data_dir: String,
    pub db_path: String,
    pub log_dir: String,
    pub export_dir: String,
}

/// Whether Bluetooth can be used, in the person's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum BluetoothState {
    Ready,
    NoAdapter,
    Off,
    PermissionDenied,
    /// The Bluetooth service itself cannot be reached (BlueZ not running, no system bus).
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct BluetoothDto {
    pub state: BluetoothState,
    /// A full sentence for the person: what is wrong and what to do.
    pub message: String,
}

/// A strap seen while scanning.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct FoundStrapDto {
    pub address: String,
    pub name: Option<String>,
    /// Signal strength, dBm.
    pub rssi: Option<i16>,
    pub remembered: bool,
}

/// A strap the person chose to remember (connected to first next time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RememberedStrapDto {
    pub address: String,
    pub name: String,
    pub last_used_unix_ms: Option<i64>,
}

/// The simulator's physiological scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioDto {
    Rest,
    Fatigued,
    Exercise,
    Breathing,
}

/// Where the beats of a live session come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceChoiceDto {
    Strap {
        address: String,
        name: String,
    },
    /// The built-in simulator ("Simulated strap"): `speed` timeline seconds per wall second.
    Simulator {
        scenario: ScenarioDto,
        speed: f64,
    },
}

/// The live session that is running.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct LiveStartedDto {
    pub session_id: i64,
    pub source_label: String,
    /// True for the simulator: the UI labels everything it shows "Simulated strap".
    pub simulated: bool,
    /// `morning` for the guided reading; what the person chose otherwise.
    pub kind: SessionKindDto,
    pub started_at_unix_ms: i64,
}

/// The frequency bands of short-term HRV (Task Force 1996).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum BandNameDto {
    Vlf,
    Lf,
    Hf,
}

/// A source being monitored: its updates stream, nothing is stored until a session starts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct MonitorDto {
    pub source_label: String,
    /// True for the simulator: the UI labels everything it shows "Simulated strap".
    pub simulated: bool,
}

/// One frequency band of the spectrum.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct BandDto {
    pub name: BandNameDto,
    pub lo_hz: f64,
    pub hi_hz: f64,
}

/// How a power spectrum was estimated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum SpectrumMethodDto {
    /// Welch's averaged periodogram of the 4 Hz resampled series (the session charts use this).
    Welch,
    /// Lomb–Scargle on the unevenly spaced intervals.
    LombScargle,
}

/// The power spectral density of a session's corrected intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SpectrumDto {
    pub freq_hz: Vec<f64>,
    pub power_ms2_hz: Vec<f64>,
    pub method: SpectrumMethodDto,
    pub bands: Vec<BandDto>,
}

/// What the session charts draw: every stored beat and the spectrum (when the session is long enough).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SessionChartsDto {
    pub beats: Vec<auren_engine::dto::BeatDto>,
    pub spectrum: Option<SpectrumDto>,
    /// Why there is no spectrum.
    pub spectrum_absent: Option<auren_engine::dto::AbsentDto>,
}

pub use auren_engine::dto::SessionEndDto;

/// A session in the History list: the engine's summary and where its recording stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SessionListItemDto {
    #[serde(flatten)]
    pub summary: auren_engine::dto::SessionSummaryDto,
    pub end: SessionEndDto,
}

/// One session as its History view shows it: the panel, gaps and alerts, where its recording stands, and
/// whose it is (an athlete's is shown read-only).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SessionViewDto {
    #[serde(flatten)]
    pub detail: auren_engine::dto::SessionDetailDto,
    pub end: SessionEndDto,
    pub owner: HistoryOwnerDto,
    #[serde(flatten)]
    pub annotations: SessionAnnotationsDto,
}

/// A session's tags and note: part of its view, and what History's card reads again after an edit (without
/// the panel, which the view computes from every beat).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SessionAnnotationsDto {
    /// The moments the person tagged, in time order.
    pub tags: Vec<SessionTagDto>,
    /// The person's note on the session, if any.
    pub note: Option<String>,
}

/// A tag: a moment of a session the person marked (`at_ms` into the session, whole ms: a JSON number is never
/// NaN, so the UI gets a plain number) and named.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct SessionTagDto {
    pub id: i64,
    pub at_ms: i64,
    pub name: String,
}

/// A change to a tag of one of the person's own sessions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TagEditDto {
    Rename {
        name: String,
    },
    /// To `at_ms` (whole ms) into its session.
    Move {
        at_ms: i64,
    },
}

/// Whose data the History view shows: the account's own, or (as their coach) an athlete's, pulled by sync
/// and read-only on this device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HistoryOwnerDto {
    Own,
    Athlete { email: String },
}

impl HistoryOwnerDto {
    /// The owner of a stored session, from its `athlete` column.
    pub fn of(athlete: Option<&str>) -> Self {
        match athlete {
            None => Self::Own,
            Some(email) => Self::Athlete {
                email: email.to_owned(),
            },
        }
    }
}

/// The person's rules as the editor shows them, and what the live sessions run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RulesDto {
    pub text: String,
    pub running: RulesRunning,
    /// Why the person's rules do not run here, each at its place in `text` (empty unless `running` is
    /// [`RulesRunning::DefaultsInstead`]).
    pub problems: Vec<RuleProblemDto>,
}

/// Which rules the next live session runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RulesRunning {
    /// The shipped defaults: the person never edited them, or reset them.
    Defaults,
    /// The person's own rules.
    Edited,
    /// The person's rules do not compile with this build (written by a newer one, on another device or
    /// with `auren rules set`): the sessions run the defaults until they are fixed, and the editor says so.
    DefaultsInstead,
}

/// One problem in edited rules, at its place in the text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
pub struct RuleProblemDto {
    /// 1-based.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub rule: Option<String>,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ThemeDto {
    System,
    Light,
    Dark,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum RrUnitDto {
    Ms,
    S,
}

/// What the person can change in Settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct SettingsDto {
    pub theme: ThemeDto,
    pub rr_unit: RrUnitDto,
    pub max_hr: u16,
    /// Upper bounds of zones 1–4 in % of max HR, ascending (zone 5 runs to max HR).
    pub zones_pct: Vec<u8>,
    /// Where the database lives.
    pub data_dir: String,
    /// Where exports are written.
    pub export_dir: String,
}

/// The recording file formats an import recognises (the wire words are the engine's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Type)]
pub enum RecordingFormatDto {
    /// RR intervals in ms, one per line.
    #[serde(rename = "rr_ms")]
    RrMs,
    /// RR intervals in seconds, one per line (Kubios's RR text export).
    #[serde(rename = "rr_seconds")]
    RrSeconds,
    /// A delimited file with a header naming an RR or IBI column.
    #[serde(rename = "csv")]
    Csv,
    /// Two columns without a header: elapsed time, then RR (Polar Flow's RR export).
    #[serde(rename = "time_rr")]
    TimeRr,
    /// An `.hrmcap` capture of raw strap notifications.
    #[serde(rename = "hrmcap")]
    Hrmcap,
}

impl From<auren_engine::recording::Format> for RecordingFormatDto {
    fn from(f: auren_engine::recording::Format) -> Self {
        use auren_engine::recording::Format as F;
        match f {
            F::RrMs => Self::RrMs,
            F::KubiosSeconds => Self::RrSeconds,
            F::Csv => Self::Csv,
            F::TimeAndRr => Self::TimeRr,
            F::Capture => Self::Hrmcap,
        }
    }
}

/// A recording imported as a session.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ImportedDto {
    pub session_id: i64,
    pub format: RecordingFormatDto,
    pub beats: u64,
    pub artifacts: u64,
    /// Problems that did not stop the import (skipped notifications), one line each.
    pub warnings: Vec<String>,
}

/// The export formats of a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// `time_s,rr_ms,artifact` per beat.
    Csv,
    /// Kubios's RR text import: one interval per line, in seconds.
    KubiosRr,
    ReportPng,
    ReportSvg,
}

/// A file an export wrote.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ExportedDto {
    pub path: String,
    pub bytes: u64,
}
