//! A simulated chest strap: physiologically plausible RR-intervals (mean HR, respiratory sinus arrhythmia,
//! a ~0.1 Hz Mayer wave, 1/f noise, ectopic beats, contact dropouts), deterministic by seed, sent as real
//! 0x2A37 notifications once per second and decoded by the real decoder.
//!
//! The beat model, per beat at time t:
//! `rr = mean(t) + rsa(t)·sin(breathing phase) + lf(t)·sin(Mayer phase) + pink(t)·p[n] + white(t)·w[n]`,
//! with `p` unit-variance 1/f noise over the beat index and `w` unit white noise. The 1/f part gives the
//! long-range correlation of a resting heart (DFA α1 ≈ 1); white noise alone gives α1 = 0.5, and
//! anti-correlated white noise (each draw partly cancelling the last) less.

mod rng;
mod scenario;

use std::time::Duration;

use auren_hrm::{HeartRateMeasurement, HrFormat, RrInterval, SensorContact, encode_heart_rate_measurement};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub use scenario::{EXERCISE_RAMP_S, Scenario, UnknownScenario};

use crate::emitter::Emitter;
use crate::source::{EndReason, HeartSource, Pace, Pacer, SourceEvent, SourceRun};
use rng::{PinkNoise, Rng};
use scenario::Physiology;

/// The address the simulator reports in `Connected` and capture headers: not a Bluetooth address on purpose.
pub const SIMULATOR_ADDRESS: &str = "simulator";

/// Notifications come once per second, like a real strap's.
pub const NOTIFICATION_PERIOD_MS: u64 = 1_000;

/// Everything a simulation needs; validated once by [`Simulator::new`] / [`notifications`].
#[derive(Clone, Debug, PartialEq)]
pub struct SimulatorConfig {
    pub scenario: Scenario,
    pub seed: u64,
    /// `None` runs until shutdown.
    pub duration: Option<Duration>,
    pub pace: Pace,
    /// Premature (ectopic) beats, each followed by a compensatory pause, per 1000 beats.
    pub ectopic_per_1000_beats: f64,
    /// Contact-loss periods started per hour on average.
    pub dropouts_per_hour: f64,
    /// Each dropout lasts a uniformly drawn number of seconds in this range.
    pub dropout_seconds: (f64, f64),
    pub battery_percent: u8,
}

impl SimulatorConfig {
    /// Real-time, endless, 1 ectopic beat per 1000, no dropouts (4–12 s when enabled), battery 100 %.
    pub fn new(scenario: Scenario, seed: u64) -> Self {
        Self {
            scenario,
            seed,
            duration: None,
            pace: Pace::RealTime,
            ectopic_per_1000_beats: 1.0,
            dropouts_per_hour: 0.0,
            dropout_seconds: (4.0, 12.0),
            battery_percent: 100,
        }
    }

    fn validate(&self) -> Result<(), SimulatorConfigError> {
        let e = self.ectopic_per_1000_beats;
        if !(0.0..=200.0).contains(&e) {
            return Err(SimulatorConfigError::EctopicRate(e));
        }
        let d = self.dropouts_per_hour;
        if !(0.0..=360.0).contains(&d) {
            return Err(SimulatorConfigError::DropoutRate(d));
        }
        let (low, high) = self.dropout_seconds;
        if !(low.is_finite() && high.is_finite() && 1.0 <= low && low <= high && high <= 600.0) {
            return Err(SimulatorConfigError::DropoutLength { low, high });
        }
        if self.battery_percent > 100 {
            return Err(SimulatorConfigError::Battery(self.battery_percent));
        }
        Ok(())
    }
}

/// A simulator setting out of range.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SimulatorConfigError {
    #[error("ectopic rate {0} per 1000 beats is outside 0..=200")]
    EctopicRate(f64),
    #[error("dropout rate {0} per hour is outside 0..=360")]
    DropoutRate(f64),
    #[error("dropout length {low}..{high} s must satisfy 1 <= low <= high <= 600")]
    DropoutLength { low: f64, high: f64 },
    #[error("battery level {0}% is outside 0..=100")]
    Battery(u8),
}

/// What kind of beat the simulator produced: the ground truth an artifact detector is judged against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BeatKind {
    Normal,
    /// A premature beat: its RR is 60–75 % of the expected one.
    Ectopic,
    /// The pause after an ectopic beat, making the pair sum to two expected intervals.
    Compensatory,
}

/// One simulated beat.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimBeat {
    /// Time of the beat (the end of its RR-interval) in ms since the simulation started.
    pub at_ms: f64,
    /// The interval that ends at this beat, exactly as the strap encodes it (a multiple of 1000/1024 ms).
    pub rr_ms: f64,
    pub kind: BeatKind,
    /// False when the beat fell in a contact dropout and the strap did not send it.
    pub reported: bool,
}

