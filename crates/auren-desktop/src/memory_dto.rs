//! The memory panel's IPC types ("What Auren knows about me"): memories with both timelines, pending
//! proposals, hypotheses with their status and evidence. Converted from `auren-store` types here, so the
//! store knows nothing of specta. Dates are formatted here (`YYYY-MM-DD`, UTC) so the window shows what
//! Rust computed.

use serde::{Deserialize, Serialize};
use specta::Type;

/// What kind of thing a memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum MemoryKindDto {
    Fact,
    Preference,
    Goal,
    Milestone,
    Insight,
    Hypothesis,
}

/// Where a memory came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ProvenanceDto {
    /// Said in a conversation on this device: the message's id.
    Message { message: i64 },
    /// Said in a conversation on another of the person's devices (conversations stay where they were held):
    /// that device's replica id and the message's id there, which names no message here.
    OtherDevice { device: String, message: i64 },
    /// Computed: the receipt of the computation.
    Receipt { receipt: String },
    /// Told directly.
    Person,
}

/// Where a memory stands now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum MemoryStateDto {
    Active,
    Superseded,
    Retracted,
}

/// One stored memory as the panel shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct MemoryDto {
    pub id: i64,
    pub kind: MemoryKindDto,
    pub text: String,
    pub provenance: ProvenanceDto,
    /// 0 (trivia) to 1 (central).
    pub importance: f64,
    /// The importance as shown, e.g. `"0.80"`.
    pub importance_label: String,
    pub valid_from: String,
    /// Set when superseded (exclusive end of the world interval).
    pub valid_to: Option<String>,
    pub recorded: String,
    pub state: MemoryStateDto,
    pub superseded_by: Option<i64>,
    pub supersede_reason: Option<String>,
    pub retracted: Option<String>,
    pub retract_reason: Option<String>,
}

/// What a pending proposal would do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum ProposalOpDto {
    Add,
    Supersede,
    Retract,
}

/// A change to the memories waiting for the person's yes or no.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ProposalDto {
    pub id: i64,
    pub op: ProposalOpDto,
    /// The memory superseded or retracted.
    pub target: Option<i64>,
    /// The new memory's kind (add and supersede).
    pub kind: Option<MemoryKindDto>,
    /// The new memory's text (add and supersede).
    pub text: Option<String>,
    /// Why (supersede and retract).
    pub reason: Option<String>,
    pub proposed: String,
}

/// What the latest test of a hypothesis concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisStatusDto {
    Open,
    Supported,
    Refuted,
    Inconclusive,
}

/// Which way the exposure is expected to move the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Type)]
#[serde(rename_all = "snake_case")]
pub enum DirectionDto {
    Lower,
    Higher,
    Either,
}

/// A hypothesis with its latest test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct HypothesisDto {
    pub id: i64,
    pub statement: String,
    pub metric: String,
    pub exposure_tag: String,
    pub lag_days: u8,
    pub direction: DirectionDto,
    pub status: HypothesisStatusDto,
    /// The latest test's evidence, one `name: value` line per field (empty before the first test).
    pub evidence: Vec<String>,
    pub last_tested: Option<String>,
    pub memory: Option<i64>,
}

/// Everything the panel shows, as of one date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct MemoryPanelDto {
    /// The date viewed (`YYYY-MM-DD`), today when none was asked for.
    pub as_of: String,
    pub memories: Vec<MemoryDto>,
    pub proposals: Vec<ProposalDto>,
    pub hypotheses: Vec<HypothesisDto>,
}

/// An edit of a memory: it is superseded by a new version with this text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct MemoryEditDto {
    pub id: i64,
    pub text: String,
    pub reason: String,
}

/// What forgetting removed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Type)]
pub struct ForgottenDto {
    /// Every version of the memory that was deleted.
    pub memories: Vec<i64>,
    /// Rows elsewhere whose quote of the text was replaced.
    pub scrubbed_rows: u32,
}
