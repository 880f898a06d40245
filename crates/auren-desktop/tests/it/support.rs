//! A desktop over temporary folders, and seeded personal baselines.

use auren_desktop::{Desktop, Folders, JsonFileSettings};
use auren_engine::dto::LiveUpdateDto;
use auren_store::{Baseline, Store};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;

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
    auren_desktop::now_unix_ms().div_euclid(86_400_000)
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

/// A sink that keeps every update it is given.
pub fn collector() -> (auren_desktop::UpdateSink, Arc<Mutex<Vec<LiveUpdateDto>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let keep = seen.clone();
    (
        Box::new(move |u| {
            keep.lock().unwrap().push(u);
            true
        }),
        seen,
    )
}
