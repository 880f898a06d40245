//! Replay of recorded heart data as a [`HeartSource`]: `.hrmcap` captures (every notification's bytes
//! through the real decoder; malformed ones counted and skipped) and RR files (one interval in ms per line,
//! grouped into one sample per second as a strap would send them, with a gap event where the file has a
//! gap), in real time or at a speed factor.

use std::path::{Path, PathBuf};

use auren_hrm::capture::{self, CaptureRecord, LineError};
use auren_hrm::{HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::emitter::{Emitter, ReceiverGone};
use crate::error::SourceError;
use crate::source::{EndReason, HeartSource, Pace, Pacer, Sample, SourceEvent, SourceRun};

/// RR-intervals outside this range (ms) are a unit mix-up or a corrupt file, not a heartbeat.
pub const RR_FILE_RANGE_MS: std::ops::RangeInclusive<f64> = 200.0..=3000.0;

/// A recording played back as a source.
#[derive(Clone, Debug)]
pub struct Replay {
    origin: String,
    name: String,
    address: String,
    pace: Pace,
    content: Content,
}

#[derive(Clone, Debug)]
enum Content {
    Capture {
        records: Vec<CaptureRecord>,
        bad_lines: Vec<LineError>,
    },
    Rr {
        seconds: Vec<RrSecond>,
        /// Indices into `seconds` of the samples that start a segment after a gap, in order.
        after_gap: Vec<usize>,
    },
}

/// The samples an RR series becomes: the beats that ended in each second of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct RrSecond {
    pub at_ms: u64,
    pub rr_ms: Vec<f64>,
}

impl Replay {
    /// A capture given as text; `origin` names it in messages (usually its path).
    pub fn capture_text(text: &str, origin: &str, pace: Pace) -> Result<Self, capture::CaptureError> {
        let parsed = capture::parse(text)?;
        for bad in &parsed.bad_lines {
            tracing::warn!(origin, %bad, "capture line skipped");
        }
        Ok(Self {
            origin: origin.to_owned(),
            name: parsed
                .header
                .device_name()
                .unwrap_or("replayed capture")
                .to_owned(),
            address: parsed.header.address().unwrap_or(origin).to_owned(),
            pace,
            content: Content::Capture {
                records: parsed.records,
                bad_lines: parsed.bad_lines,
            },
        })
    }

    /// Reads and parses a `.hrmcap` file.
    pub fn open_capture(path: &Path, pace: Pace) -> Result<Self, SourceError> {
        let text = read(path)?;
        Self::capture_text(&text, &path.display().to_string(), pace).map_err(|source| SourceError::Capture {
            path: path.to_owned(),
            source,
        })
    }

    /// An RR series in ms, played as one sample per second.
    pub fn rr_ms(rr_ms: &[f64], origin: &str, pace: Pace) -> Self {
        Self {
            origin: origin.to_owned(),
            name: "replayed RR file".to_owned(),
            address: origin.to_owned(),
            pace,
            content: Content::Rr {
                seconds: group_per_second(rr_ms),
                after_gap: Vec::new(),
            },
        }
    }

    /// RR segments in ms separated by gaps (a file's rows without an RR value), played as one sample
    /// per second with a [`SourceEvent::Gap`] between segments, so no interval is made across a gap.
    /// The gap's length is unknown: the next segment starts one second after the last sample.
    pub fn rr_segments(segments: &[&[f64]], origin: &str, pace: Pace) -> Self {
        let mut seconds: Vec<RrSecond> = Vec::new();
        let mut after_gap = Vec::new();
        for segment in segments.iter().filter(|s| !s.is_empty()) {
            let offset = seconds.last().map_or(0, |s| s.at_ms);
            if !seconds.is_empty() {
                after_gap.push(seconds.len());
            }
            seconds.extend(group_per_second(segment).into_iter().map(|s| RrSecond {
                at_ms: s.at_ms + offset,
                ..s
            }));
        }
        Self {
            content: Content::Rr { seconds, after_gap },
            ..Self::rr_ms(&[], origin, pace)
        }
    }

    /// Reads an RR file: one interval in ms per line; blank lines and `#` comments are skipped.
    pub fn open_rr_file(path: &Path, pace: Pace) -> Result<Self, SourceError> {
        let text = read(path)?;
        let rr = parse_rr_text(&text, path)?;
        Ok(Self::rr_ms(&rr, &path.display().to_string(), pace))
    }

    /// Capture lines that could not be read (they are skipped on replay).
    pub fn bad_lines(&self) -> &[LineError] {
        match &self.content {
            Content::Capture { bad_lines, .. } => bad_lines,
            Content::Rr { .. } => &[],
        }
    }
}

fn read(path: &Path) -> Result<String, SourceError> {
    std::fs::read_to_string(path).map_err(|source| SourceError::ReadFile {
        path: path.to_owned(),
        source,
    })
}

