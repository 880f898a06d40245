//! `auren analyze FILE`: the full HRV panel of one recording, as JSON or as a Kubios-style text report.
//!
//! The panel follows the reference pipeline unless `--preset kubios` or the individual settings
//! (`--detrend`, `--window`, `--points-per-hz`, `--dfa`, `--minmax-beats`, `--extras`) say otherwise;
//! options given with a preset override it. Artifacts are corrected automatically in both presets
//! (`--no-correction` lists them only); the restored intervals go where the preset says unless
//! `--placement` is given: at the two sides' levels across a jump in the reference pipeline (the
//! placement that keeps every injection of the artifact sweep within 2 % of the clean RMSSD), evenly
//! under `--preset kubios`, as the paper's and Kubios's own correction do. Both outputs list every
//! setting used, artifact handling included.

use anyhow::{Context, bail};
use auren_engine::recording::{self, Recording};
use auren_hrv::artifacts::{self, Artifact, CorrectionConfig, Placement};
use auren_hrv::frequency::SpectrumMethod;
use auren_hrv::nonlinear::dfa::Scales;
use auren_hrv::panel::{self, Panel};
use auren_hrv::settings::{
    CostlyMetrics, Detrend, HrExtremes, Preset, SettingValue, Settings, SpectrumGrid, StressIndex,
};
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
    /// Start from a preset: `reference` (the documented pipeline, default) or `kubios` (Kubios HRV
    /// Standard's definitions and defaults). The options below override it.
    #[arg(long, value_name = "reference|kubios")]
    pub preset: Option<String>,
    /// Trend removal before the spectrum: `none`, or smoothness priors `priors` (λ = 500) or `priors:LAMBDA`.
    #[arg(long, value_name = "none|priors[:LAMBDA]")]
    pub detrend: Option<String>,
    /// Welch segment width in seconds (50 % overlap).
    #[arg(long, value_name = "SECONDS")]
    pub window: Option<String>,
    /// Spectrum grid density: points per Hz (the FFT is zero-padded to reach it).
    #[arg(long, value_name = "N")]
    pub points_per_hz: Option<String>,
    /// DFA box-size ranges in beats for α1 and α2, e.g. `4-12,13-64`.
    #[arg(long, value_name = "N1-N2,N3-N4")]
    pub dfa: Option<String>,
    /// Minimum and maximum HR as the extremes of an N-beat moving average (1 = single beats).
    #[arg(long, value_name = "N")]
    pub minmax_beats: Option<String>,
    /// Also compute approximate entropy and the AR spectrum (order 16); the kubios preset does.
    #[arg(long)]
    pub extras: bool,
    /// Where corrected artifacts' intervals go: `levels` (the reference pipeline's default: a missed
    /// beat's interval and a compensated ectopic pair keep their sum, their parts at the two sides'
    /// levels across a jump larger than Th1, along the line between the neighbours otherwise),
    /// `trend` (always along the line) or `even` (`--preset kubios`'s default: a missed beat's interval
    /// split equally, ectopic beats interpolated).
    #[arg(long, value_name = "even|trend|levels")]
    pub placement: Option<String>,
}

/// What `analyze` does with the artifacts it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactHandling {
    /// Detect and list them, and analyse the raw series as recorded (`--no-correction`).
    ListOnly,
    /// Correct them (Lipponen & Tarvainen 2019), putting restored intervals as this placement says.
    Correct(Placement),
}

impl ArtifactHandling {
    /// The two lines of the settings list that say how artifacts were handled.
    fn describe(self) -> [(&'static str, &'static str); 2] {
        match self {
            ArtifactHandling::ListOnly => [
                ("artifact_correction", "none"),
                ("correction_placement", "not_applied"),
            ],
            ArtifactHandling::Correct(placement) => [
                ("artifact_correction", "lipponen_tarvainen_2019"),
                ("correction_placement", placement.as_str()),
            ],
        }
    }
}

