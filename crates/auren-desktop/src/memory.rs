//! The memory panel's side of the façade ("What Auren knows about me"): the memories as of a date, the
//! pending proposals, the hypotheses with their evidence; confirm or reject a proposal; edit (a
//! supersession with a reason, so the old version stays in the history), retract with a reason, forget
//! (every version deleted and every quote scrubbed). The store does the work; this converts and checks input.

use auren_clock::{MS_PER_DAY, UnixMillis, UtcDate};
use auren_store::MemoryId;
use auren_store::StoreError;
use auren_store::conversations::MessageId;
use auren_store::memory::{
    AsOf, Direction, HypothesisRow, HypothesisStatus, MemoryKind, MemoryOp, MemoryRow, NewMemory, ProposalId,
    ProposalRow, ProposalStatus, Provenance,
};

use crate::memory_dto::*;
use crate::{Desktop, DesktopError};

impl Desktop {
    /// The memories as they stood at the end of `as_of` (`YYYY-MM-DD`, UTC; now when `None`), with the
    /// pending proposals and every hypothesis.
    pub async fn memory_panel(&self, as_of: Option<String>) -> Result<MemoryPanelDto, DesktopError> {
        let now = auren_clock::now_unix_ms();
        let (day, at) = match as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => {
                let date = parse_date(text)?;
                // The end of the day asked for, but never past now: the future is not known yet.
                (date, (date.next_day().start().0 - 1).min(now))
            }
            None => (UnixMillis(now).utc_date(), now),
        };
        let store = self.store().await;
        let memories = store.memories();
        let rows = memories.list(AsOf::at(at)).await?;
        let proposals = memories.proposals(Some(ProposalStatus::Pending)).await?;
        let hypotheses = store.hypotheses().list().await?;
        Ok(MemoryPanelDto {
            as_of: day.to_string(),
            memories: rows.iter().map(|m| memory_dto(m, at)).collect(),
            proposals: proposals.iter().map(proposal_dto).collect(),
            hypotheses: hypotheses.iter().map(hypothesis_dto).collect(),
        })
    }

    /// Applies a pending proposal; returns the memory it created, if any.
    pub async fn confirm_memory_proposal(&self, proposal: i64) -> Result<Option<i64>, DesktopError> {
        let created = self
            .store()
            .await
            .memories()
            .confirm(ProposalId(proposal), auren_clock::now_unix_ms())
            .await
            .map_err(input_error)?;
        Ok(created.map(|id| id.0))
    }

    pub async fn reject_memory_proposal(&self, proposal: i64) -> Result<(), DesktopError> {
        self.store()
            .await
            .memories()
            .reject(ProposalId(proposal), auren_clock::now_unix_ms())
            .await
            .map_err(input_error)
    }

    /// Replaces a memory's text by superseding it: the old version keeps its text, its interval ends now,
    /// and the reason is kept. Returns the new version's id.
    pub async fn edit_memory(&self, edit: MemoryEditDto) -> Result<i64, DesktopError> {
        let text = required(&edit.text, "the new text")?;
        let reason = required(&edit.reason, "a reason for the edit")?;
        let memories = self.store().await.memories();
        let old = memories.get(MemoryId(edit.id)).await.map_err(input_error)?;
        let now = auren_clock::now_unix_ms();
        let replacement = NewMemory {
            kind: old.kind,
            text: text.to_owned(),
            provenance: Provenance::Person,
            importance: old.importance,
            valid_from: now,
        };
        let id = memories
            .supersede(old.id, &replacement, reason, now)
            .await
            .map_err(input_error)?;
        Ok(id.0)
    }

    /// Withdraws a memory that was wrong; it stays in the history with the reason.
    pub async fn retract_memory(&self, id: i64, reason: String) -> Result<(), DesktopError> {
        let reason = required(&reason, "a reason for the retraction")?;
        self.store()
            .await
            .memories()
            .retract(MemoryId(id), reason, auren_clock::now_unix_ms())
            .await
            .map_err(input_error)
    }

    /// Deletes a memory and every version of it, and scrubs every quote of its text.
    pub async fn forget_memory(&self, id: i64) -> Result<ForgottenDto, DesktopError> {
        let forgotten = self
            .store()
            .await
            .memories()
            .forget(MemoryId(id))
            .await
            .map_err(input_error)?;
        Ok(ForgottenDto {
            memories: forgotten.memories.iter().map(|m| m.0).collect(),
            scrubbed_rows: u32::try_from(forgotten.scrubbed_rows).unwrap_or(u32::MAX),
        })
    }
}

/// A missing memory or a change the store refuses (already superseded, not pending) is the person's
/// input, not a storage failure.
fn input_error(e: StoreError) -> DesktopError {
    match e {
        StoreError::NotFound { .. } | StoreError::Invalid { .. } => DesktopError::InvalidInput(e.to_string()),
        other => other.into(),
    }
}

fn required<'a>(text: &'a str, what: &str) -> Result<&'a str, DesktopError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DesktopError::InvalidInput(format!("{what} is needed")));
    }
    Ok(text)
}

