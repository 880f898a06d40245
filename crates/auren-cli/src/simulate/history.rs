//! `auren simulate history [--days 90] [--seed N] [--until DATE]`: a simulated person's history, for demos
//! and tests of the coach.
//!
//! Every day has a 3-minute morning reading at 06:30–07:15 UTC; some days an evening exercise session
//! (12 minutes, heart rate climbing to ~150 bpm; every fourth with a minute of ectopic beats, so the
//! artifact-burst rule fires); some evenings a 2-minute rest session tagged `alcohol` or `meditation`.
//! Every session is played through the engine's live pipeline (artifact labels, windows, the built-in
//! rules and their alerts) and its source reads "Simulated strap — history (seed N)", so nothing of it is
//! mistaken for a real heart. Mornings are stored as morning readings from their own beats, as
//! `auren morning` does.
//!
//! The planted effect: a morning after an `alcohol` evening has its lnRMSSD lowered by
//! [`ALCOHOL_LN_RMSSD_DROP`] (about 22 % of RMSSD); `meditation` has none, so a tag-effect test has both a
//! true and a null tag. The same seed gives the same days, beat for beat.

use anyhow::Context;
use auren_cep::{Baselines, SessionKind};
use auren_clock::{MS_PER_DAY, UnixMillis, UtcDate};
use auren_engine::{SessionConfig, morning, start_session};
use auren_store::{SessionId, Store};
use auren_strap::Pace;
use auren_strap::replay::Replay;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::places::{db_path, runtime};

/// How much an `alcohol` evening lowers the next morning's lnRMSSD.
pub const ALCOHOL_LN_RMSSD_DROP: f64 = 0.25;
/// The person's usual morning lnRMSSD (RMSSD ≈ 55 ms) and its day-to-day SD.
const BASE_LN_RMSSD: f64 = 4.0;
const DAILY_SD: f64 = 0.10;
/// Chance of each evening kind per day.
const ALCOHOL_CHANCE: f64 = 0.2;
const MEDITATION_CHANCE: f64 = 0.2;
const EXERCISE_CHANCE: f64 = 0.4;
/// Most days a history may span: ten years.
const MAX_DAYS: u32 = 3650;

#[derive(clap::Args)]
pub struct Args {
    /// How many days, ending with --until.
    #[arg(long, default_value_t = 90)]
    pub days: u32,
    /// The same seed gives the same history.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// The last simulated day (YYYY-MM-DD); default: today (UTC).
    #[arg(long)]
    pub until: Option<String>,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<std::path::PathBuf>,
}

/// What was written.
#[derive(Debug, Default, Serialize)]
struct Summary {
    days: u32,
    seed: u64,
    first_day: String,
    last_day: String,
    mornings: u32,
    exercise_sessions: u32,
    alcohol_evenings: u32,
    meditation_evenings: u32,
    alerts: usize,
    source: String,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.days == 0 || args.days > MAX_DAYS {
        anyhow::bail!("--days {} is out of range: 1 to {MAX_DAYS}", args.days);
    }
    let last_day = match args.until.as_deref() {
        Some(text) => auren_engine::import::history::plain_date(text, false)
            .with_context(|| format!("--until {text:?} is not a date: write 2025-11-21"))?,
        None => UnixMillis::now().day_number(),
    };
    let summary = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db.clone())?).await?;
        let written = write_history(&store, &args, last_day).await;
        store.close().await;
        written
    })?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        println!(
            "Simulated {} days ({} to {}, seed {}): {} morning readings, {} exercise sessions, {} alcohol and \
             {} meditation evenings, {} alerts; labelled \"{}\".",
            summary.days,
            summary.first_day,
            summary.last_day,
            summary.seed,
            summary.mornings,
            summary.exercise_sessions,
            summary.alcohol_evenings,
            summary.meditation_evenings,
            summary.alerts,
            summary.source
        );
    }
    Ok(())
}

