//! A pulled page applied to the local store, in one transaction with the raised cursor, so a crash halfway
//! re-pulls the page rather than skipping it. Immutable rows are inserted once (their natural keys make a
//! repeat a no-op); editable fields merge by LWW with what this database holds; a tombstone is final. A
//! change that cannot be applied (an unknown type, a session not pulled, a bad value) is skipped with a
//! warning: one bad row must not stop the device from converging on the rest.

use crate::outgoing::{hlc_of, stamp_of};
use auren_protocol::change::Signal;
use auren_protocol::{Change, Lww, PulledChange, TieBreak};
use auren_store::memory::{MEMORY_COLLECTION, MemoryField};
use auren_store::{
    ATHLETE_MORNING_COLLECTION, AlertRow, BeatRow, GapRow, PulledSession, SETTING_COLLECTION, SETTING_FIELD,
    SessionId, SessionKind, SignalRow, Store, StoreError, SyncTx, athlete_morning_key,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Who the page is about: the account itself, or an athlete (user id, and the email the local copies carry).
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    pub athlete: Option<(&'a str, &'a str)>,
}

/// Applies `changes` and raises the scope's cursor to `cursor`; returns how many changes were applied.
pub async fn apply_page(
    store: &Store,
    scope: Scope<'_>,
    changes: &[PulledChange],
    cursor: i64,
) -> Result<usize, StoreError> {
    let mut tx = store.begin_sync().await?;
    let mut applied = 0;
    for pulled in changes {
        match apply(&mut tx, scope, &pulled.change).await? {
            Ok(()) => applied += 1,
            Err(why) => tracing::warn!(
                version = pulled.version,
                kind = pulled.change.type_name(),
                why,
                "pulled change skipped"
            ),
        }
    }
    tx.raise_cursor(scope.athlete.map(|a| a.0), cursor).await?;
    tx.commit().await?;
    if changes.iter().any(
        |c| matches!(&c.change, Change::Tombstone(t) if t.collection == auren_protocol::Collection::Memory),
    ) {
        // An erased memory's text may still sit in old page images of the WAL. The erasure is committed;
        // if a reader holds the WAL now, the next forget (or checkpoint) empties it.
        if let Err(e) = store.memories().clear_wal().await {
            tracing::warn!(error = %e, "the WAL still holds pages of a forgotten memory");
        }
    }
    Ok(applied)
}

type Applied = Result<(), &'static str>;

async fn session_of(tx: &mut SyncTx, key: &str) -> Result<Result<SessionId, &'static str>, StoreError> {
    Ok(tx
        .session_by_key(key)
        .await?
        .ok_or("its session has not been pulled"))
}

