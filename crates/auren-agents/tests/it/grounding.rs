//! grounding: a table of sentences against one set of receipts — fabricated values flagged, rounded true
//! ones passing, a true value on the wrong day flagged, numbers that are not measurements ignored; numbers
//! anchored to a metric name ("RMSSD was 45", "DFA α1 0.62") checked against that metric's values; and the
//! offline analyst's own rendering of a session always grounded.

use auren_agents::grounding::ground;
use auren_agents::{Receipt, ReceiptId, ReceiptValue, Unit};

fn value(label: &str, value: f64, unit: Unit, day: Option<&str>) -> ReceiptValue {
    ReceiptValue {
        label: label.into(),
        value,
        unit,
        day: day.map(str::to_owned),
    }
}

fn receipts() -> Vec<Receipt> {
    vec![
        Receipt {
            id: ReceiptId("r-day".into()),
            tool: "get_readiness".into(),
            computed: "readiness".into(),
            method: "test".into(),
            sources: vec![],
            values: vec![
                value("RMSSD on 2026-12-03", 61.8, Unit::Ms, Some("2026-12-03")),
                value("lnRMSSD on 2026-12-03", 4.124, Unit::LnMs, Some("2026-12-03")),
                value("RMSSD on 2026-12-02", 55.2, Unit::Ms, Some("2026-12-02")),
                value("resting HR", 52.4, Unit::Bpm, None),
                value("CV", 6.26, Unit::Percent, None),
                value("difference as %", -13.94, Unit::Percent, None),
            ],
        },
        Receipt {
            id: ReceiptId("r-session".into()),
            tool: "get_session".into(),
            computed: "panel".into(),
            method: "test".into(),
            sources: vec![],
            values: vec![
                value("hf_ms2", 812.3, Unit::Ms2, None),
                value("sdnn_ms", 1234.4, Unit::Ms, None),
            ],
        },
        // Labelled as get_session labels a panel ("<key> of session <id>") and compare_periods its statistics.
        Receipt {
            id: ReceiptId("r-panel".into()),
            tool: "get_session".into(),
            computed: "panel".into(),
            method: "test".into(),
            sources: vec![],
            values: vec![
                value("dfa_alpha1 of session 7", 0.617, Unit::Plain, None),
                value("lf_hf of session 7", 2.31, Unit::Plain, None),
                value("sd1_ms of session 7", 31.2, Unit::Ms, None),
                value("stress_index of session 7", 12.4, Unit::Plain, None),
                value("pnn50_pct of session 7", 18.6, Unit::Percent, None),
                value("sampen of session 7", 1.72, Unit::Plain, None),
                value("n last 7 days", 9.0, Unit::Plain, None),
                value("Welch t", 3.3, Unit::Plain, None),
            ],
        },
    ]
}

/// (text, [(claim text, grounded, receipt)]).
type Case = (
    &'static str,
    &'static [(&'static str, bool, Option<&'static str>)],
);

const CASES: &[Case] = &[
    (
        "Your RMSSD was 62 ms this morning.",
        &[("62 ms", true, Some("r-day"))],
    ),
    ("Your RMSSD was 64 ms this morning.", &[("64 ms", false, None)]),
    (
        "RMSSD 61.8 ms, or 61.80 ms to be exact.",
        &[
            ("61.8 ms", true, Some("r-day")),
            ("61.80 ms", true, Some("r-day")),
        ],
    ),
    ("RMSSD 61.83 ms.", &[("61.83 ms", false, None)]),
    (
        "Resting HR 52 bpm (52.4 beats per minute), not 53 bpm.",
        &[
            ("52 bpm", true, Some("r-day")),
            ("52.4 beats per minute", true, Some("r-day")),
            ("53 bpm", false, None),
        ],
    ),
    (
        "Your CV was 6.3%, about 6 percent; 7% would be high.",
        &[
            ("6.3%", true, Some("r-day")),
            ("6 percent", true, Some("r-day")),
            ("7%", false, None),
        ],
    ),
    (
        "RMSSD fell by 14% against last week.",
        &[("14%", true, Some("r-day"))],
    ),
    ("RMSSD fell by −13.9 %.", &[("13.9 %", true, Some("r-day"))]),
    (
        "HF power was 812 ms² (812 ms2, 812.3 ms^2).",
        &[
            ("812 ms²", true, Some("r-session")),
            ("812 ms2", true, Some("r-session")),
            ("812.3 ms^2", true, Some("r-session")),
        ],
    ),
    ("SDNN was 1,234 ms.", &[("1,234 ms", true, Some("r-session"))]),
    (
        "Your lnRMSSD of 4.12 is fine; lnRMSSD 4.2 would be better.",
        &[("4.12", true, Some("r-day")), ("4.2", false, None)],
    ),
    (
        "This morning was 4.12 lnRMSSD, and 3.9 ln RMSSD would be low.",
        &[
            ("4.12 lnRMSSD", true, Some("r-day")),
            ("3.9 ln RMSSD", false, None),
        ],
    ),
    (
        "A 4.1 lnRMSSD (ln(RMSSD)) morning; 4.124 ln(RMSSD) exactly.",
        &[
            ("4.1 lnRMSSD", true, Some("r-day")),
            ("4.124 ln(RMSSD)", true, Some("r-day")),
        ],
    ),
    ("You took 7 lnRMSSD readings and 4 lnRMSSD mornings.", &[]),
    (
        "On 2026-12-03 your RMSSD was 62 ms.",
        &[("62 ms", true, Some("r-day"))],
    ),
    ("On 2026-12-02 your RMSSD was 62 ms.", &[("62 ms", false, None)]),
    (
        "On 3 December your RMSSD was 62 ms.",
        &[("62 ms", true, Some("r-day"))],
    ),
    (
        "On December 2, RMSSD was 55 ms.",
        &[("55 ms", true, Some("r-day"))],
    ),
    ("62 ms on Dec 2 was low.", &[("62 ms", false, None)]),
    (
        "It ranged 55–62 ms this week.",
        &[("55", true, Some("r-day")), ("62 ms", true, Some("r-day"))],
    ),
    (
        "Train at 07:30 for 20 minutes in zone 2 on 2026-12-03; SD1 looks fine over 7 days.",
        &[],
    ),
    ("Try 4-7-8 breathing, version 1.2.3, 3 times.", &[]),
];

