//! The metric names a stated number can be anchored to ("RMSSD was 45", "DFA α1 0.62", "2.3 LF/HF"), and
//! the metrics a receipt value's label names ("rmssd_ms of session 12", "7-day CV of lnRMSSD"), so a
//! number is matched only against values of the metric it is said to be.
//!
//! Names are matched on a lower-cased copy of the text in which '_' reads as a space, at word starts,
//! longest spelling first ("lf/hf" before "lf", "hrv triangular index" before "hrv"), and must end at a
//! word end ("hrv4training" names nothing). A bare lower-case "hr" right after a number is hours ("1 hr"),
//! not heart rate; "52 HR" in upper case is.

use crate::receipt::Unit;

/// A metric of the panel, the mornings or the alerts, as the text or a receipt label names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Metric {
    /// "HRV" or "heart rate variability": RMSSD, lnRMSSD or SDNN, whichever the receipt says.
    Hrv,
    Rmssd,
    LnRmssd,
    Sdnn,
    Sdsd,
    MeanNn,
    Cv,
    Pnn50,
    Pnn20,
    HeartRate,
    SdHr,
    Vlf,
    Lf,
    Hf,
    TotalPower,
    LfHf,
    LfNu,
    HfNu,
    LfPeak,
    HfPeak,
    VlfRel,
    LfRel,
    HfRel,
    VlfLog,
    LfLog,
    HfLog,
    Sd1,
    Sd2,
    Sd2Sd1,
    SampEn,
    ApEn,
    /// "DFA" alone: α1 or α2.
    Dfa,
    DfaAlpha1,
    DfaAlpha2,
    TriIndex,
    Tinn,
    StressIndex,
    PnsIndex,
    SnsIndex,
    /// Auren computes no readiness score: a number given as one is never grounded by a metric's value.
    Readiness,
}

/// A set of metrics, one bit each.
pub(super) type Metrics = u64;

impl Metric {
    pub(super) fn bit(self) -> Metrics {
        1 << (self as u32)
    }

    /// What a generic name stands for: "HRV" for RMSSD, lnRMSSD or SDNN, "DFA" for α1 or α2; a specific
    /// name only for itself (RMSSD is not SDNN, though both are HRV).
    fn family(self) -> Metrics {
        use Metric::{Dfa, DfaAlpha1, DfaAlpha2, Hrv, LnRmssd, Rmssd, Sdnn};
        match self {
            Hrv => Hrv.bit() | Rmssd.bit() | LnRmssd.bit() | Sdnn.bit(),
            Dfa => Dfa.bit() | DfaAlpha1.bit() | DfaAlpha2.bit(),
            _ => self.bit(),
        }
    }

    /// The units a number stated without one is read in.
    fn units(self) -> &'static [Unit] {
        use Metric::*;
        match self {
            Hrv => &[Unit::Ms, Unit::LnMs],
            Rmssd | Sdnn | Sdsd | MeanNn | Sd1 | Sd2 | Tinn => &[Unit::Ms],
            LnRmssd => &[Unit::LnMs],
            Cv => &[Unit::Percent, Unit::Plain],
            Pnn50 | Pnn20 => &[Unit::Percent],
            HeartRate | SdHr => &[Unit::Bpm],
            Vlf | Lf | Hf | TotalPower => &[Unit::Ms2],
            LfHf | LfNu | HfNu | LfPeak | HfPeak | VlfRel | LfRel | HfRel | VlfLog | LfLog | HfLog
            | Sd2Sd1 | SampEn | ApEn | Dfa | DfaAlpha1 | DfaAlpha2 | TriIndex | StressIndex | PnsIndex
            | SnsIndex | Readiness => &[Unit::Plain],
        }
    }
}

/// Every metric of `set` with what its generic names stand for.
fn widen(set: Metrics) -> Metrics {
    ALL.iter()
        .filter(|m| set & m.bit() != 0)
        .fold(0, |acc, m| acc | m.family())
}

/// Metrics named together, as named and with the generic names widened (see `Metric::family`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct MetricSet {
    named: Metrics,
    wide: Metrics,
}

impl MetricSet {
    pub(super) fn of(named: Metrics) -> Self {
        Self {
            named,
            wide: widen(named),
        }
    }

    pub(super) fn is_empty(self) -> bool {
        self.named == 0
    }

