//! grounding: a table of sentences against one set of receipts — fabricated values flagged, rounded true
//! ones passing, a true value on the wrong day flagged, numbers that are not measurements ignored.

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
}
