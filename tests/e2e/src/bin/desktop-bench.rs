//! `auren-desktop-bench <app>`: drives the app over WebDriver through a live simulated session and prints
//! its memory and frame rate as one JSON object (run by `cargo xtask bench desktop`, under a display).
//!
//! The session runs the `rest` scenario at speed 60, so a minute of waiting puts an hour of beats on screen;
//! then the resident memory of the app and every process under it (WebKit's web and network processes)
//! is summed, and the UI's `window.__aurenFps(5000)` measures requestAnimationFrame over 5 s.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code")]

use anyhow::Context;
use auren_e2e::procs::{self, Memory};
use auren_e2e::{AppFolders, Rig};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// One hour of beats at speed 60.
const LIVE_FOR: Duration = Duration::from_secs(60);
const FPS_WINDOW_MS: u64 = 5_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .context("usage: auren-desktop-bench <path to auren-app>")?;
    let folders = AppFolders::new()?;
    let rig = Rig::launch(&app, &folders.env(), "bench-desktop").await?;
    let result = measure(&rig).await;
    let closed = rig.close().await;
    let report = result?;
    closed?;
    println!("{report}");
    Ok(())
}

async fn measure(rig: &Rig) -> anyhow::Result<serde_json::Value> {
    rig.step("start-live", async {
        rig.click("nav-pair").await?;
        rig.find("simulator-scenario")
            .await?
            .select_by_value("rest")
            .await?;
        rig.find("simulator-speed").await?.select_by_value("60").await?;
        rig.click("use-simulator").await?;
        rig.click("start-session").await
    })
    .await?;
    let live_since = Instant::now();
    let beats = rig
        .step("an-hour-of-beats", async {
            // The minute is the measurement's premise, not a wait for something to happen; the beat
            // count read at its end says how much is actually on screen.
            tokio::time::sleep(LIVE_FOR.saturating_sub(live_since.elapsed())).await;
            let text = rig.text("live-beats-total").await?;
            // A count, possibly with thousands separators ("3,612", "3 612"): its digits are the number.
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            digits
                .parse::<u64>()
                .with_context(|| format!("live-beats-total shows no number: {text:?}"))
        })
        .await?;

    let app_pid = rig.app_pid().context("the app process is not running")?;
    let mut processes = vec![serde_json::json!({ "pid": app_pid, "name": "auren-app",
        "memory": memory_json(procs::memory_of(app_pid).unwrap_or_default()) })];
    let mut total = procs::memory_of(app_pid).unwrap_or_default();
    for p in procs::descendants(app_pid) {
        let memory = procs::memory_of(p.pid).unwrap_or_default();
        total = total + memory;
        processes.push(serde_json::json!({ "pid": p.pid, "name": p.name, "memory": memory_json(memory) }));
    }

    let fps = rig
        .step("fps", async {
            let script = "const [ms, done] = arguments; \
                window.__aurenFps(ms).then(done, (e) => done({ error: String(e) }));";
            let answer = rig
                .client()
                .execute_async(script, vec![FPS_WINDOW_MS.into()])
                .await?;
            anyhow::ensure!(answer.get("fps").is_some(), "__aurenFps answered {answer}");
            Ok(answer)
        })
        .await?;
    rig.click("stop-session").await?;

    Ok(serde_json::json!({
        "beats_on_screen": beats,
        "live_seconds": live_since.elapsed().as_secs_f64(),
        "total": memory_json(total),
        "processes": processes,
        "fps": fps,
    }))
}

fn memory_json(m: Memory) -> serde_json::Value {
    serde_json::json!({
        "rss_mb": m.rss_kib as f64 / 1024.0,
        "pss_mb": m.pss_kib as f64 / 1024.0,
        "anon_mb": m.anon_kib as f64 / 1024.0,
    })
}
