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

#[test]
fn among_the_default_rules_ectopic_burst_is_the_arrhythmia_like_one() {
    let rules = auren_cep::compile(auren_cep::DEFAULT_RULES).unwrap();
    let like: Vec<&str> = rules
        .rules()
        .map(|r| r.name)
        .filter(|name| is_arrhythmia_like(name))
        .collect();
    assert_eq!(like, ["ectopic_burst"]);
}

/// End to end: a simulated rest session with frequent premature beats, recorded through the engine with the
/// default rules an hour before the question, stores an ectopic_burst alert; any question then gets the
/// referral first, before the model answers. The same session without premature beats stores no such alert
/// and gets none.
#[tokio::test]
async fn a_stored_ectopic_burst_alert_gets_any_question_the_referral_at_once() {
    use std::time::Duration;

    use auren_agents::redflag::REFERRAL;
    use auren_agents::{AgentEvent, RouteReason, Specialist};
    use auren_cep::{Baselines, DEFAULT_RULES, SessionKind, compile};
    use auren_engine::{SessionConfig, start_session};
    use auren_strap::Pace;
    use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
    use tokio_util::sync::CancellationToken;

    use crate::coach_rig::{RigOptions, any, now, rig, text};

    for (ectopic_per_1000_beats, referred) in [(150.0, true), (0.0, false)] {
        let rig = rig(RigOptions::default()).await;
        let mut sim = SimulatorConfig::new(Scenario::Rest, 1);
        sim.duration = Some(Duration::from_secs(600));
        sim.pace = Pace::AsFastAsPossible;
        sim.ectopic_per_1000_beats = ectopic_per_1000_beats;
        let started = now().0 - 3_600_000;
        let config = SessionConfig::new(
            SessionKind::Rest,
            started,
            compile(DEFAULT_RULES).unwrap(),
            Baselines::new(),
        );
        let source = Box::new(Simulator::new(sim).unwrap());
        let live = start_session(&rig.store, source, config, CancellationToken::new())
            .await
            .unwrap();
        live.finish().await.unwrap();
        let stored: Vec<String> = rig
            .store
            .alerts_between(started, now().0)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.rule)
            .collect();
        assert_eq!(
            stored.contains(&"ectopic_burst".to_owned()),
            referred,
            "{ectopic_per_1000_beats} per 1000: {stored:?}"
        );

        rig.fake
            .expect([any(text("Your readiness yesterday was in your normal range."))]);
        let asked = rig.ask("What was my readiness yesterday?").await;
        rig.fake.verify().unwrap();
        let first = asked.events.first();
        let safety = AgentEvent::Routed {
            specialist: Specialist::Safety,
            by: RouteReason::RedFlag,
        };
        assert_eq!(first == Some(&safety), referred, "{:?}", asked.events);
        let referral_text = asked.events.iter().find_map(|e| match e {
            AgentEvent::Text { delta } => Some(delta.starts_with(REFERRAL)),
            _ => None,
        });
        assert_eq!(referral_text, Some(referred), "the referral is the first text");
        assert_eq!(asked.outcome.answer.starts_with(REFERRAL), referred);
        assert!(asked.outcome.answer.ends_with("in your normal range."));

        // Offline, "why did the alerts fire" explains them with every stated number grounded.
        let clock = std::sync::Arc::new(auren_gateway::ManualClock::new(now()));
        let toolbox = auren_agents::Toolbox::new(rig.store.clone(), clock);
        let offline = auren_agents::offline::answer(&toolbox, "Why did the alerts fire today?")
            .await
            .unwrap();
        assert_eq!(
            offline.text.contains("ectopic_burst"),
            referred,
            "{}",
            offline.text
        );
        let claims = auren_agents::grounding::ground(&offline.text, &offline.receipts);
        let ungrounded: Vec<_> = claims.iter().filter(|c| !c.grounded).collect();
        assert!(ungrounded.is_empty(), "{ungrounded:?} in {}", offline.text);
    }
}
