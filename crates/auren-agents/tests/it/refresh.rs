//! After new data: a morning that arrives re-tests the hypotheses and flips the one it decides; a history of
//! 30 mornings in a row makes one milestone memory however often the refresh runs (and none again after
//! the person forgot it); a CNS-fatigue alert that arrives by sync gets exactly one proactive message, and
//! an old one or an athlete's none; a refresh over unchanged data stores nothing.

use std::time::Duration;

use auren_agents::refresh::{Arrival, after_new_data};
use auren_agents::{Coach, CoachConfig};
use auren_clock::MS_PER_DAY;
use auren_gateway::Clock;
use auren_store::memory::{AsOf, MemoryKind};
use auren_store::{NewSession, SessionKind};
use serde_json::json;

use crate::fixture::{History, Plan, history};

fn offline_coach(h: &History) -> Coach {
    Coach::new(None, h.toolbox.clone(), CoachConfig::default())
}

async fn milestone_memories(h: &History) -> Vec<String> {
    let now = h.clock.now().0;
    h.store
        .memories()
        .list(AsOf::at(now))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind == MemoryKind::Milestone)
        .map(|m| m.text)
        .collect()
}

async fn proactive_keys(h: &History) -> Vec<String> {
    sqlx::query_scalar("SELECT trigger_key FROM proactive_messages ORDER BY trigger_key")
        .fetch_all(h.store.pool())
        .await
        .unwrap()
}