/// `YYYY-MM-DD`, a real calendar date.
pub(crate) fn parse_date(text: &str) -> Result<UtcDate, DesktopError> {
    let bad = || DesktopError::InvalidInput(format!("{text:?} is not a date (YYYY-MM-DD)"));
    let mut parts = text.split('-');
    let (Some(y), Some(m), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let date = UtcDate {
        year: y.parse().map_err(|_| bad())?,
        month: m.parse().map_err(|_| bad())?,
        day: d.parse().map_err(|_| bad())?,
    };
    // 2026-02-30 would silently become 2026-03-02: a date must survive the round trip.
    if UtcDate::from_days(date.to_days()) != date {
        return Err(bad());
    }
    Ok(date)
}

fn day(ms: i64) -> String {
    UtcDate::from_days(ms.div_euclid(MS_PER_DAY)).to_string()
}

fn kind_dto(kind: MemoryKind) -> MemoryKindDto {
    match kind {
        MemoryKind::Fact => MemoryKindDto::Fact,
        MemoryKind::Preference => MemoryKindDto::Preference,
        MemoryKind::Goal => MemoryKindDto::Goal,
        MemoryKind::Milestone => MemoryKindDto::Milestone,
        MemoryKind::Insight => MemoryKindDto::Insight,
        MemoryKind::Hypothesis => MemoryKindDto::Hypothesis,
    }
}

fn provenance_dto(p: &Provenance) -> ProvenanceDto {
    match p {
        Provenance::Message(MessageId(id)) => ProvenanceDto::Message { message: *id },
        Provenance::DeviceMessage { replica, message } => ProvenanceDto::OtherDevice {
            device: replica.clone(),
            message: message.0,
        },
        Provenance::Receipt(receipt) => ProvenanceDto::Receipt {
            receipt: receipt.clone(),
        },
        Provenance::Person => ProvenanceDto::Person,
    }
}

/// A memory as it stood at `at`: a supersession or retraction recorded later is not shown as one yet.
fn memory_dto(m: &MemoryRow, at: i64) -> MemoryDto {
    let superseded = m.superseded.as_ref().filter(|s| s.at <= at);
    let retracted = m.retracted.as_ref().filter(|r| r.at <= at);
    let state = match (superseded, retracted) {
        (_, Some(_)) => MemoryStateDto::Retracted,
        (Some(_), None) => MemoryStateDto::Superseded,
        (None, None) => MemoryStateDto::Active,
    };
    MemoryDto {
        id: m.id.0,
        kind: kind_dto(m.kind),
        text: m.text.clone(),
        provenance: provenance_dto(&m.provenance),
        importance: m.importance,
        importance_label: format!("{:.2}", m.importance),
        valid_from: day(m.valid_from),
        valid_to: superseded.and(m.valid_to).map(day),
        recorded: day(m.recorded_at),
        state,
        superseded_by: superseded.and_then(|s| s.by.map(|id| id.0)),
        supersede_reason: superseded.map(|s| s.reason.clone()),
        retracted: retracted.map(|r| day(r.at)),
        retract_reason: retracted.map(|r| r.reason.clone()),
    }
}

fn proposal_dto(p: &ProposalRow) -> ProposalDto {
    let (op, target, new, reason) = match &p.op {
        MemoryOp::Add(new) => (ProposalOpDto::Add, None, Some(new), None),
        MemoryOp::Supersede {
            old,
            replacement,
            reason,
        } => (
            ProposalOpDto::Supersede,
            Some(old.0),
            Some(replacement),
            Some(reason.clone()),
        ),
        MemoryOp::Retract { id, reason } => (ProposalOpDto::Retract, Some(id.0), None, Some(reason.clone())),
    };
    ProposalDto {
        id: p.id.0,
        op,
        target,
        kind: new.map(|n| kind_dto(n.kind)),
        text: new.map(|n| n.text.clone()),
        reason,
        proposed: day(p.created_at),
    }
}

fn hypothesis_dto(h: &HypothesisRow) -> HypothesisDto {
    HypothesisDto {
        id: h.id.0,
        statement: h.statement.clone(),
        metric: h.metric.clone(),
        exposure_tag: h.exposure_tag.clone(),
        lag_days: h.lag_days,
        direction: match h.direction {
            Direction::Lower => DirectionDto::Lower,
            Direction::Higher => DirectionDto::Higher,
            Direction::Either => DirectionDto::Either,
        },
        status: match h.status {
            HypothesisStatus::Open => HypothesisStatusDto::Open,
            HypothesisStatus::Supported => HypothesisStatusDto::Supported,
            HypothesisStatus::Refuted => HypothesisStatusDto::Refuted,
            HypothesisStatus::Inconclusive => HypothesisStatusDto::Inconclusive,
        },
        evidence: h.evidence_json.as_deref().map(evidence_lines).unwrap_or_default(),
        last_tested: h.last_tested_at.map(day),
        memory: h.memory.map(|m| m.0),
    }
}

/// The evidence JSON as `name: value` lines; numbers to three decimals, nested values as compact JSON.
pub(crate) fn evidence_lines(json: &str) -> Vec<String> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(fields)) => fields
            .iter()
            .map(|(name, value)| format!("{name}: {}", evidence_value(value)))
            .collect(),
        Ok(other) => vec![evidence_value(&other)],
        Err(_) => vec![json.to_owned()],
    }
}

fn evidence_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Number(n) if n.is_f64() => {
            n.as_f64().map(|x| format!("{x:.3}")).unwrap_or_default()
        }
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
