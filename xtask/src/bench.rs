//! `cargo xtask bench <hrv|cep|store|gateway|engine|all>`: benchmarks that compare Auren with its peer in the
//! same run (`desktop`, the app's own figures, lives in `bench_desktop`).
//!
//! `hrv` times Auren's panel (a release build of `auren-hrv`'s `hrv_timing` example) and NeuroKit2 0.2.13's
//! `hrv()` (in a venv under the target dir) on the same recordings and prints both with the ratio; then the
//! artifact sweep (`auren-hrv`'s `artifact_sweep` example: exact / right kind / missed labels, false flags,
//! worst corrected RMSSD) and the memory `auren analyze` takes per beat on a 10-million-beat recording.
//! `cep`, `store`, `gateway` and `engine` run those crates' own benchmark binaries, which print their figures.

use crate::{cmd, root, target_dir};
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// NeuroKit2 2 s per call × 24 h of beats does not finish; past this the peer is reported as not finishing.
const PEER_TIMEOUT: Duration = Duration::from_secs(300);

pub fn run(which: &str) -> anyhow::Result<()> {
    match which {
        "hrv" => hrv(),
        "cep" => {
            cmd::run(
                cmd::cargo()
                    .current_dir(root())
                    .args(["bench", "-p", "auren-cep", "--bench", "cep"]),
            )
        }
        "store" => cmd::run(cmd::cargo().current_dir(root()).args([
            "bench",
            "-p",
            "auren-store",
            "--bench",
            "store",
        ])),
        "gateway" => cmd::run(cmd::cargo().current_dir(root()).args([
            "bench",
            "-p",
            "auren-gateway",
            "--bench",
            "gateway",
        ])),
        "engine" => cmd::run(cmd::cargo().current_dir(root()).args([
            "bench",
            "-p",
            "auren-engine",
            "--bench",
            "pipeline",
        ])),
        "agents" => crate::bench_agents::run(),
        "all" => {
            hrv()?;
            run("cep")?;
            run("store")?;
            run("gateway")?;
            run("engine")?;
            run("agents")?;
            crate::bench_desktop::run()
        }
        other => {
            bail!(
                "unknown benchmark {other:?}: one of hrv, cep, store, gateway, engine, agents, desktop, all"
            )
        }
    }
}

/// What `release_binary` builds: a package's binary or one of its examples.
enum Built<'a> {
    Bin(&'a str),
    Example(&'a str),
}

/// Builds one release binary of `package` (the lock file as it is) and returns its path.
fn release_binary(package: &str, built: Built<'_>) -> anyhow::Result<PathBuf> {
    let (flag, name, folder) = match built {
        Built::Bin(name) => ("--bin", name, "release"),
        Built::Example(name) => ("--example", name, "release/examples"),
    };
    cmd::run(cmd::cargo().current_dir(root()).args([
        "build",
        "--release",
        "--locked",
        "-p",
        package,
        flag,
        name,
    ]))?;
    Ok(target_dir().join(folder).join(name))
}

/// One measurement as both sides print it (a JSON object).
#[derive(Debug)]
struct Timing {
    median_s: f64,
    peak_rss_mb: f64,
}

fn parse_timing(json: &str) -> Result<Timing, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("unreadable output {json:?}: {e}"))?;
    if v["ok"] == serde_json::Value::Bool(false) {
        return Err(v["error"].as_str().unwrap_or("unknown error").to_string());
    }
    let num = |k: &str| v[k].as_f64().ok_or_else(|| format!("no {k} in {json:?}"));
    Ok(Timing {
        median_s: num("median_s")?,
        peak_rss_mb: num("peak_rss_mb")?,
    })
}

