//! Memory operations proposed by the extraction after a turn (add, supersede, retract). A setting decides
//! whether they apply at once ([`Memories::apply`]) or wait for the person ([`Memories::propose`], then
//! [`Memories::confirm`] or [`Memories::reject`]); either way each proposal and its fate is kept.

use super::{
    Memories, MemoryId, MemoryKind, NewMemory, Provenance, insert_memory, invalid, retract_in, supersede_in,
};
use crate::StoreError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use std::fmt;

/// The id of a stored proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProposalId(pub i64);

impl fmt::Display for ProposalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One change to the memories.
#[derive(Clone, Debug, PartialEq)]
pub enum MemoryOp {
    Add(NewMemory),
    Supersede {
        old: MemoryId,
        replacement: NewMemory,
        reason: String,
    },
    Retract {
        id: MemoryId,
        reason: String,
    },
}

/// Where a proposal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProposalStatus {
    Pending,
    Applied,
    Rejected,
}

impl ProposalStatus {
    /// The name stored in the `status` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applied => "applied",
            Self::Rejected => "rejected",
        }
    }

    /// The status named `name`, if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::Pending, Self::Applied, Self::Rejected]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// A stored proposal.
#[derive(Clone, Debug, PartialEq)]
pub struct ProposalRow {
    pub id: ProposalId,
    pub op: MemoryOp,
    pub status: ProposalStatus,
    pub created_at: i64,
    pub decided_at: Option<i64>,
    /// The memory an applied add or supersede created.
    pub result: Option<MemoryId>,
}

const PROPOSAL_COLUMNS: &str = "id, op, target_id, kind, text, importance, valid_from, reason, source_kind, \
                                source_ref, status, created_at, decided_at, result_id";

fn new_memory_of(row: &SqliteRow) -> Result<NewMemory, StoreError> {
    let kind: Option<String> = row.try_get(3)?;
    let kind = kind
        .as_deref()
        .and_then(MemoryKind::parse)
        .ok_or_else(|| StoreError::Range(format!("proposal kind {kind:?}")))?;
    let source_kind: Option<String> = row.try_get(8)?;
    Ok(NewMemory {
        kind,
        text: row.try_get::<Option<String>, _>(4)?.unwrap_or_default(),
        importance: row.try_get::<Option<f64>, _>(5)?.unwrap_or_default(),
        valid_from: row.try_get::<Option<i64>, _>(6)?.unwrap_or_default(),
        provenance: Provenance::from_columns(source_kind.as_deref().unwrap_or("person"), row.try_get(9)?)?,
    })
}

fn proposal_row(row: &SqliteRow) -> Result<ProposalRow, StoreError> {
    let op: String = row.try_get(1)?;
    let target = row.try_get::<Option<i64>, _>(2)?.map(MemoryId);
    let reason = row.try_get::<Option<String>, _>(7)?.unwrap_or_default();
    let op = match (op.as_str(), target) {
        ("add", _) => MemoryOp::Add(new_memory_of(row)?),
        ("supersede", Some(old)) => MemoryOp::Supersede {
            old,
            replacement: new_memory_of(row)?,
            reason,
        },
        ("retract", Some(id)) => MemoryOp::Retract { id, reason },
        (op, _) => {
            return Err(StoreError::Range(format!(
                "proposal op {op:?} without its target"
            )));
        }
    };
    let status: String = row.try_get(10)?;
    Ok(ProposalRow {
        id: ProposalId(row.try_get(0)?),
        op,
        status: ProposalStatus::parse(&status)
            .ok_or_else(|| StoreError::Range(format!("proposal status {status:?}")))?,
        created_at: row.try_get(11)?,
        decided_at: row.try_get(12)?,
        result: row.try_get::<Option<i64>, _>(13)?.map(MemoryId),
    })
}

async fn apply_in(
    conn: &mut SqliteConnection,
    op: &MemoryOp,
    now: i64,
) -> Result<Option<MemoryId>, StoreError> {
    match op {
        MemoryOp::Add(new) => insert_memory(conn, new, now).await.map(Some),
        MemoryOp::Supersede {
            old,
            replacement,
            reason,
        } => supersede_in(conn, *old, replacement, reason, now).await.map(Some),
        MemoryOp::Retract { id, reason } => retract_in(conn, *id, reason, now).await.map(|()| None),
    }
}

