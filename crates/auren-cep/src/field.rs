//! The fields rules read: every numeric value an event carries, each resolved to a fixed slot.

use crate::event::{EventClass, MetricField};

/// A field: its slot in the detector's arrays is its discriminant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Field {
    RrMs,
    BeatHr,
    Beat,
    Artifact,
    Ectopic,
    Missed,
    Extra,
    LongShort,
    Hr,
    Contact,
    Link,
    Metric(MetricField),
}

/// Beat fields, HR, contact, link, then the metric fields.
pub(crate) const FIELD_COUNT: usize = 11 + MetricField::COUNT;

const BASIC: [(Field, &str); 11] = [
    (Field::RrMs, "rr_ms"),
    (Field::BeatHr, "beat_hr"),
    (Field::Beat, "beat"),
    (Field::Artifact, "artifact"),
    (Field::Ectopic, "ectopic"),
    (Field::Missed, "missed"),
    (Field::Extra, "extra"),
    (Field::LongShort, "long_short"),
    (Field::Hr, "hr"),
    (Field::Contact, "contact"),
    (Field::Link, "link"),
];

impl Field {
    pub(crate) fn slot(self) -> usize {
        match self {
            Field::RrMs => 0,
            Field::BeatHr => 1,
            Field::Beat => 2,
            Field::Artifact => 3,
            Field::Ectopic => 4,
            Field::Missed => 5,
            Field::Extra => 6,
            Field::LongShort => 7,
            Field::Hr => 8,
            Field::Contact => 9,
            Field::Link => 10,
            Field::Metric(m) => 11 + m as usize,
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Field> {
        BASIC
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| *f)
            .or_else(|| MetricField::from_name(name).map(Field::Metric))
    }

    /// Every field name, for error messages.
    pub(crate) fn all_names() -> String {
        BASIC
            .iter()
            .map(|(_, n)| *n)
            .chain(MetricField::ALL.iter().map(|m| m.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Yes/no fields: 1 or 0 as numbers (so `avg(artifact, 60s)` is a share), truth values in logic.
    pub(crate) fn is_flag(self) -> bool {
        matches!(
            self,
            Field::Artifact
                | Field::Ectopic
                | Field::Missed
                | Field::Extra
                | Field::LongShort
                | Field::Contact
                | Field::Link
        )
    }

    /// The event kind that updates this field.
    pub(crate) fn source(self) -> EventClass {
        match self {
            Field::RrMs
            | Field::BeatHr
            | Field::Beat
            | Field::Artifact
            | Field::Ectopic
            | Field::Missed
            | Field::Extra
            | Field::LongShort => EventClass::Beat,
            Field::Hr => EventClass::HeartRate,
            Field::Contact => EventClass::Contact,
            Field::Link => EventClass::Link,
            Field::Metric(_) => EventClass::Metrics,
        }
    }
}
