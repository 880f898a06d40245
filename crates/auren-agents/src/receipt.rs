//! Receipts: the record of every number a tool computed — what, from which sessions or days, by which
//! method — so a stated number can be traced to the person's own data and checked by the grounding pass.

use serde::{Deserialize, Serialize};

/// A receipt's id, unique within a database (`r-` + a short random or sequential suffix).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReceiptId(pub String);

/// The unit a measured value is stated in; grounding compares values only within one unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    Bpm,
    Percent,
    Ms2,
    /// Natural log of a value in ms (lnRMSSD) — stated without a unit.
    LnMs,
    /// A dimensionless number (a z-score, t, U, an index, a count).
    Plain,
}

/// One value a receipt vouches for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceiptValue {
    /// What it is, e.g. "mean lnRMSSD, 2026-11-24..2026-11-30".
    pub label: String,
    pub value: f64,
    pub unit: Unit,
    /// The day (`YYYY-MM-DD`, UTC) it belongs to, when it is a day's value (grounds "on 3 December … 62 ms").
    pub day: Option<String>,
}

/// Where the inputs of a computation came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    Session { id: i64 },
    Day { date: String },
    Alert { id: i64 },
    Memory { id: i64 },
}

/// The record of one computation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub id: ReceiptId,
    /// The tool that computed it (a `ToolName`'s wire name).
    pub tool: String,
    /// What was computed, in words a person reads ("Welch's t-test of morning lnRMSSD, two periods").
    pub computed: String,
    /// The method and its settings ("Welch t, two-sided; Mann–Whitney U; Cohen's d").
    pub method: String,
    pub sources: Vec<Source>,
    pub values: Vec<ReceiptValue>,
}
