//! What the end-to-end tests put in place before the app starts: a database with two months of morning
//! readings, a recorded session, a coach's database holding an athlete's session and mornings, and a rules
//! file with a mistake at a known line.

use anyhow::Context;
use auren_engine::dto::SessionDetailDto;
use auren_engine::import::{ImportConfig, import_recording};
use auren_engine::query::{BASELINE_LN_RMSSD, BASELINE_RESTING_HR};
use auren_store::{Baseline, BeatRow, PulledSession, SessionKind, Store};
use std::path::Path;

/// Days of seeded morning readings: the 60-day window the normal range is computed over.
pub const SEEDED_DAYS: i64 = 60;
/// The seeded morning lnRMSSD alternates around this value by ±[`LN_RMSSD_SPREAD`], which puts the normal
/// range (mean ± 0.5 SD) at about 3.3–3.7: well above the ~2.3 the `fatigued` simulator produces.
pub const LN_RMSSD_CENTRE: f64 = 3.5;
pub const LN_RMSSD_SPREAD: f64 = 0.4;
/// The seeded resting heart rate: the `fatigued` simulator runs at about 72 bpm, more than 5 above.
pub const RESTING_HR: f64 = 60.0;

/// Today as the app counts days: days since 1970-01-01 in UTC.
pub fn today() -> i64 {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    ms.div_euclid(86_400_000)
}

/// Creates `<data_dir>/auren.db` with a morning reading on each of the [`SEEDED_DAYS`] days up to `today`
/// and the baselines a morning reading would have left, so the `cns_fatigue` rule has a personal normal
/// range and resting heart rate to compare with.
pub async fn seed_morning_history(data_dir: &Path, today: i64) -> anyhow::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let store = Store::open(&data_dir.join("auren.db")).await?;
    for k in 0..SEEDED_DAYS {
        let sign = if k % 2 == 0 { 1.0 } else { -1.0 };
        let hr = RESTING_HR + [-1.0, 0.0, 1.0][(k % 3) as usize];
        store
            .add_morning_reading(
                today - k,
                LN_RMSSD_CENTRE + sign * LN_RMSSD_SPREAD,
                Some(hr),
                None,
            )
            .await?;
    }
    let baseline = |metric: &str, mean: f64, sd: f64| Baseline {
        metric: metric.to_owned(),
        day: today,
        mean,
        sd,
        n: SEEDED_DAYS,
    };
    store
        .put_baseline(&baseline(BASELINE_LN_RMSSD, LN_RMSSD_CENTRE, LN_RMSSD_SPREAD))
        .await?;
    store
        .put_baseline(&baseline(BASELINE_RESTING_HR, RESTING_HR, 0.8))
        .await?;
    Ok(())
}

/// A rules file whose first rule is valid and whose second has a broken condition on line
/// [`INVALID_RULES_LINE`].
pub const INVALID_RULES: &str = r#"[[rule]]
name = "very_high_hr"
severity = "warning"
when = "hr > 195"
message = "Heart rate {hr:.0} bpm"

[[rule]]
name = "broken"
severity = "info"
when = "avg(hr, 2m) > > 3"
message = "never shown"
"#;
pub const INVALID_RULES_LINE: usize = 10;

/// The shipped 5-minute reference recording of normal sinus rhythm.
pub fn reference_recording() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/reference/nsr_5min.rr")
}

/// Stores [`reference_recording`] in `<data_dir>/auren.db` as a session that started an hour ago,
/// through the live pipeline as the app's import does; returns the session's id.
pub async fn seed_session(data_dir: &Path) -> anyhow::Result<i64> {
    std::fs::create_dir_all(data_dir)?;
    let store = Store::open(&data_dir.join("auren.db")).await?;
    let started = (today() * 86_400_000).max(now_ms() - 3_600_000);
    let rules = auren_cep::compile(auren_cep::DEFAULT_RULES)
        .map_err(|problems| anyhow::anyhow!("the default rules do not compile: {problems:?}"))?;
    let config = ImportConfig::new(started, rules, auren_cep::Baselines::new());
    let summary = import_recording(&store, &reference_recording(), config).await?;
    store.close().await;
    Ok(summary.session_id)
}

/// The athlete whose data the coach's database of [`seed_coach_with_athlete`] holds (their account's user id
/// and email, as a sync's grant list names them).
pub const ATHLETE_USER_ID: &str = "u-runner";
pub const ATHLETE: &str = "runner+e2e@example.org";
/// When the athlete's session started: 2026-11-20 06:45 UTC, which History shows as
/// [`ATHLETE_SESSION_START_SHOWN_UTC`] when the app runs with `TZ=UTC`.
pub const ATHLETE_SESSION_START_MS: i64 = 1_795_157_100_000;
pub const ATHLETE_SESSION_START_SHOWN_UTC: &str = "Fri 20 Nov 2026 06:45";
pub const ATHLETE_SESSION_SOURCE: &str = "ble:AA:BB:CC:DD:EE:FF";
/// The athlete's session holds the first this many intervals of [`reference_recording`], so its panel is not
/// the coach's own session's (the whole recording).
pub const ATHLETE_BEATS: usize = 200;
/// The athlete's mornings: the last [`ATHLETE_MORNING_DAYS`] days, alternating ±0.05 around 3.2 (today
/// 3.25), far from the coach's own ([`LN_RMSSD_CENTRE`]), so a trend mixing the two would show.
pub const ATHLETE_MORNING_DAYS: i64 = 10;
pub const ATHLETE_LN_RMSSD_TODAY: f64 = 3.25;

/// What [`seed_coach_with_athlete`] stored.
pub struct CoachSeed {
    /// The coach's own session (the reference recording, started an hour ago).
    pub own_session: i64,
    /// The athlete's session, as a sync pulls it.
    pub athlete_session: i64,
    /// The athlete's session as the store's rows give it to the engine: its summary (duration) and panel.
    pub athlete_detail: SessionDetailDto,
}

