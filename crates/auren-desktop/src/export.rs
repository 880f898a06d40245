//! Exports of a stored session into the export folder: beats as CSV, RR as Kubios text, and the report
//! image (PNG/SVG) drawn by auren-report from the same panel the History view shows.

use auren_clock::UnixMillis;
use auren_engine::dto::{SessionDetailDto, SessionKindDto};
use auren_engine::query::corrected_nn;
use auren_report::{MetricRow, ReportBeat, ReportInput};
use auren_store::SessionDetail;
use std::path::Path;

use crate::dto::{ExportFormat, ExportedDto};
use crate::error::DesktopError;

/// Why an export wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the session has no beats")]
    NoBeats,
    #[error("drawing the report: {0}")]
    Report(#[from] auren_report::ReportError),
}

/// The report image size: reads well on screen and in print (A4 landscape at ~150 dpi).
pub const REPORT_SIZE: (u32, u32) = (1600, 1200);

/// Writes `format` of session `stored` (with its computed `panel`) into `dir`, under a name that
/// carries the session id and start time; an existing file of that name is replaced atomically.
pub fn write(
    dir: &Path,
    stored: &SessionDetail,
    panel: &SessionDetailDto,
    format: ExportFormat,
) -> Result<ExportedDto, DesktopError> {
    let summary = &panel.summary;
    let stamp = UnixMillis(summary.started_at_unix_ms).civil_minute();
    let ext = match format {
        ExportFormat::Csv => "csv",
        ExportFormat::KubiosRr => "txt",
        ExportFormat::ReportPng => "png",
        ExportFormat::ReportSvg => "svg",
    };
    let suffix = match format {
        ExportFormat::KubiosRr => "-rr",
        ExportFormat::ReportPng | ExportFormat::ReportSvg => "-report",
        ExportFormat::Csv => "",
    };
    let path = dir.join(format!(
        "auren-session-{}-{}{suffix}.{ext}",
        summary.id,
        stamp.replace([':', ' '], "").replace('-', "")
    ));
    let failed = |source: ExportError| DesktopError::Export {
        path: path.clone(),
        source,
    };
    if stored.beats.is_empty() {
        return Err(failed(ExportError::NoBeats));
    }
    let beats: Vec<ReportBeat<'_>> = stored
        .beats
        .iter()
        .map(|b| ReportBeat {
            t_s: b.t_ms / 1000.0,
            rr_ms: b.rr_ms,
            artifact: b.artifact.as_deref(),
        })
        .collect();
    let bytes: Vec<u8> = match format {
        ExportFormat::Csv => auren_report::csv(&beats).into_bytes(),
        ExportFormat::KubiosRr => {
            let rr: Vec<f64> = stored.beats.iter().map(|b| b.rr_ms).collect();
            auren_report::kubios_rr(&rr).into_bytes()
        }
        ExportFormat::ReportPng | ExportFormat::ReportSvg => {
            // Joined across gaps, as the panel computes them.
            let nn = corrected_nn(&stored.beats, &stored.gaps).concat();
            let metrics = metric_rows(panel);
            let title = format!("{} session — {stamp} UTC", kind_title(summary.kind));
            let simulated =
                summary.source.starts_with("Simulated strap") || summary.source.starts_with("simulator");
            let input = ReportInput {
                title: &title,
                source: &summary.source,
                simulated,
                beats: &beats,
                nn_ms: &nn,
                spectrum: None,
                metrics: &metrics,
            };
            let (w, h) = REPORT_SIZE;
            if format == ExportFormat::ReportPng {
                auren_report::render_png(&input, w, h)
            } else {
                auren_report::render_svg(&input, w, h).map(String::into_bytes)
            }
            .map_err(|e| failed(ExportError::Report(e)))?
        }
    };
    crate::desktop::write_atomically(&path, &bytes, "writing the export")?;
    Ok(ExportedDto {
        path: path.display().to_string(),
        bytes: bytes.len() as u64,
    })
}

/// The report's metrics table: every panel value under a readable label with its unit, grouped like
/// Kubios, and the artifact counts by kind.
fn metric_rows(panel: &SessionDetailDto) -> Vec<MetricRow<'static>> {
    let mut rows: Vec<MetricRow<'static>> = panel
        .panel
        .iter()
        .filter_map(|m| {
            let (group, label, unit, decimals) = describe(&m.key)?;
            let value = match (m.value, &m.absent) {
                (Some(v), _) => format!("{v:.decimals$}{unit}"),
                (None, Some(why)) => format!("— ({})", why.message),
                (None, None) => "—".to_owned(),
            };
            Some(MetricRow { group, label, value })
        })
        .collect();
    let s = &panel.summary;
    rows.push(MetricRow {
        group: "Artifacts",
        label: "beats / corrected",
        value: format!("{} / {}", s.beat_count, s.artifact_count),
    });
    rows
}

/// Group, label, unit suffix and decimals of a panel key (`None`: not shown in the report).
fn describe(key: &str) -> Option<(&'static str, &'static str, &'static str, usize)> {
    const T: &str = "Time domain";
    const F: &str = "Frequency domain";
    const N: &str = "Nonlinear";
    Some(match key {
        "duration_s" => (T, "Duration", " s", 0),
        "mean_nn_ms" => (T, "Mean RR", " ms", 1),
        "sdnn_ms" => (T, "SDNN", " ms", 1),
        "rmssd_ms" => (T, "RMSSD", " ms", 1),
        "ln_rmssd" => (T, "lnRMSSD", "", 2),
        "pnn50_pct" => (T, "pNN50", " %", 1),
        "mean_hr_bpm" => (T, "Mean HR", " bpm", 1),
        "min_hr_bpm" => (T, "Min HR", " bpm", 1),
        "max_hr_bpm" => (T, "Max HR", " bpm", 1),
        "tri_index" => (T, "RR tri index", "", 2),
        "tinn_ms" => (T, "TINN", " ms", 0),
        "stress_index" => (T, "Stress index", "", 1),
        "vlf_ms2" => (F, "VLF power", " ms²", 0),
        "lf_ms2" => (F, "LF power", " ms²", 0),
        "hf_ms2" => (F, "HF power", " ms²", 0),
        "total_power_ms2" => (F, "Total power", " ms²", 0),
        "lf_hf" => (F, "LF/HF", "", 2),
        "lf_nu" => (F, "LF", " n.u.", 1),
        "hf_nu" => (F, "HF", " n.u.", 1),
        "lf_peak_hz" => (F, "LF peak", " Hz", 3),
        "hf_peak_hz" => (F, "HF peak", " Hz", 3),
        "sd1_ms" => (N, "SD1", " ms", 1),
        "sd2_ms" => (N, "SD2", " ms", 1),
        "sd2_sd1" => (N, "SD2/SD1", "", 2),
        "sampen" => (N, "SampEn", "", 2),
        "dfa_alpha1" => (N, "DFA α1", "", 2),
        "dfa_alpha2" => (N, "DFA α2", "", 2),
        _ => return None,
    })
}

/// The session kind as the report's title starts it.
fn kind_title(kind: SessionKindDto) -> &'static str {
    match kind {
        SessionKindDto::Rest => "Rest",
        SessionKindDto::Morning => "Morning",
        SessionKindDto::Exercise => "Exercise",
        SessionKindDto::Breathing => "Breathing",
        SessionKindDto::Other => "Other",
    }
}
