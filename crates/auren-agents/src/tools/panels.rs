//! The HRV panel of a session as the tools read it: the stored one when it still describes the session's
//! beats, otherwise computed once from the beats through the engine and stored. An hour-long session's panel
//! took 11–30 ms to recompute on every get_session (3,600 beats read, corrected and analysed); read back it is
//! ~40 numbers, and a year of morning trends of any panel metric is one query.

use auren_engine::dto::{AlertDto, SessionSummaryDto};
use auren_store::{MorningPanelValue, SessionId, SessionRow, StoredPanel};

use super::{ToolError, ToolName, Toolbox};

/// Names the computation behind a stored panel: the engine's session panel (auren-hrv's reference settings,
/// Welch spectrum, over the Lipponen–Tarvainen corrected beats of each gap-free stretch). Change it when
/// that computation changes, and every stored panel is recomputed on its next read.
pub const PANEL_METHOD: &str = "auren-engine session panel: auren-hrv reference settings (Welch) over \
                                Lipponen-Tarvainen corrected beats per gap-free stretch; v1";

/// A session with its panel and what get_session shows beside it.
#[derive(Clone, Debug)]
pub(super) struct SessionPanel {
    pub summary: SessionSummaryDto,
    pub n_beats: usize,
    /// `(metric key, value)` in the panel's order; `None` where a metric could not be computed.
    pub values: Vec<(String, Option<f64>)>,
    pub gap_count: usize,
    pub alerts: Vec<AlertDto>,
}

/// Session `id` with its panel: the stored one when fresh, else computed now and stored.
pub(super) async fn session_panel(tb: &Toolbox, tool: ToolName, id: i64) -> Result<SessionPanel, ToolError> {
    let view = tb
        .store()
        .session_panel_view(SessionId(id))
        .await
        .map_err(ToolError::store(tool))?
        .ok_or(ToolError::Engine {
            tool: tool.as_str().to_owned(),
            source: auren_engine::EngineError::NoSuchSession(id),
        })?;
    let fresh = view.panel.filter(|p| p.is_fresh_for(&view.session, PANEL_METHOD));
    let Some(stored) = fresh else {
        return compute(tb, tool, &view.session).await;
    };
    Ok(SessionPanel {
        summary: auren_engine::query::session_summary(&view.session),
        n_beats: usize::try_from(stored.n_beats).unwrap_or_default(),
        values: stored.values,
        gap_count: usize::try_from(view.gap_count).unwrap_or_default(),
        alerts: view.alerts.iter().map(auren_engine::query::alert_dto).collect(),
    })
}

/// Computes the panel from the beats and stores it under the session's fingerprint as read before the
/// computation: beats written meanwhile make the stored panel stale, never a stale panel look fresh.
async fn compute(tb: &Toolbox, tool: ToolName, session: &SessionRow) -> Result<SessionPanel, ToolError> {
    let d = auren_engine::query::session_detail(tb.store(), session.id.0)
        .await
        .map_err(ToolError::engine(tool))?;
    // By key, the order a stored panel reads back in, so both paths give the same receipts.
    let mut values: Vec<(String, Option<f64>)> = d.panel.iter().map(|m| (m.key.clone(), m.value)).collect();
    values.sort_by(|a, b| a.0.cmp(&b.0));
    let stored = StoredPanel {
        session: session.id,
        method: PANEL_METHOD.to_owned(),
        beat_count: session.beat_count,
        last_beat_ms: session.last_beat_ms,
        n_beats: i64::try_from(d.n_beats_corrected).unwrap_or(i64::MAX),
        values: values.clone(),
    };
    // A panel that cannot be kept is still the right answer now: the next call computes it again.
    if let Err(error) = tb.store().put_session_panel(&stored, tb.clock().now().0).await {
        tracing::warn!(%error, session = session.id.0, "the session panel could not be stored");
    }
    Ok(SessionPanel {
        summary: d.summary,
        n_beats: d.n_beats_corrected,
        values,
        gap_count: d.gaps.len(),
        alerts: d.alerts,
    })
}

/// Panel metric `key` of the morning session of each day `from..=to` that has a reading: `(day, value)`,
/// oldest first. Panels missing or stale are computed (and stored) on the way; a morning without a
/// recorded session, or whose session has no beats, has no value.
pub(super) async fn morning_panel_metric(
    tb: &Toolbox,
    tool: ToolName,
    key: &str,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, Option<f64>)>, ToolError> {
    let rows = tb
        .store()
        .morning_panel_values(from, to, key)
        .await
        .map_err(ToolError::store(tool))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let value = match &row {
            r if r.is_fresh_for(PANEL_METHOD) => r.value,
            MorningPanelValue {
                session: Some((id, beats, _)),
                ..
            } if *beats > 0 => {
                let panel = session_panel(tb, tool, id.0).await?;
                panel.values.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v)
            }
            _ => None,
        };
        out.push((row.day, value));
    }
    Ok(out)
}