fn hrv() -> anyhow::Result<()> {
    let data = root().join("tests/data/reference");
    let five = data.join("nsr_5min.rr");
    let sixty = data.join("nsr_60min.rr");

    let auren_bin = release_binary("auren-hrv", Built::Example("hrv_timing"))?;
    let python = neurokit_venv()?;
    let script = root().join("xtask/bench/neurokit_hrv.py");

    let auren = |args: &[&str]| -> anyhow::Result<String> {
        cmd::output(Command::new(&auren_bin).args(args)).map(|s| s.trim().to_string())
    };
    let peer = |file: &Path, repeats: &str, tile: &str| -> String {
        let mut c = Command::new(&python);
        c.arg(&script).arg(file).args([repeats, tile]);
        match output_with_timeout(c, PEER_TIMEOUT) {
            Ok(s) => s.trim().to_string(),
            Err(e) => format!("{{\"ok\": false, \"error\": \"{e}\"}}"),
        }
    };

    println!("\nHRV panel: Auren vs NeuroKit2 0.2.13 hrv(), same data, same run (median of repeats)\n");
    let a5 = parse_timing(&auren(&["panel", path_str(&five)?, "200", "1"])?);
    let n5 = parse_timing(&peer(&five, "5", "1"));
    report("5-min recording, full panel (337 beats)", &a5, &n5);
    let a24 = parse_timing(&auren(&["corrected-panel", path_str(&sixty)?, "5", "24"])?);
    let n24 = parse_timing(&peer(&sixty, "1", "24"));
    report(
        "24-h series, full panel with artifact correction (112,416 beats)",
        &a24,
        &n24,
    );
    let live = auren(&["rolling", path_str(&sixty)?, "1", "24"])?;
    println!("Live per-beat update (60 s + 5 min windows, 112,416 beats): {live}");

    artifact_sweep(&data)?;
    analyze_memory(&sixty)?;
    science_memory(&sixty)
}

/// The artifact sweep on the shipped recordings, as the `artifact_sweep` example prints it: first with
/// the default correction (the example names its placement and says it is the default; levels since
/// issue 10), then with the two other placements of restored intervals, even (the paper's correction,
/// `--preset kubios`'s) and trend. The labels are the same; only the corrected RMSSD differs.
fn artifact_sweep(data: &Path) -> anyhow::Result<()> {
    let sweep = release_binary("auren-hrv", Built::Example("artifact_sweep"))?;
    let runs: [&[&str]; 3] = [&[], &["--placement", "even"], &["--placement", "trend"]];
    for args in runs {
        let out = cmd::output(Command::new(&sweep).arg(data).args(args))?;
        println!("\n{}", out.trim_end());
    }
    println!(
        "  goals (the default placement is held to them): ≥ 97 % exact, 0 false flags on clean data, corrected \
         RMSSD within 2 % of clean for every injection\n"
    );
    Ok(())
}

/// Beats in the memory measurement's recording.
const MEMORY_BEATS: usize = 10_000_000;
/// The goal for `auren analyze`'s peak memory per beat.
const MEMORY_GOAL_BYTES_PER_BEAT: f64 = 40.0;

