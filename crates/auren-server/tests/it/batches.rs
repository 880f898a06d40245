//! Batches (gaps, heart-rate samples, contact and link changes) pushed with a first time a stored batch
//! already has: a device's second flush from one moment (the strap's emitter sends two gaps from one start
//! when a late notification comes without contact and contact comes back later) or a later read of its rows.
//! The new entries are stored beside the old, pulled, and relayed to the detector once.

use crate::support::{TestServer, chunk, recent_ms, row, session, session_key};
use auren_protocol::change::{Gap, Signal, SignalChange};
use auren_protocol::{Change, GapsChange, SignalsChange};
use auren_server::topics::{BEATS_TOPIC, BeatsBatch, LiveInputs};

fn gaps(key: &str, gaps: &[(f64, f64)]) -> Change {
    Change::Gaps(GapsChange {
        session_key: key.to_owned(),
        gaps: gaps
            .iter()
            .map(|&(from_ms, to_ms)| Gap { from_ms, to_ms })
            .collect(),
    })
}

fn signals(key: &str, changes: &[(f64, Signal, bool)]) -> Change {
    Change::Signals(SignalsChange {
        session_key: key.to_owned(),
        changes: changes
            .iter()
            .map(|&(t_ms, signal, up)| SignalChange { t_ms, signal, up })
            .collect(),
    })
}

/// Every live input the server's outbox holds for the detector, in the order queued.
async fn relayed(server: &TestServer) -> LiveInputs {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM server_outbox WHERE topic = $1 ORDER BY id")
            .bind(BEATS_TOPIC)
            .fetch_all(&server.owner)
            .await
            .unwrap();
    let mut all = LiveInputs::default();
    for payload in payloads {
        let batch: BeatsBatch = serde_json::from_slice(&payload).unwrap();
        if let Some(live) = batch.live {
            all.append(live);
        }
    }
    all
}

async fn stored(server: &TestServer, kind: &str) -> Vec<Change> {
    let bodies: Vec<serde_json::Value> =
        sqlx::query_scalar("SELECT body FROM session_batches WHERE kind = $1 ORDER BY first_ms")
            .bind(kind)
            .fetch_all(&server.owner)
            .await
            .unwrap();
    bodies
        .into_iter()
        .map(|b| serde_json::from_value(b).unwrap())
        .collect()
}

/// Contact and link changes: (t_ms, signal, up).
type Changes = &'static [(f64, Signal, bool)];

/// One push's gaps and contact and link changes.
type Flush = (&'static [(f64, f64)], Changes);

#[tokio::test]
async fn a_batch_with_a_stored_first_time_adds_what_is_new_and_relays_it_once() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    use Signal::{Contact, Link};
    // Each push as the device sends its flushes: (gaps, changes) of one push.
    let pushes: [Flush; 4] = [
        // A late notification without contact: the missing notifications' gap, contact lost.
        (&[(10_000.0, 14_000.0)], &[(14_000.0, Contact, false)]),
        // Contact back, from the last notification that had it (one start); the link changes at 14 s.
        (
            &[(10_000.0, 14_000.0), (10_000.0, 21_000.0)],
            &[(14_000.0, Contact, false), (14_000.0, Link, false)],
        ),
        // A read of the second flush alone, and the same rows again: nothing new.
        (&[(10_000.0, 21_000.0)], &[(14_000.0, Link, false)]),
        (&[(10_000.0, 14_000.0), (10_000.0, 21_000.0)], &[]),
    ];
    server
        .push(
            &a,
            vec![row(1, session(&key, recent_ms())), row(2, chunk(&key, 0.0, 40))],
        )
        .await;
    let mut id = 2;
    for (g, c) in pushes {
        let mut rows = vec![row(id + 1, gaps(&key, g))];
        if !c.is_empty() {
            rows.push(row(id + 2, signals(&key, c)));
        }
        id += 2;
        let answer = server.push(&a, rows).await;
        assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    }

    let both_gaps = gaps(&key, &[(10_000.0, 14_000.0), (10_000.0, 21_000.0)]);
    let both_changes = signals(&key, &[(14_000.0, Contact, false), (14_000.0, Link, false)]);
    assert_eq!(stored(&server, "gaps").await, std::slice::from_ref(&both_gaps));
    assert_eq!(
        stored(&server, "signals").await,
        std::slice::from_ref(&both_changes)
    );
    let live = relayed(&server).await;
    let (Change::Gaps(g), Change::Signals(c)) = (&both_gaps, &both_changes) else {
        unreachable!()
    };
    assert_eq!(live.gaps, g.gaps, "each gap relayed once");
    assert_eq!(live.signals, c.changes, "each change relayed once");

    // A second device pulls the whole batches.
    let b = server.login("ada@example.com", "phone").await;
    let (_, changes) = server.pull_all(&b, None).await;
    let pulled: Vec<Change> = changes
        .iter()
        .map(|c| serde_json::from_value(c["change"].clone()).unwrap())
        .filter(|c| matches!(c, Change::Gaps(_) | Change::Signals(_)))
        .collect();
    assert_eq!(pulled, [both_gaps, both_changes]);
}

