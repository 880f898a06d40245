//! Hypotheses about the person ("alcohol lowers my next-morning HRV"): a morning metric on days after an
//! exposure tag against the other days, with the test, alpha and minimum n fixed when it is recorded. The
//! status is computed here, by code, from the data — never by a model — and recomputed when new mornings
//! arrive.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::stats;
use crate::tools::args::MorningMetric;

/// The effect the hypothesis expects on the metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The metric is lower after exposure.
    Lower,
    /// The metric is higher after exposure.
    Higher,
    /// Any difference.
    Either,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lower => "lower",
            Self::Higher => "higher",
            Self::Either => "either",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Lower, Self::Higher, Self::Either]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

/// The test deciding the hypothesis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Welch's unequal-variance t-test.
    Welch,
    /// Mann–Whitney U (rank-based, robust to outlying mornings).
    MannWhitney,
}

impl TestKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Welch => "welch",
            Self::MannWhitney => "mann_whitney",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Welch, Self::MannWhitney]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

/// Where a hypothesis stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Fewer than `min_n` mornings in a group: not tested yet.
    Open,
    /// Significant at alpha in the expected direction.
    Supported,
    /// Significant in the opposite direction, or enough data (2 × min_n per group) and a negligible effect
    /// (|Hedges' g| < 0.2) with p ≥ alpha.
    Refuted,
    /// Enough data to test, but neither of the above.
    Inconclusive,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Supported => "supported",
            Self::Refuted => "refuted",
            Self::Inconclusive => "inconclusive",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Open, Self::Supported, Self::Refuted, Self::Inconclusive]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// What a hypothesis claims and how it is tested.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Spec {
    pub statement: String,
    pub metric: MorningMetric,
    pub exposure_tag: String,
    pub lag_days: u8,
    pub direction: Direction,
    pub test: TestKind,
    pub alpha: f64,
    pub min_n: u32,
}

/// The alpha range accepted (a hypothesis at alpha 0.5 tests nothing).
pub const ALPHA_RANGE: std::ops::RangeInclusive<f64> = 0.001..=0.2;
/// The minimum-n range accepted.
pub const MIN_N_RANGE: std::ops::RangeInclusive<u32> = 3..=365;

impl Spec {
    /// Refuses settings that would make the test meaningless, naming the problem.
    pub fn validate(&self) -> Result<(), String> {
        if self.statement.trim().is_empty() {
            return Err("the statement is empty".into());
        }
        if self.exposure_tag.trim().is_empty() {
            return Err("the exposure tag is empty".into());
        }
        if self.lag_days > crate::tools::MAX_LAG_DAYS {
            return Err(format!("lag_days {} must be 0, 1 or 2", self.lag_days));
        }
        if !ALPHA_RANGE.contains(&self.alpha) {
            return Err(format!("alpha {} must be between 0.001 and 0.2", self.alpha));
        }
        if !MIN_N_RANGE.contains(&self.min_n) {
            return Err(format!("min_n {} must be between 3 and 365", self.min_n));
        }
        Ok(())
    }
}

/// The outcome of one test of a hypothesis: the status and the numbers it was decided on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub status: Status,
    pub n_exposed: usize,
    pub n_other: usize,
    pub mean_exposed: Option<f64>,
    pub mean_other: Option<f64>,
    /// mean exposed − mean other.
    pub difference: Option<f64>,
    /// The chosen test's two-sided p.
    pub p: Option<f64>,
    pub hedges_g: Option<f64>,
    /// Why this status, in a sentence.
    pub reason: String,
}

/// |g| below this is a negligible effect (Cohen's convention).
const NEGLIGIBLE_G: f64 = 0.2;

/// Tests `spec` on the exposed mornings against the other mornings.
pub fn evaluate(spec: &Spec, exposed: &[f64], other: &[f64]) -> Evidence {
    let min_n = spec.min_n as usize;
    let mut ev = Evidence {
        status: Status::Open,
        n_exposed: exposed.len(),
        n_other: other.len(),
        mean_exposed: stats::mean(exposed),
        mean_other: stats::mean(other),
        difference: stats::mean(exposed).zip(stats::mean(other)).map(|(a, b)| a - b),
        p: None,
        hedges_g: stats::effect_size(exposed, other).ok().map(|e| e.hedges_g),
        reason: String::new(),
    };
    if exposed.len() < min_n || other.len() < min_n {
        ev.reason = format!(
            "waiting for data: {} exposed and {} other mornings, {min_n} of each are needed",
            exposed.len(),
            other.len()
        );
        return ev;
    }
    let p = match spec.test {
        TestKind::Welch => stats::welch_t(exposed, other).map(|w| w.p),
        TestKind::MannWhitney => stats::mann_whitney_u(exposed, other).map(|m| m.p),
    };
    let p = match p {
        Ok(p) => p,
        Err(e) => {
            ev.status = Status::Inconclusive;
            ev.reason = format!("the test cannot be computed: {e}");
            return ev;
        }
    };
    ev.p = Some(p);
    let diff = ev.difference.unwrap_or(0.0);
    let expected = match spec.direction {
        Direction::Lower => diff < 0.0,
        Direction::Higher => diff > 0.0,
        Direction::Either => diff != 0.0,
    };
    let plenty = exposed.len() >= 2 * min_n && other.len() >= 2 * min_n;
    let negligible = ev.hedges_g.is_some_and(|g| g.abs() < NEGLIGIBLE_G);
    (ev.status, ev.reason) = if p < spec.alpha && expected {
        (
            Status::Supported,
            format!("p = {p:.4} < alpha {} in the expected direction", spec.alpha),
        )
    } else if p < spec.alpha {
        (
            Status::Refuted,
            format!("p = {p:.4} < alpha {}, but in the opposite direction", spec.alpha),
        )
    } else if plenty && negligible {
        (
            Status::Refuted,
            format!(
                "p = {p:.4} ≥ alpha {} with at least {} mornings per group and a negligible effect",
                spec.alpha,
                2 * min_n
            ),
        )
    } else {
        (Status::Inconclusive, format!("p = {p:.4} ≥ alpha {}", spec.alpha))
    };
    ev
}

