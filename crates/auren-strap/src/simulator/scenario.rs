//! The simulator's scenarios: named physiological states, each a function from simulated time to the
//! parameters of the beat model.

use std::fmt;
use std::str::FromStr;

/// A physiological state the simulator can play.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Seated rest: HR about 62 bpm, RMSSD about 30 ms, DFA α1 about 1.
    Rest,
    /// Rest after accumulated fatigue: HR about 10 bpm higher, RMSSD about a third of rest.
    Fatigued,
    /// An incremental ramp over [`EXERCISE_RAMP_S`]: HR 95 → 170 bpm while DFA α1 falls from about 1.0
    /// through 0.75 (the aerobic threshold) to about 0.5; then holds the top.
    Exercise,
    /// Paced breathing at 6 breaths/min: a strong 0.1 Hz respiratory sinus arrhythmia (DFA α1 about 1.25).
    Breathing,
}

/// Length of the exercise ramp in simulated seconds.
pub const EXERCISE_RAMP_S: f64 = 1200.0;

/// The beat model's parameters at one moment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Physiology {
    pub(crate) mean_rr_ms: f64,
    /// Amplitude of respiratory sinus arrhythmia (ms) and the breathing rate driving it.
    pub(crate) rsa_ms: f64,
    pub(crate) breath_hz: f64,
    /// Amplitude of the ~0.1 Hz Mayer-wave (LF) oscillation.
    pub(crate) lf_ms: f64,
    /// Standard deviations of the 1/f (long-range correlated) and white beat-to-beat components.
    pub(crate) pink_ms: f64,
    pub(crate) white_ms: f64,
    /// 0..1: how much each white draw cancels the previous one (anti-correlation, DFA α1 below 0.5),
    /// as at high exercise intensity where beat-to-beat changes alternate.
    pub(crate) anticorrelation: f64,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::Rest,
        Scenario::Fatigued,
        Scenario::Exercise,
        Scenario::Breathing,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Rest => "rest",
            Scenario::Fatigued => "fatigued",
            Scenario::Exercise => "exercise",
            Scenario::Breathing => "breathing",
        }
    }

    /// Exercise intensity 0..=1 at `t_s` seconds (0 for the resting scenarios).
    pub fn intensity(self, t_s: f64) -> f64 {
        match self {
            Scenario::Exercise => (t_s / EXERCISE_RAMP_S).clamp(0.0, 1.0),
            _ => 0.0,
        }
    }

    pub(crate) fn physiology(self, t_s: f64) -> Physiology {
        match self {
            Scenario::Rest => Physiology {
                mean_rr_ms: 60_000.0 / 62.0,
                rsa_ms: 16.0,
                breath_hz: 0.25,
                lf_ms: 22.0,
                pink_ms: 38.0,
                white_ms: 5.0,
                anticorrelation: 0.0,
            },
            Scenario::Fatigued => Physiology {
                mean_rr_ms: 60_000.0 / 72.0,
                rsa_ms: 6.0,
                breath_hz: 0.27,
                lf_ms: 7.0,
                pink_ms: 12.0,
                white_ms: 3.0,
                anticorrelation: 0.0,
            },
            Scenario::Breathing => Physiology {
                mean_rr_ms: 60_000.0 / 64.0,
                rsa_ms: 75.0,
                breath_hz: 0.1,
                lf_ms: 0.0,
                pink_ms: 15.0,
                white_ms: 6.0,
                anticorrelation: 0.0,
            },
            Scenario::Exercise => {
                let u = self.intensity(t_s);
                let hr = 95.0 + 75.0 * u;
                // As intensity rises the vagal (RSA) and long-range correlated parts fade and what is left
                // is uncorrelated beat-to-beat noise: that is what carries α1 from ~1 to ~0.5.
                let fade = (1.0 - u).powi(2);
                Physiology {
                    mean_rr_ms: 60_000.0 / hr,
                    rsa_ms: 1.0 + 3.0 * fade,
                    breath_hz: 0.3 + 0.3 * u,
                    lf_ms: 8.0 * fade,
                    pink_ms: 20.0 * fade,
                    white_ms: 2.0 + 2.5 * u,
                    anticorrelation: 0.5 * u * u,
                }
            }
        }
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A scenario name that is not one of [`Scenario::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scenario {given:?}: valid scenarios are rest, fatigued, exercise, breathing")]
pub struct UnknownScenario {
    pub given: String,
}

impl FromStr for Scenario {
    type Err = UnknownScenario;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownScenario { given: s.to_owned() })
    }
}