/// One simulated day's plan, drawn before any beat.
struct DayPlan {
    day: i64,
    morning_ln_rmssd: f64,
    morning_hr: f64,
    morning_offset_ms: i64,
    exercise: bool,
    evening_tag: Option<&'static str>,
}

fn plan(days: u32, last_day: i64, rng: &mut Rng) -> Vec<DayPlan> {
    let first = last_day - i64::from(days) + 1;
    let mut plans: Vec<DayPlan> = Vec::with_capacity(days as usize);
    for day in first..=last_day {
        let drank_yesterday = plans.last().is_some_and(|p| p.evening_tag == Some("alcohol"));
        let season = 0.05 * (std::f64::consts::TAU * (day as f64) / 28.0).sin();
        let drop = if drank_yesterday {
            ALCOHOL_LN_RMSSD_DROP
        } else {
            0.0
        };
        let ln = BASE_LN_RMSSD + season - drop + DAILY_SD * rng.normal();
        let evening = rng.uniform();
        let evening_tag = if evening < ALCOHOL_CHANCE {
            Some("alcohol")
        } else if evening < ALCOHOL_CHANCE + MEDITATION_CHANCE {
            Some("meditation")
        } else {
            None
        };
        plans.push(DayPlan {
            day,
            morning_ln_rmssd: ln,
            // Lower HRV mornings come with a slightly higher resting heart rate.
            morning_hr: 55.0 - 8.0 * (ln - BASE_LN_RMSSD) + 1.5 * rng.normal(),
            morning_offset_ms: (6 * 60 + 30) * 60_000 + (rng.uniform() * 45.0 * 60_000.0) as i64,
            exercise: rng.uniform() < EXERCISE_CHANCE,
            evening_tag,
        });
    }
    plans
}

async fn write_history(store: &Store, args: &Args, last_day: i64) -> anyhow::Result<Summary> {
    let mut rng = Rng::new(args.seed);
    let plans = plan(args.days, last_day, &mut rng);
    let source = format!("Simulated strap — history (seed {})", args.seed);
    let rules = crate::rules::load(None)?;
    let mut summary = Summary {
        days: args.days,
        seed: args.seed,
        first_day: UtcDate::from_days(last_day - i64::from(args.days) + 1).to_string(),
        last_day: UtcDate::from_days(last_day).to_string(),
        source: source.clone(),
        ..Summary::default()
    };
    let session = |kind: SessionKind, at: i64, label: &str| {
        let mut config = SessionConfig::new(kind, at, rules.clone(), Baselines::new());
        config.source_label = Some(source.clone());
        config.label = Some(label.to_owned());
        config
    };
    for p in &plans {
        let midnight = p.day * MS_PER_DAY;
        let rr = morning_beats(p.morning_ln_rmssd.exp(), p.morning_hr, &mut rng);
        let config = session(
            SessionKind::Morning,
            midnight + p.morning_offset_ms,
            "simulated morning",
        );
        let (id, alerts) = play(store, &rr, config).await?;
        morning::store_reading(store, SessionId(id), p.day).await?;
        summary.mornings += 1;
        summary.alerts += alerts;
        if p.exercise {
            let burst = summary.exercise_sessions % 4 == 3;
            let rr = exercise_beats(burst, &mut rng);
            let config = session(
                SessionKind::Exercise,
                midnight + 18 * 3_600_000,
                "simulated exercise",
            );
            summary.alerts += play(store, &rr, config).await?.1;
            summary.exercise_sessions += 1;
        }
        if let Some(tag) = p.evening_tag {
            let rr = morning_beats(50.0, 62.0, &mut rng);
            let rr = &rr[..rr.len().min(130)];
            let config = session(
                SessionKind::Rest,
                midnight + 21 * 3_600_000 + 1_800_000,
                "simulated evening",
            );
            let (id, alerts) = play(store, rr, config).await?;
            summary.alerts += alerts;
            // Tagged after the fact at the session's start: a replay this fast ends before a live tag lands.
            let writer = store.session_writer(SessionId(id)).await?;
            writer.tag(0.0, tag);
            writer.finish().await?;
            match tag {
                "alcohol" => summary.alcohol_evenings += 1,
                _ => summary.meditation_evenings += 1,
            }
        }
    }
    Ok(summary)
}