/// One simulated notification: the bytes a strap would send, with the ground truth behind them.
#[derive(Clone, Debug, PartialEq)]
pub struct SimNotification {
    pub at_ms: u64,
    pub payload: Vec<u8>,
    pub contact: SensorContact,
    /// Every beat that happened since the previous notification, reported or not.
    pub beats: Vec<SimBeat>,
}

/// The beat generator: one call, one beat.
#[derive(Clone, Debug)]
struct BeatModel {
    scenario: Scenario,
    noise: Rng,
    ectopy: Rng,
    pink: PinkNoise,
    ectopic_probability: f64,
    /// Time of the last beat in ms.
    t_ms: f64,
    breath_phase: f64,
    mayer_phase: f64,
    mayer_hz: f64,
    compensatory_rr_ms: Option<f64>,
    previous_white: f64,
}

impl BeatModel {
    fn new(config: &SimulatorConfig) -> Self {
        let mut noise = Rng::new(config.seed, 1);
        let ectopy = Rng::new(config.seed, 2);
        let pink = PinkNoise::new(&mut noise);
        let t_ms = noise.uniform_in(0.0, NOTIFICATION_PERIOD_MS as f64);
        let breath_phase = noise.uniform_in(0.0, std::f64::consts::TAU);
        let mayer_phase = noise.uniform_in(0.0, std::f64::consts::TAU);
        let mayer_hz = noise.uniform_in(0.09, 0.11);
        Self {
            scenario: config.scenario,
            noise,
            ectopy,
            pink,
            ectopic_probability: config.ectopic_per_1000_beats / 1000.0,
            t_ms,
            breath_phase,
            mayer_phase,
            mayer_hz,
            compensatory_rr_ms: None,
            previous_white: 0.0,
        }
    }

    /// The interval the model expects next (before ectopy).
    fn sinus_rr_ms(&mut self) -> f64 {
        let Physiology {
            mean_rr_ms,
            rsa_ms,
            breath_hz: _,
            lf_ms,
            pink_ms,
            white_ms,
            anticorrelation,
        } = self.scenario.physiology(self.t_ms / 1000.0);
        let draw = self.noise.normal();
        // Unit variance whatever the anti-correlation.
        let white =
            (draw - anticorrelation * self.previous_white) / (1.0 + anticorrelation * anticorrelation).sqrt();
        self.previous_white = draw;
        let rr = mean_rr_ms
            + rsa_ms * self.breath_phase.sin()
            + lf_ms * self.mayer_phase.sin()
            + pink_ms * self.pink.next(&mut self.noise)
            + white_ms * white;
        // Keep the model inside what a heart produces whatever the noise draws.
        rr.clamp(250.0, 2_000.0)
    }

    fn next_beat(&mut self) -> SimBeat {
        let (rr, kind) = if let Some(rr) = self.compensatory_rr_ms.take() {
            (rr, BeatKind::Compensatory)
        } else {
            let sinus = self.sinus_rr_ms();
            if self.ectopy.chance(self.ectopic_probability) {
                let premature = sinus * self.ectopy.uniform_in(0.60, 0.75);
                self.compensatory_rr_ms = Some(2.0 * sinus - premature);
                (premature, BeatKind::Ectopic)
            } else {
                (sinus, BeatKind::Normal)
            }
        };
        // Quantise to what the strap can send, and keep time on the quantised values so that beat times
        // rebuilt from the RR series agree with the simulation exactly.
        let rr = RrInterval::from_ms(rr).map_or(rr, RrInterval::as_ms);
        let breath_hz = self.scenario.physiology(self.t_ms / 1000.0).breath_hz;
        self.breath_phase =
            (self.breath_phase + std::f64::consts::TAU * breath_hz * rr / 1000.0) % std::f64::consts::TAU;
        self.mayer_phase =
            (self.mayer_phase + std::f64::consts::TAU * self.mayer_hz * rr / 1000.0) % std::f64::consts::TAU;
        self.t_ms += rr;
        SimBeat {
            at_ms: self.t_ms,
            rr_ms: rr,
            kind,
            reported: true,
        }
    }
}

/// The notifications of a simulation, in time order; ends after `config.duration` (or never).
#[derive(Clone, Debug)]
pub struct Notifications {
    beats: BeatModel,
    dropouts: Rng,
    dropout_probability_per_tick: f64,
    dropout_seconds: (f64, f64),
    end_ms: Option<u64>,
    next_tick_ms: u64,
    pending: Option<SimBeat>,
    dropout_until_ms: u64,
    recent_rr_ms: Vec<f64>,
}