/// `--no-correction` and `--placement`, checked like the other options: a bad value, or a placement
/// that nothing would be placed by, is one clear line naming the option. Without `--placement` the
/// preset `settings` started from chooses it.
pub fn handling_from(args: &Args, settings: &Settings) -> anyhow::Result<ArtifactHandling> {
    let placement = match args.placement.as_deref() {
        None => default_placement(settings.preset),
        Some("even") => Placement::Even,
        Some("trend") => Placement::Trend,
        Some("levels") => Placement::Levels,
        Some(other) => bail!("--placement {other:?}: expected even, trend or levels"),
    };
    match (args.no_correction, &args.placement) {
        (true, Some(text)) => {
            bail!("--placement {text:?}: places corrected intervals, and --no-correction corrects none")
        }
        (true, None) => Ok(ArtifactHandling::ListOnly),
        (false, _) => Ok(ArtifactHandling::Correct(placement)),
    }
}

/// Where a preset puts restored intervals. The reference pipeline uses the library's default
/// (`Placement::Levels`: the one placement that keeps every injection of the artifact sweep within 2 %
/// of the clean RMSSD, with a smaller mean error than even's). The Kubios preset keeps `Placement::Even`,
/// the correction of the method Kubios's automatic correction is (Lipponen & Tarvainen 2019, J Med Eng
/// Technol 43(3):173–181, doi:10.1080/03091902.2019.1640306; both authors are authors of Kubios and of
/// its HRV 3.x user's guide): a missed beat restored by inserting a beat into the long interval, an
/// extra one by removing it, ectopic and long/short beats by interpolating the RR series. Read that way
/// by its implementations: NeuroKit2's `signal_fixpeaks(method="kubios")` inserts the beat midway
/// (`_correct_missed`), hrvester's `correct_hrv_artefacts_lipponen` at half the interval, and both
/// interpolate the rest. None keeps a pair's sum or places parts by the neighbours, so a Kubios-style
/// analysis does not either.
fn default_placement(preset: Preset) -> Placement {
    match preset {
        Preset::Reference => CorrectionConfig::default().placement,
        Preset::Kubios => Placement::Even,
    }
}

/// A preset with the command line's overrides applied; every value is checked here, so a bad one is
/// one clear line naming the option.
pub fn settings_from(args: &Args) -> anyhow::Result<Settings> {
    let mut settings = match args.preset.as_deref() {
        None | Some("reference") => Settings::reference(),
        Some("kubios") => Settings::kubios(),
        Some(other) => bail!("--preset {other:?}: expected reference or kubios"),
    };
    if args.lomb {
        settings.spectral.method = SpectrumMethod::LombScargle;
    }
    if let Some(text) = &args.detrend {
        settings.spectral.detrend = parse_detrend(text)?;
    }
    if let Some(text) = &args.window {
        settings.spectral.window_s = parse_positive(text, "--window", "a number of seconds")?;
        if settings.spectral.window_s < 1.0 {
            bail!("--window {text:?}: a Welch segment needs at least 1 second");
        }
    }
    if let Some(text) = &args.points_per_hz {
        // Beyond 10,000 points/Hz the zero-padded FFT only costs memory: no spectrum is that sharp.
        let n = match parse_count(text, "--points-per-hz")? {
            n @ 1..=10_000 => n as u32,
            _ => bail!("--points-per-hz {text:?}: expected at most 10000"),
        };
        settings.spectral.grid = SpectrumGrid::PointsPerHz(n);
    }
    if let Some(text) = &args.dfa {
        (settings.dfa_short, settings.dfa_long) = parse_dfa(text)?;
    }
    if let Some(text) = &args.minmax_beats {
        settings.hr_extremes = match parse_count(text, "--minmax-beats")? {
            1 => HrExtremes::SingleBeat,
            beats => HrExtremes::MovingAverage { beats },
        };
    }
    if args.extras && settings.costly == CostlyMetrics::Skip {
        settings.costly = CostlyMetrics::Compute { ar_order: 16 };
    }
    Ok(settings)
}

