//! propose_hypothesis and list_hypotheses: hypotheses recorded with their test, their status computed by
//! `crate::hypothesis`.

use serde_json::json;

use auren_store::memory::{HypothesisId, HypothesisStatus, MemoryKind, NewHypothesis, NewMemory, Provenance};

use super::args::{ListHypotheses, MorningMetric, ProposeHypothesis};
use super::days::Period;
use super::receipts::ReceiptBuilder;
use super::{ToolError, ToolName, ToolOutput, Toolbox};
use crate::hypothesis::{self, Direction, Spec, TestKind};
use crate::receipt::Unit;

/// How far back a hypothesis test looks.
pub const TEST_WINDOW_DAYS: i64 = 365;

pub(crate) fn spec_of(args: ProposeHypothesis) -> Spec {
    Spec {
        statement: args.statement.trim().to_owned(),
        metric: args.metric,
        exposure_tag: args.exposure_tag.trim().to_owned(),
        lag_days: args.lag_days.unwrap_or(1),
        direction: args.direction.unwrap_or(Direction::Lower),
        test: args.test.unwrap_or(TestKind::Welch),
        alpha: args.alpha.unwrap_or(0.05),
        min_n: args.min_n.unwrap_or(8),
    }
}

/// Tests `spec` over the year ending `today`, with a receipt of the numbers.
pub(crate) async fn test_spec(
    tb: &Toolbox,
    tool: ToolName,
    spec: &Spec,
    today: i64,
) -> Result<(hypothesis::Evidence, crate::receipt::Receipt), ToolError> {
    let period = Period::new(today - (TEST_WINDOW_DAYS - 1), today).map_err(|m| ToolError::bad(tool, m))?;
    let (exposed, other) =
        super::compare::tag_split(tb, tool, &spec.exposure_tag, spec.metric, spec.lag_days, period).await?;
    let values = |s: &[(i64, f64)]| s.iter().map(|p| p.1).collect::<Vec<_>>();
    let evidence = hypothesis::evaluate(spec, &values(&exposed), &values(&other));
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!(
            "test of the hypothesis {:?} over {}",
            spec.statement,
            period.label()
        ),
        format!(
            "{} of {} {} day(s) after days tagged {:?} against other days, alpha {}, min n {}",
            spec.test.as_str(),
            spec.metric.label(),
            spec.lag_days,
            spec.exposure_tag,
            spec.alpha,
            spec.min_n
        ),
    );
    let unit = spec.metric.unit();
    if let Some(v) = evidence.mean_exposed {
        rec.value("mean, exposed mornings", v, unit);
    }
    if let Some(v) = evidence.mean_other {
        rec.value("mean, other mornings", v, unit);
    }
    if let Some(v) = evidence.difference {
        rec.value("difference of means (exposed − other)", v, unit);
    }
    if let Some(v) = evidence.p {
        rec.value("p (two-sided)", v, Unit::Plain);
    }
    if let Some(v) = evidence.hedges_g {
        rec.value("Hedges' g", v, Unit::Plain);
    }
    rec.value("n exposed", evidence.n_exposed as f64, Unit::Plain);
    rec.value("n other", evidence.n_other as f64, Unit::Plain);
    for &(day, _) in exposed.iter().chain(&other) {
        rec.day_source(day);
    }
    Ok((evidence, rec.build()))
}

