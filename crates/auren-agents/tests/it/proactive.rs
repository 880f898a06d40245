//! Proactive messages: one per CNS-fatigue alert and per morning below the normal range, from the right
//! specialist, every number grounded, exactly one question, never a second one for the same trigger — not
//! even after the person deleted the first. With a model (the scripted fake behind a real gateway) the
//! specialist writes it from the trigger's receipts when the budget allows; the template otherwise.

use std::sync::Arc;

use auren_agents::proactive::{Trigger, after_session, triggers_of_session};
use auren_agents::{Coach, CoachConfig, GuardLimits, MemoryApply};
use auren_fake_llm::Script;
use auren_gateway::Clock;
use auren_store::conversations::Grounding;
use serde_json::{Value, json};

use crate::coach_rig::{Wire, any, coach_config, fake_gateway, text};
use crate::fixture::{History, Plan, history};

/// The coach with no model: every proactive message is the template.
fn offline_coach(h: &History) -> Coach {
    Coach::new(None, h.toolbox.clone(), CoachConfig::default())
}

async fn latest_morning(tb: &auren_agents::Toolbox) -> i64 {
    let out = tb
        .call("list_sessions", json!({ "kind": "morning", "limit": 1 }))
        .await
        .unwrap();
    out.content["sessions"][0]["id"].as_i64().unwrap()
}

async fn first_alert(tb: &auren_agents::Toolbox, today: i64) -> (i64, i64, i64) {
    let from = auren_agents::tools::days::format_day(today - 29);
    let out = tb.call("get_alerts", json!({ "from": from })).await.unwrap();
    let alert: &Value = &out.content["alerts"][0];
    let at = alert["at"].as_str().unwrap();
    let day = auren_agents::tools::days::parse_day(&at[..10], today).unwrap();
    (
        alert["id"].as_i64().unwrap(),
        alert["session_id"].as_i64().unwrap(),
        day,
    )
}

