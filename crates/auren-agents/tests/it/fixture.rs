//! A deterministic simulated person in a real SQLite file: a morning reading every day (lnRMSSD around 4.1
//! with noise), evening sessions tagged "alcohol" on about a quarter of the days (the next morning's lnRMSSD
//! lowered by the planted effect, resting HR raised), an exercise session with a CNS-fatigue alert every
//! tenth day, and today's morning session with beats.

use std::sync::Arc;

use auren_agents::Toolbox;
use auren_clock::{MS_PER_DAY, ManualClock, UnixMillis, UtcDate};
use auren_store::{NewSession, SessionKind, Store};

/// What to simulate.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub days: i64,
    pub seed: u64,
    /// How much lower lnRMSSD is the morning after a day tagged alcohol.
    pub alcohol_effect: f64,
    /// Added to lnRMSSD over the last 7 days (a bad week).
    pub last_week_shift: f64,
}

impl Default for Plan {
    fn default() -> Self {
        Self {
            days: 90,
            seed: 7,
            alcohol_effect: 0.3,
            last_week_shift: 0.0,
        }
    }
}

pub struct History {
    _dir: tempfile::TempDir,
    pub store: Store,
    pub toolbox: Toolbox,
    pub clock: Arc<ManualClock>,
    pub today: i64,
    pub alcohol_days: Vec<i64>,
}

/// splitmix64: a tiny deterministic generator.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn gauss(&mut self) -> f64 {
        let u = self.uniform().max(1e-12);
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

pub fn today() -> i64 {
    UtcDate {
        year: 2026,
        month: 12,
        day: 3,
    }
    .to_days()
}

async fn session(store: &Store, day: i64, hour: i64, kind: SessionKind) -> auren_store::SessionId {
    store
        .start_session(&NewSession {
            started_at: day * MS_PER_DAY + hour * 3_600_000,
            kind,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap()
}

pub async fn history(plan: Plan) -> History {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("auren.db")).await.unwrap();
    let today = today();
    let clock = Arc::new(ManualClock::new(UnixMillis(today * MS_PER_DAY + 8 * 3_600_000)));
    let mut rng = Rng(plan.seed);
    let first = today - plan.days + 1;
    let mut alcohol_days = Vec::new();
    let mut drank_yesterday = false;
    for day in first..=today {
        let mut ln = 4.1 + 0.12 * rng.gauss();
        let mut hr = 52.0 + 2.0 * rng.gauss();
        if drank_yesterday {
            ln -= plan.alcohol_effect;
            hr += 4.0;
        }
        if day > today - 7 {
            ln += plan.last_week_shift;
        }
        let morning = session(&store, day, 6, SessionKind::Morning).await;
        if day == today {
            let w = store.session_writer(morning).await.unwrap();
            let rmssd = ln.exp();
            let mut t = 0.0;
            for i in 0..300 {
                let rr = 1150.0 + if i % 2 == 0 { rmssd / 2.0 } else { -rmssd / 2.0 } + 5.0 * rng.gauss();
                t += rr;
                w.beat(t, rr, None);
            }
            w.finish().await.unwrap();
            store
                .end_session(morning, day * MS_PER_DAY + 6 * 3_600_000 + t as i64)
                .await
                .unwrap();
        }
        store
            .add_morning_reading(day, ln, Some(hr), Some(morning))
            .await
            .unwrap();
        if day == today {
            break;
        }
        drank_yesterday = rng.uniform() < 0.25;
        if drank_yesterday {
            alcohol_days.push(day);
            let evening = session(&store, day, 21, SessionKind::Rest).await;
            let w = store.session_writer(evening).await.unwrap();
            w.tag(60_000.0, "alcohol");
            w.finish().await.unwrap();
        }
        if (day - first) % 10 == 9 {
            let exercise = session(&store, day, 17, SessionKind::Exercise).await;
            let w = store.session_writer(exercise).await.unwrap();
            let evidence = serde_json::json!({
                "values": [{"name": "rmssd_60s", "value": 11.6}, {"name": "hr", "value": 148.0}],
                "window_from_ms": 1_200_000, "window_to_ms": 1_260_000, "held_since_ms": 1_230_000, "steps_at_ms": []
            });
            w.alert(
                1_260_000.0,
                "cns_fatigue",
                "warning",
                "RMSSD stayed low at a moderate heart rate",
                &evidence.to_string(),
            );
            w.finish().await.unwrap();
        }
    }
    let toolbox = Toolbox::new(store.clone(), clock.clone());
    History {
        _dir: dir,
        store,
        toolbox,
        clock,
        today,
        alcohol_days,
    }
}