/// Creates `<data_dir>/auren.db` for a coach: their own mornings ([`seed_morning_history`]) and session
/// ([`seed_session`]), and, through the store's sync API as a pull leaves them, the grant list naming
/// [`ATHLETE`], the athlete's session of [`ATHLETE_BEATS`] beats and their mornings.
pub async fn seed_coach_with_athlete(data_dir: &Path, today: i64) -> anyhow::Result<CoachSeed> {
    seed_morning_history(data_dir, today).await?;
    let own_session = seed_session(data_dir).await?;
    let read = auren_engine::recording::read(&reference_recording())?;
    let beats: Vec<BeatRow> = read
        .rr_ms
        .iter()
        .take(ATHLETE_BEATS)
        .scan(0.0, |t_ms, &rr_ms| {
            *t_ms += rr_ms;
            Some(BeatRow {
                t_ms: *t_ms,
                rr_ms,
                artifact: None,
            })
        })
        .collect();
    let last_beat_ms = beats.last().map_or(0.0, |b| b.t_ms);

    let store = Store::open(&data_dir.join("auren.db")).await?;
    store
        .forget_athletes_except(&[(ATHLETE_USER_ID.into(), ATHLETE.into())])
        .await?;
    let mut tx = store.begin_sync().await?;
    let athlete_session = tx
        .upsert_session(
            "athlete-replica:1",
            &PulledSession {
                started_at: ATHLETE_SESSION_START_MS,
                ended_at: Some(ATHLETE_SESSION_START_MS + last_beat_ms.ceil() as i64),
                kind: SessionKind::Morning,
                source: ATHLETE_SESSION_SOURCE.into(),
                athlete: Some(ATHLETE.into()),
            },
        )
        .await?;
    tx.insert_beats(athlete_session, &beats).await?;
    for k in 0..ATHLETE_MORNING_DAYS {
        let wobble = if k % 2 == 0 { 0.05 } else { -0.05 };
        tx.put_athlete_morning(
            ATHLETE,
            today - k,
            ATHLETE_LN_RMSSD_TODAY - 0.05 + wobble,
            Some(45.0),
            None,
        )
        .await?;
    }
    tx.commit().await?;
    let detail = store
        .session_detail(athlete_session)
        .await?
        .context("the athlete's session just stored is not there")?;
    store.close().await;
    Ok(CoachSeed {
        own_session,
        athlete_session: athlete_session.0,
        athlete_detail: auren_engine::query::session_detail_of(&detail),
    })
}

/// How History shows a duration in seconds ("2:49", "1:02:03"): `formatDuration` of ui/src/format.ts.
pub fn shown_duration(seconds: f64) -> String {
    let total = seconds.max(0.0).floor() as u64;
    let (h, m, s) = (total / 3600, total % 3600 / 60, total % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invalid_rules_fail_at_the_line_the_test_expects_and_only_there() {
        let problems = auren_cep::check(INVALID_RULES).err().unwrap();
        let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![INVALID_RULES_LINE], "{problems:?}");
        let first_rule: String = INVALID_RULES.lines().take(5).collect::<Vec<_>>().join("\n");
        assert!(auren_cep::check(&first_rule).is_ok());
    }

    #[test]
    fn durations_read_as_history_shows_them() {
        for (seconds, shown) in [
            (0.0, "0:00"),
            (59.9, "0:59"),
            (169.4, "2:49"),
            (3723.0, "1:02:03"),
        ] {
            assert_eq!(shown_duration(seconds), shown, "{seconds}");
        }
    }

    #[tokio::test]
    async fn a_coachs_seed_keeps_the_athletes_session_and_mornings_apart_from_the_coachs() {
        let dir = tempfile::tempdir().unwrap();
        let today = super::today();
        let seed = seed_coach_with_athlete(dir.path(), today).await.unwrap();
        let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
        let ids = |rows: Vec<auren_store::SessionRow>| rows.iter().map(|r| r.id.0).collect::<Vec<_>>();
        assert_eq!(ids(store.sessions(10, 0).await.unwrap()), [seed.own_session]);
        let theirs = store.athlete_sessions(ATHLETE, 10, 0).await.unwrap();
        assert_eq!(ids(theirs.clone()), [seed.athlete_session]);
        assert_eq!(theirs[0].started_at, ATHLETE_SESSION_START_MS);
        assert_eq!(theirs[0].beat_count, ATHLETE_BEATS as i64);
        assert_eq!(store.athletes().await.unwrap(), [ATHLETE]);
        let summary = &seed.athlete_detail.summary;
        assert!(
            (150.0..200.0).contains(&summary.duration_s.unwrap()),
            "{summary:?}"
        );
        let rmssd = seed
            .athlete_detail
            .panel
            .iter()
            .find(|m| m.key == "rmssd_ms")
            .unwrap();
        assert!(rmssd.value.is_some_and(|v| v > 0.0), "{rmssd:?}");
    }

    #[tokio::test]
    async fn seeded_history_gives_a_normal_range_above_what_fatigue_produces() {
        let dir = tempfile::tempdir().unwrap();
        let today = 20_400;
        seed_morning_history(dir.path(), today).await.unwrap();
        let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
        let seen = auren_engine::query::baselines(&store, today).await.unwrap();
        let (lo, hi) = (seen.ln_rmssd_lo.unwrap(), seen.ln_rmssd_hi.unwrap());
        assert!((3.2..3.4).contains(&lo) && (3.6..3.8).contains(&hi), "{lo}..{hi}");
        assert_eq!(seen.resting_hr, Some(RESTING_HR));
    }
}
