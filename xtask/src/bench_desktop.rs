//! `cargo xtask bench desktop`: the figures the README gives for the desktop app, each next to its goal.
//!
//! (a) cold start to first painted screen: the app as packaged (profile `dist`), 5 starts under Xvfb with
//!     `AUREN_EXIT_AFTER_PAINT=1` (the app prints when the UI has painted, then exits); median and max,
//!     plus wall time spawn → exit. xtask re-runs itself under the display to time the starts.
//! (b) memory with a live session: `auren-desktop-bench` (tests/e2e) drives the packaged app over
//!     WebDriver through a simulated session with an hour of beats, opens a seeded 200-message
//!     conversation while the session runs, then reads RSS, PSS and private memory of the app and each of
//!     its WebKit processes — once with WebKit's default settings (`AUREN_WEBVIEW=default`) and once with
//!     the app's lean profile (the webview settings of src-tauri/src/webview.rs and the JavaScript-engine
//!     options main.rs sets), so the effect of the levers is measured in one run; the driver also prints
//!     the memory after the live hour alone (stderr, "memory after the live hour");
//!     (c) the same run measures the frame rate through `window.__aurenFps(5000)`, and (e) the time from
//!     the fake provider having a question to the first frame showing the answer's text, over 21 questions
//!     (the first, whose code paths run cold, also shown apart).
//! (d) package size: `tauri build --bundles deb,rpm -- --profile dist`.
//!
//! Two environment variables make the memory work quick to iterate on (the README's figures come from a
//! full run with neither set):
//! - `AUREN_BENCH_PROFILE=release` builds and measures the app with the `release` profile instead of
//!   `dist` (whose fat LTO takes over an hour here); the table's heading names the profile measured.
//! - `AUREN_BENCH_PARTS=memory` runs only (b, c, e) with the lean webview profile: no cold starts, no run
//!   with WebKit's defaults, no packages (`all`, the default, runs everything).

use crate::headless::{self, Headless};
use crate::{cmd, root, system, target_dir, ui};
use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The Cargo profile the packages are built with (the workspace Cargo.toml says why it is not `release`).
pub const PACKAGE_PROFILE: &str = "dist";
/// The profile `AUREN_BENCH_PROFILE` may choose instead, for iterating on memory.
const QUICK_PROFILE: &str = "release";
/// The hidden subcommand that times the starts inside the virtual display.
pub const COLD_START_COMMAND: &str = "__cold-start";
const STARTS: usize = 5;
/// A start that has not painted by then is counted as failed.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// The live-session run: app start, one minute of session, 5 s of frame timing, and slack.
const LIVE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

const GOAL_FIRST_PAINT_MS: f64 = 1000.0;
/// Round two's goal: PSS (each shared page counted once across the processes) in total.
const GOAL_PSS_MB: f64 = 250.0;
const GOAL_FPS: f64 = 60.0;
const GOAL_DEB_MB: f64 = 15.0;
/// One frame at 60 Hz, from the provider's first byte to the first token on screen.
const GOAL_TTFT_MS: f64 = 16.0;

/// Which parts of the bench run (`AUREN_BENCH_PARTS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parts {
    /// Everything, as the README reports it.
    All,
    /// The live session with the lean webview profile only: memory, frame rate, first token.
    Memory,
}

/// What this run builds and measures, from `AUREN_BENCH_PROFILE` and `AUREN_BENCH_PARTS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Choice {
    profile: &'static str,
    parts: Parts,
}

impl Choice {
    fn from_env() -> anyhow::Result<Choice> {
        let profile = std::env::var("AUREN_BENCH_PROFILE").ok();
        let parts = std::env::var("AUREN_BENCH_PARTS").ok();
        Choice::parse(profile.as_deref(), parts.as_deref())
    }

