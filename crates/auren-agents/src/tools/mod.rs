//! The one tool registry, used by the specialists and by the MCP server: names, argument types (their JSON
//! schemas are generated with schemars), and the computations over the person's data, each returning its
//! result and receipts.
//!
//! Layout: `args.rs` holds every tool's argument type (the schema's source), `days.rs` the calendar words
//! the tools accept, `receipts.rs` receipt ids and builders, and one module per family of tools
//! (`readiness.rs`: get_readiness, get_trend; `sessions.rs`: list_sessions, get_session, get_alerts;
//! `compare.rs`: compare_periods, tag_effect; `memory.rs`: recall, remember, retract; `hypotheses.rs`:
//! propose_hypothesis, list_hypotheses). `tags.rs` reads which days carry a tag; `panels.rs` a session's HRV
//! panel, stored once computed (get_session, and get_trend of panel metrics).

pub mod args;
mod compare;
pub mod days;
pub(crate) mod hypotheses;
mod memory;
mod panels;
mod readiness;
pub mod receipts;
mod sessions;
pub mod tags;

use std::sync::Arc;

use auren_clock::Clock;
use auren_engine::dto::SessionEndDto;
use auren_store::{RecordingHere, Store};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

use crate::receipt::Receipt;
use receipts::ReceiptIds;

pub use compare::MAX_LAG_DAYS;
pub use memory::MemoryWrites;

/// The result of one tool call: the JSON the model (or MCP client) sees, and the receipts of the numbers in it.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    pub content: serde_json::Value,
    pub receipts: Vec<Receipt>,
}

/// A tool call that could not run; the message goes back to the model as the tool result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("unknown tool {0:?}")]
    Unknown(String),
    #[error("bad arguments for {tool}: {message}")]
    BadArguments { tool: String, message: String },
    #[error("{tool} failed: {source}")]
    Store {
        tool: String,
        #[source]
        source: auren_store::StoreError,
    },
    /// An engine query failed (a missing session, a span too long for the daily series, the database).
    #[error("{tool} failed: {source}")]
    Engine {
        tool: String,
        #[source]
        source: auren_engine::EngineError,
    },
    /// The data needed is not there (too few mornings, an unknown tag); the text says what is missing.
    #[error("{tool}: {message}")]
    NotEnoughData { tool: String, message: String },
}