/// The notifications `config` describes (its `pace` is ignored: iterating is as fast as possible).
pub fn notifications(config: &SimulatorConfig) -> Result<Notifications, SimulatorConfigError> {
    config.validate()?;
    let mut beats = BeatModel::new(config);
    // The first beat only starts the clock: an RR-interval needs two beats.
    let _ = beats.next_beat();
    Ok(Notifications {
        beats,
        dropouts: Rng::new(config.seed, 3),
        dropout_probability_per_tick: config.dropouts_per_hour / 3_600.0,
        dropout_seconds: config.dropout_seconds,
        end_ms: config
            .duration
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        next_tick_ms: NOTIFICATION_PERIOD_MS,
        pending: None,
        dropout_until_ms: 0,
        recent_rr_ms: Vec::new(),
    })
}

impl Iterator for Notifications {
    type Item = SimNotification;

    fn next(&mut self) -> Option<SimNotification> {
        let at_ms = self.next_tick_ms;
        if self.end_ms.is_some_and(|end| at_ms > end) {
            return None;
        }
        self.next_tick_ms += NOTIFICATION_PERIOD_MS;

        if at_ms >= self.dropout_until_ms && self.dropouts.chance(self.dropout_probability_per_tick) {
            let (low, high) = self.dropout_seconds;
            let seconds = self.dropouts.uniform_in(low, high);
            self.dropout_until_ms = at_ms + (seconds * 1000.0).round() as u64;
        }
        let in_dropout = at_ms < self.dropout_until_ms;

        let mut beats = Vec::new();
        loop {
            let beat = self.pending.take().unwrap_or_else(|| self.beats.next_beat());
            if beat.at_ms > at_ms as f64 {
                self.pending = Some(beat);
                break;
            }
            beats.push(SimBeat {
                reported: !in_dropout,
                ..beat
            });
        }

        let (contact, rr, heart_rate_bpm) = if in_dropout {
            // Off the skin the strap has no beats to send; it reports 0 bpm rather than a stale value.
            self.recent_rr_ms.clear();
            (SensorContact::NotDetected, Vec::new(), 0)
        } else {
            let rr: Vec<RrInterval> = beats
                .iter()
                .filter_map(|b| RrInterval::from_ms(b.rr_ms))
                .collect();
            self.recent_rr_ms.extend(beats.iter().map(|b| b.rr_ms));
            let keep = self.recent_rr_ms.len().saturating_sub(4);
            self.recent_rr_ms.drain(..keep);
            let hr = if self.recent_rr_ms.is_empty() {
                0
            } else {
                let mean = self.recent_rr_ms.iter().sum::<f64>() / self.recent_rr_ms.len() as f64;
                (60_000.0 / mean).round().clamp(0.0, 255.0) as u16
            };
            (SensorContact::Detected, rr, hr)
        };
        let measurement = HeartRateMeasurement {
            heart_rate_bpm,
            contact,
            energy_expended_kj: None,
            rr,
        };
        let payload = encode_heart_rate_measurement(&measurement, HrFormat::U8);
        Some(SimNotification {
            at_ms,
            payload,
            contact,
            beats,
        })
    }
}

/// The simulator as a [`HeartSource`].
#[derive(Clone, Debug)]
pub struct Simulator {
    config: SimulatorConfig,
}

impl Simulator {
    pub fn new(config: SimulatorConfig) -> Result<Self, SimulatorConfigError> {
        config.validate()?;
        Ok(Self { config })
    }

    pub fn config(&self) -> &SimulatorConfig {
        &self.config
    }

    /// The name the simulated strap advertises.
    pub fn device_name(&self) -> String {
        format!(
            "Auren simulator ({}, seed {})",
            self.config.scenario, self.config.seed
        )
    }
}

impl HeartSource for Simulator {
    fn describe(&self) -> String {
        format!("simulator: {}, seed {}", self.config.scenario, self.config.seed)
    }

    fn run(self: Box<Self>, events: mpsc::Sender<SourceEvent>, shutdown: CancellationToken) -> SourceRun {
        Box::pin(async move {
            let name = self.device_name();
            let mut emitter = Emitter::new(events);
            let pacer = Pacer::new(self.config.pace);
            let notifications = notifications(&self.config).map_err(crate::error::SourceError::Simulator)?;
            let start = [
                SourceEvent::Connected {
                    at_ms: 0,
                    name,
                    address: SIMULATOR_ADDRESS.to_owned(),
                },
                SourceEvent::Battery {
                    at_ms: 0,
                    percent: self.config.battery_percent,
                },
            ];
            for event in start {
                if emitter.send(event).await.is_err() {
                    return Ok(emitter.summary(EndReason::ReceiverDropped));
                }
            }
            for n in notifications {
                if !pacer.wait_until(n.at_ms, &shutdown).await {
                    return Ok(emitter.summary(EndReason::Shutdown));
                }
                if emitter.notification(n.at_ms, n.payload).await.is_err() {
                    return Ok(emitter.summary(EndReason::ReceiverDropped));
                }
            }
            Ok(emitter.summary(EndReason::Finished))
        })
    }
}