    fn parse(profile: Option<&str>, parts: Option<&str>) -> anyhow::Result<Choice> {
        let profile = match profile {
            None | Some("") | Some(PACKAGE_PROFILE) => PACKAGE_PROFILE,
            Some(QUICK_PROFILE) => QUICK_PROFILE,
            Some(other) => {
                bail!("AUREN_BENCH_PROFILE={other:?}: expected {PACKAGE_PROFILE} or {QUICK_PROFILE}")
            }
        };
        let parts = match parts {
            None | Some("") | Some("all") => Parts::All,
            Some("memory") => Parts::Memory,
            Some(other) => bail!("AUREN_BENCH_PARTS={other:?}: expected all or memory"),
        };
        Ok(Choice { profile, parts })
    }
}

pub fn run() -> anyhow::Result<()> {
    let choice = Choice::from_env()?;
    let profile = choice.profile;
    let all = choice.parts == Parts::All;
    ui::prepare(&[
        system::BUILD_PACKAGES,
        system::APP_PACKAGES,
        system::HEADLESS_PACKAGES,
    ])?;
    system::ensure_tauri_driver()?;
    ui::build()?;
    eprintln!("==> building the app (profile {profile})");
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--locked",
        "--profile",
        profile,
        "-p",
        "auren-app",
    ]))?;
    let app = target_dir().join(profile).join("auren-app");

    // Each part is None when this run skips it.
    let starts = all.then(|| {
        eprintln!("==> (a) cold start to first paint: {STARTS} starts of the app under Xvfb");
        cold_start(&app)
    });
    let before = all.then(|| {
        eprintln!(
            "==> (b, c) memory and frame rate with a live simulated session (1 min at speed 60), WebKit defaults"
        );
        live_session(&app, "default")
    });
    eprintln!("==> (b, c) memory and frame rate with the lean webview profile");
    let live = live_session(&app, "lean");
    let packages = all.then(|| {
        eprintln!("==> (d) package size: tauri build --bundles deb,rpm");
        package_sizes(profile)
    });

    print_table(
        profile,
        starts.as_ref(),
        before.as_ref(),
        &live,
        packages.as_ref(),
    );
    let failures = [
        ("cold start", starts.as_ref().and_then(|r| r.as_ref().err())),
        (
            "live session (WebKit defaults)",
            before.as_ref().and_then(|r| r.as_ref().err()),
        ),
        ("live session", live.as_ref().err()),
        ("packages", packages.as_ref().and_then(|r| r.as_ref().err())),
    ];
    for (what, failed) in failures {
        if let Some(e) = failed {
            bail!("the {what} measurement failed: {e:#}");
        }
    }
    Ok(())
}

/// One timed start.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Start {
    first_paint_ms: f64,
    wall_ms: f64,
}

fn cold_start(app: &Path) -> anyhow::Result<Vec<Start>> {
    let headless = Headless::new()?;
    let folders = tempfile::tempdir()?;
    let exe = xtask_exe()?;
    let mut command = headless.command(
        exe,
        [
            COLD_START_COMMAND.as_ref(),
            app.as_os_str(),
            STARTS.to_string().as_ref(),
        ],
    );
    command
        .env("AUREN_DATA_DIR", folders.path().join("data"))
        .env("AUREN_EXPORT_DIR", folders.path().join("export"));
    let mut starts = Vec::new();
    let status = headless::run_streaming(&mut command, START_TIMEOUT * (STARTS as u32 + 1), |line| {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(v) => {
                if let (Some(first_paint_ms), Some(wall_ms)) =
                    (v["first_paint_ms"].as_f64(), v["wall_ms"].as_f64())
                {
                    eprintln!(
                        "    start {}: first paint {first_paint_ms:.0} ms, spawn → exit {wall_ms:.0} ms",
                        starts.len() + 1
                    );
                    starts.push(Start {
                        first_paint_ms,
                        wall_ms,
                    });
                }
            }
            Err(_) => println!("{line}"),
        }
    })?;
    if !status.success() || starts.len() != STARTS {
        bail!("{} of {STARTS} starts painted ({status})", starts.len());
    }
    Ok(starts)
}

