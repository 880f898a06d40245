//! Recording any source to a `.hrmcap` capture: a header naming the strap, then one line per notification
//! with its bytes (re-encoded when a source only had decoded values), and link events as `#` comments that
//! readers skip but a person reading a bug report sees.

use std::io::Write;

use auren_hrm::capture::{CaptureHeader, format_header, format_record};
use auren_hrm::{HeartRateMeasurement, HrFormat, RrInterval, encode_heart_rate_measurement};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::error::RecordError;
use crate::source::{Sample, SourceEvent};

/// The capture text for one event: a record line for a sample or a malformed notification (so that a
/// replay meets the same bytes), a comment line for a link event.
pub fn event_lines(event: &SourceEvent) -> String {
    match event {
        SourceEvent::Sample(sample) => format_record(sample.at_ms, &sample_payload(sample)),
        SourceEvent::Malformed { at_ms, payload, .. } => format_record(*at_ms, payload),
        SourceEvent::Connected { at_ms, name, address } => {
            format!(
                "# {at_ms} connected {}\n",
                one_line(&format!("{name} ({address})"))
            )
        }
        SourceEvent::DeviceInfo {
            at_ms,
            manufacturer,
            model,
        } => format!(
            "# {at_ms} device manufacturer={} model={}\n",
            one_line(manufacturer.as_deref().unwrap_or("?")),
            one_line(model.as_deref().unwrap_or("?"))
        ),
        SourceEvent::ContactChanged { at_ms, contact } => format!("# {at_ms} contact {contact:?}\n"),
        SourceEvent::Battery { at_ms, percent } => format!("# {at_ms} battery {percent}%\n"),
        SourceEvent::Disconnected { at_ms, reason } => {
            format!("# {at_ms} disconnected {}\n", one_line(reason))
        }
        SourceEvent::Reconnecting { at_ms, attempt } => format!("# {at_ms} reconnecting attempt {attempt}\n"),
        SourceEvent::Gap { from_ms, to_ms } => format!("# {to_ms} gap {from_ms}..{to_ms} ms\n"),
    }
}

/// The sample's bytes as received, or encoded from its decoded values when it has none.
fn sample_payload(sample: &Sample) -> Vec<u8> {
    if !sample.payload.is_empty() {
        return sample.payload.clone();
    }
    let m = HeartRateMeasurement {
        heart_rate_bpm: sample.heart_rate_bpm,
        contact: sample.contact,
        energy_expended_kj: sample.energy_expended_kj,
        rr: sample
            .rr_ms
            .iter()
            .filter_map(|&ms| RrInterval::from_ms(ms))
            .collect(),
    };
    encode_heart_rate_measurement(&m, HrFormat::U8)
}

/// A comment must stay on one line whatever a strap calls itself.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A capture being written to any `std::io::Write`.
#[derive(Debug)]
pub struct CaptureWriter<W: Write> {
    out: W,
}

impl<W: Write> CaptureWriter<W> {
    /// Writes the header line.
    pub fn new(mut out: W, header: &CaptureHeader) -> std::io::Result<Self> {
        out.write_all(format_header(header).as_bytes())?;
        Ok(Self { out })
    }

    pub fn write_event(&mut self, event: &SourceEvent) -> std::io::Result<()> {
        self.out.write_all(event_lines(event).as_bytes())
    }

    pub fn into_inner(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// What a recording wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSummary {
    pub notifications: u64,
    pub malformed: u64,
    /// False when the shutdown token ended the recording before the source did.
    pub source_ended: bool,
}

/// Writes every event from `events` to `out` until the source ends (its sender is dropped) or `shutdown`.
///
/// The header is `header`, completed with the device name and address of the first event when that is a
/// `Connected` and `header` does not set them, so a capture names the strap it came from.
pub async fn record<W: AsyncWrite + Unpin>(
    events: &mut mpsc::Receiver<SourceEvent>,
    mut out: W,
    mut header: CaptureHeader,
    shutdown: &CancellationToken,
) -> Result<RecordSummary, RecordError> {
    let mut summary = RecordSummary {
        notifications: 0,
        malformed: 0,
        source_ended: true,
    };
    let mut header_written = false;
    loop {
        let event = tokio::select! {
            biased;
            () = shutdown.cancelled() => { summary.source_ended = false; None }
            event = events.recv() => event,
        };
        let Some(event) = event else { break };
        if !header_written {
            if let SourceEvent::Connected { name, address, .. } = &event {
                if header.device_name().is_none() {
                    header.set(auren_hrm::capture::KEY_DEVICE, name.clone());
                }
                if header.address().is_none() {
                    header.set(auren_hrm::capture::KEY_ADDRESS, address.clone());
                }
            }
            out.write_all(format_header(&header).as_bytes()).await?;
            header_written = true;
        }
        match &event {
            SourceEvent::Sample(_) => summary.notifications += 1,
            SourceEvent::Malformed { .. } => {
                summary.notifications += 1;
                summary.malformed += 1;
            }
            _ => {}
        }
        out.write_all(event_lines(&event).as_bytes()).await?;
    }
    if !header_written {
        out.write_all(format_header(&header).as_bytes()).await?;
    }
    out.flush().await?;
    Ok(summary)
}
