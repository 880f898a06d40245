//! The routing suite: 30 questions, which specialist each goes to and whether the rules decide; the
//! undecided ones are routed by the (scripted) model router in a real turn.

use auren_agents::redflag::RecentAlert;
use auren_agents::{AgentEvent, RouteReason, Specialist, intent, routing};
use auren_fake_llm::{Expect, Step};

use crate::coach_rig::{RigOptions, rig, text};

use Specialist::{Analyst, Coach, Neuroscientist};
use routing::SUITE;

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