/// Numbers anchored to a metric name, with or without a unit: (text, [(claim text, grounded, receipt)]).
const ANCHORED: &[Case] = &[
    // The name before the number, joined by nothing, a mark, or linking words.
    ("Your RMSSD was 62 this morning.", &[("62", true, Some("r-day"))]),
    ("Your RMSSD was 45 this morning.", &[("45", false, None)]),
    ("RMSSD: 62.", &[("62", true, Some("r-day"))]),
    ("**RMSSD** = 62", &[("62", true, Some("r-day"))]),
    ("RMSSD of 62 today.", &[("62", true, Some("r-day"))]),
    (
        "Your RMSSD this morning came to 62.",
        &[("62", true, Some("r-day"))],
    ),
    ("RMSSD 61.8, not 61.83.", &[("61.8", true, Some("r-day"))]),
    (
        "Resting HR 52, and your heart rate of 53 is high.",
        &[("52", true, Some("r-day")), ("53", false, None)],
    ),
    (
        "DFA α1 0.62 means you crossed the threshold.",
        &[("0.62", true, Some("r-panel"))],
    ),
    ("DFA α1 0.71 is made up.", &[("0.71", false, None)]),
    (
        "Your α1 was 0.6 and DFA alpha1 averaged 0.617.",
        &[("0.6", true, Some("r-panel")), ("0.617", true, Some("r-panel"))],
    ),
    (
        "LF/HF 2.3 suggests sympathetic dominance; LF/HF 2.9 would be more.",
        &[("2.3", true, Some("r-panel")), ("2.9", false, None)],
    ),
    (
        "An SD1 of 31 is fine; SD1 of 35 would be better.",
        &[("31", true, Some("r-panel")), ("35", false, None)],
    ),
    (
        "Stress index 12, PNS index 1.5.",
        &[("12", true, Some("r-panel")), ("1.5", false, None)],
    ),
    (
        "Sample entropy 1.72, SampEn 1.8.",
        &[("1.72", true, Some("r-panel")), ("1.8", false, None)],
    ),
    (
        "pNN50 18.6 and pNN50 of 19.",
        &[("18.6", true, Some("r-panel")), ("19", true, Some("r-panel"))],
    ),
    ("Your readiness score is 78.", &[("78", false, None)]),
    // The name right after the number, or after "for".
    (
        "A 0.62 α1 and a 2.3 LF/HF.",
        &[
            ("0.62 α1", true, Some("r-panel")),
            ("2.3 LF/HF", true, Some("r-panel")),
        ],
    ),
    (
        "You scored 62 for RMSSD and 31 for SD1.",
        &[
            ("62 for RMSSD", true, Some("r-day")),
            ("31 for SD1", true, Some("r-panel")),
        ],
    ),
    // Lists of names share their numbers; ranges share their name.
    (
        "Your RMSSD and resting HR were 62 and 52.",
        &[("62", true, Some("r-day")), ("52", true, Some("r-day"))],
    ),
    (
        "RMSSD rose from 55 to 62 this week.",
        &[("55", true, Some("r-day")), ("62", true, Some("r-day"))],
    ),
    (
        "RMSSD ranged 55–62.",
        &[("55", true, Some("r-day")), ("62", true, Some("r-day"))],
    ),
    // Generic names stand for their family: HRV for RMSSD, lnRMSSD or SDNN.
    (
        "Your HRV was 62, your HRV 4.1 in log terms, and heart rate variability 1,234 ms.",
        &[
            ("62", true, Some("r-day")),
            ("4.1", true, Some("r-day")),
            ("1,234 ms", true, Some("r-session")),
        ],
    ),
    // The metric's identity: a true value of another metric does not ground it.
    (
        "RMSSD 1,234 is SDNN's value; SDNN 1,234.",
        &[("1,234", false, None), ("1,234", true, Some("r-session"))],
    ),
    ("Your RMSSD was 812 ms².", &[("812 ms²", false, None)]),
    ("SD1 was 61.8 ms.", &[("61.8 ms", false, None)]),
    // A label naming no metric still vouches for a measured unit, never for a count or a statistic.
    (
        "RMSSD fell by 14%; DFA α1 9 and LF/HF 3.3 are counts and t.",
        &[
            ("14%", true, Some("r-day")),
            ("9", false, None),
            ("3.3", false, None),
        ],
    ),
    // The far end of a range read as lnRMSSD by its sentence is lnRMSSD too; "HRV 3.9" is read as lnRMSSD.
    (
        "Your 7-day mean lnRMSSD is 4.12, inside your normal range of 3.90 to 4.12; HRV 3.9 would be low.",
        &[
            ("4.12", true, Some("r-day")),
            ("3.90", false, None),
            ("4.12", true, Some("r-day")),
            ("3.9", false, None),
        ],
    ),
    // Dates still pick the day.
    ("On 2026-12-02 your RMSSD was 62.", &[("62", false, None)]),
    ("Your RMSSD on 2026-12-02 was 55.", &[("55", true, Some("r-day"))]),
    // A leading-dot decimal is read whole (".62" is 0.62, not 62), a sign before it kept.
    ("DFA α1 .62 today.", &[(".62", true, Some("r-panel"))]),
    (
        "A .62 α1; DFA α1 (.617).",
        &[(".62 α1", true, Some("r-panel")), (".617", true, Some("r-panel"))],
    ),
    ("Your HRV .5 is not 5.", &[(".5", false, None)]),
    // An ellipsis before a number is no decimal point.
    ("Your RMSSD...62 ms.", &[("62 ms", true, Some("r-day"))]),
    // A year right before a name that has its own number is not that metric's value.
    ("In 2045 RMSSD 45 would be low.", &[("45", false, None)]),
    (
        "In 2026 RMSSD was 62, in 2027 HR: 52.",
        &[("62", true, Some("r-day")), ("52", true, Some("r-day"))],
    ),
    ("A 2045 RMSSD is unheard of.", &[("2045 RMSSD", false, None)]),
];