impl ToolError {
    pub(crate) fn bad(tool: ToolName, message: impl Into<String>) -> Self {
        Self::BadArguments {
            tool: tool.as_str().to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn store(tool: ToolName) -> impl FnOnce(auren_store::StoreError) -> Self {
        move |source| Self::Store {
            tool: tool.as_str().to_owned(),
            source,
        }
    }

    pub(crate) fn engine(tool: ToolName) -> impl FnOnce(auren_engine::EngineError) -> Self {
        move |source| Self::Engine {
            tool: tool.as_str().to_owned(),
            source,
        }
    }

    pub(crate) fn not_enough(tool: ToolName, message: impl Into<String>) -> Self {
        Self::NotEnoughData {
            tool: tool.as_str().to_owned(),
            message: message.into(),
        }
    }
}

/// Every tool, by its wire name (part of the public interface: MCP clients and models see these).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToolName {
    GetReadiness,
    GetTrend,
    ListSessions,
    GetSession,
    GetAlerts,
    ComparePeriods,
    TagEffect,
    Recall,
    Remember,
    Retract,
    ProposeHypothesis,
    ListHypotheses,
}

impl ToolName {
    pub const ALL: [Self; 12] = [
        Self::GetReadiness,
        Self::GetTrend,
        Self::ListSessions,
        Self::GetSession,
        Self::GetAlerts,
        Self::ComparePeriods,
        Self::TagEffect,
        Self::Recall,
        Self::Remember,
        Self::Retract,
        Self::ProposeHypothesis,
        Self::ListHypotheses,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::GetReadiness => "get_readiness",
            Self::GetTrend => "get_trend",
            Self::ListSessions => "list_sessions",
            Self::GetSession => "get_session",
            Self::GetAlerts => "get_alerts",
            Self::ComparePeriods => "compare_periods",
            Self::TagEffect => "tag_effect",
            Self::Recall => "recall",
            Self::Remember => "remember",
            Self::Retract => "retract",
            Self::ProposeHypothesis => "propose_hypothesis",
            Self::ListHypotheses => "list_hypotheses",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Whether the tool changes what is stored (memories, hypotheses) rather than only reading.
    pub fn writes(self) -> bool {
        matches!(self, Self::Remember | Self::Retract | Self::ProposeHypothesis)
    }

    fn description(self) -> &'static str {
        match self {
            Self::GetReadiness => {
                "A day's morning readiness: that morning's lnRMSSD and RMSSD, the 7-day mean against the \
                 normal range (60-day mean ± 0.5 SD), CV, trend, verdict and resting HR. Default day: today."
            }
            Self::GetTrend => {
                "Daily morning values of a metric over a period — the reading's lnRMSSD, RMSSD or resting HR, \
                 or any HRV panel metric of the morning's session — each day with the metric's normal-range \
                 band (60-day mean ± 0.5 SD) and the 7-day mean lnRMSSD, and the period's mean, min, max and \
                 slope."
            }
            Self::ListSessions => {
                "The most recent recorded sessions: id, start, end (ended at a time, still recording, or no \
                 end recorded with the last beat's time), kind, duration, beats, artifacts."
            }
            Self::GetSession => {
                "One session: its end (ended at a time, still recording, or no end recorded with the last \
                 beat's time), the full HRV panel of its corrected beats (time, frequency, nonlinear), its \
                 gaps and the alerts it raised."
            }
            Self::GetAlerts => {
                "Alerts fired in a period (default: the last 7 days), with the rule, message and the \
                 values that made it fire."
            }
            Self::ComparePeriods => {
                "A morning metric in two periods: means, difference, Welch's t-test and Mann-Whitney U \
                 (two-sided p), Cohen's d and Hedges' g, and n of each."
            }
            Self::TagEffect => {
                "A morning metric on days after a day tagged with a tag (lag 0-2 days) against all other \
                 days: means, difference, Welch's t, Mann-Whitney U, effect size, n."
            }
            Self::Recall => "Search the person's memories (facts, preferences, goals, milestones, insights).",
            Self::Remember => "Store a memory the person stated or agreed to (a fact, preference or goal).",
            Self::Retract => "Mark a memory as no longer true (history is kept), with the reason.",
            Self::ProposeHypothesis => {
                "Record a hypothesis ('alcohol lowers my next-morning HRV'): metric, exposure tag, lag, \
                 test, alpha, minimum n. Its status is computed from the data at once and on new mornings."
            }
            Self::ListHypotheses => "The recorded hypotheses with their computed status and evidence.",
        }
    }
}

/// A tool as offered to a model or MCP client: its name, what it does, and the raw schemars schema of its
/// arguments (transform with [`crate::schema::for_provider`] before sending it to a provider).
#[derive(Clone, Debug, PartialEq)]
pub struct ToolSpec {
    pub name: ToolName,
    pub description: &'static str,
    pub schema: serde_json::Value,
}

/// The tools over one person's store. Cheap to clone; shared by the turn loop and the MCP server.
#[derive(Clone)]
pub struct Toolbox {
    store: Store,
    clock: Arc<dyn Clock>,
    ids: Arc<ReceiptIds>,
    memory_writes: MemoryWrites,
    recording_here: RecordingHere,
}

impl std::fmt::Debug for Toolbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox").finish_non_exhaustive()
    }
}

fn schema_of<T: JsonSchema>() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}

