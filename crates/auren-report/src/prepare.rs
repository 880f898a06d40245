//! Turns a [`ReportInput`] into what the panels draw: tachogram segments split at gaps, the spectrum
//! (given, computed, or the reason it is missing), the Poincaré pairs with SD1/SD2, the table columns.

use crate::{MAX_SIZE, MIN_SIZE, ReportError, ReportInput};
use auren_hrv::Absent;
use auren_hrv::frequency::{self, HF};

/// A beat time jump this much longer than the interval it ends (s) means beats were lost: a gap.
const GAP_SLACK_S: f64 = 1.0;
/// Recordings at least this long get a time axis in minutes, shorter ones in seconds.
const MINUTES_FROM_S: f64 = 180.0;
/// The spectrum panel's frequency axis ends here (Hz), a little past HF.
pub const SPECTRUM_MAX_HZ: f64 = 0.5;

pub struct Report<'a> {
    pub width: u32,
    pub height: u32,
    pub title: &'a str,
    pub source: &'a str,
    pub simulated: bool,
    pub tachogram: Tachogram,
    pub spectrum: Result<SpectrumPanel, String>,
    pub poincare: Result<Poincare, String>,
    pub table: Vec<Column<'a>>,
}

pub struct Tachogram {
    /// Time unit of the x axis: 60 for minutes, 1 for seconds.
    pub unit_s: f64,
    /// Runs of beats without a gap, as (time in `unit_s`, RR ms).
    pub segments: Vec<Vec<(f64, f64)>>,
    /// (from, to) in `unit_s`, between the last beat before a gap and the first after it.
    pub gaps: Vec<(f64, f64)>,
    pub artifacts: Vec<(f64, f64)>,
    pub x_range: (f64, f64),
    pub y_range: (f64, f64),
    pub beats: usize,
    pub duration_s: f64,
}

pub struct SpectrumPanel {
    pub method: String,
    /// (Hz, ms²/Hz) up to [`SPECTRUM_MAX_HZ`].
    pub points: Vec<(f64, f64)>,
    pub max_power: f64,
}

pub struct Poincare {
    pub pairs: Vec<(f64, f64)>,
    pub mean_ms: f64,
    /// (SD1, SD2) in ms, or why they are missing.
    pub sd: Result<(f64, f64), String>,
    pub range: (f64, f64),
}

pub struct Column<'a> {
    pub group: &'a str,
    pub rows: Vec<(&'a str, &'a str)>,
}

impl<'a> Report<'a> {
    pub fn new(input: &'a ReportInput<'a>, width: u32, height: u32) -> Result<Self, ReportError> {
        if !(MIN_SIZE.0..=MAX_SIZE.0).contains(&width) || !(MIN_SIZE.1..=MAX_SIZE.1).contains(&height) {
            return Err(ReportError::ImageSize { width, height });
        }
        let tachogram = tachogram(input)?;
        let spectrum = spectrum(input)?;
        Ok(Report {
            width,
            height,
            title: input.title,
            source: input.source,
            simulated: input.simulated,
            tachogram,
            spectrum,
            poincare: poincare(input.nn_ms),
            table: columns(input),
        })
    }
}

fn tachogram(input: &ReportInput<'_>) -> Result<Tachogram, ReportError> {
    let beats: Vec<_> = input
        .beats
        .iter()
        .filter(|b| b.t_s.is_finite() && b.rr_ms.is_finite())
        .collect();
    let (Some(first), Some(last)) = (beats.first(), beats.last()) else {
        return Err(ReportError::NoBeats);
    };
    let start_s = (first.t_s - first.rr_ms / 1000.0).max(0.0).min(first.t_s);
    let duration_s = last.t_s - start_s;
    let unit_s = if duration_s >= MINUTES_FROM_S { 60.0 } else { 1.0 };

    let mut segments: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    let mut gaps = Vec::new();
    let mut artifacts = Vec::new();
    let mut previous_t: Option<f64> = None;
    for beat in &beats {
        let x = beat.t_s / unit_s;
        if let Some(prev) = previous_t
            && beat.t_s - prev > beat.rr_ms / 1000.0 + GAP_SLACK_S
        {
            gaps.push((prev / unit_s, x));
            segments.push(Vec::new());
        }
        if let Some(segment) = segments.last_mut() {
            segment.push((x, beat.rr_ms));
        }
        if beat.artifact.is_some() {
            artifacts.push((x, beat.rr_ms));
        }
        previous_t = Some(beat.t_s);
    }

    let (lo, hi) = min_max(beats.iter().map(|b| b.rr_ms)).unwrap_or((0.0, 1.0));
    let pad = ((hi - lo) * 0.08).max(20.0);
    let x0 = start_s / unit_s;
    // A little room after the last beat so its dot is not cut by the frame.
    let x1 = (last.t_s / unit_s).max(x0 + 1.0 / unit_s);
    let x1 = x1 + (x1 - x0) * 0.005;
    Ok(Tachogram {
        unit_s,
        segments,
        gaps,
        artifacts,
        x_range: (x0, x1),
        y_range: ((lo - pad).max(0.0), hi + pad),
        beats: beats.len(),
        duration_s,
    })
}