/// Contact and link changes the server's feed could not take as the device's detector did are refused with
/// a code saying why, alone: a signal from a newer device (which this server would store as "unknown"),
/// changes out of time order.
#[tokio::test]
async fn contact_and_link_changes_the_feed_cannot_take_are_refused() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    let key = session_key(&a, 1);
    use Signal::{Contact, Link, Unknown};
    let cases: [(Changes, Option<&str>); 4] = [
        (&[(1_000.0, Contact, true), (1_000.0, Link, true)], None),
        (
            &[(2_000.0, Contact, false), (3_000.0, Unknown, true)],
            Some("unsupported_row"),
        ),
        (
            &[(6_000.0, Contact, false), (5_000.0, Link, false)],
            Some("invalid_row"),
        ),
        (&[(7_000.0, Contact, false)], None),
    ];
    server
        .push(
            &a,
            vec![row(1, session(&key, recent_ms())), row(2, chunk(&key, 0.0, 40))],
        )
        .await;
    let rows = cases
        .iter()
        .enumerate()
        .map(|(i, (c, _))| row(i as i64 + 3, signals(&key, c)))
        .collect();
    let (status, answer) = server.push_raw(&a, rows).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{answer}");
    let refused: Vec<(i64, String)> = answer["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["outbox_id"].as_i64().unwrap(),
                r["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(i64, String)> = cases
        .iter()
        .enumerate()
        .filter_map(|(i, (_, code))| code.map(|c| (i as i64 + 3, c.to_owned())))
        .collect();
    assert_eq!(refused, expected, "{answer}");
    assert_eq!(stored(&server, "signals").await.len(), 2, "the others are stored");
}

/// Two pushes from one device in flight at once, the second a retry that holds the first's rows and more
/// (they were not acknowledged yet). The server applies one user's pushes one after another, in either
/// order here (several sessions, so both orders likely occur): each gap and change is relayed once.
/// (Fails when a batch with a stored first time relays all it holds instead of what was new.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_pushes_from_one_device_relay_each_entry_once() {
    let server = TestServer::start().await;
    let a = server.account("ada@example.com").await;
    use Signal::Contact;
    let mut id = 0;
    let mut expected_gaps = Vec::new();
    let mut expected_changes = Vec::new();
    for n in 1..=6 {
        let key = session_key(&a, n);
        let at = n as f64 * 100_000.0;
        server
            .push(
                &a,
                vec![
                    row(id + 1, session(&key, recent_ms())),
                    row(id + 2, chunk(&key, at, 40)),
                ],
            )
            .await;
        let first = [(at + 10_000.0, at + 14_000.0)];
        let both = [(at + 10_000.0, at + 14_000.0), (at + 10_000.0, at + 21_000.0)];
        let lost = [(at + 14_000.0, Contact, false)];
        let lost_and_back = [(at + 14_000.0, Contact, false), (at + 21_000.0, Contact, true)];
        let early = vec![row(id + 3, gaps(&key, &first)), row(id + 4, signals(&key, &lost))];
        let mut retry = early.clone();
        retry.extend([
            row(id + 5, gaps(&key, &both)),
            row(id + 6, signals(&key, &lost_and_back)),
        ]);
        id += 6;
        let (one, two) = tokio::join!(server.push(&a, early), server.push(&a, retry));
        assert!(
            one.rejected.is_empty() && two.rejected.is_empty(),
            "{one:?} {two:?}"
        );
        expected_gaps.extend(both.map(|(from_ms, to_ms)| Gap { from_ms, to_ms }));
        expected_changes.extend(lost_and_back.map(|(t_ms, signal, up)| SignalChange { t_ms, signal, up }));
    }
    let live = relayed(&server).await;
    let mut got_gaps = live.gaps.clone();
    got_gaps.sort_by(|x, y| x.from_ms.total_cmp(&y.from_ms).then(x.to_ms.total_cmp(&y.to_ms)));
    assert_eq!(got_gaps, expected_gaps, "each gap relayed once");
    let mut got_changes = live.signals.clone();
    got_changes.sort_by(|x, y| x.t_ms.total_cmp(&y.t_ms));
    assert_eq!(got_changes, expected_changes, "each change relayed once");
}