impl Toolbox {
    pub fn new(store: Store, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            ids: Arc::new(ReceiptIds::new()),
            memory_writes: MemoryWrites::Apply,
            recording_here: RecordingHere::Nothing,
        }
    }

    /// The same toolbox knowing which session the app it serves is recording: the tools say that one is
    /// recording however long its strap is silent, as the app's History does (set from the app's live
    /// state when the toolbox is built; by default nothing is recorded here).
    pub fn with_recording_here(mut self, here: RecordingHere) -> Self {
        self.recording_here = here;
        self
    }

    /// Where session `row` stands by the toolbox's clock.
    pub(crate) fn session_end(&self, row: &auren_store::SessionRow) -> SessionEndDto {
        SessionEndDto::of(row, self.clock.now().0, self.recording_here)
    }

    /// The same toolbox with remember/retract applying at once or only proposing (the person's setting).
    pub fn with_memory_writes(mut self, writes: MemoryWrites) -> Self {
        self.memory_writes = writes;
        self
    }

    pub fn memory_writes(&self) -> MemoryWrites {
        self.memory_writes
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Today's UTC day number by the toolbox's clock.
    pub fn today(&self) -> i64 {
        self.clock.now().day_number()
    }

    pub(crate) fn ids(&self) -> &ReceiptIds {
        &self.ids
    }

    /// Every tool with its raw argument schema.
    pub fn specs(&self) -> Vec<ToolSpec> {
        all_specs()
    }

    /// Runs tool `name` on `args` (a JSON object; `null` counts as `{}`).
    pub async fn call(&self, name: &str, args: serde_json::Value) -> Result<ToolOutput, ToolError> {
        let tool = ToolName::parse(name).ok_or_else(|| ToolError::Unknown(name.to_owned()))?;
        let args = if args.is_null() {
            serde_json::json!({})
        } else {
            args
        };
        match tool {
            ToolName::GetReadiness => readiness::get_readiness(self, parse(tool, args)?).await,
            ToolName::GetTrend => readiness::get_trend(self, parse(tool, args)?).await,
            ToolName::ListSessions => sessions::list_sessions(self, parse(tool, args)?).await,
            ToolName::GetSession => sessions::get_session(self, parse(tool, args)?).await,
            ToolName::GetAlerts => sessions::get_alerts(self, parse(tool, args)?).await,
            ToolName::ComparePeriods => compare::compare_periods(self, parse(tool, args)?).await,
            ToolName::TagEffect => compare::tag_effect(self, parse(tool, args)?).await,
            ToolName::Recall => memory::recall(self, parse(tool, args)?).await,
            ToolName::Remember => memory::remember(self, parse(tool, args)?).await,
            ToolName::Retract => memory::retract(self, parse(tool, args)?).await,
            ToolName::ProposeHypothesis => hypotheses::propose(self, parse(tool, args)?).await,
            ToolName::ListHypotheses => hypotheses::list(self, parse(tool, args)?).await,
        }
    }
}

/// Every tool's spec; the schemas do not depend on a store.
pub fn all_specs() -> Vec<ToolSpec> {
    ToolName::ALL
        .into_iter()
        .map(|name| ToolSpec {
            name,
            description: name.description(),
            schema: match name {
                ToolName::GetReadiness => schema_of::<args::GetReadiness>(),
                ToolName::GetTrend => schema_of::<args::GetTrend>(),
                ToolName::ListSessions => schema_of::<args::ListSessions>(),
                ToolName::GetSession => schema_of::<args::GetSession>(),
                ToolName::GetAlerts => schema_of::<args::GetAlerts>(),
                ToolName::ComparePeriods => schema_of::<args::ComparePeriods>(),
                ToolName::TagEffect => schema_of::<args::TagEffect>(),
                ToolName::Recall => schema_of::<args::Recall>(),
                ToolName::Remember => schema_of::<args::Remember>(),
                ToolName::Retract => schema_of::<args::Retract>(),
                ToolName::ProposeHypothesis => schema_of::<args::ProposeHypothesis>(),
                ToolName::ListHypotheses => schema_of::<args::ListHypotheses>(),
            },
        })
        .collect()
}

fn parse<T: DeserializeOwned>(tool: ToolName, args: serde_json::Value) -> Result<T, ToolError> {
    serde_json::from_value(args).map_err(|e| ToolError::bad(tool, e.to_string()))
}
