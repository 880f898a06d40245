//! list_sessions, get_session and get_alerts: the engine's session and alert queries, with receipts.

use auren_clock::UnixMillis;
use auren_engine::dto::SessionEndDto;
use serde_json::json;

use super::args::{GetAlerts, GetSession, ListSessions};
use super::days::{Period, format_day};
use super::receipts::{ReceiptBuilder, unit_of_key};
use super::{ToolError, ToolName, ToolOutput, Toolbox};
use crate::receipt::{Source, Unit};

const MAX_LIST: u32 = 100;
/// How far back a kind filter looks (sessions are listed newest first).
const KIND_SCAN: u32 = 1000;

pub(super) async fn list_sessions(tb: &Toolbox, args: ListSessions) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::ListSessions;
    let limit = args.limit.unwrap_or(10);
    if !(1..=MAX_LIST).contains(&limit) {
        return Err(ToolError::bad(
            tool,
            format!("limit {limit} must be 1 to {MAX_LIST}"),
        ));
    }
    let scan = if args.kind.is_some() { KIND_SCAN } else { limit };
    let rows = tb
        .store()
        .sessions(scan, 0)
        .await
        .map_err(ToolError::store(tool))?;
    let kind = args.kind.map(auren_store::SessionKind::from);
    let rows: Vec<_> = rows
        .iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .take(limit as usize)
        .collect();
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        "recorded sessions, most recent first",
        "stored session rows",
    );
    let mut list = Vec::with_capacity(rows.len());
    for r in &rows {
        let s = auren_engine::query::session_summary(r);
        rec.source(Source::Session { id: s.id });
        if let Some(d) = s.duration_s {
            rec.value(
                format!("duration of session {} in minutes", s.id),
                d / 60.0,
                Unit::Plain,
            );
        }
        rec.value(
            format!("beats of session {}", s.id),
            s.beat_count as f64,
            Unit::Plain,
        );
        list.push(json!({
            "id": s.id,
            "started_at": UnixMillis(s.started_at_unix_ms).to_string(),
            "kind": s.kind,
            "source": s.source,
            "simulated": s.source.starts_with("simulator"),
            "end": end_json(tb.session_end(r)),
            "duration_min": s.duration_s.map(|d| d / 60.0),
            "beats": s.beat_count,
            "artifacts": s.artifact_count,
        }));
    }
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({ "sessions": list, "receipt": receipt.id }),
        receipts: vec![receipt],
    })
}

pub(super) async fn get_session(tb: &Toolbox, args: GetSession) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::GetSession;
    let id = match args.id {
        Some(id) => id,
        None => tb
            .store()
            .sessions(1, 0)
            .await
            .map_err(ToolError::store(tool))?
            .first()
            .map(|r| r.id.0)
            .ok_or_else(|| ToolError::not_enough(tool, "no session has been recorded yet"))?,
    };
    let d = super::panels::session_panel(tb, tool, id).await?;
    let started = UnixMillis(d.summary.started_at_unix_ms);
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("the HRV panel of session {id} ({started})"),
        "auren-hrv panel of the artifact-corrected beats (Lipponen & Tarvainen correction; Welch spectrum; \
         Poincaré; SampEn; DFA)",
    );
    rec.source(Source::Session { id });
    let day = Some(started.day_number());
    let mut panel = serde_json::Map::new();
    for (key, value) in &d.values {
        if let Some(v) = *value {
            rec.day_value(format!("{key} of session {id}"), v, unit_of_key(key), day);
        }
        panel.insert(key.clone(), json!(value));
    }
    let mut alerts = Vec::with_capacity(d.alerts.len());
    for a in &d.alerts {
        if let Some(aid) = a.id {
            rec.source(Source::Alert { id: aid });
        }
        alerts.push(alert_json(a));
    }
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({
            "id": id,
            "started_at": started.to_string(),
            "kind": d.summary.kind,
            "source": d.summary.source,
            "simulated": d.summary.source.starts_with("simulator"),
            "end": end_json(d.end),
            "duration_min": d.summary.duration_s.map(|s| s / 60.0),
            "beats": d.summary.beat_count,
            "artifacts": d.summary.artifact_count,
            "beats_after_correction": d.n_beats,
            "gaps": d.gap_count,
            "panel": panel,
            "alerts": alerts,
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}

/// A session's end as the tools state it: ended at a time, still being recorded, or no end recorded with
/// its last beat — so a model neither reads a missing end as a session still running nor invents when it
/// ended, nor states as fact why it has none.
fn end_json(end: SessionEndDto) -> serde_json::Value {
    match end {
        SessionEndDto::Ended { at_unix_ms } => {
            json!({ "state": "ended", "at": UnixMillis(at_unix_ms).to_string() })
        }
        SessionEndDto::Recording => json!({
            "state": "recording",
            "note": "being recorded now: its length and numbers cover the beats stored so far",
        }),
        SessionEndDto::NoEndRecorded { last_beat_at_unix_ms } => json!({
            "state": "no_end_recorded",
            "last_beat_at": last_beat_at_unix_ms.map(|at| UnixMillis(at).to_string()),
            "note": no_end_note(),
        }),
    }
}

/// What the tools say of a session without an end time and silent for the quiet span
/// ([`auren_engine::panels::UNENDED_SESSION_QUIET_MS`]): what is known, and the likely reading, not a cause
/// stated as fact.
fn no_end_note() -> String {
    let minutes = auren_engine::panels::UNENDED_SESSION_QUIET_MS / 60_000;
    format!(
        "no end recorded and nothing stored for {minutes} minutes: most likely the recording stopped (the \
         app or the device stopped mid-session), though an end may still arrive by sync; its length runs to \
         its last beat"
    )
}

fn alert_json(a: &auren_engine::dto::AlertDto) -> serde_json::Value {
    json!({
        "id": a.id,
        "session_id": a.session_id,
        "rule": a.rule,
        "severity": a.severity,
        "at": UnixMillis(a.at_unix_ms).to_string(),
        "message": a.message,
        "evidence": a.evidence.values.iter().map(|v| json!({"name": v.name, "value": v.value})).collect::<Vec<_>>(),
    })
}

pub(super) async fn get_alerts(tb: &Toolbox, args: GetAlerts) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::GetAlerts;
    let period = Period::parse(args.from.as_deref(), args.to.as_deref(), tb.today(), 7)
        .map_err(|m| ToolError::bad(tool, m))?;
    let from_ms = period.from * auren_clock::MS_PER_DAY;
    let to_ms = (period.to + 1) * auren_clock::MS_PER_DAY;
    let alerts = auren_engine::query::alerts_between(tb.store(), from_ms, to_ms)
        .await
        .map_err(ToolError::engine(tool))?;
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("alerts fired {}", period.label()),
        "stored CEP alerts with the values their rule read when it fired",
    );
    rec.value(
        format!("alerts {}", period.label()),
        alerts.len() as f64,
        Unit::Plain,
    );
    for a in &alerts {
        let day = Some(UnixMillis(a.at_unix_ms).day_number());
        if let Some(id) = a.id {
            rec.source(Source::Alert { id });
        }
        for v in &a.evidence.values {
            rec.day_value(
                format!("{} when {} fired", v.name, a.rule),
                v.value,
                unit_of_key(&v.name),
                day,
            );
        }
    }
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({
            "from": format_day(period.from),
            "to": format_day(period.to),
            "count": alerts.len(),
            "alerts": alerts.iter().map(alert_json).collect::<Vec<_>>(),
            "receipt": receipt.id,
        }),
        receipts: vec![receipt],
    })
}