    /// Whether the two name a common metric, a generic name on either side standing for its family
    /// ("HRV" and "rmssd_ms" do; "RMSSD" and "sdnn_ms" do not).
    pub(super) fn overlaps(self, other: MetricSet) -> bool {
        self.wide & other.named != 0 || self.named & other.wide != 0
    }
}

/// The units a number anchored to `set` without a unit of its own is read in, first one first.
pub(super) fn units_of(set: Metrics) -> Vec<Unit> {
    let mut out = Vec::new();
    for m in ALL.iter().filter(|m| set & m.bit() != 0) {
        for u in m.units() {
            if !out.contains(u) {
                out.push(*u);
            }
        }
    }
    out
}

const ALL: [Metric; 40] = {
    use Metric::*;
    [
        Hrv,
        Rmssd,
        LnRmssd,
        Sdnn,
        Sdsd,
        MeanNn,
        Cv,
        Pnn50,
        Pnn20,
        HeartRate,
        SdHr,
        Vlf,
        Lf,
        Hf,
        TotalPower,
        LfHf,
        LfNu,
        HfNu,
        LfPeak,
        HfPeak,
        VlfRel,
        LfRel,
        HfRel,
        VlfLog,
        LfLog,
        HfLog,
        Sd1,
        Sd2,
        Sd2Sd1,
        SampEn,
        ApEn,
        Dfa,
        DfaAlpha1,
        DfaAlpha2,
        TriIndex,
        Tinn,
        StressIndex,
        PnsIndex,
        SnsIndex,
        Readiness,
    ]
};

/// Spellings, lower-case, '_' written as a space (panel keys and evidence names read that way too).
const NAMES: &[(&str, Metric)] = {
    use Metric::*;
    &[
        ("hrv", Hrv),
        ("heart rate variability", Hrv),
        ("rmssd", Rmssd),
        ("lnrmssd", LnRmssd),
        ("ln rmssd", LnRmssd),
        ("ln(rmssd)", LnRmssd),
        ("ln-rmssd", LnRmssd),
        ("log rmssd", LnRmssd),
        ("sdnn", Sdnn),
        ("sdsd", Sdsd),
        ("mean nn", MeanNn),
        ("mean rr", MeanNn),
        ("avnn", MeanNn),
        ("cv", Cv),
        ("cvnn", Cv),
        ("pnn50", Pnn50),
        ("pnn20", Pnn20),
        ("hr", HeartRate),
        ("rhr", HeartRate),
        ("heart rate", HeartRate),
        ("resting hr", HeartRate),
        ("resting heart rate", HeartRate),
        ("mean hr", HeartRate),
        ("average hr", HeartRate),
        ("min hr", HeartRate),
        ("max hr", HeartRate),
        ("pulse", HeartRate),
        ("sd hr", SdHr),
        ("vlf", Vlf),
        ("lf", Lf),
        ("hf", Hf),
        ("low frequency", Lf),
        ("low-frequency", Lf),
        ("high frequency", Hf),
        ("high-frequency", Hf),
        ("vlf power", Vlf),
        ("lf power", Lf),
        ("hf power", Hf),
        ("total power", TotalPower),
        ("lf/hf", LfHf),
        ("lf hf", LfHf),
        ("lf:hf", LfHf),
        ("lf/hf ratio", LfHf),
        ("lf nu", LfNu),
        ("hf nu", HfNu),
        ("lf peak", LfPeak),
        ("hf peak", HfPeak),
        ("vlf rel", VlfRel),
        ("lf rel", LfRel),
        ("hf rel", HfRel),
        ("vlf log", VlfLog),
        ("lf log", LfLog),
        ("hf log", HfLog),
        ("sd1", Sd1),
        ("sd2", Sd2),
        ("sd2/sd1", Sd2Sd1),
        ("sd2 sd1", Sd2Sd1),
        ("sampen", SampEn),
        ("sample entropy", SampEn),
        ("apen", ApEn),
        ("approximate entropy", ApEn),
        ("dfa", Dfa),
        ("dfa α1", DfaAlpha1),
        ("dfa-α1", DfaAlpha1),
        ("dfa a1", DfaAlpha1),
        ("dfa alpha1", DfaAlpha1),
        ("dfa alpha 1", DfaAlpha1),
        ("dfa alpha-1", DfaAlpha1),
        ("α1", DfaAlpha1),
        ("alpha1", DfaAlpha1),
        ("alpha 1", DfaAlpha1),
        ("alpha-1", DfaAlpha1),
        ("dfa α2", DfaAlpha2),
        ("dfa-α2", DfaAlpha2),
        ("dfa a2", DfaAlpha2),
        ("dfa alpha2", DfaAlpha2),
        ("dfa alpha 2", DfaAlpha2),
        ("dfa alpha-2", DfaAlpha2),
        ("α2", DfaAlpha2),
        ("alpha2", DfaAlpha2),
        ("alpha 2", DfaAlpha2),
        ("alpha-2", DfaAlpha2),
        ("triangular index", TriIndex),
        ("hrv triangular index", TriIndex),
        ("tri index", TriIndex),
        ("tinn", Tinn),
        ("stress index", StressIndex),
        ("baevsky stress index", StressIndex),
        ("pns index", PnsIndex),
        ("sns index", SnsIndex),
        ("readiness", Readiness),
        ("readiness score", Readiness),
    ]
};