/// Numbers near metric names that are counts, durations, dates, ordinals or labels, or joined to the name by
/// more than linking words: no claim.
const NOT_CLAIMS: &[&str] = &[
    "You did 3 sessions, on day 2 of 2024, with 7 RMSSD readings.",
    "RMSSD over 7 days looked fine; SD1 looks fine at 31.",
    "Keep zone 2 HR under 140 for 45 minutes.",
    "Your 2nd session had HR 3x higher and HRV 2/3 of normal.",
    "HRV4Training 4.1 shows nothing; session #7 HR unknown.",
    "I slept 1 hr 20 and my HRV readings 3 were noisy.",
    "RMSSD, SDNN and 5 other metrics; 3 HRV days this week.",
    "Train with HR above 150 later; RMSSD in 2025.",
    "Your HRV at 6 am and HR at 7 pm were taken 2 x a day.",
    // A dash joins a count to what it counts.
    "HRV 7-day average, resting HR 30-day baseline, RMSSD 3‑week trend, lnRMSSD 2.5–day span.",
    // A number glued to letters by a '.' is a version or an abbreviation, not a decimal.
    "The v.2 HRV export, the app v.45 RMSSD chart and fig.3 SDNN plot.",
];

/// Answers where a claim's number stands more than once: which whole-number occurrence of its text each
/// claim is (the window marks that one, not the "45" inside "145" or an earlier "45 minutes").
const OCCURRENCES: &[(&str, &[(&str, u32)])] = &[
    ("On day 145 your RMSSD was 45.", &[("45", 0)]),
    ("After 45 minutes your RMSSD was 45.", &[("45", 1)]),
    (
        "At 6:45 your RMSSD was 45; in 2045, RMSSD 45 again.",
        &[("45", 0), ("45", 1)],
    ),
    (
        "RMSSD 3.45, then RMSSD 45 and 45.2 ms.",
        &[("3.45", 0), ("45", 0), ("45.2 ms", 0)],
    ),
    (
        "Resting HR 52 bpm; RMSSD 52 and HR 52 bpm.",
        &[("52 bpm", 0), ("52", 1), ("52 bpm", 1)],
    ),
];

