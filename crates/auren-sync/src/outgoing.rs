//! An outbox row turned into its wire change. Rows point at the data rather than copying it, so the change is
//! read from the store at push time; data deleted since then sends nothing (`Ok(None)`), and a row that cannot
//! be turned into a change at all is an [`Unbuildable`] to park.

use auren_protocol::change::{
    Beat, Gap, HrSample, MetricValue, MorningValue, Signal, SignalChange, StrapInfo,
};
use auren_protocol::{
    AlertChange, BeatsChunk, Change, Collection, DeviceId, GapsChange, Hlc, HrSamplesChange, Lww,
    MemoryChange, MetricsChange, MorningChange, NoteChange, SessionChange, SettingChange, SignalsChange,
    TagChange, TombstoneChange,
};
use auren_store::{OutboxKind, OutboxRow, SessionId, Stamp, Store, StoreError};

/// Why a row cannot become a change (parked with this message).
#[derive(Debug)]
pub struct Unbuildable(pub String);

pub fn hlc_of(stamp: Stamp) -> Hlc {
    Hlc {
        wall_ms: stamp.wall_ms,
        counter: stamp.counter,
        device: DeviceId(stamp.device),
    }
}

pub fn stamp_of(hlc: &Hlc) -> Stamp {
    Stamp {
        wall_ms: hlc.wall_ms,
        counter: hlc.counter,
        device: hlc.device.0.clone(),
    }
}

/// The `type` of the change a row of `kind` becomes ([`Change::type_name`]), known without reading the data:
/// what decides whether the server accepts the row yet.
pub fn change_type(kind: OutboxKind) -> &'static str {
    match kind {
        OutboxKind::Session => "session",
        OutboxKind::Beats => "beats",
        OutboxKind::Gaps => "gaps",
        OutboxKind::HrSamples => "hr_samples",
        OutboxKind::Metrics => "metrics",
        OutboxKind::Signals => "signals",
        OutboxKind::Alert => "alert",
        OutboxKind::Tag => "tag",
        OutboxKind::MorningReading => "morning",
        OutboxKind::Note => "note",
        OutboxKind::Memory => "memory",
        OutboxKind::Setting => "setting",
        OutboxKind::Tombstone => "tombstone",
    }
}

/// The change row `row` stands for.
pub async fn build(
    store: &Store,
    row: &OutboxRow,
) -> Result<Result<Option<Change>, Unbuildable>, StoreError> {
    let missing = |what: &str| {
        Ok(Err(Unbuildable(format!(
            "the {} outbox row {} has no {what}",
            row.kind.as_str(),
            row.id
        ))))
    };
    let session = row.session_id;
    let range = row.from_ms.zip(row.to_ms);
    match row.kind {
        OutboxKind::Session => match session {
            Some(id) => session_change(store, id).await.map(Ok),
            None => missing("session"),
        },
        OutboxKind::Beats
        | OutboxKind::Gaps
        | OutboxKind::HrSamples
        | OutboxKind::Signals
        | OutboxKind::Metrics => match (session, range) {
            (Some(id), Some(range)) => series_change(store, row.kind, id, range).await,
            _ => missing("session and range"),
        },
        OutboxKind::Alert => match row.entity_id {
            Some(id) => alert_change(store, id).await.map(Ok),
            None => missing("alert id"),
        },
        OutboxKind::Tag => match row.entity_id {
            Some(id) => tag_change(store, id, row.created_at).await.map(Ok),
            None => missing("tag id"),
        },
        OutboxKind::Note => match session {
            Some(id) => note_change(store, id, row.created_at).await.map(Ok),
            None => missing("session"),
        },
        OutboxKind::MorningReading => match row.entity_id {
            Some(day) => morning_change(store, day, row.created_at).await.map(Ok),
            None => missing("day"),
        },
        OutboxKind::Memory | OutboxKind::Setting => match &row.entity_key {
            Some(key) => keyed_change(store, row.kind, key).await.map(Ok),
            None => missing("key"),
        },
        OutboxKind::Tombstone => match (&row.collection, &row.entity_key) {
            (Some(collection), Some(key)) => tombstone_change(store, collection, key).await,
            _ => missing("collection and key"),
        },
    }
}