async fn insert_proposal(
    conn: &mut SqliteConnection,
    op: &MemoryOp,
    status: ProposalStatus,
    result: Option<MemoryId>,
    now: i64,
) -> Result<ProposalId, StoreError> {
    let (name, target, new, reason) = match op {
        MemoryOp::Add(new) => ("add", None, Some(super::checked(new)?), None),
        MemoryOp::Supersede {
            old,
            replacement,
            reason,
        } => (
            "supersede",
            Some(old.0),
            Some(super::checked(replacement)?),
            Some(reason.as_str()),
        ),
        MemoryOp::Retract { id, reason } => ("retract", Some(id.0), None, Some(reason.as_str())),
    };
    let (source_kind, source_ref) = match new {
        Some(new) => {
            let (kind, reference) = new.provenance.columns();
            (Some(kind), reference)
        }
        None => (None, None),
    };
    let decided_at = (status != ProposalStatus::Pending).then_some(now);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO memory_proposals (op, target_id, kind, text, importance, valid_from, reason, source_kind, \
         source_ref, status, created_at, decided_at, result_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         RETURNING id",
    )
    .bind(name)
    .bind(target)
    .bind(new.map(|n| n.kind.as_str()))
    .bind(new.map(|n| n.text.trim()))
    .bind(new.map(|n| n.importance))
    .bind(new.map(|n| n.valid_from))
    .bind(reason)
    .bind(source_kind)
    .bind(source_ref)
    .bind(status.as_str())
    .bind(now)
    .bind(decided_at)
    .bind(result.map(|r| r.0))
    .fetch_one(conn)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound {
            what: "memory",
            id: target.map(|t| t.to_string()).unwrap_or_default(),
        },
        _ => StoreError::Query(e),
    })?;
    Ok(ProposalId(id))
}

impl Memories {
    /// Applies an operation at once (the "immediate" setting) and keeps it as an applied proposal. Returns
    /// the memory an add or supersede created.
    pub async fn apply(&self, op: &MemoryOp, now: i64) -> Result<Option<MemoryId>, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let result = apply_in(&mut tx, op, now).await?;
        insert_proposal(&mut tx, op, ProposalStatus::Applied, result, now).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// Stores an operation to wait for the person's yes (the "ask first" setting).
    pub async fn propose(&self, op: &MemoryOp, now: i64) -> Result<ProposalId, StoreError> {
        insert_proposal(
            &mut *self.pool.acquire().await?,
            op,
            ProposalStatus::Pending,
            None,
            now,
        )
        .await
    }

    /// The proposals with `status` (all when `None`), oldest first.
    pub async fn proposals(&self, status: Option<ProposalStatus>) -> Result<Vec<ProposalRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {PROPOSAL_COLUMNS} FROM memory_proposals WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
        )))
        .bind(status.map(ProposalStatus::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(proposal_row).collect()
    }

    /// The person said yes: applies a pending proposal. Returns the memory an add or supersede created.
    pub async fn confirm(&self, id: ProposalId, now: i64) -> Result<Option<MemoryId>, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let proposal = pending(&mut tx, id).await?;
        let result = apply_in(&mut tx, &proposal.op, now).await?;
        decide(&mut tx, id, ProposalStatus::Applied, result, now).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// The person said no: the proposal is kept as rejected and nothing changes.
    pub async fn reject(&self, id: ProposalId, now: i64) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        pending(&mut tx, id).await?;
        decide(&mut tx, id, ProposalStatus::Rejected, None, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn pending(conn: &mut SqliteConnection, id: ProposalId) -> Result<ProposalRow, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {PROPOSAL_COLUMNS} FROM memory_proposals WHERE id = ?"
    )))
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound {
        what: "proposal",
        id: id.to_string(),
    })?;
    let proposal = proposal_row(&row)?;
    if proposal.status != ProposalStatus::Pending {
        return Err(invalid(
            "proposal",
            format!("proposal {id} was already {}", proposal.status.as_str()),
        ));
    }
    Ok(proposal)
}

async fn decide(
    conn: &mut SqliteConnection,
    id: ProposalId,
    status: ProposalStatus,
    result: Option<MemoryId>,
    now: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE memory_proposals SET status = ?, decided_at = ?, result_id = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(now)
        .bind(result.map(|r| r.0))
        .bind(id.0)
        .execute(conn)
        .await?;
    Ok(())
}
