//! compare_periods and tag_effect: a morning metric in two groups of days, every test computed by `stats`.

use serde_json::json;

use super::args::{ComparePeriods, MorningMetric, TagEffect};
use super::days::{Period, format_day, parse_day};
use super::receipts::ReceiptBuilder;
use super::{ToolError, ToolName, ToolOutput, Toolbox};
use crate::receipt::Unit;
use crate::stats::{self, Comparison};

pub(crate) const TEST_METHOD: &str = "Welch's t-test (two-sided, Welch–Satterthwaite df); Mann–Whitney U \
                                      (tie-corrected normal approximation, continuity correction, two-sided); \
                                      Cohen's d (pooled SD) and Hedges' g";

/// The longest lag between a tagged day and the morning measured.
pub const MAX_LAG_DAYS: u8 = 2;

/// `(day, value)` of the mornings of `period` that have `metric`.
pub(crate) async fn morning_values(
    tb: &Toolbox,
    tool: ToolName,
    metric: MorningMetric,
    period: Period,
) -> Result<Vec<(i64, f64)>, ToolError> {
    Ok(tb
        .store()
        .morning_readings(period.from, period.to)
        .await
        .map_err(ToolError::store(tool))?
        .iter()
        .filter_map(|r| metric.of(r).map(|v| (r.day, v)))
        .collect())
}

/// The mornings `lag` days after a day tagged `tag` (exposed) and every other morning of `period`.
pub(crate) async fn tag_split(
    tb: &Toolbox,
    tool: ToolName,
    tag: &str,
    metric: MorningMetric,
    lag: u8,
    period: Period,
) -> Result<(Vec<(i64, f64)>, Vec<(i64, f64)>), ToolError> {
    let lag = i64::from(lag);
    let tagged = super::tags::tagged_days(tb.store(), tag, period.from - lag, period.to - lag)
        .await
        .map_err(ToolError::store(tool))?;
    let mornings = morning_values(tb, tool, metric, period).await?;
    Ok(mornings
        .into_iter()
        .partition(|(day, _)| tagged.contains(&(day - lag))))
}

/// Adds every number of `c` to the receipt, `a`/`b` named by `names`.
pub(crate) fn record_comparison(
    rec: &mut ReceiptBuilder,
    c: &Comparison,
    metric: MorningMetric,
    names: (&str, &str),
) {
    let unit = metric.unit();
    let label = metric.label();
    rec.value(format!("mean {label}, {}", names.0), c.a.mean, unit);
    rec.value(format!("mean {label}, {}", names.1), c.b.mean, unit);
    rec.value(
        format!("difference of means ({} − {})", names.0, names.1),
        c.difference,
        unit,
    );
    if let Some(p) = c.difference_pct {
        rec.value(format!("difference as % of {}", names.1), p, Unit::Percent);
    }
    if metric == MorningMetric::LnRmssd {
        // lnRMSSD differences read as ratios of RMSSD: exp(Δ) − 1.
        rec.value(
            "difference as % of RMSSD",
            (c.difference.exp() - 1.0) * 100.0,
            Unit::Percent,
        );
        rec.value(format!("mean RMSSD, {}", names.0), c.a.mean.exp(), Unit::Ms);
        rec.value(format!("mean RMSSD, {}", names.1), c.b.mean.exp(), Unit::Ms);
    }
    rec.value(format!("n {}", names.0), c.a.n as f64, Unit::Plain);
    rec.value(format!("n {}", names.1), c.b.n as f64, Unit::Plain);
    if let Some(w) = &c.welch {
        rec.value("Welch t", w.t, Unit::Plain);
        rec.value("Welch df", w.df, Unit::Plain);
        rec.value("Welch p (two-sided)", w.p, Unit::Plain);
    }
    if let Some(m) = &c.mann_whitney {
        rec.value("Mann–Whitney U", m.u, Unit::Plain);
        rec.value("Mann–Whitney p (two-sided)", m.p, Unit::Plain);
    }
    if let Some(e) = &c.effect {
        rec.value("Cohen's d", e.cohen_d, Unit::Plain);
        rec.value("Hedges' g", e.hedges_g, Unit::Plain);
    }
}

