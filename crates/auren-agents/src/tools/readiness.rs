//! get_readiness and get_trend: the morning readings through the engine's readiness queries; get_trend also
//! follows any panel metric of the mornings' sessions, each with its normal-range band.

use serde_json::json;

use super::args::{GetReadiness, GetTrend, TrendMetric, TrendSource};
use super::days::{Period, format_day, parse_day};
use super::panels::morning_panel_metric;
use super::receipts::ReceiptBuilder;
use super::{ToolError, ToolName, ToolOutput, Toolbox};
use crate::receipt::Unit;
use crate::stats;

const READINESS_METHOD: &str = "HRV4Training readiness: 7-day mean of morning lnRMSSD against the normal range \
                                (60-day mean ± 0.5 SD); CV of the 7 days; slope of the 7-day mean";

pub(super) async fn get_readiness(tb: &Toolbox, args: GetReadiness) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::GetReadiness;
    let today = tb.today();
    let day = match args.day.as_deref() {
        Some(d) => parse_day(d, today).map_err(|m| ToolError::bad(tool, m))?,
        None => today,
    };
    let r = auren_engine::query::readiness_on(tb.store(), day)
        .await
        .map_err(ToolError::engine(tool))?;
    // The days whose readings fed the 60-day window.
    let used = tb
        .store()
        .morning_readings(day - 59, day)
        .await
        .map_err(ToolError::store(tool))?;
    let date = format_day(day);
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("morning readiness on {date}"),
        READINESS_METHOD,
    );
    if let Some(v) = r.today_ln_rmssd {
        rec.day_value(format!("lnRMSSD on {date}"), v, Unit::LnMs, Some(day));
        rec.day_value(format!("RMSSD on {date}"), v.exp(), Unit::Ms, Some(day));
    }
    if let Some(v) = r.rolling_mean_7d {
        rec.day_value("7-day mean lnRMSSD", v, Unit::LnMs, Some(day));
        rec.day_value("7-day mean as RMSSD", v.exp(), Unit::Ms, Some(day));
    }
    if let Some(v) = r.baseline_mean_60d {
        rec.value("60-day mean lnRMSSD", v, Unit::LnMs);
        rec.value("60-day mean as RMSSD", v.exp(), Unit::Ms);
    }
    if let Some(v) = r.baseline_sd_60d {
        rec.value("60-day SD of lnRMSSD", v, Unit::LnMs);
    }
    if let Some((lo, hi)) = r.normal_range {
        rec.value("normal range low (lnRMSSD)", lo, Unit::LnMs);
        rec.value("normal range high (lnRMSSD)", hi, Unit::LnMs);
        rec.value("normal range low as RMSSD", lo.exp(), Unit::Ms);
        rec.value("normal range high as RMSSD", hi.exp(), Unit::Ms);
    }
    if let Some(v) = r.cv_7d_pct {
        rec.value("7-day CV of lnRMSSD", v, Unit::Percent);
    }
    if let Some(v) = r.trend {
        rec.value("trend of the 7-day mean, lnRMSSD per day", v, Unit::LnMs);
    }
    if let Some(v) = r.resting_hr {
        rec.day_value(format!("resting HR on {date}"), v, Unit::Bpm, Some(day));
    }
    for m in &used {
        rec.day_source(m.day);
        if let Some(s) = m.session {
            rec.source(crate::receipt::Source::Session { id: s.0 });
        }
    }
    let receipt = rec.build();
    let content = json!({
        "day": date,
        "morning_ln_rmssd": r.today_ln_rmssd,
        "morning_rmssd_ms": r.today_ln_rmssd.map(f64::exp),
        "rolling_mean_7d_ln_rmssd": r.rolling_mean_7d,
        "baseline_mean_60d_ln_rmssd": r.baseline_mean_60d,
        "normal_range_ln_rmssd": r.normal_range.map(|(lo, hi)| [lo, hi]),
        "cv_7d_pct": r.cv_7d_pct,
        "trend_ln_rmssd_per_day": r.trend,
        "verdict": r.verdict,
        "resting_hr_bpm": r.resting_hr,
        "mornings_in_60_days": used.len(),
        "receipt": receipt.id,
    });
    Ok(ToolOutput {
        content,
        receipts: vec![receipt],
    })
}

/// Days of morning values behind a metric's normal range on a day (the day itself included), the fewest
/// needed, and the half-width in SDs: auren-hrv's readiness definition for lnRMSSD, applied to any metric.
const BAND_DAYS: i64 = 60;
const BAND_MIN_MORNINGS: usize = 14;
const BAND_SD: f64 = 0.5;

const BAND_METHOD: &str = "normal range: the mean ± 0.5 SD of the metric's mornings in the 60 days up to each day \
                           (14 at least), as HRV4Training's lnRMSSD range";