/// Parses RR-file text (ms per line) into intervals, refusing values no heart produces.
pub fn parse_rr_text(text: &str, path: &Path) -> Result<Vec<f64>, SourceError> {
    let mut rr = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.parse::<f64>() {
            Ok(ms) if RR_FILE_RANGE_MS.contains(&ms) => rr.push(ms),
            _ => {
                return Err(SourceError::RrLine {
                    path: PathBuf::from(path),
                    line: index + 1,
                    text: line.to_owned(),
                });
            }
        }
    }
    if rr.is_empty() {
        return Err(SourceError::NoRr {
            path: path.to_owned(),
        });
    }
    Ok(rr)
}

/// Groups an RR series into one sample per second: the first beat is at `rr[0]` ms, and the sample at
/// `k·1000` ms carries the intervals of the beats in `((k−1)·1000, k·1000]` (possibly none, as a strap sends).
pub fn group_per_second(rr_ms: &[f64]) -> Vec<RrSecond> {
    let mut seconds = Vec::new();
    let mut t = 0.0;
    let mut current = RrSecond {
        at_ms: 1000,
        rr_ms: Vec::new(),
    };
    for &rr in rr_ms {
        t += rr;
        while t > current.at_ms as f64 {
            let next = current.at_ms + 1000;
            seconds.push(std::mem::replace(
                &mut current,
                RrSecond {
                    at_ms: next,
                    rr_ms: Vec::new(),
                },
            ));
        }
        current.rr_ms.push(rr);
    }
    seconds.push(current);
    seconds
}

/// The sample a strap would have sent for one second of an RR file; `recent` holds the last intervals for
/// the heart-rate field.
fn rr_sample(second: &RrSecond, recent: &mut Vec<f64>) -> Sample {
    recent.extend_from_slice(&second.rr_ms);
    let keep = recent.len().saturating_sub(4);
    recent.drain(..keep);
    let heart_rate_bpm = if recent.is_empty() {
        0
    } else {
        (60_000.0 / (recent.iter().sum::<f64>() / recent.len() as f64))
            .round()
            .clamp(0.0, 65_535.0) as u16
    };
    let m = HeartRateMeasurement {
        heart_rate_bpm,
        contact: SensorContact::Detected,
        energy_expended_kj: None,
        rr: second
            .rr_ms
            .iter()
            .filter_map(|&ms| RrInterval::from_ms(ms))
            .collect(),
    };
    Sample {
        at_ms: second.at_ms,
        heart_rate_bpm,
        // The file's values, not the 1/1024 s rounding the payload needs.
        rr_ms: second.rr_ms.clone(),
        contact: SensorContact::Detected,
        energy_expended_kj: None,
        payload: encode_heart_rate_measurement(&m, HrFormat::U8),
    }
}

impl HeartSource for Replay {
    fn describe(&self) -> String {
        format!("replay: {}", self.origin)
    }

    fn run(self: Box<Self>, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) -> SourceRun {
        Box::pin(async move {
            let mut emitter = Emitter::new(events);
            let ended = match play(&self, &mut emitter, &shutdown).await {
                Ok(ended) => ended,
                Err(ReceiverGone) => EndReason::ReceiverDropped,
            };
            Ok(emitter.summary(ended))
        })
    }
}

async fn play(
    replay: &Replay,
    emitter: &mut Emitter,
    shutdown: &CancellationToken,
) -> Result<EndReason, ReceiverGone> {
    let pacer = Pacer::new(replay.pace);
    emitter
        .send(SourceEvent::Connected {
            at_ms: 0,
            name: replay.name.clone(),
            address: replay.address.clone(),
        })
        .await?;
    match &replay.content {
        Content::Capture { records, .. } => {
            for record in records {
                if !pacer.wait_until(record.at_ms, shutdown).await {
                    return Ok(EndReason::Shutdown);
                }
                emitter.notification(record.at_ms, record.payload.clone()).await?;
            }
        }
        Content::Rr { seconds, after_gap } => {
            let mut recent = Vec::new();
            let mut gaps = after_gap.iter().peekable();
            let mut last_ms = 0;
            for (k, second) in seconds.iter().enumerate() {
                if !pacer.wait_until(second.at_ms, shutdown).await {
                    return Ok(EndReason::Shutdown);
                }
                if gaps.next_if_eq(&&k).is_some() {
                    // The heart rate before the gap says nothing about the beats after it.
                    recent.clear();
                    emitter
                        .send(SourceEvent::Gap {
                            from_ms: last_ms,
                            to_ms: second.at_ms,
                        })
                        .await?;
                }
                emitter.sample(rr_sample(second, &mut recent)).await?;
                last_ms = second.at_ms;
            }
        }
    }
    Ok(EndReason::Finished)
}
