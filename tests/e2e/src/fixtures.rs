//! What the end-to-end tests put in place before the app starts: a database with two months of morning
//! readings, a recorded session, and a rules file with a mistake at a known line.

use auren_engine::import::{ImportConfig, import_recording};
use auren_engine::query::{BASELINE_LN_RMSSD, BASELINE_RESTING_HR};
use auren_store::{Baseline, Store};
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