#[tokio::test]
async fn triggers_are_the_sessions_fatigue_alerts_and_a_low_morning() {
    let cases = [
        // (last week's shift of lnRMSSD, a morning below the range expected)
        (-0.4, true),
        (0.0, false),
    ];
    for (shift, below) in cases {
        let h = history(Plan {
            days: 90,
            last_week_shift: shift,
            ..Plan::default()
        })
        .await;
        let morning = latest_morning(&h.toolbox).await;
        let triggers = triggers_of_session(&h.toolbox, morning, h.today, true)
            .await
            .unwrap();
        let want = if below {
            vec![Trigger::MorningBelowRange { day: h.today }]
        } else {
            Vec::new()
        };
        assert_eq!(triggers, want, "shift {shift}");
        let (alert_id, session, day) = first_alert(&h.toolbox, h.today).await;
        let triggers = triggers_of_session(&h.toolbox, session, day, false)
            .await
            .unwrap();
        assert_eq!(triggers, vec![Trigger::CnsFatigue { alert_id, day }]);
        // Another session of that day raised nothing.
        assert!(
            triggers_of_session(&h.toolbox, morning, day, false)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

#[tokio::test]
async fn one_grounded_message_per_trigger_even_after_the_conversation_is_deleted() {
    let h = history(Plan {
        days: 90,
        last_week_shift: -0.4,
        ..Plan::default()
    })
    .await;
    let (_, session, day) = first_alert(&h.toolbox, h.today).await;
    let morning = latest_morning(&h.toolbox).await;
    let cases = [
        (
            session,
            day,
            false,
            "neuroscientist",
            format!("#/history/{session}"),
        ),
        (
            morning,
            h.today,
            true,
            "coach",
            format!("#/morning/{}", auren_agents::tools::days::format_day(h.today)),
        ),
    ];
    let conversations = h.store.conversations();
    let coach = offline_coach(&h);
    for (session, day, is_morning, specialist, link) in cases {
        let posted = after_session(&coach, session, day, is_morning).await.unwrap();
        assert_eq!(posted.len(), 1, "{specialist}");
        let messages = conversations.messages(posted[0].conversation).await.unwrap();
        assert_eq!(messages.len(), 1);
        let m = &messages[0];
        assert_eq!(m.specialist.as_deref(), Some(specialist));
        assert!(m.offline && m.model.is_none(), "written without a model");
        assert!(m.text.contains(&link), "{link} missing from {}", m.text);
        assert_eq!(m.text.matches('?').count(), 1, "exactly one question: {}", m.text);
        let claims = conversations.claims(m.id).await.unwrap();
        assert!(!claims.is_empty(), "no number in {}", m.text);
        assert!(
            claims.iter().all(|c| matches!(
                c.grounding,
                auren_store::conversations::Grounding::Grounded { .. }
            )),
            "{claims:?} in {}",
            m.text
        );
        // The same session again: nothing new.
        assert!(
            after_session(&coach, session, day, is_morning)
                .await
                .unwrap()
                .is_empty()
        );
        // Deleted by the person: still nothing new.
        conversations.delete(posted[0].conversation).await.unwrap();
        assert!(
            after_session(&coach, session, day, is_morning)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(conversations.list().await.unwrap().is_empty());
}

/// What the fake model does with the one call.
#[derive(Clone, Copy, Debug)]
enum Answer {
    /// Writes a message about the session (one question, one grounded and one ungrounded number).
    Message,
    /// Writes this text.
    Text(&'static str),
    /// Is never called: the budget refuses first.
    NotCalled,
    /// Fails with a 503.
    Failing,
}

/// What became of the one message of a CNS-fatigue trigger.
#[derive(Debug, PartialEq)]
enum Written {
    /// By the model, with its usage counted.
    Model,
    /// The template, with a step of this kind saying why.
    Template { step: &'static str },
}

#[tokio::test]
async fn the_specialist_writes_it_through_the_gateway_when_the_budget_allows() {
    let refusing = "[budget]\ndaily_usd = 0.000000001";
    let cases = [
        ("budget allows", "", Answer::Message, Written::Model),
        (
            "budget refuses",
            refusing,
            Answer::NotCalled,
            Written::Template { step: "guard" },
        ),
        (
            "two questions",
            "",
            Answer::Text("Tired? Or did you sleep badly?"),
            Written::Template { step: "error" },
        ),
        (
            "provider failing",
            "",
            Answer::Failing,
            Written::Template { step: "error" },
        ),
    ];
    for (name, budget, answer, want) in cases {
        let h = history(Plan::default()).await;
        let (_, session, day) = first_alert(&h.toolbox, h.today).await;
        let fake = auren_fake_llm::FakeLlm::start().await.unwrap();
        let clock = Arc::clone(&h.clock) as Arc<dyn Clock>;
        let gateway = fake_gateway(&fake, Wire::OpenAi, budget, clock).await;
        let config = coach_config(Wire::OpenAi, GuardLimits::default(), MemoryApply::AskFirst);
        let coach = Coach::new(Some(gateway), h.toolbox.clone(), config);
        // The alert's 11.6 ms is in the receipts (grounded); 42 ms is the model's own (not).
        let model_text = format!(
            "RMSSD held at 11.6 ms in [your session](#/history/{session}), against 42 ms at rest. \
             Did this session feel harder than planned?"
        );
        fake.expect(match answer {
            Answer::Message => vec![any(text(&model_text))],
            Answer::Text(t) => vec![any(text(t))],
            Answer::NotCalled => vec![],
            Answer::Failing => vec![any(Script::Status {
                status: 503,
                retry_after: None,
            })],
        });
        let posted = after_session(&coach, session, day, false).await.unwrap();
        fake.verify().unwrap();
        assert_eq!(posted.len(), 1, "{name}");
        let conversations = h.store.conversations();
        let m = &conversations.messages(posted[0].conversation).await.unwrap()[0];
        assert_eq!(m.specialist.as_deref(), Some("neuroscientist"), "{name}");
        assert_eq!(m.text.matches('?').count(), 1, "{name}: {}", m.text);
        assert!(
            m.text.contains(&format!("#/history/{session}")),
            "{name}: {}",
            m.text
        );
        let claims = conversations.claims(m.id).await.unwrap();
        let steps = conversations.steps(m.id).await.unwrap();
        let receipts = conversations.message_receipts(m.id).await.unwrap();
        assert!(!receipts.is_empty(), "{name}");
        let calls = m.usage.as_ref().map_or(0, |u| u.model_calls);
        match want {
            Written::Model => {
                assert_eq!(m.text, model_text);
                assert!(
                    !m.offline && m.model.as_deref() == Some("p:gpt-4.1-mini"),
                    "{name}"
                );
                let usage = m.usage.as_ref().unwrap();
                assert!(usage.tokens_in > 0 && usage.cost_usd > 0.0, "{usage:?}");
                assert_eq!(calls, 1);
                // The one request carried the trigger's receipts: their ids and the alert's value.
                let body = fake.requests()[0].body.to_string();
                for receipt in &receipts {
                    assert!(body.contains(&receipt.id), "{} missing from {body}", receipt.id);
                }
                assert!(body.contains("11.6"), "{body}");
                assert!(steps.iter().any(|s| s.kind == "model_request"));
                let grounded = |value: f64| {
                    claims
                        .iter()
                        .find(|c| c.value == value)
                        .map(|c| matches!(c.grounding, Grounding::Grounded { .. }))
                };
                assert_eq!(grounded(11.6), Some(true), "{claims:?}");
                assert_eq!(grounded(42.0), Some(false), "{claims:?}");
            }
            Written::Template { step } => {
                assert!(m.offline && m.model.is_none(), "{name}");
                assert!(
                    m.text.starts_with("From your neuroscientist"),
                    "{name}: {}",
                    m.text
                );
                assert!(steps.iter().any(|s| s.kind == step), "{name}: {steps:?}");
                assert!(
                    claims
                        .iter()
                        .all(|c| matches!(c.grounding, Grounding::Grounded { .. })),
                    "{name}: {claims:?}"
                );
                // A model that answered is still paid for: its call is the message's usage.
                assert_eq!(calls, u32::from(matches!(answer, Answer::Text(_))), "{name}");
            }
        }
        // One message per trigger: a second pass sends nothing and posts nothing.
        fake.expect([]);
        let again = after_session(&coach, session, day, false).await.unwrap();
        fake.verify().unwrap();
        assert!(again.is_empty(), "{name}");
        let sent = usize::from(!matches!(answer, Answer::NotCalled));
        assert_eq!(fake.requests().len(), sent, "{name}");
    }
}

#[test]
fn evidence_names_carry_their_metrics_unit() {
    use auren_agents::Unit;
    use auren_agents::tools::receipts::unit_of_key;
    let cases = [
        ("avg(ln_rmssd, 2m)", Unit::LnMs),
        ("baseline.ln_rmssd_lo", Unit::LnMs),
        ("avg(hr, 2m)", Unit::Bpm),
        ("baseline.resting_hr", Unit::Bpm),
        ("rmssd_60s", Unit::Ms),
        ("min(dfa_alpha1, 5m)", Unit::Plain),
        ("hf_ms2", Unit::Ms2),
        ("pnn50_pct", Unit::Percent),
        ("avg(", Unit::Plain),
    ];
    for (name, unit) in cases {
        assert_eq!(unit_of_key(name), unit, "{name}");
    }
}