/// Plays `rr` through a live session as fast as possible; returns its id and how many alerts fired.
async fn play(store: &Store, rr: &[f64], config: SessionConfig) -> anyhow::Result<(i64, usize)> {
    let source = Replay::rr_ms(rr, "simulated history", Pace::AsFastAsPossible);
    let live = start_session(store, Box::new(source), config, CancellationToken::new()).await?;
    let summary = live.finish().await?;
    Ok((summary.session_id, summary.alerts.len()))
}

/// A resting reading of a little over 3 minutes: beats around 60000/`hr` ms whose successive differences
/// have RMSSD ≈ `rmssd_ms` (independent beats with SD σ have RMSSD σ√2).
fn morning_beats(rmssd_ms: f64, hr: f64, rng: &mut Rng) -> Vec<f64> {
    let mean = 60_000.0 / hr.clamp(35.0, 110.0);
    let sd = rmssd_ms / std::f64::consts::SQRT_2;
    let mut rr = Vec::new();
    let mut total = 0.0;
    while total < 190_000.0 {
        let beat = (mean + sd * rng.normal()).clamp(300.0, 2000.0);
        total += beat;
        rr.push(beat);
    }
    rr
}

/// 12 minutes of exercise: the heart rate climbs from 100 to 150 bpm over four minutes and stays; with
/// `burst`, a minute of ectopic beats (every sixth beat early, the next late) from minute 6.
fn exercise_beats(burst: bool, rng: &mut Rng) -> Vec<f64> {
    let mut rr = Vec::new();
    let mut total = 0.0;
    while total < 720_000.0 {
        let minutes: f64 = total / 60_000.0;
        let hr = 100.0 + 50.0 * (minutes / 4.0).min(1.0);
        let mut beat = 60_000.0 / hr + 6.0 * rng.normal();
        let in_burst = burst && (360_000.0..420_000.0).contains(&total);
        if in_burst && rr.len() % 6 == 0 {
            beat *= 0.6;
        } else if in_burst && rr.len() % 6 == 1 {
            beat *= 1.4;
        }
        total += beat;
        rr.push(beat);
    }
    rr
}

/// SplitMix64 with Box–Muller normals: small, fast, and the same sequence on every platform, which a
/// seeded history needs.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x5EED_A0E5_1234_5678)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Standard normal.
    fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::{ALCOHOL_LN_RMSSD_DROP, Rng, plan};

    #[test]
    fn the_plan_is_the_same_for_a_seed_and_differs_between_seeds() {
        let a = plan(60, 20_000, &mut Rng::new(7));
        let b = plan(60, 20_000, &mut Rng::new(7));
        let c = plan(60, 20_000, &mut Rng::new(8));
        let ln = |p: &[super::DayPlan]| p.iter().map(|d| d.morning_ln_rmssd).collect::<Vec<_>>();
        assert_eq!(ln(&a), ln(&b));
        assert_ne!(ln(&a), ln(&c));
        assert_eq!(a.first().map(|p| p.day), Some(20_000 - 59));
    }

    #[test]
    fn mornings_after_alcohol_are_lower_by_the_planted_drop() {
        let plans = plan(3000, 20_000, &mut Rng::new(1));
        let (mut after, mut other) = (Vec::new(), Vec::new());
        for pair in plans.windows(2) {
            let bucket = if pair[0].evening_tag == Some("alcohol") {
                &mut after
            } else {
                &mut other
            };
            bucket.push(pair[1].morning_ln_rmssd);
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let drop = mean(&other) - mean(&after);
        assert!((drop - ALCOHOL_LN_RMSSD_DROP).abs() < 0.03, "drop {drop}");
    }
}
