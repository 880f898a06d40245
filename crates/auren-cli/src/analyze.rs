//! `auren analyze FILE`: the full HRV panel of one recording, as JSON or as a Kubios-style text report.

use anyhow::Context;
use auren_engine::recording::{self, Recording};
use auren_hrv::artifacts::{self, Artifact};
use auren_hrv::frequency::SpectrumMethod;
use auren_hrv::panel::{self, Panel, PanelOptions};
use serde_json::{Map, Value, json};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The recording: RR in ms one per line (.rr), RR in seconds (Kubios text), a CSV export with an RR/IBI
    /// column, or an .hrmcap strap capture.
    pub file: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Analyze the raw series as recorded; artifacts are still detected and listed.
    #[arg(long)]
    pub no_correction: bool,
    /// Compute the spectrum with Lomb–Scargle on the beat times instead of Welch on the 4 Hz resampled series.
    #[arg(long)]
    pub lomb: bool,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    Json,
    Text,
}

/// Everything `analyze` computed for one recording.
pub struct Analysis {
    pub source: String,
    pub recording: Recording,
    pub corrected: bool,
    pub artifacts: Vec<Artifact>,
    pub spectrum: SpectrumMethod,
    pub panel: Panel,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // The error names the file, the line and what was expected: no context to add.
    let recording = recording::read(&args.file)?;
    for warning in &recording.warnings {
        eprintln!("auren: {}: {warning}", args.file.display());
    }
    let analysis = analyze(
        args.file.display().to_string(),
        recording,
        !args.no_correction,
        args.lomb,
    );
    let out = match args.format {
        OutputFormat::Json => {
            let mut s = serde_json::to_string_pretty(&to_json(&analysis)).context("cannot encode JSON")?;
            s.push('\n');
            s
        }
        OutputFormat::Text => to_text(&analysis),
    };
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .context("cannot write to stdout")
}

pub fn analyze(source: String, recording: Recording, correct: bool, lomb: bool) -> Analysis {
    let spectrum = if lomb {
        SpectrumMethod::LombScargle
    } else {
        SpectrumMethod::Welch
    };
    let options = PanelOptions { spectrum };
    let (artifacts, panel) = if correct {
        let correction = artifacts::correct(&recording.rr_ms);
        let panel = panel::analyze(&correction.corrected, &options);
        (correction.artifacts, panel)
    } else {
        (
            artifacts::detect(&recording.rr_ms),
            panel::analyze(&recording.rr_ms, &options),
        )
    };
    Analysis {
        source,
        recording,
        corrected: correct,
        artifacts,
        spectrum,
        panel,
    }
}

fn spectrum_name(method: SpectrumMethod) -> &'static str {
    match method {
        SpectrumMethod::Welch => "welch",
        SpectrumMethod::LombScargle => "lomb_scargle",
    }
}

/// The JSON document: `metrics` holds every computed value under the reference key names; a metric that
/// could not be computed is left out of `metrics` and listed in `absent` with the reason.
pub fn to_json(a: &Analysis) -> Value {
    let mut metrics = Map::new();
    let mut absent = Map::new();
    metrics.insert("n_beats".into(), json!(a.panel.n_beats));
    for (key, metric) in a.panel.entries() {
        match metric {
            Ok(v) => metrics.insert(key.into(), json!(v)),
            Err(why) => absent.insert(key.into(), json!(why.to_string())),
        };
    }
    json!({
        "source": a.source,
        "format": a.recording.format.as_str(),
        "n_beats_raw": a.recording.rr_ms.len(),
        "corrected": a.corrected,
        "spectrum": spectrum_name(a.spectrum),
        "artifacts": a.artifacts.iter().map(|x| json!({"index": x.index, "kind": x.kind.as_str()})).collect::<Vec<_>>(),
        "metrics": metrics,
        "absent": absent,
    })
}

/// How a metric is shown in the text report: its section, label, unit and decimals (Kubios's grouping).
struct Presentation {
    section: Section,
    label: &'static str,
    unit: &'static str,
    decimals: usize,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Time,
    Frequency,
    Nonlinear,
    Other,
}

