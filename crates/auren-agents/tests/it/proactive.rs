//! Proactive messages: one per CNS-fatigue alert and per morning below the normal range, from the right
//! specialist, every number grounded, exactly one question, never a second one for the same trigger — not
//! even after the person deleted the first.

use auren_agents::proactive::{Trigger, after_session, triggers_of_session};
use serde_json::{Value, json};

use crate::fixture::{Plan, history};

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
    for (session, day, is_morning, specialist, link) in cases {
        let posted = after_session(&h.toolbox, session, day, is_morning).await.unwrap();
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
            after_session(&h.toolbox, session, day, is_morning)
                .await
                .unwrap()
                .is_empty()
        );
        // Deleted by the person: still nothing new.
        conversations.delete(posted[0].conversation).await.unwrap();
        assert!(
            after_session(&h.toolbox, session, day, is_morning)
                .await
                .unwrap()
                .is_empty()
        );
    }
    assert!(conversations.list().await.unwrap().is_empty());
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