#[test]
fn a_claim_knows_which_occurrence_of_its_text_it_is() {
    for (text, expected) in OCCURRENCES {
        let claims = ground(text, &receipts());
        let got: Vec<(&str, u32)> = claims.iter().map(|c| (c.text.as_str(), c.occurrence)).collect();
        assert_eq!(&got, expected, "{text}");
    }
}

/// A claim names the receipt value that grounds it, so its link goes to that value's day: "RMSSD 52" to
/// the day of RMSSD 52, not to the day of a resting HR of 52 listed first.
#[test]
fn a_claim_names_the_value_that_grounds_it() {
    let r = vec![Receipt {
        id: ReceiptId("r-trend".into()),
        tool: "get_trend".into(),
        computed: "trend".into(),
        method: "test".into(),
        sources: vec![],
        values: vec![
            value("resting HR on 2026-11-28", 52.0, Unit::Bpm, Some("2026-11-28")),
            value("rmssd_ms on 2026-11-28", 48.0, Unit::Ms, Some("2026-11-28")),
            value("rmssd_ms on 2026-11-30", 52.0, Unit::Ms, Some("2026-11-30")),
        ],
    }];
    let claims = ground("RMSSD 52, resting HR 52, RMSSD 48 ms, RMSSD 70.", &r);
    let got: Vec<(&str, Option<u32>)> = claims.iter().map(|c| (c.text.as_str(), c.value_index)).collect();
    assert_eq!(
        got,
        [("52", Some(2)), ("52", Some(0)), ("48 ms", Some(1)), ("70", None)]
    );
}

#[test]
fn claims_are_grounded_by_value_unit_rounding_and_day() {
    let r = receipts();
    for (text, expected) in CASES {
        let claims = ground(text, &r);
        let got: Vec<(&str, bool, Option<&str>)> = claims
            .iter()
            .map(|c| {
                (
                    c.text.as_str(),
                    c.grounded,
                    c.receipt.as_ref().map(|id| id.0.as_str()),
                )
            })
            .collect();
        assert_eq!(&got, expected, "{text}");
    }
}

#[test]
fn numbers_anchored_to_a_metric_name_are_claims_of_that_metric() {
    let r = receipts();
    for (text, expected) in ANCHORED {
        let claims = ground(text, &r);
        let got: Vec<(&str, bool, Option<&str>)> = claims
            .iter()
            .map(|c| {
                (
                    c.text.as_str(),
                    c.grounded,
                    c.receipt.as_ref().map(|id| id.0.as_str()),
                )
            })
            .collect();
        assert_eq!(&got, expected, "{text}");
    }
}

#[test]
fn counts_dates_ordinals_and_prose_near_metric_names_are_not_claims() {
    for text in NOT_CLAIMS {
        assert_eq!(ground(text, &receipts()), [], "{text}");
    }
}

#[test]
fn a_number_without_a_unit_is_read_in_its_metrics_unit() {
    let claims = ground(
        "RMSSD 62, resting HR 52, pNN50 18.6, HF 812, lnRMSSD 4.12, DFA α1 0.62, readiness 7.",
        &receipts(),
    );
    let units: Vec<Unit> = claims.iter().map(|c| c.unit).collect();
    assert_eq!(
        units,
        [
            Unit::Ms,
            Unit::Bpm,
            Unit::Percent,
            Unit::Ms2,
            Unit::LnMs,
            Unit::Plain,
            Unit::Plain
        ]
    );
    assert!(claims[..6].iter().all(|c| c.grounded), "{claims:?}");
}

#[test]
fn units_and_values_are_read_as_written() {
    let claims = ground(
        "HF 812 ms², HR 52 bpm, CV 6.3%, lnRMSSD 4.12, RMSSD 62 ms.",
        &receipts(),
    );
    let units: Vec<Unit> = claims.iter().map(|c| c.unit).collect();
    assert_eq!(units, [Unit::Ms2, Unit::Bpm, Unit::Percent, Unit::LnMs, Unit::Ms]);
    assert_eq!(claims[0].value, 812.0);
    assert_eq!(claims[3].value, 4.12);
}

#[test]
fn a_leading_dot_decimal_is_read_as_its_value() {
    let cases: &[(&str, f64)] = &[
        ("DFA α1 .62 today.", 0.62),
        ("Your HRV .5 is odd.", 0.5),
        ("lnRMSSD fell by −.3 overnight.", -0.3),
        ("lnRMSSD fell by -.25 overnight.", -0.25),
        ("RMSSD (.8 ms higher).", 0.8),
    ];
    for (text, want) in cases {
        let claims = ground(text, &[]);
        let got: Vec<f64> = claims.iter().map(|c| c.value).collect();
        assert_eq!(got, [*want], "{text}");
    }
}