pub(super) async fn compare_periods(tb: &Toolbox, args: ComparePeriods) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::ComparePeriods;
    let metric = args.metric.unwrap_or(MorningMetric::LnRmssd);
    let today = tb.today();
    let period = |from: &str, to: &str| -> Result<Period, ToolError> {
        let f = parse_day(from, today).map_err(|m| ToolError::bad(tool, m))?;
        let t = parse_day(to, today).map_err(|m| ToolError::bad(tool, m))?;
        Period::new(f, t).map_err(|m| ToolError::bad(tool, m))
    };
    let (pa, pb) = (
        period(&args.a_from, &args.a_to)?,
        period(&args.b_from, &args.b_to)?,
    );
    let a = morning_values(tb, tool, metric, pa).await?;
    let b = morning_values(tb, tool, metric, pb).await?;
    let values = |s: &[(i64, f64)]| s.iter().map(|p| p.1).collect::<Vec<_>>();
    let c = stats::compare(&values(&a), &values(&b)).ok_or_else(|| {
        ToolError::not_enough(
            tool,
            format!(
                "{} has {} mornings and {} has {}; each needs at least one",
                pa.label(),
                a.len(),
                pb.label(),
                b.len()
            ),
        )
    })?;
    let (na, nb) = (
        format!("period A {}", pa.label()),
        format!("period B {}", pb.label()),
    );
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("{} in {} against {}", metric.label(), pa.label(), pb.label()),
        TEST_METHOD,
    );
    record_comparison(&mut rec, &c, metric, (&na, &nb));
    for &(day, _) in a.iter().chain(&b) {
        rec.day_source(day);
    }
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({
            "metric": metric.as_str(),
            "a": {"from": format_day(pa.from), "to": format_day(pa.to)},
            "b": {"from": format_day(pb.from), "to": format_day(pb.to)},
            "comparison": c,
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}

pub(super) async fn tag_effect(tb: &Toolbox, args: TagEffect) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::TagEffect;
    let metric = args.metric.unwrap_or(MorningMetric::LnRmssd);
    let lag = args.lag_days.unwrap_or(1);
    if lag > MAX_LAG_DAYS {
        return Err(ToolError::bad(tool, format!("lag_days {lag} must be 0, 1 or 2")));
    }
    let tag = args.tag.trim();
    if tag.is_empty() {
        return Err(ToolError::bad(tool, "the tag is empty"));
    }
    let period = Period::parse(args.from.as_deref(), args.to.as_deref(), tb.today(), 365)
        .map_err(|m| ToolError::bad(tool, m))?;
    let (exposed, other) = tag_split(tb, tool, tag, metric, lag, period).await?;
    let values = |s: &[(i64, f64)]| s.iter().map(|p| p.1).collect::<Vec<_>>();
    let c = stats::compare(&values(&exposed), &values(&other)).ok_or_else(|| {
        ToolError::not_enough(
            tool,
            format!(
                "{} has {} mornings {lag} day(s) after a day tagged {tag:?} and {} other mornings; each group \
                 needs at least one",
                period.label(),
                exposed.len(),
                other.len()
            ),
        )
    })?;
    let names = (format!("{lag} day(s) after {tag}"), "other days".to_owned());
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!(
            "{} {lag} day(s) after days tagged {tag:?} against other days, {}",
            metric.label(),
            period.label()
        ),
        TEST_METHOD,
    );
    record_comparison(&mut rec, &c, metric, (&names.0, &names.1));
    for &(day, _) in exposed.iter().chain(&other) {
        rec.day_source(day);
    }
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({
            "tag": tag,
            "metric": metric.as_str(),
            "lag_days": lag,
            "from": format_day(period.from),
            "to": format_day(period.to),
            "exposed_days": exposed.iter().map(|p| format_day(p.0)).collect::<Vec<_>>(),
            "comparison": c,
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}