/// The outcome of re-testing one stored hypothesis.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Retest {
    pub id: i64,
    pub statement: String,
    pub before: Status,
    pub after: Status,
    pub evidence: Evidence,
}

impl Retest {
    /// Whether the status moved (worth telling the person).
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// Re-tests every stored hypothesis on the mornings up to `today` and stores each outcome: run when new
/// mornings arrive. A hypothesis whose metric or test this version does not know is skipped with a warning.
pub async fn retest_all(
    tb: &crate::tools::Toolbox,
    today: i64,
) -> Result<Vec<Retest>, crate::tools::ToolError> {
    retest(tb, today, Storing::Always).await
}

/// Whether `a` and `b` say the same: the status, the counts and the reason alike, and every number within
/// a relative 1e-9 (the stored evidence went through JSON, which may move a float's last bit).
fn same_outcome(a: &Evidence, b: &Evidence) -> bool {
    let close = |x: Option<f64>, y: Option<f64>| match (x, y) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    };
    a.status == b.status
        && a.n_exposed == b.n_exposed
        && a.n_other == b.n_other
        && a.reason == b.reason
        && close(a.mean_exposed, b.mean_exposed)
        && close(a.mean_other, b.mean_other)
        && close(a.difference, b.difference)
        && close(a.p, b.p)
        && close(a.hedges_g, b.hedges_g)
}

/// Re-tests every stored hypothesis on the mornings up to `today` and stores an outcome only when it
/// differs from the stored one (new mornings or tags moved the numbers): run after every arrival of data,
/// so a refresh that found nothing new writes nothing. Returns the re-tests whose outcome was stored.
pub async fn retest_changed(
    tb: &crate::tools::Toolbox,
    today: i64,
) -> Result<Vec<Retest>, crate::tools::ToolError> {
    retest(tb, today, Storing::IfMoved).await
}

/// Which re-tests are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Storing {
    /// Every one (the person asked for a re-test).
    Always,
    /// Only an outcome that differs from the stored one (a refresh after new data).
    IfMoved,
}

/// Re-tests every stored hypothesis on the mornings up to `today`, storing each outcome as `storing` says;
/// returns the stored re-tests. A row whose test cannot be rebuilt is skipped with a warning.
async fn retest(
    tb: &crate::tools::Toolbox,
    today: i64,
    storing: Storing,
) -> Result<Vec<Retest>, crate::tools::ToolError> {
    use crate::tools::{ToolName, hypotheses};
    let tool = ToolName::ListHypotheses;
    let rows = tb
        .store()
        .hypotheses()
        .list()
        .await
        .map_err(crate::tools::ToolError::store(tool))?;
    let mut out = Vec::new();
    for row in &rows {
        let spec = match hypotheses::spec_of_row(row) {
            Ok(spec) => spec,
            Err(why) => {
                tracing::warn!(hypothesis = row.id.0, "not re-tested: {why}");
                continue;
            }
        };
        // One test per hypothesis: the outcome compared is the one stored.
        let (evidence, receipt) = hypotheses::test_spec(tb, tool, &spec, today).await?;
        if storing == Storing::IfMoved {
            let stored: Option<Evidence> = row
                .evidence_json
                .as_deref()
                .and_then(|e| serde_json::from_str(e).ok());
            if stored.is_some_and(|s| same_outcome(&s, &evidence)) {
                continue;
            }
        }
        // Recorded with its receipt, as every test is (the stored format is the tool's).
        hypotheses::record_evidence(tb, tool, row.id, &evidence, &receipt).await?;
        out.push(Retest {
            id: row.id.0,
            statement: row.statement.clone(),
            before: Status::parse(row.status.as_str()).unwrap_or(Status::Open),
            after: evidence.status,
            evidence,
        });
    }
    Ok(out)
}
