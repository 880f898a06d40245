//! The red-flag table: each symptom, negations that do not count, near misses, and the alert state.

use auren_agents::redflag::{RecentAlert, RedFlag, detect, is_arrhythmia_like};

use RedFlag::{ArrhythmiaAlert, BreathlessAtRest, ChestPain, Fainting, PalpitationsWithDizziness};

#[test]
fn symptoms_negations_and_near_misses() {
    let table: [(&str, Option<RedFlag>); 24] = [
        ("I have chest pain since this morning", Some(ChestPain)),
        (
            "There's a tightness in my chest when I climb stairs",
            Some(ChestPain),
        ),
        ("My chest hurts after coffee", Some(ChestPain)),
        ("I fainted after my interval session", Some(Fainting)),
        ("I nearly passed out in the shower", Some(Fainting)),
        ("I feel faint when I stand up", Some(Fainting)),
        ("Palpitations and I feel dizzy", Some(PalpitationsWithDizziness)),
        (
            "My heart racing at night, and I get light-headed",
            Some(PalpitationsWithDizziness),
        ),
        ("I'm short of breath at rest", Some(BreathlessAtRest)),
        (
            "I get breathless while sitting on the sofa",
            Some(BreathlessAtRest),
        ),
        ("I'm out of breath lying down", Some(BreathlessAtRest)),
        // Negations.
        ("No chest pain, just tired", None),
        ("I haven't fainted, but I feel sluggish", None),
        ("I never had palpitations, though I was dizzy once", None),
        ("Without dizziness, I notice skipped beats", None),
        // Negated in one clause, stated in another.
        ("No fever, but chest pain since yesterday", Some(ChestPain)),
        // Near misses.
        ("It was chest day at the gym", None),
        ("The strap shows a faint signal", None),
        ("I was breathless after my 10 km run", None),
        ("I feel dizzy when I stand up quickly", None),
        ("My heart was racing during the sprint", None),
        ("What is a normal resting heart rate?", None),
        ("Why is my HRV down this week?", None),
        ("Painting my chest of drawers tired me out", None),
    ];
    for (question, expected) in table {
        assert_eq!(detect(question, &[]), expected, "{question:?}");
    }
}

#[test]
fn an_arrhythmia_like_alert_is_a_red_flag_whatever_the_question() {
    let alert = |rule: &str| RecentAlert {
        rule: rule.into(),
        at_unix_ms: 0,
    };
    assert_eq!(
        detect("How was my week?", &[alert("possible_arrhythmia")]),
        Some(ArrhythmiaAlert)
    );
    assert_eq!(
        detect("How was my week?", &[alert("ectopic_burst")]),
        Some(ArrhythmiaAlert)
    );
    assert_eq!(
        detect("How was my week?", &[alert("cns_fatigue"), alert("signal_lost")]),
        None
    );
    assert_eq!(
        detect("I have chest pain", &[alert("irregular_rhythm")]),
        Some(ChestPain),
        "symptoms first"
    );
    let table = [
        ("AFib_suspected", true),
        ("irregular_rr", true),
        ("artifact_burst", false),
        ("hr_above_ceiling", false),
    ];
    for (rule, expected) in table {
        assert_eq!(is_arrhythmia_like(rule), expected, "{rule}");
    }
}
