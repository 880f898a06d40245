//! propose_hypothesis and list_hypotheses: hypotheses recorded with their test, their status computed by
//! `crate::hypothesis`.

use serde_json::json;

use super::args::{ListHypotheses, ProposeHypothesis};
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
    let (evidence, receipt) = test_spec(tb, tool, &spec, tb.today()).await?;
    Ok(ToolOutput {
        content: json!({
            "hypothesis": spec,
            "status": evidence.status,
            "evidence": evidence,
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}

pub(super) async fn list(_tb: &Toolbox, _args: ListHypotheses) -> Result<ToolOutput, ToolError> {
    Err(ToolError::not_enough(
        ToolName::ListHypotheses,
        "the hypothesis store is not available yet",
    ))
}