fn parse_detrend(text: &str) -> anyhow::Result<Detrend> {
    match text.split_once(':') {
        None if text == "none" => Ok(Detrend::None),
        None if text == "priors" => Ok(Detrend::SmoothnessPriors { lambda: 500.0 }),
        Some(("priors", lambda)) => Ok(Detrend::SmoothnessPriors {
            lambda: parse_positive(lambda, "--detrend priors:", "a positive λ")?,
        }),
        _ => bail!("--detrend {text:?}: expected none, priors or priors:LAMBDA (e.g. priors:500)"),
    }
}

fn parse_positive(text: &str, option: &str, what: &str) -> anyhow::Result<f64> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => bail!("{option} {text:?}: expected {what} above zero"),
    }
}

fn parse_count(text: &str, option: &str) -> anyhow::Result<usize> {
    match text.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => bail!("{option} {text:?}: expected a whole number of at least 1"),
    }
}

/// `N1-N2,N3-N4` with 3 ≤ N1 < N2 and 3 ≤ N3 < N4 (a box of two beats fits its line exactly).
fn parse_dfa(text: &str) -> anyhow::Result<(Scales, Scales)> {
    let range = |part: &str| -> Option<Scales> {
        let (lo, hi) = part.trim().split_once('-')?;
        let (lo, hi) = (lo.trim().parse::<usize>().ok()?, hi.trim().parse::<usize>().ok()?);
        (lo >= 3 && hi > lo && hi <= 100_000).then(|| Scales::box_sizes(lo, hi))
    };
    match text.split_once(',').map(|(a, b)| (range(a), range(b))) {
        Some((Some(short), Some(long))) => Ok((short, long)),
        _ => bail!(
            "--dfa {text:?}: expected two box-size ranges in beats, N1-N2,N3-N4 with 3 ≤ N1 < N2 and 3 ≤ N3 < N4 (e.g. 4-16,16-64)"
        ),
    }
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
    pub handling: ArtifactHandling,
    pub artifacts: Vec<Artifact>,
    pub settings: Settings,
    /// The indices of `recording.rr_ms` the panel was computed on (the longest stretch between gaps).
    pub analysed: std::ops::Range<usize>,
    pub panel: Panel,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // The error names the file, the line and what was expected: no context to add.
    let settings = settings_from(&args)?;
    let handling = handling_from(&args, &settings)?;
    let recording = recording::read(&args.file)?;
    for warning in &recording.warnings {
        eprintln!("auren: {}: {warning}", args.file.display());
    }
    let analysis = analyze(args.file.display().to_string(), recording, handling, &settings);
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

/// Labels every contiguous segment (no correction ever interpolates across a gap) and computes the
/// panel of the longest one, so no interval or successive difference spans a gap. Without gaps the
/// segment is the whole recording.
pub fn analyze(
    source: String,
    recording: Recording,
    handling: ArtifactHandling,
    settings: &Settings,
) -> Analysis {
    let bounds = segment_bounds(&recording);
    let analysed = bounds
        .iter()
        .cloned()
        .max_by_key(|r| (r.len(), std::cmp::Reverse(r.start)))
        .unwrap_or(0..0);
    let mut artifacts = Vec::new();
    let mut corrected = None;
    for range in &bounds {
        let segment = &recording.rr_ms[range.clone()];
        let found = match handling {
            ArtifactHandling::Correct(placement) => {
                let config = CorrectionConfig {
                    placement,
                    ..CorrectionConfig::default()
                };
                // Only the corrected series is kept: the raw-index map (8 bytes a beat) is not needed here.
                let artifacts::Correction {
                    corrected: series,
                    artifacts: found,
                    raw_index: _,
                } = artifacts::correct_with(segment, &config);
                if *range == analysed {
                    corrected = Some(series);
                }
                found
            }
            ArtifactHandling::ListOnly => artifacts::detect(segment),
        };
        artifacts.extend(found.into_iter().map(|a| Artifact {
            index: a.index + range.start,
            ..a
        }));
    }
    let panel = match &corrected {
        Some(series) => panel::analyze_with(series, settings),
        None => panel::analyze_with(&recording.rr_ms[analysed.clone()], settings),
    };
    drop(corrected);
    Analysis {
        source,
        recording,
        handling,
        artifacts,
        settings: *settings,
        analysed,
        panel,
    }
}

/// The index ranges of the contiguous segments between the recording's gaps (one without gaps).
fn segment_bounds(recording: &Recording) -> Vec<std::ops::Range<usize>> {
    let n = recording.rr_ms.len();
    let mut out = Vec::with_capacity(recording.gaps.len() + 1);
    let mut start = 0;
    for end in recording.gaps.iter().map(|g| g.before.min(n)).chain([n]) {
        if end > start {
            out.push(start..end);
        }
        start = start.max(end);
    }
    out
}

/// The note every output carries when the recording has gaps.
fn gap_note(a: &Analysis) -> Option<String> {
    let gaps = a.recording.gaps.len();
    (gaps > 0).then(|| {
        let rows: Vec<String> = a
            .recording
            .gaps
            .iter()
            .take(5)
            .map(|g| {
                if g.first_line == g.last_line {
                    format!("line {}", g.first_line)
                } else {
                    format!("lines {}–{}", g.first_line, g.last_line)
                }
            })
            .collect();
        let more = if gaps > 5 { format!(" and {} more", gaps - 5) } else { String::new() };
        format!(
            "the recording has {gaps} gap{} ({}{more}); artifacts are labelled within each contiguous segment, and every metric is computed on the longest segment (intervals {}–{} of {}), so no interval, successive difference or spectrum spans a gap",
            if gaps == 1 { "" } else { "s" },
            rows.join(", "),
            a.analysed.start,
            a.analysed.end.saturating_sub(1),
            a.recording.rr_ms.len()
        )
    })
}

fn spectrum_name(method: SpectrumMethod) -> &'static str {
    match method {
        SpectrumMethod::Welch => "welch",
        SpectrumMethod::LombScargle => "lomb_scargle",
    }
}