/// Peak resident memory of `auren analyze` (release) on a recording of [`MEMORY_BEATS`] beats, per beat.
fn analyze_memory(hour: &Path) -> anyhow::Result<()> {
    let auren = release_binary("auren-cli", Built::Bin("auren"))?;
    let file = target_dir().join(format!("bench-data/rr-{MEMORY_BEATS}.rr"));
    if !file.exists() {
        write_tiled(hour, &file, MEMORY_BEATS)?;
    }
    let mut child = Command::new(auren);
    child
        .args(["analyze", "--format", "json"])
        .arg(&file)
        .stdout(std::process::Stdio::null());
    let started = std::time::Instant::now();
    let peak_kb = peak_rss_kb(child)?;
    let per_beat = peak_kb * 1024.0 / MEMORY_BEATS as f64;
    println!(
        "Memory: `auren analyze` of {MEMORY_BEATS} beats ({:.0} MB file): peak RSS {:.0} MB = {per_beat:.0} B per          beat (goal ≤ {MEMORY_GOAL_BYTES_PER_BEAT:.0}), {:.1} s",
        std::fs::metadata(&file)?.len() as f64 / 1e6,
        peak_kb / 1024.0,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Where `auren analyze`'s memory goes: peak bytes per beat of artifact correction and of the panel
/// (`auren-hrv`'s `memory_per_beat` example, one process per workload, same beat count), above the series.
fn science_memory(hour: &Path) -> anyhow::Result<()> {
    let example = release_binary("auren-hrv", Built::Example("memory_per_beat"))?;
    let beats = MEMORY_BEATS.to_string();
    println!("  of which, above the series itself (8 B per beat), peak bytes per beat:");
    for mode in ["correct", "panel", "corrected-panel"] {
        let out = cmd::output(Command::new(&example).args([mode, path_str(hour)?, &beats]))?;
        let v: serde_json::Value =
            serde_json::from_str(out.trim()).with_context(|| format!("unreadable output {out:?}"))?;
        let per_beat = v["bytes_per_beat_above_series"]
            .as_f64()
            .with_context(|| format!("no bytes_per_beat_above_series in {out:?}"))?;
        println!("    {mode:<16} {per_beat:>6.0} B");
    }
    println!();
    Ok(())
}

/// Writes `beats` intervals, `hour` repeated end to end, one per line.
fn write_tiled(hour: &Path, to: &Path, beats: usize) -> anyhow::Result<()> {
    use std::io::Write;
    let text = std::fs::read_to_string(hour).with_context(|| format!("cannot read {}", hour.display()))?;
    let values: Vec<&str> = text.split_whitespace().collect();
    if values.is_empty() {
        bail!("{} holds no intervals", hour.display());
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let partial = to.with_extension("partial");
    let file =
        std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
    let mut out = std::io::BufWriter::new(file);
    for value in values.iter().cycle().take(beats) {
        writeln!(out, "{value}")?;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&partial, to).with_context(|| format!("cannot write {}", to.display()))
}

/// Runs `command` to the end and returns its peak resident set (VmHWM, kB), read from /proc while it
/// runs. The high-water mark only grows, so the last reading is the peak unless it was reached in the
/// final poll interval, when the process was already writing its output.
fn peak_rss_kb(mut command: Command) -> anyhow::Result<f64> {
    let shown = cmd::show(&command);
    eprintln!("$ {shown}");
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot start `{shown}`"))?;
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut peak = 0.0_f64;
    loop {
        if let Some(kb) = std::fs::read_to_string(&status_file)
            .ok()
            .and_then(|s| vm_hwm_kb(&s))
        {
            peak = peak.max(kb);
        }
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("`{shown}` failed ({status})");
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    if peak == 0.0 {
        bail!("could not read the peak memory of `{shown}` from /proc");
    }
    Ok(peak)
}

fn vm_hwm_kb(status: &str) -> Option<f64> {
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
}

fn report(title: &str, auren: &Result<Timing, String>, peer: &Result<Timing, String>) {
    println!("{title}");
    let show = |name: &str, t: &Result<Timing, String>| match t {
        Ok(t) => println!(
            "  {name:<10} {:>12.3} ms   peak RSS {:>7.1} MB",
            t.median_s * 1e3,
            t.peak_rss_mb
        ),
        Err(e) => println!("  {name:<10} failed: {e}"),
    };
    show("Auren", auren);
    show("NeuroKit2", peer);
    if let (Ok(a), Ok(p)) = (auren, peer) {
        println!("  ratio      Auren is {:.0}× faster", p.median_s / a.median_s);
    }
    println!();
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("{} is not UTF-8", p.display()))
}

/// A venv with NeuroKit2 0.2.13 (pandas < 3: NeuroKit2 0.2.13 breaks on pandas 3), created once under the
/// target dir so repeated benches reuse it.
fn neurokit_venv() -> anyhow::Result<PathBuf> {
    let venv = target_dir().join("bench-venv");
    let python = venv.join("bin/python");
    let marker = venv.join("neurokit2-0.2.13.ok");
    if !marker.exists() {
        cmd::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        cmd::run(Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "neurokit2==0.2.13",
            "pandas<3",
        ]))?;
        std::fs::write(&marker, b"").context("cannot mark the bench venv as ready")?;
    }
    Ok(python)
}

/// Runs `command` and returns its stdout, killing it after `timeout`.
fn output_with_timeout(mut command: Command, timeout: Duration) -> anyhow::Result<String> {
    use std::io::Read;
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("cannot start the peer")?;
    let started = std::time::Instant::now();
    loop {
        if child.try_wait()?.is_some() {
            let mut out = String::new();
            if let Some(mut stdout) = child.stdout.take() {
                stdout.read_to_string(&mut out)?;
            }
            return Ok(out);
        }
        if started.elapsed() > timeout {
            child.kill().ok();
            child.wait().ok();
            bail!("did not finish within {} s", timeout.as_secs());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
