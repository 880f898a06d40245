//! Stored session panels kept by the engine: a session ended through the engine has its panel stored under
//! the current method at once (get_session then reads it), and a refresh computes every missing or stale
//! panel of an ended session exactly once.

use std::time::Duration;

use auren_cep::{Baselines, DEFAULT_RULES, SessionKind, compile};
use auren_engine::panels::{
    PANEL_COMPUTATION, UNENDED_SESSION_QUIET_MS, compute_panel, panel_method, refresh_panels,
};
use auren_engine::{SessionConfig, start_session};
use auren_store::{NewSession, SessionId, StoredPanel};
use auren_strap::Pace;
use auren_strap::simulator::{Scenario, Simulator, SimulatorConfig};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::fixture::{Plan, history};

#[test]
fn the_method_names_the_computation_and_its_fingerprint() {
    let method = panel_method();
    assert!(method.starts_with(PANEL_COMPUTATION), "{method}");
    for part in [", settings ", ", probe "] {
        let at = method
            .find(part)
            .unwrap_or_else(|| panic!("{part} missing from {method}"));
        let hex: String = method[at + part.len()..].chars().take(16).collect();
        assert!(
            hex.len() == 16 && hex.chars().all(|c| c.is_ascii_hexdigit()),
            "{method}"
        );
    }
}

#[tokio::test]
async fn a_session_ended_by_the_engine_has_its_panel_stored() {
    let h = history(Plan {
        days: 10,
        ..Plan::default()
    })
    .await;
    let mut sim = SimulatorConfig::new(Scenario::Rest, 3);
    sim.duration = Some(Duration::from_secs(300));
    sim.pace = Pace::AsFastAsPossible;
    let source = Box::new(Simulator::new(sim).unwrap());
    let rules = compile(DEFAULT_RULES).unwrap();
    let config = SessionConfig::new(SessionKind::Rest, h.today * 86_400_000, rules, Baselines::new());
    let live = start_session(&h.store, source, config, CancellationToken::new())
        .await
        .unwrap();
    let id = live.session_id();
    live.finish().await.unwrap();

    let view = h.store.session_panel_view(SessionId(id)).await.unwrap().unwrap();
    let stored = view.panel.expect("stored at the session's end");
    assert!(stored.is_fresh_for(&view.session, panel_method()));
    assert!(stored.n_beats > 250, "{stored:?}");
    let computed = compute_panel(&h.store, id).await.unwrap();
    assert_eq!(stored.values, computed.values);
    // get_session reads the stored values: the same numbers the computation gives.
    let out = h.toolbox.call("get_session", json!({ "id": id })).await.unwrap();
    let sdnn = computed
        .values
        .iter()
        .find(|(k, _)| k == "sdnn_ms")
        .and_then(|(_, v)| *v);
    assert!(sdnn.is_some());
    assert!(
        out.receipts[0].values.iter().any(|v| Some(v.value) == sdnn),
        "{:?}",
        out.receipts
    );
    assert!(
        !h.store
            .sessions_needing_panel(panel_method(), i64::MIN)
            .await
            .unwrap()
            .contains(&SessionId(id))
    );
}

#[tokio::test]
async fn a_refresh_computes_each_missing_or_stale_panel_once() {
    let h = history(Plan {
        days: 10,
        ..Plan::default()
    })
    .await;
    let now = h.today * 86_400_000 + 9 * 3_600_000;
    let over_before = now - UNENDED_SESSION_QUIET_MS;
    // The fixture's only session with beats is today's morning (ended, no panel yet).
    let morning = h
        .store
        .sessions_needing_panel(panel_method(), over_before)
        .await
        .unwrap();
    assert_eq!(morning.len(), 1);
    // A session still being recorded (its one beat a minute before the refresh) is left out; it gets its
    // panel when it ends.
    let live = h
        .store
        .start_session(&NewSession {
            started_at: now - 61_000,
            kind: auren_store::SessionKind::Rest,
            source: "simulator:rest".into(),
            strap_address: None,
            label: None,
        })
        .await
        .unwrap();
    let w = h.store.session_writer(live).await.unwrap();
    w.beat(1000.0, 1000.0, None);
    w.finish().await.unwrap();

    let cases = [
        // (what was stored before the refresh, panels the refresh stores)
        ("nothing", None, 1),
        ("a fresh panel", Some(panel_method().to_owned()), 0),
        (
            "a panel of another computation",
            Some("auren-engine session panel; v0".to_owned()),
            1,
        ),
    ];
    for (name, method, want) in cases {
        if let Some(method) = method {
            let stored = compute_panel(&h.store, morning[0].0).await.unwrap().stored();
            let panel = StoredPanel { method, ..stored };
            h.store.put_session_panel(&panel, now).await.unwrap();
        }
        let done = refresh_panels(&h.store, now).await.unwrap();
        assert_eq!((done.stored, done.failed), (want, 0), "{name}");
        assert!(
            h.store
                .sessions_needing_panel(panel_method(), over_before)
                .await
                .unwrap()
                .is_empty(),
            "{name}"
        );
        let again = refresh_panels(&h.store, now).await.unwrap();
        assert_eq!(again.stored, 0, "{name}");
    }
}