/// What a reader of any output must know about the PNS and SNS indices.
pub const ANS_NOTE: &str = "PNS and SNS indices weight their three z-scores equally (Kubios does not publish its weights), against Nunan et al. 2010 normal values; SD1 %, SD2 %, mean HR and stress-index normals are derived from Nunan's mean RR, SDNN and RMSSD";

fn setting_json(value: &SettingValue) -> Value {
    match value {
        SettingValue::Name(s) => json!(s),
        SettingValue::Number(v) => json!(v),
        SettingValue::Count(n) => json!(n),
        SettingValue::Range(a, b) => json!([a, b]),
        SettingValue::Band(lo, hi) => json!([lo, hi]),
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
    let settings: Map<String, Value> = a
        .settings
        .describe()
        .iter()
        .map(|s| (s.key.to_string(), setting_json(&s.value)))
        .chain(a.handling.describe().map(|(k, v)| (k.to_string(), json!(v))))
        .collect();
    json!({
        "source": a.source,
        "format": a.recording.format.as_str(),
        "n_beats_raw": a.recording.rr_ms.len(),
        "corrected": a.handling != ArtifactHandling::ListOnly,
        "spectrum": spectrum_name(a.settings.spectral.method),
        "settings": settings,
        "analysed_intervals": [a.analysed.start, a.analysed.end],
        "notes": std::iter::once(ANS_NOTE.to_string()).chain(gap_note(a)).collect::<Vec<_>>(),
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
    Ar,
    Nonlinear,
    Autonomic,
    Other,
}

fn presentation(key: &str) -> Presentation {
    use Section::*;
    if let Some(welch_key) = key.strip_prefix("ar_") {
        let p = presentation(welch_key);
        return Presentation { section: Ar, ..p };
    }
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
        "lf_hf" => (Frequency, "LF/HF", "", 3),
        "lf_nu" => (Frequency, "LF", "n.u.", 2),
        "hf_nu" => (Frequency, "HF", "n.u.", 2),
        "lf_peak_hz" => (Frequency, "LF peak", "Hz", 4),
        "hf_peak_hz" => (Frequency, "HF peak", "Hz", 4),
        "vlf_rel" => (Frequency, "VLF relative power", "%", 2),
        "lf_rel" => (Frequency, "LF relative power", "%", 2),
        "hf_rel" => (Frequency, "HF relative power", "%", 2),
        "vlf_log" => (Frequency, "VLF log power", "ln ms²", 3),
        "lf_log" => (Frequency, "LF log power", "ln ms²", 3),
        "hf_log" => (Frequency, "HF log power", "ln ms²", 3),
        "total_power_ms2" => (Frequency, "Total power", "ms²", 1),
        "sd1_ms" => (Nonlinear, "Poincaré SD1", "ms", 1),
        "sd2_ms" => (Nonlinear, "Poincaré SD2", "ms", 1),
        "sd2_sd1" => (Nonlinear, "SD2/SD1", "", 3),
        "sampen" => (Nonlinear, "Sample entropy", "", 3),
        "apen" => (Nonlinear, "Approximate entropy", "", 3),
        "pns_index" => (Autonomic, "PNS index", "", 2),
        "sns_index" => (Autonomic, "SNS index", "", 2),
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
    if !a.recording.gaps.is_empty() {
        let _ = writeln!(out, "  {:<28}{}", "Gaps", a.recording.gaps.len());
    }
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
        match a.handling {
            ArtifactHandling::Correct(Placement::Even) => {
                "corrected (Lipponen & Tarvainen 2019, split evenly and interpolated)"
            }
            ArtifactHandling::Correct(Placement::Trend) => {
                "corrected (Lipponen & Tarvainen 2019, placed along the trend)"
            }
            ArtifactHandling::Correct(Placement::Levels) => {
                "corrected (Lipponen & Tarvainen 2019, placed at the two sides' levels across a jump)"
            }
            ArtifactHandling::ListOnly => "not corrected",
        }
    );
    for artifact in &a.artifacts {
        let _ = writeln!(out, "    beat {:>6}  {}", artifact.index, artifact.kind.as_str());
    }
    write_sections(&mut out, a);
    write_settings(&mut out, &a.settings, a.handling);
    if let Some(note) = gap_note(a) {
        let _ = writeln!(out, "Note: {note}.");
    }
    out
}

fn spectrum_title(settings: &Settings) -> String {
    let s = &settings.spectral;
    let detrend = match s.detrend {
        Detrend::None => "no detrend".to_string(),
        Detrend::SmoothnessPriors { lambda } => format!("smoothness priors λ = {lambda}"),
    };
    match s.method {
        SpectrumMethod::Welch => {
            format!("Welch periodogram, 4 Hz, {detrend}, {} s window", s.window_s)
        }
        SpectrumMethod::LombScargle => format!("Lomb–Scargle periodogram, {detrend}"),
    }
}

/// The metric sections, grouped like Kubios's report; labels that depend on a definition say which.
fn write_sections(out: &mut String, a: &Analysis) {
    let ar_order = match a.settings.costly {
        CostlyMetrics::Compute { ar_order } => ar_order,
        CostlyMetrics::Skip => 0,
    };
    let sections = [
        (Section::Time, "Time domain".to_string()),
        (
            Section::Frequency,
            format!("Frequency domain ({})", spectrum_title(&a.settings)),
        ),
        (
            Section::Ar,
            format!("Frequency domain (AR spectrum, Burg, order {ar_order})"),
        ),
        (Section::Nonlinear, "Nonlinear".to_string()),
        (
            Section::Autonomic,
            "Autonomic (Kubios PNS/SNS indices, equal weights)".to_string(),
        ),
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
            let label = match (key, a.settings.stress_index) {
                ("stress_index", StressIndex::KubiosSquareRoot) => "Stress index (√, Kubios)",
                _ if p.label.is_empty() => key,
                _ => p.label,
            };
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
}

/// Every setting the panel was computed with, and the note on the PNS/SNS weights.
fn write_settings(out: &mut String, settings: &Settings, handling: ArtifactHandling) {
    let _ = writeln!(out, "\nSettings");
    for s in settings.describe() {
        let _ = writeln!(out, "  {:<28}{}", s.key, s.value);
    }
    for (key, value) in handling.describe() {
        let _ = writeln!(out, "  {key:<28}{value}");
    }
    let _ = writeln!(out, "\nNote: {ANS_NOTE}.");
}