fn presentation(key: &str) -> Presentation {
    use Section::*;
    let (section, label, unit, decimals) = match key {
        "duration_s" => (Time, "Duration", "s", 1),
        "mean_nn_ms" => (Time, "Mean RR", "ms", 1),
        "sdnn_ms" => (Time, "SDNN", "ms", 1),
        "cvnn" => (Time, "CVNN", "", 4),
        "mean_hr_bpm" => (Time, "Mean HR", "bpm", 1),
        "sd_hr_bpm" => (Time, "STD HR", "bpm", 2),
        "min_hr_bpm" => (Time, "Min HR", "bpm", 1),
        "max_hr_bpm" => (Time, "Max HR", "bpm", 1),
        "rmssd_ms" => (Time, "RMSSD", "ms", 1),
        "ln_rmssd" => (Time, "ln RMSSD", "", 3),
        "sdsd_ms" => (Time, "SDSD", "ms", 1),
        "pnn50_pct" => (Time, "pNN50", "%", 2),
        "pnn20_pct" => (Time, "pNN20", "%", 2),
        "tri_index" => (Time, "HRV triangular index", "", 2),
        "tinn_ms" => (Time, "TINN", "ms", 1),
        "stress_index" => (Time, "Stress index (Baevsky)", "", 2),
        "vlf_ms2" => (Frequency, "VLF power", "ms²", 1),
        "lf_ms2" => (Frequency, "LF power", "ms²", 1),
        "hf_ms2" => (Frequency, "HF power", "ms²", 1),
        "total_power_ms2" => (Frequency, "Total power", "ms²", 1),
        "lf_hf" => (Frequency, "LF/HF", "", 3),
        "lf_nu" => (Frequency, "LF", "n.u.", 2),
        "hf_nu" => (Frequency, "HF", "n.u.", 2),
        "lf_peak_hz" => (Frequency, "LF peak", "Hz", 4),
        "hf_peak_hz" => (Frequency, "HF peak", "Hz", 4),
        "sd1_ms" => (Nonlinear, "Poincaré SD1", "ms", 1),
        "sd2_ms" => (Nonlinear, "Poincaré SD2", "ms", 1),
        "sd2_sd1" => (Nonlinear, "SD2/SD1", "", 3),
        "sampen" => (Nonlinear, "Sample entropy", "", 3),
        "dfa_alpha1" => (Nonlinear, "DFA α1", "", 3),
        "dfa_alpha2" => (Nonlinear, "DFA α2", "", 3),
        _ => (Other, "", "", 4),
    };
    Presentation {
        section,
        label,
        unit,
        decimals,
    }
}

/// The readable report, grouped like Kubios's: RR series, time domain, frequency domain, nonlinear.
pub fn to_text(a: &Analysis) -> String {
    let mut out = String::new();
    let raw = a.recording.rr_ms.len();
    // Writing into a String cannot fail; the results are ignored for that reason.
    let _ = writeln!(out, "HRV analysis of {}", a.source);
    let _ = writeln!(out, "{}", "=".repeat(18 + a.source.chars().count()));
    let _ = writeln!(out, "\nRR interval series");
    let _ = writeln!(out, "  {:<28}{}", "Format", a.recording.format.as_str());
    let _ = writeln!(out, "  {:<28}{raw}", "Beats recorded");
    let _ = writeln!(out, "  {:<28}{}", "Beats analysed", a.panel.n_beats);
    let share = if raw == 0 {
        0.0
    } else {
        100.0 * a.artifacts.len() as f64 / raw as f64
    };
    let _ = writeln!(
        out,
        "  {:<28}{} ({share:.2} %), {}",
        "Artifacts",
        a.artifacts.len(),
        if a.corrected {
            "corrected (Lipponen & Tarvainen 2019)"
        } else {
            "not corrected"
        }
    );
    for artifact in &a.artifacts {
        let _ = writeln!(out, "    beat {:>6}  {}", artifact.index, artifact.kind.as_str());
    }
    let sections = [
        (Section::Time, "Time domain".to_string()),
        (
            Section::Frequency,
            format!(
                "Frequency domain ({})",
                match a.spectrum {
                    SpectrumMethod::Welch => "Welch periodogram, 4 Hz, smoothness-priors detrend",
                    SpectrumMethod::LombScargle => "Lomb–Scargle periodogram",
                }
            ),
        ),
        (Section::Nonlinear, "Nonlinear".to_string()),
        (Section::Other, "Other".to_string()),
    ];
    for (section, title) in sections {
        let rows: Vec<_> = a
            .panel
            .entries()
            .filter(|(k, _)| presentation(k).section == section)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{title}");
        for (key, metric) in rows {
            let p = presentation(key);
            let label = if p.label.is_empty() { key } else { p.label };
            match metric {
                Ok(v) => {
                    let value = format!("{:.*} {}", p.decimals, v, p.unit);
                    let _ = writeln!(out, "  {label:<28}{}", value.trim_end());
                }
                Err(why) => {
                    let _ = writeln!(out, "  {label:<28}— ({why})");
                }
            }
        }
    }
    out
}
