//! The events the detector consumes, the HRV metric set they carry and the person's baselines.

use auren_hrv::artifacts::ArtifactKind;

/// One thing that happened, at a time the caller chooses (milliseconds on any monotonic axis;
/// the detector never reads a clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at_ms: i64,
    pub kind: EventKind,
}

impl Event {
    pub fn new(at_ms: i64, kind: EventKind) -> Self {
        Event { at_ms, kind }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// One heartbeat: the RR interval that ended at `at_ms` and its artifact label, if flagged.
    Beat {
        rr_ms: f64,
        artifact: Option<ArtifactKind>,
    },
    /// A heart-rate sample as the strap reports it.
    HeartRate { bpm: f64 },
    /// An update of the windowed HRV metrics; absent fields keep their previous value.
    Metrics(Metrics),
    /// The strap's skin-contact flag changed (or was reported).
    Contact { detected: bool },
    /// The radio link to the strap came up or went down.
    Link { connected: bool },
    /// A recording session began.
    SessionStart { kind: SessionKind },
    /// The running session ended.
    SessionEnd,
    /// A user tag ("exercise_end", "coffee", …).
    Tag { name: String },
}

impl EventKind {
    /// The kind's bit in a trigger mask.
    pub(crate) fn class(&self) -> EventClass {
        match self {
            EventKind::Beat { .. } => EventClass::Beat,
            EventKind::HeartRate { .. } => EventClass::HeartRate,
            EventKind::Metrics(_) => EventClass::Metrics,
            EventKind::Contact { .. } => EventClass::Contact,
            EventKind::Link { .. } => EventClass::Link,
            EventKind::SessionStart { .. } => EventClass::SessionStart,
            EventKind::SessionEnd => EventClass::SessionEnd,
            EventKind::Tag { .. } => EventClass::Tag,
        }
    }
}

/// Event kinds without payload, as rules name them after `event.` (plus `tick`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum EventClass {
    Beat,
    HeartRate,
    Metrics,
    Contact,
    Link,
    SessionStart,
    SessionEnd,
    Tag,
    Tick,
}

impl EventClass {
    pub(crate) const ALL: [EventClass; 9] = [
        EventClass::Beat,
        EventClass::HeartRate,
        EventClass::Metrics,
        EventClass::Contact,
        EventClass::Link,
        EventClass::SessionStart,
        EventClass::SessionEnd,
        EventClass::Tag,
        EventClass::Tick,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            EventClass::Beat => "beat",
            EventClass::HeartRate => "heart_rate",
            EventClass::Metrics => "metrics",
            EventClass::Contact => "contact",
            EventClass::Link => "link",
            EventClass::SessionStart => "session_start",
            EventClass::SessionEnd => "session_end",
            EventClass::Tag => "tag",
            EventClass::Tick => "tick",
        }
    }

    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// The kind of a recording session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionKind {
    /// Seated or lying rest, any time of day.
    Rest,
    /// The guided morning readiness reading.
    Morning,
    /// Training: running, cycling, …
    Exercise,
    /// Paced (resonance) breathing.
    Breathing,
    /// Anything else the user records.
    Other,
}

impl SessionKind {
    pub const ALL: [SessionKind; 5] = [
        SessionKind::Rest,
        SessionKind::Morning,
        SessionKind::Exercise,
        SessionKind::Breathing,
        SessionKind::Other,
    ];

    /// The stable snake_case name rules use after `session.`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Rest => "rest",
            SessionKind::Morning => "morning",
            SessionKind::Exercise => "exercise",
            SessionKind::Breathing => "breathing",
            SessionKind::Other => "other",
        }
    }
}

