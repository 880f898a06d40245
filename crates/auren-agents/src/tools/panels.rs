//! The HRV panel of a session as the tools read it: the stored one when it still describes the session's
//! beats under the engine's current [`panel_method`], otherwise computed once from the beats through the
//! engine and stored. The engine stores each session's panel when it ends and refreshes missing or stale ones
//! in the background, so the compute path is the exception; an hour-long session's panel took 11–30 ms to
//! recompute on every get_session, read back it is ~40 numbers, and a year of morning trends of any panel
//! metric is one query.

use auren_engine::dto::{AlertDto, SessionEndDto, SessionSummaryDto};
use auren_engine::panels::{ComputedPanel, compute_panel, panel_method};
use auren_store::{MorningPanelValue, SessionId};

use super::{ToolError, ToolName, Toolbox};

/// A session with its panel and what get_session shows beside it.
#[derive(Clone, Debug)]
pub(super) struct SessionPanel {
    pub summary: SessionSummaryDto,
    /// Where the session's recording stands by the toolbox's clock.
    pub end: SessionEndDto,
    pub n_beats: usize,
    /// `(metric key, value)` in the panel's order; `None` where a metric could not be computed.
    pub values: Vec<(String, Option<f64>)>,
    pub gap_count: usize,
    pub alerts: Vec<AlertDto>,
}

/// Session `id` with its panel: the stored one when fresh, else computed now and stored. A coach's copy of an
/// athlete's session is no session of this person's: it is not found here, as one that does not exist.
pub(super) async fn session_panel(tb: &Toolbox, tool: ToolName, id: i64) -> Result<SessionPanel, ToolError> {
    let view = tb
        .store()
        .session_panel_view(SessionId(id))
        .await
        .map_err(ToolError::store(tool))?
        .filter(|view| view.session.athlete.is_none())
        .ok_or(ToolError::Engine {
            tool: tool.as_str().to_owned(),
            source: auren_engine::EngineError::NoSuchSession(id),
        })?;
    let fresh = view
        .panel
        .filter(|p| p.is_fresh_for(&view.session, panel_method()));
    let Some(stored) = fresh else {
        return compute(tb, tool, id).await;
    };
    Ok(SessionPanel {
        summary: auren_engine::query::session_summary(&view.session),
        end: tb.session_end(&view.session),
        n_beats: usize::try_from(stored.n_beats).unwrap_or_default(),
        values: stored.values,
        gap_count: usize::try_from(view.gap_count).unwrap_or_default(),
        alerts: view.alerts.iter().map(auren_engine::query::alert_dto).collect(),
    })
}

/// The panel computed from the beats and stored — the path of a session whose panel the engine did not
/// store yet (still being recorded, or a refresh not done). It is stored under the fingerprint of the beats
/// it analysed: beats written since make it stale, never a stale panel look fresh.
async fn compute(tb: &Toolbox, tool: ToolName, id: i64) -> Result<SessionPanel, ToolError> {
    let computed = compute_panel(tb.store(), id)
        .await
        .map_err(ToolError::engine(tool))?;
    // A panel that cannot be kept is still the right answer now: the next call computes it again.
    if let Err(error) = tb
        .store()
        .put_session_panel(&computed.stored(), tb.clock().now().0)
        .await
    {
        tracing::warn!(%error, session = id, "the session panel could not be stored");
    }
    let ComputedPanel {
        session,
        n_beats,
        values,
        gap_count,
        alerts,
    } = computed;
    Ok(SessionPanel {
        summary: auren_engine::query::session_summary(&session),
        end: tb.session_end(&session),
        n_beats,
        values,
        gap_count,
        alerts: alerts.iter().map(auren_engine::query::alert_dto).collect(),
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
            r if r.is_fresh_for(panel_method()) => r.value,
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
