//! The one trait every heart source implements, the closed event enum it emits, pacing of replayed
//! timelines, and `start`, which runs a source on its own task.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use auren_hrm::{DecodeError, HeartRateMeasurement, SensorContact};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::error::SourceError;

/// Events buffered between a source and its consumer before the source waits (backpressure).
pub const EVENT_CHANNEL_CAPACITY: usize = 256;

/// One decoded Heart Rate Measurement notification, stamped on the session's timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// Arrival time in ms since the source started. Live sources (BLE) read tokio's clock; replayed and
    /// simulated sources use their recorded or simulated timeline, whatever the playback speed.
    pub at_ms: u64,
    pub heart_rate_bpm: u16,
    /// RR-intervals carried by this notification in ms, oldest first. Values from a strap are exact
    /// multiples of 1000/1024 ms; values replayed from an RR file are kept exactly as written.
    pub rr_ms: Vec<f64>,
    pub contact: SensorContact,
    pub energy_expended_kj: Option<u16>,
    /// The 0x2A37 bytes as they arrived (or as the simulator/RR replay encoded them), so that a
    /// recording keeps what the strap really sent.
    pub payload: Vec<u8>,
}

impl Sample {
    /// Decodes one 0x2A37 payload received at `at_ms`.
    pub fn decode(at_ms: u64, payload: Vec<u8>) -> Result<Self, DecodeError> {
        let m = auren_hrm::decode_heart_rate_measurement(&payload)?;
        Ok(Self::from_measurement(at_ms, &m, payload))
    }

    fn from_measurement(at_ms: u64, m: &HeartRateMeasurement, payload: Vec<u8>) -> Self {
        Self {
            at_ms,
            heart_rate_bpm: m.heart_rate_bpm,
            rr_ms: m.rr_ms().collect(),
            contact: m.contact,
            energy_expended_kj: m.energy_expended_kj,
            payload,
        }
    }
}

/// Everything a source reports, in the order it happened. Closed on purpose: a consumer's `match` names
/// every case, so a new kind of event is a compile error there rather than a silently ignored message.
#[derive(Clone, Debug, PartialEq)]
pub enum SourceEvent {
    Sample(Sample),
    /// The link is up (for a simulator or a replay: the source started).
    Connected {
        at_ms: u64,
        name: String,
        address: String,
    },
    /// Device Information (0x180A), when the strap offers it.
    DeviceInfo {
        at_ms: u64,
        manufacturer: Option<String>,
        model: Option<String>,
    },
    /// Skin contact changed (also reported for the first notification, so the consumer knows the start state).
    ContactChanged {
        at_ms: u64,
        contact: SensorContact,
    },
    /// Battery Level (0x2A19) in percent.
    Battery {
        at_ms: u64,
        percent: u8,
    },
    /// The link was lost (or closed); a `Reconnecting` follows when the source will try again.
    Disconnected {
        at_ms: u64,
        reason: String,
    },
    /// Attempt number `attempt` (1-based) to get the link back is starting.
    Reconnecting {
        at_ms: u64,
        attempt: u32,
    },
    /// No beats are known between `from_ms` and `to_ms` (contact lost, link lost, notifications missing).
    /// The RR-intervals of the sample at `to_ms` start after the gap: nothing may be bridged across it.
    Gap {
        from_ms: u64,
        to_ms: u64,
    },
    /// A notification that does not decode: skipped, and counted (`total` so far in this run).
    Malformed {
        at_ms: u64,
        payload: Vec<u8>,
        error: DecodeError,
        total: u64,
    },
}