#[test]
fn with_no_receipts_every_measurement_is_ungrounded() {
    let claims = ground("RMSSD 62 ms and HR 52 bpm.", &[]);
    assert_eq!(claims.len(), 2);
    assert!(claims.iter().all(|c| !c.grounded && c.receipt.is_none()));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text, however odd (multi-byte characters next to digits, stray units), is scanned without a panic.
        #[test]
        fn any_text_is_scanned(text in "[0-9a-zA-Z .,:;%²\u{2212}–-]{0,200}|\\PC{0,200}") {
            let _ = ground(&text, &receipts());
        }

        /// A receipt value stated with k decimals, in its unit, is grounded by that receipt.
        #[test]
        fn a_rounded_true_value_is_grounded(value in 1.0f64..5_000.0, k in 0usize..3, unit in 0usize..4) {
            let (u, word) = [(Unit::Ms, "ms"), (Unit::Bpm, "bpm"), (Unit::Percent, "%"), (Unit::Ms2, "ms²")][unit];
            let r = vec![Receipt {
                id: ReceiptId("r-p".into()),
                tool: "t".into(),
                computed: "c".into(),
                method: "m".into(),
                sources: vec![],
                values: vec![value_of(value, u)],
            }];
            let text = format!("It was {value:.k$} {word} today.");
            let claims = ground(&text, &r);
            prop_assert_eq!(claims.len(), 1, "{}", text);
            prop_assert!(claims[0].grounded, "{}", text);
        }
    }

    fn value_of(v: f64, unit: Unit) -> ReceiptValue {
        value("v", v, unit, None)
    }

    /// Metrics as a person names them, their panel key (as get_session labels its values) and unit.
    const METRICS: [(&str, &str, Unit, &str); 16] = [
        ("RMSSD", "rmssd_ms", Unit::Ms, " ms"),
        ("SDNN", "sdnn_ms", Unit::Ms, " ms"),
        ("SD1", "sd1_ms", Unit::Ms, " ms"),
        ("SD2", "sd2_ms", Unit::Ms, " ms"),
        ("mean HR", "mean_hr_bpm", Unit::Bpm, " bpm"),
        ("pNN50", "pnn50_pct", Unit::Percent, "%"),
        ("HF power", "hf_ms2", Unit::Ms2, " ms²"),
        ("LF", "lf_ms2", Unit::Ms2, " ms²"),
        ("total power", "total_power_ms2", Unit::Ms2, " ms²"),
        ("LF/HF", "lf_hf", Unit::Plain, ""),
        ("DFA α1", "dfa_alpha1", Unit::Plain, ""),
        ("SampEn", "sampen", Unit::Plain, ""),
        ("stress index", "stress_index", Unit::Plain, ""),
        ("PNS index", "pns_index", Unit::Plain, ""),
        ("SNS index", "sns_index", Unit::Plain, ""),
        ("lnRMSSD", "ln_rmssd", Unit::LnMs, ""),
    ];

    /// Phrasings of "metric = value": the name before the number (with linking words) or after it.
    const PHRASINGS: [&str; 6] = [
        "{name} {v}{u}.",
        "Your {name} was {v}{u} today.",
        "{name}: {v}{u}",
        "The {name} of {v}{u} is fine.",
        "That is {v}{u} {name} today.",
        "You scored {v}{u} for {name}.",
    ];

    fn phrase(template: &str, name: &str, v: &str, unit: &str) -> String {
        template
            .replace("{name}", name)
            .replace("{v}", v)
            .replace("{u}", unit)
    }

    fn vocabulary() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "RMSSD",
            "HR",
            "hr",
            "α1",
            "DFA",
            "LF/HF",
            "lnRMSSD",
            "HRV",
            "SD1",
            "was",
            "of",
            "for",
            ":",
            "=",
            "(",
            ")",
            "45",
            "0.62",
            "1,234",
            "−3.1",
            "2nd",
            "#7",
            "days",
            "readings",
            "zone",
            "2026-12-03",
            "–",
            "to",
            "and",
            ",",
            ".",
            "ms",
            "%",
            "bpm",
            "3/5",
            "07:30",
            "α",
            "\u{a0}",
            "_",
            "ln(",
            "é",
            "t",
            "p",
            "U",
            "n",
            "<",
            "≤",
            "(12)",
            "Cohen's d",
            "Mann–Whitney U",
            "effect size",
        ]);
        prop::collection::vec((words, prop::sample::select(vec!["", " ", "  "])), 0..40)
            .prop_map(|parts| parts.into_iter().map(|(w, sep)| format!("{w}{sep}")).collect())
    }

    proptest! {
        /// Text built of metric names, numbers, marks and near misses is scanned without a panic, and every
        /// claim's text is a piece of it.
        #[test]
        fn metric_words_in_any_order_are_scanned(text in vocabulary()) {
            for c in ground(&text, &receipts()) {
                prop_assert!(text.contains(&c.text), "{:?} not in {:?}", c.text, text);
            }
        }

        /// A panel value stated under its metric's name, in any phrasing, with or without its unit, with k
        /// decimals, is one grounded claim; under another metric's name it is one ungrounded claim.
        #[test]
        fn a_metric_value_is_grounded_under_its_name_only(
            stated in 0.01f64..3_000.0,
            k in 0usize..3,
            which in 0usize..16,
            other in 1usize..16,
            phrasing in 0usize..6,
            with_unit in any::<bool>(),
        ) {
            let (name, key, unit, word) = METRICS[which];
            let r = vec![Receipt {
                id: ReceiptId("r-p".into()),
                tool: "get_session".into(),
                computed: "panel".into(),
                method: "m".into(),
                sources: vec![],
                values: vec![value(&format!("{key} of session 3"), stated, unit, None)],
            }];
            let word = if with_unit { word } else { "" };
            let v = format!("{stated:.k$}");
            let text = phrase(PHRASINGS[phrasing], name, &v, word);
            let claims = ground(&text, &r);
            prop_assert_eq!(claims.len(), 1, "{}", text);
            prop_assert!(claims[0].grounded, "{}", text);
            let (other_name, ..) = METRICS[(which + other) % METRICS.len()];
            let text = phrase(PHRASINGS[phrasing], other_name, &v, word);
            let claims = ground(&text, &r);
            prop_assert_eq!(claims.len(), 1, "{}", text);
            prop_assert!(!claims[0].grounded, "{}", text);
        }
    }
}