/// This executable's path. Other builds in the shared target directory may have replaced the file since
/// it started (Linux then names it "… (deleted)"); the new file at the same path is an xtask too.
fn xtask_exe() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("cannot find the xtask executable")?;
    let shown = exe.to_string_lossy();
    Ok(match shown.strip_suffix(" (deleted)") {
        Some(path) => PathBuf::from(path),
        None => exe,
    })
}

/// Inside the virtual display: starts `app` `runs` times in a row and prints one JSON line per start.
pub fn cold_start_inside(app: &str, runs: &str) -> anyhow::Result<()> {
    let runs: usize = runs
        .parse()
        .with_context(|| format!("{runs:?} is not a number of runs"))?;
    for _ in 0..runs {
        let start = time_one_start(Path::new(app))?;
        println!(
            "{}",
            serde_json::json!({ "first_paint_ms": start.first_paint_ms, "wall_ms": start.wall_ms })
        );
    }
    Ok(())
}

fn time_one_start(app: &Path) -> anyhow::Result<Start> {
    let started = Instant::now();
    let mut child = Command::new(app)
        .env("AUREN_EXIT_AFTER_PAINT", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Its own group, so WebKit's processes go with it if it hangs.
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start {}", app.display()))?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let (paint_tx, paint) = mpsc::channel();
    std::thread::spawn(move || {
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(ms) = parse_first_paint(&line) {
                    let _ = paint_tx.send(ms);
                }
            }
        }
    });
    let (done_tx, done) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done.recv_timeout(START_TIMEOUT) == Err(mpsc::RecvTimeoutError::Timeout) {
            kill_group(pid);
        }
    });
    let status = child.wait()?;
    let wall = started.elapsed();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    kill_group(pid);
    let first_paint_ms = paint
        .recv_timeout(Duration::from_secs(2))
        .map_err(|_| anyhow::anyhow!("the app exited ({status}) without printing its first paint"))?;
    if !status.success() {
        bail!("the app exited with {status} after painting");
    }
    Ok(Start {
        first_paint_ms,
        wall_ms: wall.as_secs_f64() * 1e3,
    })
}

/// Reads `auren: first paint <ms> ms after process start`.
fn parse_first_paint(line: &str) -> Option<f64> {
    line.trim()
        .strip_prefix("auren: first paint ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn kill_group(pgid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// What `auren-desktop-bench` measured.
#[derive(Debug)]
struct Live {
    beats: f64,
    /// Messages of the conversation open while memory was read.
    messages: f64,
    /// WebKit processes of other apps running meanwhile: they share library pages, lowering PSS.
    other_webkit: f64,
    total: ProcessMemory,
    processes: Vec<ProcessMemory>,
    fps: f64,
    worst_frame_ms: f64,
    /// Provider's first byte → first frame showing the answer's text, one per question, or why not.
    ttft_ms: Result<Vec<f64>, String>,
}

/// One process's memory in MB (or the sum over all of them, named "total").
#[derive(Debug, PartialEq)]
struct ProcessMemory {
    name: String,
    rss_mb: f64,
    /// Each shared page divided among the processes mapping it: these add up without double counting.
    pss_mb: f64,
    /// Pages no other process maps (`Private_Clean` + `Private_Dirty`).
    private_mb: f64,
    /// Anonymous memory (heap, stacks, canvases), shared or not.
    anon_mb: f64,
}

impl ProcessMemory {
    fn parse(name: &str, memory: &serde_json::Value) -> Option<ProcessMemory> {
        Some(ProcessMemory {
            name: name.to_string(),
            rss_mb: memory["rss_mb"].as_f64()?,
            pss_mb: memory["pss_mb"].as_f64()?,
            private_mb: memory["private_mb"].as_f64()?,
            anon_mb: memory["anon_mb"].as_f64()?,
        })
    }

    fn describe(&self) -> String {
        format!(
            "PSS {:.0} MB (RSS {:.0}, private {:.0}, anonymous {:.0})",
            self.pss_mb, self.rss_mb, self.private_mb, self.anon_mb
        )
    }
}

/// One live-session run with `AUREN_WEBVIEW=<profile>` (`default` or `lean`).
fn live_session(app: &Path, profile: &str) -> anyhow::Result<Live> {
    let mut last = String::new();
    let status = drive(app, profile, LIVE_TIMEOUT, |line| {
        // Kept in the log as well, so a later step failing does not lose the figures.
        println!("    {profile}: {line}");
        last = line.to_string();
    })?;
    if !status.success() {
        bail!(
            "auren-desktop-bench failed ({status}); screenshots in {}",
            target_dir().join("e2e-screenshots").display()
        );
    }
    parse_live(&last).with_context(|| format!("unreadable auren-desktop-bench output {last:?}"))
}

/// Runs `auren-desktop-bench` (built first) on `app` under the headless set-up with `AUREN_WEBVIEW=<profile>`:
/// a live session with an hour of beats, the 200-message conversation, the frame rate and 21 chat turns.
/// Each line the driver prints goes to `on_line`.
pub fn drive(
    app: &Path,
    profile: &str,
    timeout: Duration,
    on_line: impl FnMut(&str),
) -> anyhow::Result<std::process::ExitStatus> {
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--locked",
        "-p",
        "auren-e2e",
        "--bin",
        "auren-desktop-bench",
    ]))?;
    let driver = target_dir().join("debug/auren-desktop-bench");
    let headless = Headless::new()?;
    let mut command = headless.command(&driver, [app]);
    command.env("PATH", crate::test::path_with_cargo_bin());
    command.env("AUREN_WEBVIEW", profile);
    headless::run_streaming(&mut command, timeout, on_line)
}