/// A session of `kind` started at `hour` on `day`, tagged `tag` when given, with a CNS-fatigue alert when
/// `fatigue`: what a pull writes when another device recorded it (or the server's rules fired on it).
async fn arrived_session(h: &History, day: i64, hour: i64, tag: Option<&str>, fatigue: bool) -> i64 {
    let id = h
        .store
        .start_session(&NewSession {
            started_at: day * MS_PER_DAY + hour * 3_600_000,
            kind: if fatigue {
                SessionKind::Exercise
            } else {
                SessionKind::Rest
            },
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let w = h.store.session_writer(id).await.unwrap();
    if let Some(tag) = tag {
        w.tag(60_000.0, tag);
    }
    if fatigue {
        let evidence = json!({
            "values": [{"name": "rmssd_60s", "value": 10.2}, {"name": "hr", "value": 151.0}],
            "window_from_ms": 600_000, "window_to_ms": 660_000, "held_since_ms": 630_000, "steps_at_ms": []
        });
        w.alert(
            660_000.0,
            "cns_fatigue",
            "warning",
            "RMSSD stayed low at a moderate heart rate",
            &evidence.to_string(),
        );
    }
    w.finish().await.unwrap();
    id.0
}

#[tokio::test]
async fn a_morning_that_arrives_flips_the_hypothesis_it_decides() {
    let h = history(Plan {
        days: 90,
        ..Plan::default()
    })
    .await;
    let coach = offline_coach(&h);
    // Waiting for exactly one more morning after a drink: min n is one above the exposed mornings so far.
    let probe = json!({"statement": "probe", "metric": "ln_rmssd", "exposure_tag": "alcohol"});
    let out = h.toolbox.call("propose_hypothesis", probe).await.unwrap();
    let exposed = out.content["evidence"]["n_exposed"].as_u64().unwrap();
    let args = json!({"statement": "alcohol lowers my next-morning HRV", "metric": "ln_rmssd",
                      "exposure_tag": "alcohol", "min_n": exposed + 1});
    let out = h.toolbox.call("propose_hypothesis", args).await.unwrap();
    let id = out.content["id"].as_i64().unwrap();
    assert_eq!(out.content["status"], json!("open"), "{}", out.content);

    // Nothing arrived: nothing is stored.
    let none = after_new_data(&coach, &Arrival::Pulled).await.unwrap();
    assert!(none.retests.is_empty(), "{:?}", none.retests);
    let tests_before = h
        .store
        .hypotheses()
        .tests(auren_store::memory::HypothesisId(id))
        .await
        .unwrap()
        .len();

    // Tonight's drink and tomorrow's low morning arrive from another device.
    arrived_session(&h, h.today, 21, Some("alcohol"), false).await;
    h.clock.advance(Duration::from_secs(86_400));
    h.store
        .add_morning_reading(h.today + 1, 3.6, Some(58.0), None)
        .await
        .unwrap();
    let refreshed = after_new_data(&coach, &Arrival::Pulled).await.unwrap();

    let flipped = refreshed.retests.iter().find(|r| r.id == id).unwrap();
    assert_eq!(
        (flipped.before.as_str(), flipped.after.as_str()),
        ("open", "supported"),
        "{flipped:?}"
    );
    assert!(flipped.evidence.p.is_some_and(|p| p < 0.05));
    let row = h
        .store
        .hypotheses()
        .get(auren_store::memory::HypothesisId(id))
        .await
        .unwrap();
    assert_eq!(row.status.as_str(), "supported");
    let tests = h
        .store
        .hypotheses()
        .tests(auren_store::memory::HypothesisId(id))
        .await
        .unwrap();
    assert_eq!(
        tests.len(),
        tests_before + 1,
        "one test stored, with its evidence"
    );
    assert!(tests[tests.len() - 1].evidence_json.contains("\"receipt\""));

    // The same data again: no test stored.
    let again = after_new_data(&coach, &Arrival::Pulled).await.unwrap();
    assert!(again.retests.is_empty(), "{:?}", again.retests);
}

#[tokio::test]
async fn thirty_mornings_in_a_row_make_one_milestone_memory_however_often_it_runs() {
    let h = history(Plan {
        days: 30,
        ..Plan::default()
    })
    .await;
    let coach = offline_coach(&h);
    let arrivals = [
        Arrival::Pulled,
        Arrival::Pulled,
        Arrival::Mornings {
            days: (h.today - 29..=h.today).collect(),
        },
        Arrival::Session {
            id: 1,
            day: h.today,
            morning: true,
        },
    ];
    let mut stored = 0;
    for arrival in &arrivals {
        stored += after_new_data(&coach, arrival).await.unwrap().milestones.len();
    }
    assert_eq!(stored, 1);
    let texts = milestone_memories(&h).await;
    assert_eq!(texts.len(), 1, "{texts:?}");
    assert!(texts[0].starts_with("30 morning readings in a row"), "{texts:?}");

    // Forgotten by the person: not made again.
    let id = h.store.memories().history().await.unwrap()[0].id;
    h.store.memories().forget(id).await.unwrap();
    let refreshed = after_new_data(&coach, &Arrival::Pulled).await.unwrap();
    assert!(refreshed.milestones.is_empty(), "{refreshed:?}");
    assert!(milestone_memories(&h).await.is_empty());
}

/// Device B pulled the 30 mornings and A's milestone memory, then the tombstone of the person forgetting it
/// on A (which erased B's copy): B keeps no receipt of it (receipts are local), so a refresh after that pull
/// that detected milestones would store the forgotten milestone again and push it back to A.
#[tokio::test]
async fn a_pull_never_makes_a_milestone_so_one_forgotten_elsewhere_stays_forgotten() {
    let h = history(Plan {
        days: 30,
        ..Plan::default()
    })
    .await;
    let coach = offline_coach(&h);
    for _ in 0..2 {
        let refreshed = after_new_data(&coach, &Arrival::Pulled).await.unwrap();
        assert!(refreshed.milestones.is_empty(), "{refreshed:?}");
    }
    assert!(milestone_memories(&h).await.is_empty());
}

#[tokio::test]
async fn an_alert_pulled_by_sync_gets_exactly_one_proactive_message() {
    let h = history(Plan {
        days: 90,
        ..Plan::default()
    })
    .await;
    let coach = offline_coach(&h);
    // The fixture's alerts are weeks old: history, not news.
    let first = after_new_data(&coach, &Arrival::Pulled).await.unwrap();
    assert!(first.posted.is_empty(), "{:?}", first.posted);
    // This morning's session, recorded on a phone, and its alert (fired there or by the server's rules);
    // and an athlete's fatigued session, pulled by this person as their coach: not theirs to be told about.
    let session = arrived_session(&h, h.today, 7, None, true).await;
    let athletes = arrived_session(&h, h.today, 6, None, true).await;
    sqlx::query("UPDATE sessions SET athlete = 'user-of-an-athlete' WHERE id = ?")
        .bind(athletes)
        .execute(h.store.pool())
        .await
        .unwrap();
    h.clock.advance(Duration::from_secs(4 * 3_600));
    let mut posted = Vec::new();
    for _ in 0..2 {
        posted.extend(after_new_data(&coach, &Arrival::Pulled).await.unwrap().posted);
    }
    assert_eq!(posted.len(), 1, "{posted:?}");
    let keys = proactive_keys(&h).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("alert:"));
    let messages = h
        .store
        .conversations()
        .messages(posted[0].conversation)
        .await
        .unwrap();
    assert_eq!(messages[0].specialist.as_deref(), Some("neuroscientist"));
    assert!(messages[0].text.contains(&format!("#/history/{session}")));
}

#[tokio::test]
async fn a_pull_while_the_model_writes_an_alerts_message_leaves_that_trigger_to_it() {
    use crate::coach_rig::{Wire, any, coach_config, fake_gateway};
    use auren_agents::refresh::post_proactive;
    use auren_agents::{GuardLimits, MemoryApply};
    let h = history(Plan {
        days: 90,
        ..Plan::default()
    })
    .await;
    // This morning's run stopped here with a CNS-fatigue alert; its specialist is asked to write.
    let session = arrived_session(&h, h.today, 7, None, true).await;
    let fake = auren_fake_llm::FakeLlm::start().await.unwrap();
    let clock = std::sync::Arc::clone(&h.clock) as std::sync::Arc<dyn Clock>;
    let gateway = fake_gateway(&fake, Wire::OpenAi, "", clock).await;
    // The model never answers while the test looks: the write is in flight until the task is dropped.
    fake.expect([any(auren_fake_llm::Script::HangUntilDisconnect)]);
    let config = coach_config(Wire::OpenAi, GuardLimits::default(), MemoryApply::AskFirst);
    let with_model = Coach::new(Some(gateway), h.toolbox.clone(), config);
    let stopped = Arrival::Session {
        id: session,
        day: h.today,
        morning: false,
    };
    let writing = tokio::spawn(async move { post_proactive(&with_model, &stopped).await });
    fake.wait_for_requests(1).await;

    // A sync round pulls meanwhile: the trigger is being written, so no template is posted for it.
    let pulled = after_new_data(&offline_coach(&h), &Arrival::Pulled)
        .await
        .unwrap();
    assert!(pulled.posted.is_empty(), "{:?}", pulled.posted);
    assert!(proactive_keys(&h).await.is_empty());

    // A write that never finished (the app quit) leaves the trigger free for the next refresh.
    writing.abort();
    assert!(writing.await.is_err_and(|e| e.is_cancelled()));
    let later = after_new_data(&offline_coach(&h), &Arrival::Pulled)
        .await
        .unwrap();
    assert_eq!(later.posted.len(), 1, "{:?}", later.posted);
}
