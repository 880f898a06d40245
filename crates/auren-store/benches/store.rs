//! Criterion benchmarks of auren-store: batched beat ingest through a SessionWriter (goal ≥ 500k beats/s),
//! and queries over a year of 24/7 recording (~40 million beats, goal: daily trend under 50 ms).
//!
//! The year is generated once (through the same SessionWriter, a few minutes) into
//! `$CARGO_TARGET_DIR/bench-data/year.db` (or `target/bench-data/year.db`) and reused by later runs.
//! The daily trend reads one `morning_readings` row per day, so its cost does not grow with the beats;
//! the per-day aggregates over the beats show what a beat-derived trend would cost instead.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-store cargo bench -p auren-store --bench store`
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use auren_store::{NewSession, SessionId, SessionKind, Store, WriterConfig};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sqlx::Row;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

const DAY_MS: i64 = 86_400_000;
/// 2025-01-01T00:00:00Z, day number 20_089.
const YEAR_START: i64 = 1_735_689_600_000;
const FIRST_DAY: i64 = YEAR_START / DAY_MS;
const DAYS: i64 = 365;

/// The crash test's generator, so the generated year is the same on every machine.
#[path = "../tests/it/splitmix64.rs"]
mod splitmix64;
use splitmix64::SplitMix64;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn session(started_at: i64, kind: SessionKind) -> NewSession {
    NewSession {
        started_at,
        kind,
        source: "simulator:rest".into(),
        strap_address: None,
        label: None,
    }
}

/// A day's RR series: a circadian swing of the mean (slower at night), breathing modulation and noise;
/// every 500th beat labelled ectopic.
fn day_beats(rng: &mut SplitMix64) -> Vec<(f64, f64, Option<&'static str>)> {
    let mut beats = Vec::with_capacity(120_000);
    let mut t = 0.0;
    while t < DAY_MS as f64 {
        let phase = t / DAY_MS as f64 * std::f64::consts::TAU;
        let rr = 800.0 + 150.0 * phase.cos() + 30.0 * (t / 4_000.0).sin() + 40.0 * (rng.unit() - 0.5);
        t += rr;
        let artifact = (beats.len() % 500 == 499).then_some("ectopic");
        beats.push((t, rr, artifact));
    }
    beats
}

fn ingest(c: &mut Criterion) {
    const BEATS: usize = 200_000;
    let rt = runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let store = rt
        .block_on(Store::open(&dir.path().join("ingest.db")))
        .expect("open");
    let mut rng = SplitMix64(7);
    let mut beats = day_beats(&mut rng);
    beats.extend(
        day_beats(&mut rng)
            .into_iter()
            .map(|(t, rr, a)| (t + DAY_MS as f64, rr, a)),
    );
    beats.truncate(BEATS);
    let config = WriterConfig {
        capacity: BEATS + 1,
        ..WriterConfig::default()
    };
    let mut group = c.benchmark_group("ingest");
    group.sample_size(10);
    group.throughput(Throughput::Elements(BEATS as u64));
    group.bench_function("200k_beats_session_writer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let id = store
                        .start_session(&session(YEAR_START, SessionKind::Rest))
                        .await
                        .expect("session");
                    let started = Instant::now();
                    let writer = store.session_writer_with(id, config).await.expect("writer");
                    for &(t, rr, artifact) in &beats {
                        writer.beat(t, rr, artifact);
                    }
                    let summary = writer.finish().await.expect("finish");
                    spent += started.elapsed();
                    assert_eq!(summary.beats, BEATS as u64, "every beat stored");
                }
                spent
            })
        });
    });
    group.finish();
    rt.block_on(store.close());
}

fn bench_data_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            // target/<profile>/deps/store-<hash>
            let exe = std::env::current_exe().ok()?;
            exe.ancestors().nth(3).map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench-data")
}