async fn apply(tx: &mut SyncTx, scope: Scope<'_>, change: &Change) -> Result<Applied, StoreError> {
    let athlete_email = scope.athlete.map(|a| a.1.to_owned());
    match change {
        Change::Session(s) => {
            let pulled = PulledSession {
                started_at: s.started_at,
                ended_at: s.ended_at,
                kind: SessionKind::parse(&s.kind).unwrap_or(SessionKind::Other),
                source: s.source.clone(),
                athlete: athlete_email,
            };
            tx.upsert_session(&s.session_key, &pulled).await?;
            Ok(Ok(()))
        }
        Change::Beats(chunk) => {
            let id = match session_of(tx, &chunk.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            let Ok(beats) = chunk.decode() else {
                return Ok(Err("its beats do not decode"));
            };
            let rows: Vec<BeatRow> = beats
                .into_iter()
                .map(|b| BeatRow {
                    t_ms: b.t_ms,
                    rr_ms: b.rr_ms,
                    artifact: b.artifact,
                })
                .collect();
            tx.insert_beats(id, &rows).await?;
            Ok(Ok(()))
        }
        Change::Gaps(g) => {
            let id = match session_of(tx, &g.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            let gaps: Vec<GapRow> = g
                .gaps
                .iter()
                .filter(|g| g.from_ms.is_finite() && g.to_ms.is_finite() && g.to_ms >= g.from_ms)
                .map(|g| GapRow {
                    from_ms: g.from_ms,
                    to_ms: g.to_ms,
                })
                .collect();
            tx.insert_gaps(id, &gaps).await?;
            Ok(Ok(()))
        }
        Change::HrSamples(h) => {
            let id = match session_of(tx, &h.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            let samples: Vec<(f64, f64)> = h
                .samples
                .iter()
                .filter(|s| s.t_ms.is_finite() && s.bpm.is_finite() && s.bpm >= 0.0)
                .map(|s| (s.t_ms, s.bpm))
                .collect();
            tx.insert_hr(id, &samples).await?;
            Ok(Ok(()))
        }
        Change::Signals(c) => {
            let id = match session_of(tx, &c.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            let changes: Vec<SignalRow> = c
                .changes
                .iter()
                .filter(|c| c.t_ms.is_finite())
                .filter_map(|c| {
                    let signal = match c.signal {
                        Signal::Contact => auren_store::Signal::Contact,
                        Signal::Link => auren_store::Signal::Link,
                        // A newer peer's signal this build cannot keep.
                        Signal::Unknown => return None,
                    };
                    Some(SignalRow {
                        t_ms: c.t_ms,
                        signal,
                        up: c.up,
                    })
                })
                .collect();
            tx.insert_signals(id, &changes).await?;
            Ok(Ok(()))
        }
        Change::Metrics(m) => {
            let id = match session_of(tx, &m.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            let values: Vec<(f64, String, f64)> = m
                .values
                .iter()
                .filter(|v| v.t_ms.is_finite() && v.value.is_finite())
                .map(|v| (v.t_ms, v.name.clone(), v.value))
                .collect();
            tx.insert_metrics(id, &values).await?;
            Ok(Ok(()))
        }
        Change::Alert(a) => apply_alert(tx, a).await,
        Change::Tag(t) => apply_tag(tx, t).await,
        Change::Note(n) => {
            let id = match session_of(tx, &n.session_key).await? {
                Ok(id) => id,
                Err(why) => return Ok(Err(why)),
            };
            if let Some(winner) = merge_field(tx, ("note", &n.session_key, "text"), &n.text).await? {
                tx.set_note(id, winner.value.as_deref()).await?;
            }
            Ok(Ok(()))
        }
        Change::Morning(m) => apply_morning(tx, scope, m).await,
        Change::Memory(m) => apply_memory(tx, scope, m).await,
        Change::Setting(s) => {
            if scope.athlete.is_some() {
                return Ok(Err("an athlete's settings are not kept"));
            }
            // Kept as merged, known key or not, valid or not: the desktop adopts what its rules accept
            // (auren-desktop `settings_sync`), and a value it refuses is still here for a later build.
            merge_field(tx, (SETTING_COLLECTION, &s.key, SETTING_FIELD), &s.value).await?;
            Ok(Ok(()))
        }
        Change::Tombstone(t) => apply_tombstone(tx, scope, t).await,
        Change::Unknown => Ok(Err("unknown change type")),
    }
}

/// A pulled morning reading: the account's own goes to its mornings (its normal range and readiness read
/// them); an athlete's, for a coach, to that athlete's copies, merged under its own key so the coach's
/// morning of the same day is neither overwritten nor outstamped.
async fn apply_morning(
    tx: &mut SyncTx,
    scope: Scope<'_>,
    m: &auren_protocol::MorningChange,
) -> Result<Applied, StoreError> {
    let v = &m.reading.value;
    if !v.ln_rmssd.is_finite() || v.resting_hr.is_some_and(|hr| !(hr.is_finite() && hr > 0.0)) {
        return Ok(Err("its values are out of range"));
    }
    let (collection, key) = match scope.athlete {
        None => ("morning", m.day.to_string()),
        Some((_, email)) => (ATHLETE_MORNING_COLLECTION, athlete_morning_key(email, m.day)),
    };
    let Some(winner) = merge_field(tx, (collection, &key, "reading"), &m.reading).await? else {
        return Ok(Ok(()));
    };
    let session = match &winner.value.session_key {
        Some(k) => tx.session_by_key(k).await?,
        None => None,
    };
    let (ln_rmssd, resting_hr) = (winner.value.ln_rmssd, winner.value.resting_hr);
    match scope.athlete {
        None => tx.put_morning(m.day, ln_rmssd, resting_hr, session).await?,
        Some((_, email)) => {
            tx.put_athlete_morning(email, m.day, ln_rmssd, resting_hr, session)
                .await?
        }
    }
    Ok(Ok(()))
}

/// A pulled delete. An athlete's tags are keyed by their devices' replicas, so their tombstones are kept as
/// the account's are; an athlete's morning tombstone goes under the athlete's key and removes the copy; an
/// athlete's memories and settings are not kept, so neither are their tombstones (a key of theirs must never
/// forget one of the coach's own).
async fn apply_tombstone(
    tx: &mut SyncTx,
    scope: Scope<'_>,
    t: &auren_protocol::TombstoneChange,
) -> Result<Applied, StoreError> {
    let Some(collection) = collection_name(t.collection) else {
        return Ok(Err("unknown collection"));
    };
    let stamp = stamp_of(&t.hlc);
    match (scope.athlete, collection) {
        (Some((_, email)), "morning") => {
            let Ok(day) = t.key.parse::<i64>() else {
                return Ok(Err("its morning key is not a day"));
            };
            tx.put_tombstone(
                ATHLETE_MORNING_COLLECTION,
                &athlete_morning_key(email, day),
                &stamp,
            )
            .await?;
            tx.remove_athlete_morning(email, day).await?;
        }
        (Some(_), MEMORY_COLLECTION | SETTING_COLLECTION) => {
            return Ok(Err("an athlete's memories and settings are not kept"));
        }
        (_, "tag") => {
            tx.put_tombstone(collection, &t.key, &stamp).await?;
            tx.remove_tag(&t.key).await?;
        }
        (None, MEMORY_COLLECTION) => {
            tx.put_tombstone(collection, &t.key, &stamp).await?;
            tx.forget_memory(&t.key).await?;
        }
        _ => tx.put_tombstone(collection, &t.key, &stamp).await?,
    }
    Ok(Ok(()))
}

fn collection_name(c: auren_protocol::Collection) -> Option<&'static str> {
    use auren_protocol::Collection;
    match c {
        Collection::Tag => Some("tag"),
        Collection::Memory => Some("memory"),
        Collection::Setting => Some("setting"),
        Collection::Morning => Some("morning"),
        Collection::Unknown => None,
    }
}

async fn apply_alert(tx: &mut SyncTx, a: &auren_protocol::AlertChange) -> Result<Applied, StoreError> {
    let id = match session_of(tx, &a.session_key).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    if !matches!(a.severity.as_str(), "info" | "warning" | "critical") || !a.at_ms.is_finite() {
        return Ok(Err("its severity or time is out of range"));
    }
    let row = AlertRow {
        id: 0,
        session_id: id,
        at_ms: a.at_ms,
        at: a.at,
        rule: a.rule.clone(),
        severity: a.severity.clone(),
        message: a.message.clone(),
        evidence_json: a.evidence.to_string(),
    };
    tx.insert_alert(&row, a.window_start_ms).await?;
    Ok(Ok(()))
}

/// A pulled memory: forgotten stays forgotten; otherwise each field is checked, merged by its stamp, and the
/// merged memory materialised into the memory tables.
async fn apply_memory(
    tx: &mut SyncTx,
    scope: Scope<'_>,
    m: &auren_protocol::MemoryChange,
) -> Result<Applied, StoreError> {
    if scope.athlete.is_some() {
        return Ok(Err("an athlete's memories are not kept"));
    }
    if tx.tombstone(MEMORY_COLLECTION, &m.key).await?.is_some() {
        return Ok(Ok(()));
    }
    let mut fields = Vec::with_capacity(m.fields.len());
    for (name, value) in &m.fields {
        // A field this build does not know (from a newer peer) is left out rather than refusing the rest.
        if let Some(field) = MemoryField::parse(name) {
            if let Err(why) = field.check(&value.value) {
                return Ok(Err(why));
            }
            fields.push((field, value));
        }
    }
    for (field, value) in fields {
        merge_field(tx, (MEMORY_COLLECTION, &m.key, field.as_str()), value).await?;
    }
    tx.materialize_memory(&m.key).await
}

async fn apply_tag(tx: &mut SyncTx, t: &auren_protocol::TagChange) -> Result<Applied, StoreError> {
    if tx.tombstone("tag", &t.key).await?.is_some() {
        return Ok(Ok(()));
    }
    let session = match session_of(tx, &t.session_key).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    if !t.at_ms.value.is_finite() {
        return Ok(Err("its time is not finite"));
    }
    let name = merge_field(tx, ("tag", &t.key, "name"), &t.name).await?;
    let at_ms = merge_field(tx, ("tag", &t.key, "at_ms"), &t.at_ms).await?;
    let known = tx.tag_by_key(&t.key).await?.is_some();
    if name.is_some() || at_ms.is_some() || !known {
        // Read both winners back: one side may have won one field and lost the other.
        let name = stored::<String>(tx, ("tag", &t.key, "name"))
            .await?
            .unwrap_or_else(|| t.name.value.clone());
        let at_ms = stored::<f64>(tx, ("tag", &t.key, "at_ms"))
            .await?
            .unwrap_or(t.at_ms.value);
        tx.put_tag(&t.key, session, at_ms, &name).await?;
    }
    Ok(Ok(()))
}

async fn stored<T: DeserializeOwned>(
    tx: &mut SyncTx,
    (c, k, f): (&str, &str, &str),
) -> Result<Option<T>, StoreError> {
    Ok(tx
        .field(c, k, f)
        .await?
        .and_then(|(json, _)| serde_json::from_str(&json).ok()))
}

/// Merges `incoming` into the stored field; returns the winner when it is the incoming value (the local
/// table must change), `None` when the stored value stands.
async fn merge_field<T>(
    tx: &mut SyncTx,
    at: (&str, &str, &str),
    incoming: &Lww<T>,
) -> Result<Option<Lww<T>>, StoreError>
where
    T: TieBreak + Clone + Serialize + DeserializeOwned,
{
    let current = tx.field(at.0, at.1, at.2).await?.and_then(|(json, stamp)| {
        serde_json::from_str::<T>(&json)
            .ok()
            .map(|value| Lww::new(value, hlc_of(stamp)))
    });
    let incoming_wins = current.as_ref().is_none_or(|c| c.loses_to(incoming));
    if !incoming_wins {
        return Ok(None);
    }
    let json = serde_json::to_string(&incoming.value).unwrap_or_else(|_| "null".into());
    tx.put_field(at, &json, &stamp_of(&incoming.hlc)).await?;
    Ok(Some(incoming.clone()))
}
