//! The queries the desktop and the agents ask: sessions, one session with its full HRV panel, the
//! daily readiness trend with its normal range, alerts by period, and the person's baselines — all
//! answered as DTOs.

use auren_cep::baseline::{MORNING_SPAN_DAYS, MorningValues, morning_baselines};
use auren_hrv::artifacts::correct;
use auren_hrv::panel::{PanelOptions, analyze};
use auren_hrv::readiness::{self, BASELINE_DAYS, ROLLING_DAYS, daily_series};
use auren_store::{AlertRow, BeatRow, GapRow, SessionDetail, SessionId, SessionRow, Store};

use crate::dto::{
    AlertDto, BaselinesDto, EvidenceDto, GapDto, MetricDto, ReadinessDto, SessionDetailDto, SessionKindDto,
    SessionSummaryDto, SeverityDto,
};
use crate::error::EngineError;

/// Name of the stored baseline of morning lnRMSSD (60-day mean and SD).
pub const BASELINE_LN_RMSSD: &str = "ln_rmssd";
/// Name of the stored baseline of morning resting HR (60-day mean and SD).
pub const BASELINE_RESTING_HR: &str = "resting_hr";

/// The account's own sessions, the most recent first: `limit` of them after skipping `offset`.
pub async fn sessions(store: &Store, limit: u32, offset: u32) -> Result<Vec<SessionSummaryDto>, EngineError> {
    Ok(store
        .sessions(limit, offset)
        .await?
        .iter()
        .map(session_summary)
        .collect())
}

pub fn session_summary(row: &SessionRow) -> SessionSummaryDto {
    SessionSummaryDto {
        id: row.id.0,
        started_at_unix_ms: row.started_at,
        ended_at_unix_ms: row.ended_at,
        kind: SessionKindDto::from(row.kind),
        source: row.source.clone(),
        strap_address: row.strap_address.clone(),
        beat_count: row.beat_count,
        artifact_count: row.artifact_count,
        duration_s: row.last_beat_ms.map(|ms| ms / 1000.0),
    }
}