/// Opens the cached year, generating it first if it is missing: one 24 h session per day, each with its
/// morning reading.
async fn year_store() -> Store {
    let dir = bench_data_dir();
    let path = dir.join("year.db");
    if !path.exists() {
        let partial = dir.join("year.db.partial");
        for stale in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(dir.join(format!("year.db.partial{stale}")));
        }
        eprintln!("generating a year of 24/7 beats into {} (once)…", path.display());
        let started = Instant::now();
        let store = Store::open(&partial).await.expect("open");
        let mut rng = SplitMix64(2025);
        let mut total = 0;
        for day in 0..DAYS {
            let start = YEAR_START + day * DAY_MS;
            let id = store
                .start_session(&session(start, SessionKind::Other))
                .await
                .expect("session");
            let beats = day_beats(&mut rng);
            let writer = store
                .session_writer_with(
                    id,
                    WriterConfig {
                        capacity: beats.len() + 1,
                        ..WriterConfig::default()
                    },
                )
                .await
                .expect("writer");
            for &(t, rr, artifact) in &beats {
                writer.beat(t, rr, artifact);
            }
            let summary = writer.finish().await.expect("finish");
            assert_eq!(summary.beats, beats.len() as u64);
            total += beats.len();
            store.end_session(id, start + DAY_MS).await.expect("end");
            let ln_rmssd = 4.0 + 0.3 * (rng.unit() - 0.5);
            let resting_hr = 52.0 + 6.0 * rng.unit();
            store
                .add_morning_reading(FIRST_DAY + day, ln_rmssd, Some(resting_hr), Some(id))
                .await
                .expect("reading");
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(store.pool())
            .await
            .expect("checkpoint");
        store.close().await;
        std::fs::rename(&partial, &path).expect("rename the finished year");
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "generated {total} beats in {elapsed:.0} s ({:.0} beats/s)",
            total as f64 / elapsed
        );
    }
    Store::open(&path).await.expect("open the year")
}

fn year(c: &mut Criterion) {
    let rt = runtime();
    let store = rt.block_on(year_store());
    let (beats, sessions): (i64, Vec<SessionId>) = rt.block_on(async {
        let beats: i64 = sqlx::query_scalar("SELECT SUM(beat_count) FROM sessions WHERE kind = 'other'")
            .fetch_one(store.pool())
            .await
            .expect("count");
        let rows = store.sessions(u32::MAX, 0).await.expect("sessions");
        (beats, rows.iter().map(|s| s.id).collect())
    });
    eprintln!("the year holds {beats} beats in {} sessions", sessions.len());
    let mid_year = sessions[sessions.len() / 2];

    let mut group = c.benchmark_group("year_24_7");
    group.bench_function("daily_trend_365_days", |b| {
        b.iter(|| {
            let trend = rt
                .block_on(store.daily_trend(FIRST_DAY, FIRST_DAY + DAYS - 1))
                .expect("trend");
            assert_eq!(trend.len(), DAYS as usize);
            black_box(trend)
        });
    });
    group.sample_size(20);
    // What a beat-derived daily value costs: mean RR and artifact count of one 24 h day, read along the
    // (session_id, t_ms) primary key.
    group.bench_function("one_day_aggregate_over_beats", |b| {
        b.iter(|| {
            let row = rt
                .block_on(
                    sqlx::query(
                        "SELECT COUNT(*), AVG(rr_ms), COUNT(artifact) FROM beats WHERE session_id = ?",
                    )
                    .bind(mid_year.0)
                    .fetch_one(store.pool()),
                )
                .expect("aggregate");
            black_box(row.try_get::<f64, _>(1).expect("mean"))
        });
    });
    // The morning hour of one day, the range a resting HR would come from.
    group.bench_function("one_hour_aggregate_over_beats", |b| {
        b.iter(|| {
            let row = rt
                .block_on(
                    sqlx::query(
                        "SELECT COUNT(*), AVG(rr_ms) FROM beats WHERE session_id = ? AND t_ms >= ? AND t_ms < ?",
                    )
                    .bind(mid_year.0)
                    .bind(6.0 * 3_600_000.0)
                    .bind(7.0 * 3_600_000.0)
                    .fetch_one(store.pool()),
                )
                .expect("aggregate");
            black_box(row.try_get::<f64, _>(1).expect("mean"))
        });
    });
    group.sample_size(10);
    group.bench_function("beats_of_one_day_session", |b| {
        b.iter(|| black_box(rt.block_on(store.beats(mid_year)).expect("beats").len()));
    });
    group.finish();

    // Once, not sampled: the whole year aggregated per day from the beats — the cost the daily trend
    // avoids by reading morning_readings.
    let started = Instant::now();
    let days = rt
        .block_on(
            sqlx::query("SELECT session_id, AVG(rr_ms) FROM beats GROUP BY session_id")
                .fetch_all(store.pool()),
        )
        .expect("year aggregate")
        .len();
    eprintln!(
        "year_24_7/per_day_aggregate_over_all_beats (one run): {days} days in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    rt.block_on(store.close());
}

criterion_group!(benches, ingest, year);
criterion_main!(benches);
