//! A desktop over temporary folders, and seeded personal baselines.

use auren_desktop::{Desktop, Folders, JsonFileSettings};
use auren_engine::dto::LiveUpdateDto;
use auren_store::{Baseline, Store};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tempfile::TempDir;
use tokio::sync::watch;

pub struct Rig {
    pub dir: TempDir,
    pub desktop: Desktop,
}

pub fn folders(root: &Path) -> Folders {
    Folders {
        default_data_dir: root.join("data"),
        default_export_dir: root.join("exports"),
        config_dir: root.join("config"),
        log_dir: root.join("logs"),
        data_dir_override: None,
        export_dir_override: None,
    }
}

pub async fn open(dir: &Path) -> Desktop {
    let settings = JsonFileSettings::new(dir.join("config").join("settings.json"));
    Desktop::open(folders(dir), Box::new(settings), "0.0.0-test")
        .await
        .unwrap()
}

pub async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let desktop = open(dir.path()).await;
    Rig { dir, desktop }
}

/// Today, as the façade counts days (UTC).
pub fn today() -> i64 {
    auren_clock::UnixMillis::now().day_number()
}

/// 59 past mornings around lnRMSSD `ln` and a resting-HR baseline of `resting_hr`, written to the
/// database the desktop will open in `dir` — the personal range the fatigue rule compares against.
pub async fn seed_baselines(dir: &Path, ln: f64, resting_hr: f64) {
    let store = Store::open(&dir.join("data").join("auren.db")).await.unwrap();
    let today = today();
    for k in 1..=59 {
        let value = ln + if k % 2 == 0 { 0.05 } else { -0.05 };
        store
            .add_morning_reading(today - k, value, Some(resting_hr), None)
            .await
            .unwrap();
    }
    store
        .put_baseline(&Baseline {
            metric: "resting_hr".into(),
            day: today - 1,
            mean: resting_hr,
            sd: 2.0,
            n: 59,
        })
        .await
        .unwrap();
}

/// Every update a collector's sink was given, and a signal each time one arrives.
pub struct Seen {
    updates: Arc<Mutex<Vec<LiveUpdateDto>>>,
    arrived: watch::Receiver<usize>,
}

impl Seen {
    pub fn all(&self) -> Vec<LiveUpdateDto> {
        self.updates.lock().unwrap().clone()
    }

    /// Waits until `check` holds for the updates so far (woken by each arriving update, never by a
    /// timer), giving up after `within`; returns whether it held.
    pub async fn until(&mut self, within: Duration, check: impl Fn(&[LiveUpdateDto]) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if check(&self.updates.lock().unwrap()) {
                return true;
            }
            match tokio::time::timeout_at(deadline, self.arrived.changed()).await {
                Ok(Ok(())) => {}
                // Timed out, or the sink is gone (no more updates can come).
                _ => return check(&self.updates.lock().unwrap()),
            }
        }
    }
}

/// A sink that keeps every update it is given.
pub fn collector() -> (auren_desktop::UpdateSink, Seen) {
    let updates = Arc::new(Mutex::new(Vec::new()));
    let keep = updates.clone();
    let (count, arrived) = watch::channel(0);
    let sink: auren_desktop::UpdateSink = Box::new(move |u| {
        keep.lock().unwrap().push(u);
        count.send_modify(|n| *n += 1);
        true
    });
    (sink, Seen { updates, arrived })
}
