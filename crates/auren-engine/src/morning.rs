//! The guided morning readiness reading: three minutes at rest, lnRMSSD of the artifact-corrected
//! beats, stored as the day's reading; the baselines (60-day mean and SD of lnRMSSD and resting HR)
//! are updated and the readiness verdict is computed over the stored readings.

use auren_cep::{Baselines, RuleSet, SessionKind};
use auren_hrv::readiness::BASELINE_DAYS;
use auren_store::{Baseline, SessionId, Store};
use auren_strap::HeartSource;
use tokio_util::sync::CancellationToken;

use crate::dto::{MorningResultDto, ReadinessDto};
use crate::error::EngineError;
use crate::query::{self, BASELINE_LN_RMSSD, BASELINE_RESTING_HR, corrected_nn};
use crate::session::{SessionConfig, SessionEnd, SessionSummary, StrapIdentity, start_session};

/// Length of the reading (HRV4Training and Kubios use 1–5 min; 3 min holds enough beats for RMSSD
/// at any resting heart rate).
pub const MORNING_READING_MS: u64 = 180_000;
/// Fewest successive differences RMSSD of a reading is computed from.
pub const MIN_READING_DIFFS: usize = 60;

/// What a morning reading needs besides its source.
#[derive(Clone, Debug)]
pub struct MorningConfig {
    /// The day the reading counts for (the caller's local calendar, days since 1970-01-01).
    pub day: i64,
    pub started_at_unix_ms: i64,
    pub rules: RuleSet,
    pub baselines: Baselines,
    /// The strap the reading is taken with, if it is one.
    pub strap: Option<StrapIdentity>,
}

/// Records a 3-minute reading from `source` and stores it as `config.day`'s morning reading.
///
/// Stopped early (shutdown), the session is kept but no reading is stored:
/// [`EngineError::ReadingIncomplete`].
pub async fn morning_reading(
    store: &Store,
    source: Box<dyn HeartSource>,
    config: MorningConfig,
    shutdown: CancellationToken,
) -> Result<MorningResultDto, EngineError> {
    let mut session = SessionConfig::new(
        SessionKind::Morning,
        config.started_at_unix_ms,
        config.rules,
        config.baselines,
    );
    session.max_duration_ms = Some(MORNING_READING_MS);
    session.strap = config.strap;
    let live = start_session(store, source, session, shutdown).await?;
    let summary = live.finish().await?;
    complete(store, &summary, config.day).await
}

/// Stores the reading of a finished morning session as `day`'s, when it ran its full 3 minutes:
/// [`EngineError::ReadingIncomplete`] when it was stopped or its source ended early.
pub async fn complete(
    store: &Store,
    summary: &SessionSummary,
    day: i64,
) -> Result<MorningResultDto, EngineError> {
    let needed_s = (MORNING_READING_MS / 1000) as i64;
    match &summary.ended {
        SessionEnd::DurationReached => {}
        SessionEnd::SourceFailed(failure) => return Err(EngineError::SourceFailed(failure.clone())),
        SessionEnd::SourceFinished | SessionEnd::Stopped => {
            return Err(EngineError::ReadingIncomplete {
                reached_s: summary.duration_ms / 1000,
                needed_s,
            });
        }
    }
    store_reading(store, SessionId(summary.session_id), day).await
}

/// lnRMSSD and resting HR of a stored session, stored as the morning reading of `day`, with the
/// baselines and readiness that follow.
pub async fn store_reading(
    store: &Store,
    session: SessionId,
    day: i64,
) -> Result<MorningResultDto, EngineError> {
    let detail = store
        .session_detail(session)
        .await?
        .ok_or(EngineError::NoSuchSession(session.0))?;
    let segments = corrected_nn(&detail.beats, &detail.gaps);
    let (mut sum_sq, mut diffs, mut hr_sum, mut beats) = (0.0, 0_usize, 0.0, 0_usize);
    for nn in &segments {
        for pair in nn.windows(2) {
            let d = pair[1] - pair[0];
            sum_sq += d * d;
            diffs += 1;
        }
        hr_sum += nn.iter().map(|rr| 60_000.0 / rr).sum::<f64>();
        beats += nn.len();
    }
    if diffs < MIN_READING_DIFFS {
        return Err(EngineError::TooFewBeats {
            beats,
            needed: MIN_READING_DIFFS + 1,
        });
    }
    let rmssd_ms = (sum_sq / diffs as f64).sqrt();
    let ln_rmssd = rmssd_ms.ln();
    let resting_hr = hr_sum / beats as f64;
    store
        .add_morning_reading(day, ln_rmssd, Some(resting_hr), Some(session))
        .await?;

    let readiness = refresh_baselines(store, day).await?;
    let artifacts = detail.beats.iter().filter(|b| b.artifact.is_some()).count();
    Ok(MorningResultDto {
        session_id: session.0,
        day,
        ln_rmssd,
        rmssd_ms,
        resting_hr: Some(resting_hr),
        beats: detail.beats.len(),
        artifacts,
        readiness,
    })
}

/// Stores the baselines of `day` (60-day lnRMSSD and resting HR) from the stored morning readings, and
/// returns that day's readiness: after a reading, and after readings arrive another way (a history import).
pub async fn refresh_baselines(store: &Store, day: i64) -> Result<ReadinessDto, EngineError> {
    let readiness = query::readiness_on(store, day).await?;
    if let (Some(mean), Some(sd)) = (readiness.baseline_mean_60d, readiness.baseline_sd_60d) {
        let n = baseline_count(store, day).await?;
        store
            .put_baseline(&Baseline {
                metric: BASELINE_LN_RMSSD.to_owned(),
                day,
                mean,
                sd,
                n,
            })
            .await?;
    }
    update_resting_hr_baseline(store, day).await?;
    Ok(readiness)
}

async fn baseline_count(store: &Store, day: i64) -> Result<i64, EngineError> {
    let readings = store
        .morning_readings(day.saturating_sub(BASELINE_DAYS - 1), day)
        .await?;
    Ok(readings.len() as i64)
}

/// The 60-day mean and SD (ddof 1) of morning resting HR, from two readings on.
async fn update_resting_hr_baseline(store: &Store, day: i64) -> Result<(), EngineError> {
    let values: Vec<f64> = store
        .morning_readings(day.saturating_sub(BASELINE_DAYS - 1), day)
        .await?
        .iter()
        .filter_map(|r| r.resting_hr)
        .collect();
    // The same numbers the rules' baseline takes (auren-cep, shared with the server).
    let Some((mean, sd)) = auren_cep::baseline::resting_hr_baseline(&values) else {
        return Ok(());
    };
    store
        .put_baseline(&Baseline {
            metric: BASELINE_RESTING_HR.to_owned(),
            day,
            mean,
            sd,
            n: values.len() as i64,
        })
        .await?;
    Ok(())
}