/// The corrected NN intervals of stored beats: each stretch between gaps corrected on its own (no
/// interval is judged across a gap), the stretches concatenated.
pub fn corrected_nn(beats: &[BeatRow], gaps: &[GapRow]) -> Vec<Vec<f64>> {
    let mut segments: Vec<Vec<f64>> = Vec::new();
    let mut current = Vec::new();
    let mut gap_starts: Vec<f64> = gaps.iter().map(|g| g.from_ms).collect();
    gap_starts.sort_by(f64::total_cmp);
    let mut next_gap = gap_starts.iter().peekable();
    for beat in beats {
        // The beats before a gap all end by its start (the last notification before it).
        let mut crossed = false;
        while next_gap.peek().is_some_and(|&&from| beat.t_ms > from) {
            next_gap.next();
            crossed = true;
        }
        if crossed && !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
        current.push(beat.rr_ms);
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments.into_iter().map(|rr| correct(&rr).corrected).collect()
}

/// Session `id` with the full auren-hrv panel of its corrected beats, its gaps and alerts.
pub async fn session_detail(store: &Store, id: i64) -> Result<SessionDetailDto, EngineError> {
    let detail = store
        .session_detail(SessionId(id))
        .await?
        .ok_or(EngineError::NoSuchSession(id))?;
    Ok(session_detail_of(&detail))
}

/// The DTO of a session read with [`Store::session_detail`]: its panel computed from the stored beats. For a
/// caller that shows something else of the same read row beside it (History's end).
pub fn session_detail_of(detail: &SessionDetail) -> SessionDetailDto {
    let nn: Vec<f64> = corrected_nn(&detail.beats, &detail.gaps).concat();
    let panel = analyze(&nn, &PanelOptions::default());
    SessionDetailDto {
        summary: session_summary(&detail.session),
        n_beats_corrected: panel.n_beats,
        panel: panel
            .entries()
            .map(|(key, metric)| MetricDto::from_metric(key, metric))
            .collect(),
        gaps: detail
            .gaps
            .iter()
            .map(|g| GapDto {
                from_ms: g.from_ms,
                to_ms: g.to_ms,
            })
            .collect(),
        alerts: detail.alerts.iter().map(alert_dto).collect(),
    }
}

/// A stored alert as a DTO; evidence that no longer parses is shown empty rather than failing the list.
pub fn alert_dto(row: &AlertRow) -> AlertDto {
    let evidence = serde_json::from_str::<EvidenceDto>(&row.evidence_json).unwrap_or(EvidenceDto {
        values: Vec::new(),
        window_from_ms: row.at_ms as i64,
        window_to_ms: row.at_ms as i64,
        held_since_ms: None,
        steps_at_ms: Vec::new(),
    });
    AlertDto {
        id: Some(row.id),
        session_id: Some(row.session_id.0),
        rule: row.rule.clone(),
        severity: stored_severity(row),
        at_ms: row.at_ms as i64,
        at_unix_ms: row.at,
        message: row.message.clone(),
        evidence,
    }
}

/// The severity of a stored alert. The table's CHECK admits only the three words; should another ever
/// appear, it is logged and shown as a warning rather than failing the list.
fn stored_severity(row: &AlertRow) -> SeverityDto {
    SeverityDto::from_stored(&row.severity).unwrap_or_else(|| {
        tracing::warn!(
            severity = row.severity,
            alert = row.id,
            "a stored alert has an unknown severity"
        );
        SeverityDto::Warning
    })
}

/// Alerts of the account's own sessions (never a coach's copies of athletes' ones) fired at wall times
/// `from_unix_ms <= at < to_unix_ms`, oldest first.
pub async fn alerts_between(
    store: &Store,
    from_unix_ms: i64,
    to_unix_ms: i64,
) -> Result<Vec<AlertDto>, EngineError> {
    Ok(store
        .alerts_between(from_unix_ms, to_unix_ms)
        .await?
        .iter()
        .map(alert_dto)
        .collect())
}

/// The first day whose morning reading counts toward readiness on `from_day`: the 60-day baseline of that day,
/// and the 7 days of trend before it, reach this far back.
pub fn earliest_reading_day(from_day: i64) -> i64 {
    from_day.saturating_sub(BASELINE_DAYS + ROLLING_DAYS)
}

/// The morning readings that decide readiness on the days `from_day..=to_day`.
async fn readings_for(
    store: &Store,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<auren_store::MorningReading>, EngineError> {
    Ok(store
        .morning_readings(earliest_reading_day(from_day), to_day)
        .await?)
}

fn hrv_readings(readings: &[auren_store::MorningReading]) -> Vec<readiness::MorningReading> {
    readings
        .iter()
        .map(|r| readiness::MorningReading {
            day: r.day,
            ln_rmssd: r.ln_rmssd,
        })
        .collect()
}

/// Readiness for every day of `from_day..=to_day` from the account's own stored morning readings: the 7-day
/// mean of morning lnRMSSD against the normal range (60-day mean ± 0.5 SD), CV, trend, verdict, and that
/// day's resting HR.
pub async fn daily_trend(
    store: &Store,
    from_day: i64,
    to_day: i64,
) -> Result<Vec<ReadinessDto>, EngineError> {
    let readings = readings_for(store, from_day, to_day).await?;
    daily_trend_of(&readings, from_day, to_day)
}

/// [`daily_trend`] computed from `readings` — one person's mornings (the account's own, or a coach's copies of
/// one athlete's), reaching back to [`earliest_reading_day`] of `from_day` for the first day's normal range.
pub fn daily_trend_of(
    readings: &[auren_store::MorningReading],
    from_day: i64,
    to_day: i64,
) -> Result<Vec<ReadinessDto>, EngineError> {
    let series = daily_series(&hrv_readings(readings), from_day, to_day)
        .map_err(|e| EngineError::BadQuery(e.to_string()))?;
    Ok(series
        .iter()
        .map(|r| ReadinessDto {
            resting_hr: readings
                .iter()
                .find(|m| m.day == r.day)
                .and_then(|m| m.resting_hr),
            ..ReadinessDto::from(r)
        })
        .collect())
}

/// Readiness on `day` from the stored morning readings.
pub async fn readiness_on(store: &Store, day: i64) -> Result<ReadinessDto, EngineError> {
    let readings = readings_for(store, day, day).await?;
    let r = readiness::readiness(&hrv_readings(&readings), day);
    Ok(ReadinessDto {
        resting_hr: readings.iter().find(|m| m.day == day).and_then(|m| m.resting_hr),
        ..ReadinessDto::from(&r)
    })
}

/// The baselines rules see on `day`: the normal range of morning lnRMSSD and the resting HR baseline, from
/// the stored readings through `auren_cep::baseline::morning_baselines` (the server's alert consumer uses
/// the same function on the synced readings). Profile values (max HR, HR ceiling, aerobic threshold HR)
/// are not stored here; the caller adds them.
pub async fn baselines(store: &Store, day: i64) -> Result<BaselinesDto, EngineError> {
    let first = day.saturating_sub(MORNING_SPAN_DAYS - 1);
    let readings: Vec<MorningValues> = store
        .morning_readings(first, day)
        .await?
        .iter()
        .map(|r| MorningValues {
            day: r.day,
            ln_rmssd: r.ln_rmssd,
            resting_hr: r.resting_hr,
        })
        .collect();
    Ok(BaselinesDto::from(&morning_baselines(&readings, day)))
}