async fn session_change(store: &Store, id: SessionId) -> Result<Option<Change>, StoreError> {
    let Some(s) = store.session(id).await? else {
        return Ok(None);
    };
    let strap = match &s.strap_address {
        Some(address) => store
            .straps()
            .await?
            .into_iter()
            .find(|st| &st.address == address)
            .map(|st| StrapInfo {
                address: st.address,
                name: st.name,
                manufacturer: st.manufacturer,
                model: st.model,
            }),
        None => None,
    };
    Ok(Some(Change::Session(SessionChange {
        session_key: store.session_key(id).await?,
        started_at: s.started_at,
        ended_at: s.ended_at,
        kind: s.kind.as_str().to_owned(),
        source: s.source,
        strap,
    })))
}

async fn series_change(
    store: &Store,
    kind: OutboxKind,
    id: SessionId,
    (from, to): (f64, f64),
) -> Result<Result<Option<Change>, Unbuildable>, StoreError> {
    if store.session(id).await?.is_none() {
        return Ok(Ok(None));
    }
    let session_key = store.session_key(id).await?;
    let change = match kind {
        OutboxKind::Beats => {
            let beats: Vec<Beat> = store
                .beats_between(id, from, to)
                .await?
                .into_iter()
                .map(|b| Beat {
                    t_ms: b.t_ms,
                    rr_ms: b.rr_ms,
                    artifact: b.artifact,
                })
                .collect();
            if beats.is_empty() {
                return Ok(Ok(None));
            }
            match BeatsChunk::encode(&session_key, &beats) {
                Ok(chunk) => Change::Beats(chunk),
                Err(e) => {
                    return Ok(Err(Unbuildable(format!(
                        "the beats of session {id} cannot be sent: {e}"
                    ))));
                }
            }
        }
        OutboxKind::Gaps => Change::Gaps(GapsChange {
            session_key,
            gaps: store
                .gaps_between(id, from, to)
                .await?
                .into_iter()
                .map(|g| Gap {
                    from_ms: g.from_ms,
                    to_ms: g.to_ms,
                })
                .collect(),
        }),
        OutboxKind::HrSamples => Change::HrSamples(HrSamplesChange {
            session_key,
            samples: store
                .hr_between(id, from, to)
                .await?
                .into_iter()
                .map(|(t_ms, bpm)| HrSample { t_ms, bpm })
                .collect(),
        }),
        OutboxKind::Signals => Change::Signals(SignalsChange {
            session_key,
            changes: store
                .signals_between(id, from, to)
                .await?
                .into_iter()
                .map(|c| SignalChange {
                    t_ms: c.t_ms,
                    signal: match c.signal {
                        auren_store::Signal::Contact => Signal::Contact,
                        auren_store::Signal::Link => Signal::Link,
                    },
                    up: c.up,
                })
                .collect(),
        }),
        _ => Change::Metrics(MetricsChange {
            session_key,
            values: store
                .metrics_between(id, from, to)
                .await?
                .into_iter()
                .map(|(t_ms, name, value)| MetricValue { t_ms, name, value })
                .collect(),
        }),
    };
    Ok(Ok(Some(change)))
}

/// The wall time (Unix ms) an alert's evidence starts: the session start plus the evidence window's start
/// (the alert's own time when the evidence has none). The server's consumer computes the same.
pub fn window_start_ms(started_at: i64, at: i64, evidence: &serde_json::Value) -> i64 {
    evidence
        .get("window_from_ms")
        .and_then(serde_json::Value::as_i64)
        .map_or(at, |from| started_at.saturating_add(from))
}

async fn alert_change(store: &Store, id: i64) -> Result<Option<Change>, StoreError> {
    let Some(alert) = store.alert(id).await? else {
        return Ok(None);
    };
    let Some(session) = store.session(alert.session_id).await? else {
        return Ok(None);
    };
    let evidence: serde_json::Value =
        serde_json::from_str(&alert.evidence_json).unwrap_or(serde_json::Value::Null);
    Ok(Some(Change::Alert(AlertChange {
        session_key: store.session_key(alert.session_id).await?,
        at_ms: alert.at_ms,
        at: alert.at,
        window_start_ms: window_start_ms(session.started_at, alert.at, &evidence),
        rule: alert.rule,
        severity: alert.severity,
        message: alert.message,
        evidence,
    })))
}