fn parse_live(json: &str) -> Option<Live> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let processes = v["processes"]
        .as_array()?
        .iter()
        .filter_map(|p| ProcessMemory::parse(p["name"].as_str()?, &p["memory"]))
        .collect();
    Some(Live {
        beats: v["beats_on_screen"].as_f64()?,
        messages: v["conversation_messages"].as_f64()?,
        other_webkit: v["other_webkit_processes"].as_f64()?,
        total: ProcessMemory::parse("total", &v["total"])?,
        processes,
        fps: v["fps"]["fps"].as_f64()?,
        worst_frame_ms: v["fps"]["worst_frame_ms"].as_f64()?,
        ttft_ms: match v["ttft_ms"].as_array() {
            Some(times) => Ok(times
                .iter()
                .map(serde_json::Value::as_f64)
                .collect::<Option<_>>()?),
            None => Err(v["ttft_ms"]["error"].as_str()?.to_string()),
        },
    })
}

/// Sizes in MB of the newest .deb and .rpm that `tauri build` wrote.
fn package_sizes(profile: &str) -> anyhow::Result<(PathBuf, f64, PathBuf, f64)> {
    let tauri = root().join("ui/node_modules/.bin/tauri");
    if !tauri.is_file() {
        bail!(
            "{} is missing: the UI's devDependencies lack @tauri-apps/cli",
            tauri.display()
        );
    }
    cmd::run(
        Command::new(&tauri)
            .current_dir(root())
            .env("TAURI_APP_PATH", "src-tauri")
            .env("TAURI_FRONTEND_PATH", "ui")
            .args(["build", "--bundles", "deb,rpm", "--", "--profile", profile]),
    )?;
    let bundle = target_dir().join(profile).join("bundle");
    let (deb, deb_mb) = newest(&bundle.join("deb"), "deb")?;
    let (rpm, rpm_mb) = newest(&bundle.join("rpm"), "rpm")?;
    Ok((deb, deb_mb, rpm, rpm_mb))
}

