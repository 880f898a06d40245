//! The routing suite: 30 questions, which specialist each goes to and whether the rules decide; the
//! undecided ones are routed by the (scripted) model router in a real turn.

use auren_agents::redflag::RecentAlert;
use auren_agents::{AgentEvent, RouteReason, Specialist, intent, routing};
use auren_fake_llm::{Expect, Step};

use crate::coach_rig::{RigOptions, rig, text};

use Specialist::{Analyst, Coach, Neuroscientist};

/// `(question, a recent cns_fatigue alert, the rules' decision)`; `None` goes to the model router.
pub const SUITE: [(&str, bool, Option<Specialist>); 30] = [
    ("Why is my HRV down this week?", false, Some(Neuroscientist)),
    ("What was my readiness yesterday?", false, Some(Analyst)),
    (
        "What does a low RMSSD mean for my nervous system?",
        false,
        Some(Neuroscientist),
    ),
    ("Compare this week versus last week", false, Some(Analyst)),
    ("Should I train hard today?", false, Some(Coach)),
    ("Give me a plan to improve my recovery", false, Some(Coach)),
    ("Am I fatigued?", false, Some(Neuroscientist)),
    ("Show my last session", false, Some(Analyst)),
    ("List my alerts from this month", false, Some(Analyst)),
    (
        "Does alcohol lower my HRV? Is the effect significant?",
        false,
        Some(Analyst),
    ),
    ("Explain parasympathetic activity", false, Some(Neuroscientist)),
    ("What habits help my sleep?", false, Some(Coach)),
    (
        "I'm training for a marathon, what's a good schedule?",
        false,
        Some(Coach),
    ),
    ("Is my stress level high?", false, Some(Neuroscientist)),
    (
        "What is the average resting heart rate over the month?",
        false,
        Some(Analyst),
    ),
    ("How is my trend this month?", false, Some(Analyst)),
    ("Why did the cns fatigue alert fire?", false, Some(Neuroscientist)),
    ("Recommend tips for better rest", false, Some(Coach)),
    ("What is DFA alpha1?", false, Some(Neuroscientist)),
    ("Show the correlation between sleep and HRV", false, Some(Analyst)),
    ("What should my goal be, and why?", false, Some(Coach)),
    (
        "Is my sympathetic system overreaching after training?",
        false,
        Some(Neuroscientist),
    ),
    ("Show my sessions", false, Some(Analyst)),
    ("Thoughts on my week?", false, Some(Analyst)),
    ("How am I doing?", true, Some(Neuroscientist)),
    ("How am I doing?", false, None),
    ("Hello", false, None),
    ("What do you think?", false, None),
    ("Tell me something interesting", false, None),
    ("Can you help me?", false, None),
];

fn alerts(cns: bool) -> Vec<RecentAlert> {
    if cns {
        vec![RecentAlert {
            rule: "cns_fatigue".into(),
            at_unix_ms: 0,
        }]
    } else {
        Vec::new()
    }
}

#[test]
fn the_rules_route_the_suite() {
    let mut wrong = Vec::new();
    for (question, cns, expected) in SUITE {
        let got = routing::by_rules(question, &intent::classify(question), &alerts(cns));
        if got != expected {
            wrong.push(format!(
                "{question:?} (alert: {cns}): expected {expected:?}, got {got:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_router_reply_names_a_specialist_or_defaults_to_the_analyst() {
    let table = [
        ("coach", Coach),
        ("Neuroscientist.", Neuroscientist),
        ("analyst", Analyst),
        ("The coach, not the analyst", Coach),
        ("no idea", Analyst),
    ];
    for (reply, expected) in table {
        assert_eq!(routing::parse_router_reply(reply), expected, "{reply:?}");
    }
}

#[tokio::test]
async fn undecided_questions_are_routed_by_one_model_call() {
    let rig = rig(RigOptions::default()).await;
    let undecided: Vec<&str> = SUITE
        .iter()
        .filter(|(_, cns, expected)| expected.is_none() && !cns)
        .map(|(q, _, _)| *q)
        .collect();
    let picks = ["coach", "neuroscientist", "analyst"];
    for (n, question) in undecided.iter().enumerate() {
        let pick = picks[n % picks.len()];
        rig.fake.expect([
            Step::new(
                Expect::any()
                    .system_contains("You route")
                    .last_user_contains(question)
                    .tools_offered(Vec::<String>::new()),
                text(pick),
            ),
            Step::new(
                Expect::any().system_contains(&format!("You are the {pick}")),
                text("Here is what I see."),
            ),
        ]);
        let asked = rig.ask(question).await;
        rig.fake.verify().unwrap_or_else(|e| panic!("{question}: {e}"));
        let routed = asked.events.iter().find_map(|e| match e {
            AgentEvent::Routed { specialist, by } => Some((*specialist, *by)),
            _ => None,
        });
        let expected = auren_agents::turn::system_prompt(asked.outcome.specialist);
        assert!(expected.contains(pick), "{question}");
        assert_eq!(routed.map(|r| r.1), Some(RouteReason::Model), "{question}");
        assert_eq!(
            asked.outcome.usage.model_calls, 2,
            "{question}: router + specialist"
        );
    }
}