impl SourceEvent {
    /// When the event happened on the source's timeline (a gap reports its end).
    pub fn at_ms(&self) -> u64 {
        match self {
            SourceEvent::Sample(s) => s.at_ms,
            SourceEvent::Connected { at_ms, .. }
            | SourceEvent::DeviceInfo { at_ms, .. }
            | SourceEvent::ContactChanged { at_ms, .. }
            | SourceEvent::Battery { at_ms, .. }
            | SourceEvent::Disconnected { at_ms, .. }
            | SourceEvent::Reconnecting { at_ms, .. }
            | SourceEvent::Malformed { at_ms, .. } => *at_ms,
            SourceEvent::Gap { to_ms, .. } => *to_ms,
        }
    }
}

/// Why a source's run ended without an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// A finite source (a replay, a simulation with a duration) delivered everything.
    Finished,
    /// The shutdown token was cancelled.
    Shutdown,
    /// The consumer dropped its receiver.
    ReceiverDropped,
}

/// What a run delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SourceSummary {
    pub samples: u64,
    pub malformed: u64,
    pub ended: EndReason,
}

/// The future a source's run is.
pub type SourceRun = Pin<Box<dyn Future<Output = Result<SourceSummary, SourceError>> + Send>>;

/// A heart source: BLE strap, simulator, replay. `run` drives the source until it ends, `shutdown` is
/// cancelled, or `events`' receiver is dropped; events go out through `events` in order.
pub trait HeartSource: Send + 'static {
    /// A short human description ("simulator: rest, seed 7", "replay: morning.hrmcap").
    fn describe(&self) -> String;

    fn run(self: Box<Self>, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) -> SourceRun;
}

/// A source running on its own task.
#[derive(Debug)]
pub struct RunningSource {
    pub events: mpsc::Receiver<SourceEvent>,
    pub task: JoinHandle<Result<SourceSummary, SourceError>>,
}

/// Spawns `source` on the current tokio runtime; its events arrive on the returned receiver.
pub fn start(source: Box<dyn HeartSource>, shutdown: CancellationToken) -> RunningSource {
    let (tx, rx) = mpsc::channel(EVENT_CHANNEL_CAPACITY);
    let task = tokio::spawn(source.run(tx, shutdown));
    RunningSource { events: rx, task }
}

/// A playback speed factor: finite and positive.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Speed(f64);

/// Why a speed factor was refused.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
#[error("speed factor {0} is not a finite number above 0 (1 = real time, 10 = ten times faster)")]
pub struct BadSpeed(pub f64);

impl Speed {
    pub fn new(factor: f64) -> Result<Self, BadSpeed> {
        if factor.is_finite() && factor > 0.0 {
            Ok(Self(factor))
        } else {
            Err(BadSpeed(factor))
        }
    }

    pub fn factor(self) -> f64 {
        self.0
    }
}

/// How fast a simulated or replayed timeline is played out.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// One timeline second per wall second (tokio's clock, so tests can pause it).
    RealTime,
    /// `Speed` timeline seconds per wall second.
    Speed(Speed),
    /// No waiting: as fast as the consumer takes events (file generation, tests).
    AsFastAsPossible,
}

/// Waits until a point of a timeline is due, according to a [`Pace`].
#[derive(Debug)]
pub(crate) struct Pacer {
    start: tokio::time::Instant,
    pace: Pace,
}

impl Pacer {
    pub(crate) fn new(pace: Pace) -> Self {
        Self {
            start: tokio::time::Instant::now(),
            pace,
        }
    }

    /// Waits until `at_ms` of the timeline is due; returns `false` when `shutdown` came first.
    pub(crate) async fn wait_until(&self, at_ms: u64, shutdown: &CancellationToken) -> bool {
        let factor = match self.pace {
            Pace::RealTime => 1.0,
            Pace::Speed(speed) => speed.factor(),
            Pace::AsFastAsPossible => return !shutdown.is_cancelled(),
        };
        // f64 ms holds any timeline up to 285 000 years exactly enough; the division is the playback speed.
        let due = self.start + Duration::from_secs_f64(at_ms as f64 / 1000.0 / factor);
        tokio::select! {
            biased;
            () = shutdown.cancelled() => false,
            () = tokio::time::sleep_until(due) => true,
        }
    }
}