fn newest(dir: &Path, ext: &str) -> anyhow::Result<(PathBuf, f64)> {
    let newest = std::fs::read_dir(dir)
        .with_context(|| format!("no {}", dir.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == ext))
        .filter_map(|e| Some((e.metadata().ok()?, e.path())))
        .max_by_key(|(m, _)| m.modified().ok());
    let (meta, path) = newest.with_context(|| format!("no .{ext} in {}", dir.display()))?;
    Ok((path, meta.len() as f64 / 1e6))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The `q` quantile of sorted values, by the nearest rank.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

fn print_table(
    profile: &str,
    starts: Option<&anyhow::Result<Vec<Start>>>,
    before: Option<&anyhow::Result<Live>>,
    live: &anyhow::Result<Live>,
    packages: Option<&anyhow::Result<(PathBuf, f64, PathBuf, f64)>>,
) {
    let row = |what: &str, measured: String, goal: &str, result: &str| {
        println!("  {what:<46} {measured:<30} {goal:<10} {result}");
    };
    println!(
        "\nDesktop app (profile {profile}; Xvfb, software rendering, {} cores)\n",
        cores()
    );
    row("figure", "measured".into(), "goal", "");
    match starts {
        None => {}
        Some(Ok(starts)) => {
            let mut paint: Vec<f64> = starts.iter().map(|s| s.first_paint_ms).collect();
            let mut wall: Vec<f64> = starts.iter().map(|s| s.wall_ms).collect();
            let paint_max = paint.iter().copied().fold(f64::MIN, f64::max);
            let wall_max = wall.iter().copied().fold(f64::MIN, f64::max);
            let paint_median = median(&mut paint);
            row(
                &format!("(a) cold start → first paint, median of {}", starts.len()),
                format!("{paint_median:.0} ms (max {paint_max:.0} ms)"),
                "< 1 s",
                verdict(paint_median < GOAL_FIRST_PAINT_MS),
            );
            row(
                "    spawn → exit wall time, median",
                format!("{:.0} ms (max {wall_max:.0} ms)", median(&mut wall)),
                "",
                "",
            );
        }
        Some(Err(e)) => row(
            "(a) cold start → first paint",
            format!("failed: {e:#}"),
            "< 1 s",
            "MISSED",
        ),
    }
    if let Some(before) = before {
        print_live(&row, "WebKit defaults", before);
    }
    print_live(&row, "lean webview", live);
    match packages {
        None => {}
        Some(Ok((deb, deb_mb, rpm, rpm_mb))) => {
            row(
                "(d) .deb size",
                format!("{deb_mb:.1} MB"),
                "< 15 MB",
                verdict(*deb_mb < GOAL_DEB_MB),
            );
            row("    .rpm size", format!("{rpm_mb:.1} MB"), "", "");
            println!("\n  {}\n  {}", deb.display(), rpm.display());
        }
        Some(Err(e)) => row("(d) .deb size", format!("failed: {e:#}"), "< 15 MB", "MISSED"),
    }
    println!();
}

fn print_live(row: &impl Fn(&str, String, &str, &str), label: &str, live: &anyhow::Result<Live>) {
    match live {
        Ok(l) => {
            row(
                &format!(
                    "(b) PSS, app + WebKit, live session + {:.0} messages, {label}",
                    l.messages
                ),
                l.total.describe(),
                "< 250 MB",
                verdict(l.total.pss_mb < GOAL_PSS_MB),
            );
            for p in &l.processes {
                row(&format!("      {}", p.name), p.describe(), "", "");
            }
            if l.other_webkit > 0.0 {
                row(
                    "      (PSS lowered by other WebKit processes)",
                    format!("{:.0} running meanwhile", l.other_webkit),
                    "",
                    "",
                );
            }
            row(
                &format!("(c) frame rate, {:.0} beats on screen, {label}", l.beats),
                format!("{:.1} fps, worst frame {:.0} ms", l.fps, l.worst_frame_ms),
                "60 fps",
                // requestAnimationFrame runs at the display's rate; 59.x is 60 within timer jitter.
                verdict(l.fps >= GOAL_FPS * 0.97),
            );
            match &l.ttft_ms {
                Ok(times) => {
                    let first = times.first().copied().unwrap_or(f64::NAN);
                    let mut ttft = times.clone();
                    let worst = ttft.iter().copied().fold(f64::NAN, f64::max);
                    let typical = median(&mut ttft);
                    let p90 = quantile(&ttft, 0.9);
                    row(
                        &format!("(e) first byte → token on screen, median of {}", ttft.len()),
                        format!("{typical:.1} ms (p90 {p90:.1}, max {worst:.1}; first turn {first:.1} ms)"),
                        "< 16 ms",
                        verdict(typical < GOAL_TTFT_MS),
                    );
                }
                Err(e) => row(
                    "(e) first byte → token on screen",
                    format!("failed: {e}"),
                    "< 16 ms",
                    "MISSED",
                ),
            }
        }
        Err(e) => row(
            &format!("(b, c) live session, {label}"),
            format!("failed: {e:#}"),
            "",
            "MISSED",
        ),
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_paint_lines_are_read_and_others_ignored() {
        let cases = [
            ("auren: first paint 412 ms after process start", Some(412.0)),
            ("auren: first paint 87.5 ms after process start\n", Some(87.5)),
            ("auren: first paint soon", None),
            ("INFO auren_app: started", None),
        ];
        for (line, want) in cases {
            assert_eq!(parse_first_paint(line), want, "{line:?}");
        }
    }

    #[test]
    fn the_profile_and_parts_come_from_the_environment() {
        let cases = [
            ((None, None), Some((PACKAGE_PROFILE, Parts::All))),
            ((Some(""), Some("")), Some((PACKAGE_PROFILE, Parts::All))),
            ((Some("dist"), Some("all")), Some((PACKAGE_PROFILE, Parts::All))),
            ((Some("release"), None), Some((QUICK_PROFILE, Parts::All))),
            (
                (Some("release"), Some("memory")),
                Some((QUICK_PROFILE, Parts::Memory)),
            ),
            ((None, Some("memory")), Some((PACKAGE_PROFILE, Parts::Memory))),
            ((Some("debug"), None), None),
            ((None, Some("cold")), None),
        ];
        for ((profile, parts), want) in cases {
            let got = Choice::parse(profile, parts).ok().map(|c| (c.profile, c.parts));
            assert_eq!(got, want, "{profile:?} {parts:?}");
        }
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&mut [5.0, 1.0, 3.0]), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn quantiles_by_nearest_rank() {
        let sorted: Vec<f64> = (1..=21).map(f64::from).collect();
        for (q, want) in [(0.9, 19.0), (0.5, 11.0), (1.0, 21.0), (0.0, 1.0)] {
            assert_eq!(quantile(&sorted, q), want, "q = {q}");
        }
        assert_eq!(quantile(&[7.5], 0.9), 7.5);
        assert!(quantile(&[], 0.9).is_nan());
    }

    #[test]
    fn the_bench_drivers_report_is_read() {
        let json = r#"{"beats_on_screen":3712,"conversation_messages":200,"other_webkit_processes":0,"live_seconds":61.2,
            "total":{"rss_mb":141.5,"pss_mb":98.2,"private_mb":75.0,"anon_mb":70.5},
            "processes":[{"pid":1,"name":"auren-app","memory":{"rss_mb":60.0,"pss_mb":40.0,"private_mb":32.0,"anon_mb":30.0}},
                         {"pid":2,"name":"WebKitWebProces","memory":{"rss_mb":81.5,"pss_mb":58.2,"private_mb":43.0,"anon_mb":40.5}}],
            "fps":{"fps":59.8,"frames":299,"worst_frame_ms":21.0},"ttft_ms":[9.5,12.0,8.25]}"#;
        let live = parse_live(json).unwrap();
        assert_eq!((live.beats, live.messages), (3712.0, 200.0));
        let total = &live.total;
        assert_eq!(
            (total.rss_mb, total.pss_mb, total.private_mb, total.anon_mb),
            (141.5, 98.2, 75.0, 70.5)
        );
        let names: Vec<&str> = live.processes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["auren-app", "WebKitWebProces"]);
        assert_eq!(live.processes[1].private_mb, 43.0);
        assert_eq!((live.fps, live.worst_frame_ms), (59.8, 21.0));
        assert_eq!(live.ttft_ms, Ok(vec![9.5, 12.0, 8.25]));
        assert!(parse_live(r#"{"fps":{}}"#).is_none());
    }
}