fn spectrum(input: &ReportInput<'_>) -> Result<Result<SpectrumPanel, String>, ReportError> {
    let (method, freq, power) = match input.spectrum {
        Some(s) => {
            if s.freq_hz.len() != s.power_ms2_hz.len() {
                return Err(ReportError::SpectrumLengths {
                    freqs: s.freq_hz.len(),
                    powers: s.power_ms2_hz.len(),
                });
            }
            (s.method.to_owned(), s.freq_hz.to_vec(), s.power_ms2_hz.to_vec())
        }
        None => match computed_psd(input.nn_ms) {
            Ok(psd) => {
                let freq = (0..psd.density.len()).map(|k| psd.frequency(k)).collect();
                ("Welch".to_owned(), freq, psd.density)
            }
            Err(why) => return Ok(Err(why)),
        },
    };
    let points: Vec<(f64, f64)> = freq
        .into_iter()
        .zip(power)
        .filter(|(f, p)| f.is_finite() && p.is_finite() && (0.0..=SPECTRUM_MAX_HZ).contains(f))
        .map(|(f, p)| (f, p.max(0.0)))
        .collect();
    let max_power = points.iter().map(|p| p.1).fold(0.0, f64::max);
    if points.len() < 2 {
        return Ok(Err("the spectrum has no bins below 0.5 Hz".to_owned()));
    }
    if max_power <= 0.0 {
        return Ok(Err(Absent::ZeroVariance.to_string()));
    }
    Ok(Ok(SpectrumPanel {
        method,
        points,
        max_power,
    }))
}

/// The reference Welch PSD, refused on the same grounds as the frequency-domain metrics: HF's
/// minimum span and a constant series.
fn computed_psd(nn: &[f64]) -> Result<frequency::Psd, String> {
    auren_hrv::metric::check_rr(nn).map_err(|e| e.to_string())?;
    if nn.len() < 2 {
        return Err(Absent::TooFewBeats {
            needed: 2,
            got: nn.len(),
        }
        .to_string());
    }
    let span_s = nn[1..].iter().sum::<f64>() / 1000.0;
    if span_s < f64::from(HF.min_span_s) {
        return Err(Absent::TooShort {
            needed_s: HF.min_span_s,
            got_s: span_s as u32,
        }
        .to_string());
    }
    if nn.iter().all(|&v| v == nn[0]) {
        return Err(Absent::ZeroVariance.to_string());
    }
    frequency::welch_psd(nn).map_err(|e| e.to_string())
}

fn poincare(nn: &[f64]) -> Result<Poincare, String> {
    let nn: Vec<f64> = nn.iter().copied().filter(|v| v.is_finite() && *v > 0.0).collect();
    if nn.len() < 2 {
        return Err(Absent::TooFewBeats {
            needed: 2,
            got: nn.len(),
        }
        .to_string());
    }
    let pairs: Vec<(f64, f64)> = nn.windows(2).map(|w| (w[0], w[1])).collect();
    let mean_ms = nn.iter().sum::<f64>() / nn.len() as f64;
    let sd = sd1_sd2(&nn);
    let (lo, hi) = min_max(nn.iter().copied()).unwrap_or((0.0, 1.0));
    // The ellipse reaches SD2/√2 past the mean along each axis, which can pass the data's extremes.
    let reach = sd.as_ref().map(|&(_, sd2)| sd2 * 1.1).unwrap_or(0.0);
    let lo = lo.min(mean_ms - reach);
    let hi = hi.max(mean_ms + reach);
    let pad = ((hi - lo) * 0.06).max(10.0);
    Ok(Poincare {
        pairs,
        mean_ms,
        sd,
        range: ((lo - pad).max(0.0), hi + pad),
    })
}

/// SD1 = √(var(ΔRR)/2), SD2 = √(2·var(RR) − var(ΔRR)/2), both with ddof 1 as the panel computes them.
fn sd1_sd2(nn: &[f64]) -> Result<(f64, f64), String> {
    if nn.len() < 3 {
        return Err(Absent::TooFewBeats {
            needed: 3,
            got: nn.len(),
        }
        .to_string());
    }
    let diffs: Vec<f64> = nn.windows(2).map(|w| w[1] - w[0]).collect();
    let var_diff = variance(&diffs);
    let sd1 = (var_diff / 2.0).sqrt();
    let sd2_sq = 2.0 * variance(nn) - var_diff / 2.0;
    if sd2_sq < 0.0 {
        return Err("SD2² is negative".to_owned());
    }
    Ok((sd1, sd2_sq.sqrt()))
}

fn variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
}

fn min_max(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

fn columns<'a>(input: &'a ReportInput<'a>) -> Vec<Column<'a>> {
    let mut columns: Vec<Column<'a>> = Vec::new();
    for row in input.metrics {
        match columns.iter_mut().find(|c| c.group == row.group) {
            Some(column) => column.rows.push((row.label, &row.value)),
            None => columns.push(Column {
                group: row.group,
                rows: vec![(row.label, &row.value)],
            }),
        }
    }
    columns
}