pub(super) async fn propose(tb: &Toolbox, args: ProposeHypothesis) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::ProposeHypothesis;
    let spec = spec_of(args);
    spec.validate().map_err(|m| ToolError::bad(tool, m))?;
    let now = tb.clock().now().0;
    let memory = tb
        .store()
        .memories()
        .remember(
            &NewMemory {
                kind: MemoryKind::Hypothesis,
                text: spec.statement.clone(),
                provenance: Provenance::Person,
                importance: 0.7,
                valid_from: now,
            },
            now,
        )
        .await
        .map_err(ToolError::store(tool))?;
    let id = tb
        .store()
        .hypotheses()
        .create(
            &NewHypothesis {
                statement: spec.statement.clone(),
                metric: spec.metric.as_str().to_owned(),
                exposure_tag: spec.exposure_tag.clone(),
                lag_days: spec.lag_days,
                direction: store_direction(spec.direction),
                test: spec.test.as_str().to_owned(),
                alpha: spec.alpha,
                min_n: spec.min_n,
                memory: Some(memory),
            },
            now,
        )
        .await
        .map_err(ToolError::store(tool))?;
    let (evidence, receipt) = record(tb, tool, id, &spec, tb.today()).await?;
    Ok(ToolOutput {
        content: json!({
            "id": id.0,
            "hypothesis": spec,
            "status": evidence.status,
            "evidence": evidence,
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}

/// Tests hypothesis `id` on the mornings up to `today` and stores the outcome.
pub(crate) async fn record(
    tb: &Toolbox,
    tool: ToolName,
    id: HypothesisId,
    spec: &Spec,
    today: i64,
) -> Result<(hypothesis::Evidence, crate::receipt::Receipt), ToolError> {
    let (evidence, receipt) = test_spec(tb, tool, spec, today).await?;
    record_evidence(tb, tool, id, &evidence, &receipt).await?;
    Ok((evidence, receipt))
}

/// Stores an outcome `test_spec` already computed for hypothesis `id`, with its receipt (the stored format
/// the tools read): a caller that compared the outcome first does not test twice.
pub(crate) async fn record_evidence(
    tb: &Toolbox,
    tool: ToolName,
    id: HypothesisId,
    evidence: &hypothesis::Evidence,
    receipt: &crate::receipt::Receipt,
) -> Result<(), ToolError> {
    let mut stored = serde_json::to_value(evidence).unwrap_or_default();
    if let Some(o) = stored.as_object_mut() {
        o.insert("receipt".into(), json!(receipt));
    }
    tb.store()
        .hypotheses()
        .record_test(
            id,
            store_status(evidence.status),
            &stored.to_string(),
            tb.clock().now().0,
        )
        .await
        .map_err(ToolError::store(tool))?;
    Ok(())
}

pub(super) async fn list(tb: &Toolbox, _args: ListHypotheses) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::ListHypotheses;
    let rows = tb
        .store()
        .hypotheses()
        .list()
        .await
        .map_err(ToolError::store(tool))?;
    let mut receipts = Vec::new();
    let list: Vec<_> = rows
        .iter()
        .map(|r| {
            let evidence: Option<serde_json::Value> = r
                .evidence_json
                .as_deref()
                .and_then(|e| serde_json::from_str(e).ok());
            // The stored receipt vouches for the numbers of the latest test.
            if let Some(rec) = evidence
                .as_ref()
                .and_then(|e| e.get("receipt"))
                .and_then(|r| serde_json::from_value::<crate::receipt::Receipt>(r.clone()).ok())
            {
                receipts.push(rec);
            }
            json!({
                "id": r.id.0,
                "statement": r.statement,
                "metric": r.metric,
                "exposure_tag": r.exposure_tag,
                "lag_days": r.lag_days,
                "direction": r.direction.as_str(),
                "test": r.test,
                "alpha": r.alpha,
                "min_n": r.min_n,
                "status": r.status.as_str(),
                "evidence": evidence.map(|mut e| {
                    if let Some(o) = e.as_object_mut() {
                        o.remove("receipt");
                    }
                    e
                }),
                "last_tested_at": r.last_tested_at.map(|t| auren_clock::UnixMillis(t).to_string()),
            })
        })
        .collect();
    Ok(ToolOutput {
        content: json!({ "hypotheses": list }),
        receipts,
    })
}

pub(crate) fn store_direction(d: Direction) -> auren_store::memory::Direction {
    match d {
        Direction::Lower => auren_store::memory::Direction::Lower,
        Direction::Higher => auren_store::memory::Direction::Higher,
        Direction::Either => auren_store::memory::Direction::Either,
    }
}

pub(crate) fn store_status(s: hypothesis::Status) -> HypothesisStatus {
    match s {
        hypothesis::Status::Open => HypothesisStatus::Open,
        hypothesis::Status::Supported => HypothesisStatus::Supported,
        hypothesis::Status::Refuted => HypothesisStatus::Refuted,
        hypothesis::Status::Inconclusive => HypothesisStatus::Inconclusive,
    }
}

/// The spec of a stored hypothesis, or why it cannot be tested (a metric or test this version does not know).
pub(crate) fn spec_of_row(r: &auren_store::memory::HypothesisRow) -> Result<Spec, String> {
    let metric = [
        MorningMetric::LnRmssd,
        MorningMetric::RmssdMs,
        MorningMetric::RestingHr,
    ]
    .into_iter()
    .find(|m| m.as_str() == r.metric)
    .ok_or_else(|| format!("unknown metric {:?}", r.metric))?;
    let test = TestKind::parse(&r.test).ok_or_else(|| format!("unknown test {:?}", r.test))?;
    let direction = match r.direction {
        auren_store::memory::Direction::Lower => Direction::Lower,
        auren_store::memory::Direction::Higher => Direction::Higher,
        auren_store::memory::Direction::Either => Direction::Either,
    };
    Ok(Spec {
        statement: r.statement.clone(),
        metric,
        exposure_tag: r.exposure_tag.clone(),
        lag_days: r.lag_days,
        direction,
        test,
        alpha: r.alpha,
        min_n: r.min_n,
    })
}