/// The offline analyst's answer about a session states the panel through `metric_phrase` under the metric's
/// name ("RMSSD 45 ms", "DFA α1 0.95"): whatever the stored values, every number it states is a grounded
/// claim — the anchored ones included.
#[test]
fn the_offline_analysts_session_answer_is_grounded_whatever_the_panel() {
    use auren_agents::offline::answer;
    use auren_engine::panels::compute_panel;
    use auren_store::StoredPanel;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    use crate::fixture::{Plan, history};

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let h = rt.block_on(history(Plan {
        days: 2,
        ..Plan::default()
    }));
    let last = rt.block_on(h.store.sessions(1, 0)).unwrap()[0].id;
    let computed: StoredPanel = rt.block_on(compute_panel(&h.store, last.0)).unwrap().stored();
    let keys: Vec<String> = computed.values.iter().map(|(k, _)| k.clone()).collect();
    let mut runner = TestRunner::new(Config {
        cases: 48,
        ..Config::default()
    });
    let values = prop::collection::vec(0.001f64..5_000.0, keys.len());
    runner
        .run(&values, |values| {
            let panel = StoredPanel {
                values: keys.iter().cloned().zip(values.into_iter().map(Some)).collect(),
                ..computed.clone()
            };
            rt.block_on(h.store.put_session_panel(&panel, 0)).unwrap();
            let a = rt
                .block_on(answer(&h.toolbox, "How did my last session go?"))
                .unwrap();
            let claims = ground(&a.text, &a.receipts);
            // RMSSD, SDNN, mean HR, pNN50, HF power and DFA α1 (no unit: a claim by its name alone).
            prop_assert!(claims.len() >= 6, "{claims:?} in {}", a.text);
            let ungrounded: Vec<_> = claims.iter().filter(|c| !c.grounded).collect();
            prop_assert!(ungrounded.is_empty(), "{ungrounded:?} in {}", a.text);
            Ok(())
        })
        .unwrap();
}

/// A compare_periods / tag_effect receipt as `record_comparison` labels it, and a hypothesis check's.
fn statistics_receipts() -> Vec<Receipt> {
    let receipt = |id: &str, values: Vec<ReceiptValue>| Receipt {
        id: ReceiptId(id.into()),
        tool: "compare_periods".into(),
        computed: "lnRMSSD in two periods".into(),
        method: "Welch's t-test; Mann–Whitney U; Cohen's d and Hedges' g".into(),
        sources: vec![],
        values,
    };
    vec![
        receipt(
            "r-cmp",
            vec![
                value(
                    "mean lnRMSSD, period A 2026-11-24..2026-11-30",
                    4.02,
                    Unit::LnMs,
                    None,
                ),
                value(
                    "mean lnRMSSD, period B 2026-11-10..2026-11-23",
                    4.21,
                    Unit::LnMs,
                    None,
                ),
                value("n period A 2026-11-24..2026-11-30", 7.0, Unit::Plain, None),
                value("n period B 2026-11-10..2026-11-23", 14.0, Unit::Plain, None),
                value("Welch t", -3.412, Unit::Plain, None),
                value("Welch df", 12.37, Unit::Plain, None),
                value("Welch p (two-sided)", 0.00213, Unit::Plain, None),
                value("Mann–Whitney U", 14.5, Unit::Plain, None),
                value("Mann–Whitney p (two-sided)", 0.0046, Unit::Plain, None),
                value("Cohen's d", -1.32, Unit::Plain, None),
                value("Hedges' g", -1.27, Unit::Plain, None),
            ],
        ),
        receipt(
            "r-hyp",
            vec![
                value("p (two-sided)", 0.2, Unit::Plain, None),
                value("Hedges' g", 0.15, Unit::Plain, None),
                value("n exposed", 5.0, Unit::Plain, None),
            ],
        ),
    ]
}

