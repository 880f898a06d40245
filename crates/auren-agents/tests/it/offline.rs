//! The offline analyst over the simulated history: each kind of question gets its intent, a labelled
//! answer from the tools, and every number in it is grounded by the answer's own receipts.

use auren_agents::grounding::ground;
use auren_agents::intent::{ComparisonSpan, DayRef, Intent};
use auren_agents::offline::{OFFLINE_LABEL, answer};

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