macro_rules! named_fields {
    ($(#[$meta:meta])* $ty:ident { $($(#[$vmeta:meta])* $variant:ident = $name:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $ty {
            $($(#[$vmeta])* $variant,)*
        }

        impl $ty {
            /// Every field, in slot order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)*];
            /// How many fields there are.
            pub const COUNT: usize = Self::ALL.len();

            /// The name rules use for this field.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)*
                }
            }

            /// The field a rule names, if any.
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

named_fields! {
    /// The windowed HRV values a [`Metrics`] event can carry.
    MetricField {
        /// RMSSD over the last 60 s, ms.
        Rmssd60s = "rmssd_60s",
        /// RMSSD over the last 5 min, ms.
        Rmssd5m = "rmssd_5m",
        /// SDNN over the last 60 s, ms.
        Sdnn60s = "sdnn_60s",
        /// SDNN over the last 5 min, ms.
        Sdnn5m = "sdnn_5m",
        /// Mean heart rate over the last 60 s, bpm.
        MeanHr60s = "mean_hr_60s",
        /// Mean RR interval over the last 60 s, ms.
        MeanRr60s = "mean_rr_60s",
        /// Share of successive differences above 50 ms over the last 60 s, percent.
        Pnn50_60s = "pnn50_60s",
        /// Natural log of RMSSD (60 s window), the scale readiness baselines use.
        LnRmssd = "ln_rmssd",
        /// Short-term DFA exponent α1 over the last 2 min (≈ 0.75 marks the aerobic threshold).
        DfaAlpha1 = "dfa_alpha1",
        /// LF/HF power ratio of the last spectral window.
        LfHf = "lf_hf",
        /// Poincaré SD1, ms.
        Sd1 = "sd1",
        /// Poincaré SD2, ms.
        Sd2 = "sd2",
        /// Respiration rate estimated from the RR series, breaths per minute.
        RespirationRate = "respiration_rate",
    }
}

named_fields! {
    /// The person's reference values, named `baseline.<name>` in rules.
    BaselineField {
        /// Lower edge of the normal range of morning lnRMSSD (60-day mean − 0.5 SD).
        LnRmssdLo = "ln_rmssd_lo",
        /// Upper edge of the normal range of morning lnRMSSD (60-day mean + 0.5 SD).
        LnRmssdHi = "ln_rmssd_hi",
        /// 60-day mean of morning lnRMSSD.
        LnRmssdMean = "ln_rmssd_mean",
        /// Resting heart rate, bpm.
        RestingHr = "resting_hr",
        /// Maximum heart rate, bpm.
        MaxHr = "max_hr",
        /// Upper limit of the highest training zone the person allows, bpm.
        HrCeiling = "hr_ceiling",
        /// Heart rate at the aerobic threshold (first ventilatory threshold), bpm.
        AerobicThresholdHr = "aerobic_threshold_hr",
    }
}

/// A set of HRV values, each possibly absent. Fixed-size: no allocation per event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Metrics {
    values: [f64; MetricField::COUNT],
    present: u32,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            values: [0.0; MetricField::COUNT],
            present: 0,
        }
    }
}

impl Metrics {
    /// No values.
    pub fn new() -> Self {
        Self::default()
    }

    /// This set with `field` set to `value` (a non-finite value leaves the field absent).
    pub fn with(mut self, field: MetricField, value: f64) -> Self {
        self.set(field, value);
        self
    }

    /// Sets `field`; a non-finite value (NaN, ±∞) clears it instead, so it stays absent.
    pub fn set(&mut self, field: MetricField, value: f64) {
        let i = field as usize;
        if value.is_finite() {
            self.values[i] = value;
            self.present |= 1 << i;
        } else {
            self.present &= !(1 << i);
        }
    }

    /// The value of `field`, if present.
    pub fn get(&self, field: MetricField) -> Option<f64> {
        let i = field as usize;
        (self.present & (1 << i) != 0).then(|| self.values[i])
    }

    /// The present fields and their values, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (MetricField, f64)> + '_ {
        MetricField::ALL
            .iter()
            .filter_map(|&f| self.get(f).map(|v| (f, v)))
    }
}

/// The person's baselines; an absent value makes every comparison with it unknown, so rules
/// that need it stay silent rather than firing on a made-up default.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Baselines {
    values: [Option<f64>; BaselineField::COUNT],
}

impl Baselines {
    /// No baselines known yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// These baselines with `field` set (a non-finite value leaves it absent).
    pub fn with(mut self, field: BaselineField, value: f64) -> Self {
        self.set(field, value);
        self
    }

    /// Sets `field`; a non-finite value clears it.
    pub fn set(&mut self, field: BaselineField, value: f64) {
        self.values[field as usize] = value.is_finite().then_some(value);
    }

    /// The value of `field`, if known.
    pub fn get(&self, field: BaselineField) -> Option<f64> {
        self.values[field as usize]
    }

    pub(crate) fn slots(&self) -> [f64; BaselineField::COUNT] {
        self.values.map(|v| v.unwrap_or(f64::NAN))
    }
}