/// Test statistics stated by their letter or name: each is a claim, grounded only by a receipt value of
/// that statistic at the stated rounding, a bound by a value that keeps it.
const STATISTICS: &[Case] = &[
    // The audit's example: fabricated statistics are marked.
    (
        "t = 4.1, p = 0.02, d = 0.8.",
        &[("4.1", false, None), ("0.02", false, None), ("0.8", false, None)],
    ),
    (
        "Welch's t = −3.41 (df 12.4), p = 0.002.",
        &[
            ("3.41", true, Some("r-cmp")),
            ("12.4", true, Some("r-cmp")),
            ("0.002", true, Some("r-cmp")),
        ],
    ),
    (
        "t(12) = 3.4, p < 0.01; t(13) = 3.5.",
        &[
            ("12", true, Some("r-cmp")),
            ("3.4", true, Some("r-cmp")),
            ("0.01", true, Some("r-cmp")),
            ("13", false, None),
            ("3.5", false, None),
        ],
    ),
    (
        "p < 0.001 would be wrong; p > 0.001 is right, p≤.005 too.",
        &[
            ("0.001", false, None),
            ("0.001", true, Some("r-cmp")),
            (".005", true, Some("r-cmp")),
        ],
    ),
    (
        "A p of at least 0.002, a p below 0.002, a p-value of 0.0046 and a p value of 0.004.",
        &[
            ("0.002", true, Some("r-cmp")),
            ("0.002", false, None),
            ("0.0046", true, Some("r-cmp")),
            ("0.004", false, None),
        ],
    ),
    ("A p of 0.03 is not what the test gave.", &[("0.03", false, None)]),
    (
        "Mann–Whitney U = 14.5, U: 15, the U statistic was 14.",
        &[
            ("14.5", true, Some("r-cmp")),
            ("15", true, Some("r-cmp")),
            ("14", false, None),
        ],
    ),
    (
        "Cohen's d 1.32, Hedges' g was −1.27, effect size 1.3; d = 1.27 is g's.",
        &[
            ("1.32", true, Some("r-cmp")),
            ("1.27", true, Some("r-cmp")),
            ("1.3", true, Some("r-cmp")),
            ("1.27", false, None),
        ],
    ),
    (
        "n = 7 and n = 14 mornings; N = 21, a sample size of 14.",
        &[
            ("7", true, Some("r-cmp")),
            ("14", true, Some("r-cmp")),
            ("21", false, None),
            ("14", true, Some("r-cmp")),
        ],
    ),
    (
        "p = 0.2 and g = 0.15 with n = 5.",
        &[
            ("0.2", true, Some("r-hyp")),
            ("0.15", true, Some("r-hyp")),
            ("5", true, Some("r-hyp")),
        ],
    ),
    // No receipt states a z or a rank-biserial r: stated, they are marked.
    (
        "z = 2.1, rank-biserial r = 0.4.",
        &[("2.1", false, None), ("0.4", false, None)],
    ),
    // A statistic is not grounded by a metric's value, nor a metric by a statistic.
    (
        "RMSSD 14.5 is the U's value; U = 4.02 is a mean.",
        &[("14.5", false, None), ("4.02", false, None)],
    ),
    // A statistic in a sentence about lnRMSSD is the statistic, not an lnRMSSD.
    (
        "lnRMSSD fell from 4.21 to 4.02, t = 3.41.",
        &[
            ("4.21", true, Some("r-cmp")),
            ("4.02", true, Some("r-cmp")),
            ("3.41", true, Some("r-cmp")),
        ],
    ),
];

/// Letters in ordinary prose, and statistics' words joined to a number by more than linking words: no
/// claim.
const NOT_STATISTICS: &[&str] = &[
    "I'd say 3 is plenty; you can't do 2 in a day, don't 5.",
    "Take vitamin d at 1000 IU, at 7 p.m. or 8 a.m., p.s. 5 is fine.",
    "Options: a) 3 laps, d) 4 laps, (p) 2 laps.",
    "A t-test on 12 mornings, an n-of-1 trial over 30 nights.",
    "The P wave and T wave were 3 units apart; plan B: 3 rounds.",
    "Your p here means 4 things; the effect size grows with 5 more weeks.",
    "Score t 3, d 4, g 5 and U 6 are bare letters.",
    "N/A 45, r/running 3, U.S. 10.",
    "Eat 40 g to 50 g of carbs, 2 d to 3 d apart.",
];

fn triples(claims: &[auren_agents::Claim]) -> Vec<(&str, bool, Option<&str>)> {
    claims
        .iter()
        .map(|c| {
            (
                c.text.as_str(),
                c.grounded,
                c.receipt.as_ref().map(|id| id.0.as_str()),
            )
        })
        .collect()
}