async fn tag_change(store: &Store, id: i64, made_at: i64) -> Result<Option<Change>, StoreError> {
    let Some((session, tag)) = store.tag(id).await? else {
        return Ok(None);
    };
    let key = store.tag_key(id).await?;
    let name_stamp = store
        .stamp_field(
            ("tag", &key, "name"),
            &serde_json::Value::from(tag.name.as_str()).to_string(),
            made_at,
        )
        .await?;
    let at_stamp = store
        .stamp_field(
            ("tag", &key, "at_ms"),
            &serde_json::Value::from(tag.at_ms).to_string(),
            made_at,
        )
        .await?;
    Ok(Some(Change::Tag(TagChange {
        key,
        session_key: store.session_key(session).await?,
        at_ms: Lww::new(tag.at_ms, hlc_of(at_stamp)),
        name: Lww::new(tag.name, hlc_of(name_stamp)),
    })))
}

async fn note_change(store: &Store, id: SessionId, made_at: i64) -> Result<Option<Change>, StoreError> {
    let Some(session) = store.session(id).await? else {
        return Ok(None);
    };
    let key = store.session_key(id).await?;
    let value = serde_json::Value::from(session.label.clone()).to_string();
    let stamp = store.stamp_field(("note", &key, "text"), &value, made_at).await?;
    Ok(Some(Change::Note(NoteChange {
        session_key: key,
        text: Lww::new(session.label, hlc_of(stamp)),
    })))
}

async fn morning_change(store: &Store, day: i64, made_at: i64) -> Result<Option<Change>, StoreError> {
    let Some(reading) = store.morning_readings(day, day).await?.into_iter().next() else {
        return Ok(None);
    };
    let session_key = match reading.session {
        Some(id) => Some(store.session_key(id).await?),
        None => None,
    };
    let value = MorningValue {
        ln_rmssd: reading.ln_rmssd,
        resting_hr: reading.resting_hr,
        session_key,
    };
    let text = serde_json::to_string(&value).unwrap_or_default();
    let stamp = store
        .stamp_field(("morning", &day.to_string(), "reading"), &text, made_at)
        .await?;
    Ok(Some(Change::Morning(MorningChange {
        day,
        reading: Lww::new(value, hlc_of(stamp)),
    })))
}

/// A memory or setting, as its fields stand in `sync_fields` (where the code that edits them writes).
async fn keyed_change(store: &Store, kind: OutboxKind, key: &str) -> Result<Option<Change>, StoreError> {
    let collection = if kind == OutboxKind::Memory {
        auren_store::memory::MEMORY_COLLECTION
    } else {
        auren_store::SETTING_COLLECTION
    };
    let fields = store.sync_fields_of(collection, key).await?;
    if fields.is_empty() {
        // Forgotten (or deleted) since the row was written: its tombstone row says so.
        return Ok(None);
    }
    let mut lww = fields.into_iter().map(|(name, json, stamp)| {
        let value = serde_json::from_str(&json).unwrap_or(serde_json::Value::Null);
        (name, Lww::new(value, hlc_of(stamp)))
    });
    Ok(match kind {
        OutboxKind::Memory => Some(Change::Memory(MemoryChange {
            key: key.to_owned(),
            fields: lww.collect(),
        })),
        _ => lww
            .find(|(name, _)| name == auren_store::SETTING_FIELD)
            .map(|(_, value)| {
                Change::Setting(SettingChange {
                    key: key.to_owned(),
                    value,
                })
            }),
    })
}

async fn tombstone_change(
    store: &Store,
    collection: &str,
    key: &str,
) -> Result<Result<Option<Change>, Unbuildable>, StoreError> {
    let Ok(named) = serde_json::from_value::<Collection>(serde_json::Value::from(collection)) else {
        return Ok(Err(Unbuildable(format!("unknown collection {collection:?}"))));
    };
    Ok(Ok(store.sync_tombstone(collection, key).await?.map(|stamp| {
        Change::Tombstone(TombstoneChange {
            collection: named,
            key: key.to_owned(),
            hlc: hlc_of(stamp),
        })
    })))
}

#[cfg(test)]
mod tests {
    use super::change_type;
    use auren_protocol::Change;
    use auren_store::OutboxKind;

    /// Every outbox kind becomes a change type the protocol knows, each its own.
    #[test]
    fn every_kind_has_its_own_known_change_type() {
        let mut types: Vec<&str> = OutboxKind::ALL.into_iter().map(change_type).collect();
        assert!(types.iter().all(|t| Change::TYPES.contains(t)), "{types:?}");
        types.sort_unstable();
        types.dedup();
        assert_eq!(types.len(), OutboxKind::ALL.len());
    }
}