/// A metric name found in a text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Named {
    pub start: usize,
    pub end: usize,
    pub metric: Metric,
}

/// `text` as names are matched in: ASCII lower case, '_' as a space (same byte offsets as `text`).
pub(super) fn normalise(text: &str) -> String {
    let mut s = text.to_ascii_lowercase();
    if s.contains('_') {
        s = s.replace('_', " ");
    }
    s
}

/// The first words of the spellings: a word of the text that is none of them starts no name, so most
/// words cost one comparison per entry here instead of one per spelling.
const FIRST_WORDS: [&str; 48] = [
    "hrv",
    "heart",
    "rmssd",
    "lnrmssd",
    "ln",
    "log",
    "sdnn",
    "sdsd",
    "mean",
    "avnn",
    "cv",
    "cvnn",
    "pnn50",
    "pnn20",
    "hr",
    "rhr",
    "resting",
    "average",
    "min",
    "max",
    "pulse",
    "sd",
    "vlf",
    "lf",
    "hf",
    "low",
    "high",
    "total",
    "sd1",
    "sd2",
    "sampen",
    "sample",
    "apen",
    "approximate",
    "dfa",
    "α1",
    "alpha1",
    "alpha",
    "α2",
    "alpha2",
    "triangular",
    "tri",
    "tinn",
    "stress",
    "baevsky",
    "pns",
    "sns",
    "readiness",
];

/// Whether a byte starts one of [`FIRST_WORDS`]: most words are passed over on their first byte.
const FIRST_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut k = 0;
    while k < FIRST_WORDS.len() {
        table[FIRST_WORDS[k].as_bytes()[0] as usize] = true;
        k += 1;
    }
    table
};

/// Every metric name in `norm` (see [`normalise`] of `text`), in text order.
pub(super) fn find_names(text: &str, norm: &str) -> Vec<Named> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < norm.len() {
        let rest = &norm[i..];
        let word_len = rest.find(|c: char| !c.is_alphanumeric()).unwrap_or(rest.len());
        if word_len == 0 {
            i += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        if FIRST_BYTES[usize::from(rest.as_bytes()[0])]
            && FIRST_WORDS.contains(&&rest[..word_len])
            && let Some((len, metric)) = longest_name_at(rest)
        {
            // "1 hr" is an hour; "52 HR" (upper case, as heart rate is written) is not.
            let hours = text.get(i..i + len) == Some("hr")
                && norm[..i].trim_end().ends_with(|c: char| c.is_ascii_digit());
            if !hours {
                out.push(Named {
                    start: i,
                    end: i + len,
                    metric,
                });
                i += len;
                continue;
            }
        }
        i += word_len;
    }
    out
}

/// The longest spelling `rest` starts with that ends at a word end: its length and metric.
fn longest_name_at(rest: &str) -> Option<(usize, Metric)> {
    let first = rest.as_bytes().first()?;
    NAMES
        .iter()
        .filter(|(name, _)| name.as_bytes()[0] == *first && rest.starts_with(name))
        .filter(|(name, _)| {
            rest[name.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_alphanumeric())
        })
        .max_by_key(|(name, _)| name.len())
        .map(|(name, metric)| (name.len(), *metric))
}

/// The metrics a receipt value's label names (often none: "difference as % of …", "n", "Welch t").
pub(super) fn label_metrics(label: &str) -> MetricSet {
    MetricSet::of(
        find_names(label, &normalise(label))
            .iter()
            .fold(0, |acc, n| acc | n.metric.bit()),
    )
}