pub(super) async fn get_trend(tb: &Toolbox, args: GetTrend) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::GetTrend;
    let metric = args.metric.unwrap_or(TrendMetric::LnRmssd);
    let period = Period::parse(args.from.as_deref(), args.to.as_deref(), tb.today(), 7)
        .map_err(|m| ToolError::bad(tool, m))?;
    let series = auren_engine::query::daily_trend(tb.store(), period.from, period.to)
        .await
        .map_err(ToolError::engine(tool))?;
    // The metric's mornings from the first day's band window on, oldest first.
    let values = daily_values(tb, tool, metric, period.from - (BAND_DAYS - 1), period.to).await?;
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("daily {} {}", metric.label(), period.label()),
        trend_method(metric),
    );
    let unit = metric.unit();
    let mut points = Vec::new();
    let mut days = Vec::with_capacity(series.len());
    let mut last_band = None;
    for r in &series {
        let value = values
            .binary_search_by_key(&r.day, |&(d, _)| d)
            .ok()
            .and_then(|i| values[i].1);
        let band = band_on(metric, r.day, &values, r.normal_range);
        if let Some(v) = value {
            points.push((r.day as f64, v));
            rec.day_value(
                format!("{} on {}", metric.label(), format_day(r.day)),
                v,
                unit,
                Some(r.day),
            );
            rec.day_source(r.day);
        }
        if let Some(b) = band {
            last_band = Some((r.day, b));
        }
        days.push(json!({
            "day": format_day(r.day),
            "value": value,
            "normal_range": band.map(|(lo, hi)| [lo, hi]),
            "rolling_mean_7d_ln_rmssd": r.rolling_mean_7d,
            "normal_range_ln_rmssd": r.normal_range.map(|(lo, hi)| [lo, hi]),
            "verdict": r.verdict,
        }));
    }
    if let Some((day, (lo, hi))) = last_band {
        let date = format_day(day);
        rec.day_value(
            format!("normal range low of {} on {date}", metric.label()),
            lo,
            unit,
            Some(day),
        );
        rec.day_value(
            format!("normal range high of {} on {date}", metric.label()),
            hi,
            unit,
            Some(day),
        );
    }
    let (summary, slope) = record_summary(&mut rec, metric, period, &points);
    let receipt = rec.build();
    let content = json!({
        "metric": metric.as_str(),
        "from": format_day(period.from),
        "to": format_day(period.to),
        "days": days,
        "mornings": summary.as_ref().map_or(0, |s| s.n),
        "mean": summary.as_ref().map(|s| s.mean),
        "min": summary.as_ref().map(|s| s.min),
        "max": summary.as_ref().map(|s| s.max),
        "slope_per_day": slope,
        "normal_range": last_band.map(|(day, (lo, hi))| json!({"day": format_day(day), "low": lo, "high": hi})),
        "receipt": receipt.id,
    });
    Ok(ToolOutput {
        content,
        receipts: vec![receipt],
    })
}

/// How a trend of `metric` was computed, for its receipt.
fn trend_method(metric: TrendMetric) -> String {
    let source = match metric.source() {
        TrendSource::Reading(_) => "the stored morning readings".to_owned(),
        TrendSource::Panel(_) => format!(
            "the HRV panel of each morning's session ({})",
            auren_engine::panels::panel_method()
        ),
    };
    format!("{source}; {READINESS_METHOD}; {BAND_METHOD}; period mean, min, max; least-squares slope per day")
}

/// `(day, value)` of `metric` for each morning reading of `from..=to`, oldest first.
async fn daily_values(
    tb: &Toolbox,
    tool: ToolName,
    metric: TrendMetric,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Option<f64>)>, ToolError> {
    match metric.source() {
        TrendSource::Reading(m) => Ok(tb
            .store()
            .morning_readings(from, to)
            .await
            .map_err(ToolError::store(tool))?
            .iter()
            .map(|r| (r.day, m.of(r)))
            .collect()),
        TrendSource::Panel(key) => morning_panel_metric(tb, tool, key, from, to).await,
    }
}

/// The normal range of `metric` on `day`: the engine's readiness range for lnRMSSD (and its exp for RMSSD),
/// otherwise the same definition over the metric's own mornings in `values` (sorted by day).
fn band_on(
    metric: TrendMetric,
    day: i64,
    values: &[(i64, Option<f64>)],
    ln_rmssd_range: Option<(f64, f64)>,
) -> Option<(f64, f64)> {
    match metric {
        TrendMetric::LnRmssd => ln_rmssd_range,
        TrendMetric::RmssdMs => ln_rmssd_range.map(|(lo, hi)| (lo.exp(), hi.exp())),
        _ => {
            let from = values.partition_point(|&(d, _)| d < day - (BAND_DAYS - 1));
            let to = values.partition_point(|&(d, _)| d <= day);
            let window: Vec<f64> = values[from..to].iter().filter_map(|&(_, v)| v).collect();
            if window.len() < BAND_MIN_MORNINGS {
                return None;
            }
            let s = stats::summary(&window)?;
            let sd = s.sd?;
            Some((s.mean - BAND_SD * sd, s.mean + BAND_SD * sd))
        }
    }
}

/// The period's mean, min, max, slope and change, added to the receipt.
fn record_summary(
    rec: &mut ReceiptBuilder,
    metric: TrendMetric,
    period: Period,
    points: &[(f64, f64)],
) -> (Option<stats::Summary>, Option<f64>) {
    let unit = metric.unit();
    let label = metric.label();
    let values: Vec<f64> = points.iter().map(|&(_, v)| v).collect();
    let summary = stats::summary(&values);
    let slope = stats::slope(points);
    if let Some(s) = &summary {
        rec.value(format!("mean {label} {}", period.label()), s.mean, unit);
        rec.value(format!("min {label} {}", period.label()), s.min, unit);
        rec.value(format!("max {label} {}", period.label()), s.max, unit);
        rec.value("mornings", s.n as f64, Unit::Plain);
    }
    if let Some(b) = slope {
        rec.value(format!("slope of {label} per day"), b, unit);
    }
    if let Some((first, last)) = points.first().zip(points.last())
        && points.len() >= 2
    {
        rec.value(
            format!("change of {label} first to last morning"),
            last.1 - first.1,
            unit,
        );
        // A relative change means something for amounts (ms, ms², bpm), not for logs, ratios or percents.
        if matches!(unit, Unit::Ms | Unit::Ms2 | Unit::Bpm) && first.1 != 0.0 {
            rec.value(
                "change first to last morning, %",
                (last.1 / first.1 - 1.0) * 100.0,
                Unit::Percent,
            );
        }
    }
    (summary, slope)
}
