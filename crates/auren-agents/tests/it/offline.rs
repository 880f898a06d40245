//! The offline analyst over the simulated history: each kind of question gets its intent, a labelled
//! answer from the tools, and every number in it is grounded by the answer's own receipts.

use auren_agents::grounding::ground;
use auren_agents::intent::{ComparisonSpan, DayRef, Intent};
use auren_agents::offline::{OFFLINE_LABEL, TagLag, answer};

use crate::fixture::{Plan, history};

#[tokio::test]
async fn offline_answers_cover_the_questions_and_are_grounded() {
    let h = history(Plan {
        days: 120,
        last_week_shift: -0.3,
        ..Plan::default()
    })
    .await;
    let cases: [(&str, Intent, &[&str]); 8] = [
        (
            "How is my readiness today?",
            Intent::Readiness { day: DayRef::Today },
            &["morning lnRMSSD was", "normal range", "bpm"],
        ),
        (
            "What was my HRV on 2026-11-30?",
            Intent::Readiness {
                day: DayRef::Date(h.today - 3),
            },
            &["On 2026-11-30"],
        ),
        (
            "Why is my HRV down this week?",
            Intent::Trend { days: 7 },
            &["7 mornings", "below your normal range"],
        ),
        (
            "How did my last session go?",
            Intent::LastSession,
            &["RMSSD", "ms", "Simulated strap"],
        ),
        (
            "Why did the alerts fire this month?",
            Intent::Alerts { days: 30 },
            &["cns_fatigue", "rmssd_60s was 12 ms", "hr was 148 bpm"],
        ),
        (
            "Compare this week with last week",
            Intent::Compare {
                span: ComparisonSpan::WeekOverWeek,
            },
            &["Welch's t", "Mann–Whitney U", "Hedges' g"],
        ),
        (
            "Does alcohol lower my HRV?",
            Intent::TagEffect {
                tag: "alcohol".into(),
            },
            &["after alcohol", "p = 0.000"],
        ),
        ("Tell me a joke", Intent::Unknown, &["I can answer offline"]),
    ];
    for (question, intent, phrases) in cases {
        let a = answer(&h.toolbox, question).await.unwrap();
        assert_eq!(a.intent, intent, "{question}");
        assert!(a.text.starts_with(OFFLINE_LABEL), "{question}: {}", a.text);
        for p in phrases {
            assert!(a.text.contains(p), "{question}: {p:?} missing from {}", a.text);
        }
        let claims = ground(&a.text, &a.receipts);
        assert!(!claims.is_empty(), "{question}: no measured number in {}", a.text);
        let ungrounded: Vec<_> = claims.iter().filter(|c| !c.grounded).collect();
        assert!(ungrounded.is_empty(), "{question}: {ungrounded:?} in {}", a.text);
    }
}

#[tokio::test]
async fn offline_says_what_is_missing_on_an_empty_store() {
    let h = history(Plan {
        days: 1,
        ..Plan::default()
    })
    .await;
    let a = answer(&h.toolbox, "Does caffeine affect my HRV?").await.unwrap();
    assert_eq!(
        a.intent,
        Intent::TagEffect {
            tag: "caffeine".into()
        }
    );
    assert!(a.text.contains("not enough data"), "{}", a.text);
    let a = answer(&h.toolbox, "How is my readiness today?").await.unwrap();
    assert!(
        a.text.contains("not enough mornings yet for a 7-day mean"),
        "{}",
        a.text
    );
}

#[tokio::test]
async fn offline_tag_effect_reads_the_lag_from_the_question() {
    let h = history(Plan {
        days: 120,
        ..Plan::default()
    })
    .await;
    // (question, the lag asked, the group the answer names)
    let cases = [
        (
            "Does alcohol lower my HRV the same day?",
            0,
            "days tagged alcohol",
        ),
        (
            "What's my HRV on the day I drink alcohol, that morning?",
            0,
            "days tagged alcohol",
        ),
        // "Same" decides even beside "day after".
        (
            "Is my HRV lower the same day after drinking alcohol?",
            0,
            "days tagged alcohol",
        ),
        ("Does alcohol lower my HRV?", 1, "mornings 1 day(s) after alcohol"),
        (
            "Does alcohol lower my HRV the next morning?",
            1,
            "mornings 1 day(s) after alcohol",
        ),
        (
            "How is my HRV the day after alcohol?",
            1,
            "mornings 1 day(s) after alcohol",
        ),
        (
            "Does alcohol lower my HRV on the day after?",
            1,
            "mornings 1 day(s) after alcohol",
        ),
        (
            "Is my HRV lower two days later after alcohol?",
            2,
            "mornings 2 day(s) after alcohol",
        ),
        (
            "Alcohol and my HRV 2 days after?",
            2,
            "mornings 2 day(s) after alcohol",
        ),
        (
            "Does alcohol lower my HRV the day after next?",
            2,
            "mornings 2 day(s) after alcohol",
        ),
    ];
    for (question, lag, group) in cases {
        let a = answer(&h.toolbox, question).await.unwrap();
        assert_eq!(
            a.intent,
            Intent::TagEffect {
                tag: "alcohol".into()
            },
            "{question}"
        );
        assert_eq!(TagLag::asked_in(question).days(), lag, "{question}");
        assert!(
            a.text.contains(group),
            "{question}: {group:?} missing from {}",
            a.text
        );
        let claims = ground(&a.text, &a.receipts);
        assert!(claims.iter().all(|c| c.grounded), "{question}: {claims:?}");
    }
}

proptest::proptest! {
    /// Whatever else a question says, naming two days asks for lag 2, and naming the same day (and not two
    /// days) asks for lag 0; a question naming neither asks for the next morning.
    #[test]
    fn the_tag_lag_follows_the_phrase_wherever_it_stands(
        before in "[a-z ]{0,30}",
        after in "[a-z ?]{0,30}",
    ) {
        use proptest::prelude::*;
        let plain = format!("{before} {after}");
        let names = |phrases: &[&str]| phrases.iter().any(|p| plain.contains(p));
        prop_assume!(!names(&[
            "two days", "day after", "second day", "second morning", "next day", "next morning",
            "following day", "following morning", "morning after", "same day", "that day", "that morning",
            "on the day", "same morning",
        ]));
        prop_assert_eq!(TagLag::asked_in(&plain), TagLag::NextMorning);
        prop_assert_eq!(TagLag::asked_in(&format!("{before} two days later {after}")), TagLag::TwoDaysLater);
        prop_assert_eq!(TagLag::asked_in(&format!("{before} THE SAME DAY {after}")), TagLag::SameDay);
    }
}