#[test]
fn test_statistics_are_claims_of_that_statistic() {
    let r = statistics_receipts();
    for (text, expected) in STATISTICS {
        let claims = ground(text, &r);
        assert_eq!(&triples(&claims), expected, "{text}");
    }
}

#[test]
fn letters_in_prose_are_not_statistics() {
    let mut r = statistics_receipts();
    r.extend(receipts());
    for text in NOT_STATISTICS {
        assert_eq!(ground(text, &r), [], "{text}");
    }
}

/// The offline analyst's comparison states Welch's t, its df, both p, U, Hedges' g and each n: every one is
/// a claim, and each is grounded by the tool's own receipt.
#[tokio::test]
async fn the_offline_comparison_states_only_grounded_statistics() {
    use auren_agents::offline::answer;

    use crate::fixture::{Plan, history};

    let h = history(Plan::default()).await;
    for question in ["Compare this week with last week", "Does alcohol lower my HRV?"] {
        let a = answer(&h.toolbox, question).await.unwrap();
        let claims = ground(&a.text, &a.receipts);
        let statistics = claims.iter().filter(|c| c.unit == Unit::Plain).count();
        // n twice, t, df, p twice, U, g.
        assert!(statistics >= 8, "{question}: {claims:?} in {}", a.text);
        let ungrounded: Vec<_> = claims.iter().filter(|c| !c.grounded).collect();
        assert!(ungrounded.is_empty(), "{question}: {ungrounded:?} in {}", a.text);
    }
}

mod statistic_properties {
    use super::*;
    use proptest::prelude::*;

    /// The statistics of a comparison receipt: label, and phrasings that state it ("{v}" is the value).
    const STATS: [(&str, &[&str]); 7] = [
        (
            "Welch t",
            &[
                "t = {v}",
                "Welch's t = {v}",
                "the t-statistic was {v}",
                "a t of {v}",
            ],
        ),
        ("Welch df", &["df {v}", "degrees of freedom: {v}"]),
        (
            "Welch p (two-sided)",
            &[
                "p = {v}",
                "P={v}",
                "a p of {v}",
                "the p-value was {v}",
                "p (two-sided) = {v}",
            ],
        ),
        ("Mann–Whitney U", &["U = {v}", "Mann–Whitney U of {v}", "U: {v}"]),
        // "effect size" (d or g) is in the table: here a changed d could round to the receipt's g.
        ("Cohen's d", &["d = {v}", "Cohen's d {v}", "Cohen’s d: {v}"]),
        ("Hedges' g", &["g = {v}", "Hedges' g was {v}", "Hedges g of {v}"]),
        ("n period A", &["n = {v}", "N = {v}", "a sample size of {v}"]),
    ];

    fn comparison(values: &[f64; 7]) -> Vec<Receipt> {
        vec![Receipt {
            id: ReceiptId("r-cmp".into()),
            tool: "compare_periods".into(),
            computed: "c".into(),
            method: "m".into(),
            sources: vec![],
            values: STATS
                .iter()
                .zip(values)
                .map(|((label, _), v)| value(label, *v, Unit::Plain, None))
                .collect(),
        }]
    }

    proptest! {
        /// A statistic copied from the receipt at any rounding, in any phrasing, is one grounded claim; moved
        /// by one to five units of its last decimal it is one ungrounded claim, whatever the other values.
        #[test]
        fn a_true_statistic_is_grounded_and_a_changed_one_is_not(
            values in prop::array::uniform7(-60.0f64..60.0),
            which in 0usize..7,
            phrasing in 0usize..5,
            k in 0usize..5,
            shift in 1u32..6,
        ) {
            let (_, phrasings) = STATS[which];
            let template = phrasings[phrasing % phrasings.len()];
            let mut values = values;
            // p is a probability, df and n are positive, and n a whole number.
            values[2] = values[2].abs() / 60.0;
            values[1] = values[1].abs();
            values[6] = values[6].abs().round() + 1.0;
            let k = if which == 6 { 0 } else { k };
            let r = comparison(&values);
            let v = values[which];
            let text = format!("The comparison: {}.", template.replace("{v}", &format!("{v:.k$}")));
            let claims = ground(&text, &r);
            prop_assert_eq!(claims.len(), 1, "{} {:?}", text, claims);
            prop_assert!(claims[0].grounded, "{} {:?}", text, claims);
            // Away from zero, so the sign (which grounding ignores) cannot bring it back.
            let step = f64::from(shift) / 10f64.powi(k as i32);
            let changed = v.signum() * (v.abs() + step);
            let stated = format!("{changed:.k$}");
            let text = format!("The comparison: {}.", template.replace("{v}", &stated));
            let claims = ground(&text, &r);
            prop_assert_eq!(claims.len(), 1, "{} {:?}", text, claims);
            prop_assert!(!claims[0].grounded, "{} {:?}", text, claims);
        }
    }
}
