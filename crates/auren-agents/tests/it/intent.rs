//! intent: questions a person asks, and what the offline analyst takes them for.

use auren_agents::intent::{ComparisonSpan, DayRef, Intent, classify, classify_with_tags};

#[test]
fn questions_map_to_intents() {
    let d = |y, m, day| {
        auren_clock::UtcDate {
            year: y,
            month: m,
            day,
        }
        .to_days()
    };
    let cases: Vec<(&str, Intent)> = vec![
        (
            "How is my readiness today?",
            Intent::Readiness { day: DayRef::Today },
        ),
        ("Am I ready to train?", Intent::Readiness { day: DayRef::Today }),
        (
            "What was my HRV yesterday?",
            Intent::Readiness {
                day: DayRef::Yesterday,
            },
        ),
        (
            "Readiness on 2026-11-30?",
            Intent::Readiness {
                day: DayRef::Date(d(2026, 11, 30)),
            },
        ),
        ("Why is my HRV down this week?", Intent::Trend { days: 7 }),
        ("How has my HRV trended this month?", Intent::Trend { days: 30 }),
        ("How did my last session go?", Intent::LastSession),
        ("Show me my latest workout", Intent::LastSession),
        ("Why did the alert fire yesterday?", Intent::Alerts { days: 7 }),
        ("Any warnings this month?", Intent::Alerts { days: 30 }),
        (
            "Compare this week with last week",
            Intent::Compare {
                span: ComparisonSpan::WeekOverWeek,
            },
        ),
        (
            "Is my HRV better than last month?",
            Intent::Compare {
                span: ComparisonSpan::MonthOverMonth,
            },
        ),
        (
            "Does alcohol lower my HRV?",
            Intent::TagEffect {
                tag: "alcohol".into(),
            },
        ),
        (
            "What is my HRV like after caffeine?",
            Intent::TagEffect {
                tag: "caffeine".into(),
            },
        ),
        (
            "What is the effect of sauna on my morning HRV?",
            Intent::TagEffect { tag: "sauna".into() },
        ),
        ("Tell me a joke", Intent::Unknown),
    ];
    for (q, want) in cases {
        assert_eq!(classify(q), want, "{q}");
    }
}

#[test]
fn known_tags_are_found_anywhere() {
    let tags = vec!["late_meal".to_owned(), "alcohol".to_owned()];
    assert_eq!(
        classify_with_tags("I had a late_meal, what happens to my HRV?", &tags),
        Intent::TagEffect {
            tag: "late_meal".into()
        }
    );
    assert_eq!(
        classify_with_tags("How is my readiness today?", &tags),
        Intent::Readiness { day: DayRef::Today }
    );
}
