//! The cognitive twin: what Auren remembers about the person, kept for years on two timelines.
//!
//! World time (`valid_from`/`valid_to`: when it was true of the person) and system time (`recorded_at`,
//! `superseded_at`, `retracted_at`: when Auren learnt or dropped it). Nothing is overwritten: superseding a
//! memory closes its world interval and links the replacement, retracting marks it with a reason, and an
//! "as of" read ([`AsOf`]) sees exactly what was known at a system time about a world time. Forgetting (the
//! person's right, `forget.rs`) is the one deletion, and it leaves no copy in the database files.
//!
//! Submodules: `recall` (FTS5 BM25 with recency and importance), `forget`, `proposals` (memory operations
//! waiting for the person's yes), `hypotheses` (testable beliefs whose status code computes), `sync` (keys,
//! stamped fields and outbox rows of every operation, and the pulled memories and erasures of other devices).

mod forget;
mod hypotheses;
mod proposals;
mod recall;
mod sync;

pub use forget::Forgotten;
pub use hypotheses::{
    Direction, Hypotheses, HypothesisId, HypothesisRow, HypothesisStatus, HypothesisTest, NewHypothesis,
};
pub use proposals::{MemoryOp, ProposalId, ProposalRow, ProposalStatus};
pub use recall::RecallHit;
pub use sync::{MEMORY_COLLECTION, MemoryField, local_message_ref};

use crate::conversations::MessageId;
use crate::{Store, StoreError};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, SqliteConnection};
use std::fmt;

/// The id of a stored memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemoryId(pub i64);

impl fmt::Display for MemoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What kind of thing a memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MemoryKind {
    /// About the person ("works night shifts").
    Fact,
    /// How they like things ("prefers short answers").
    Preference,
    /// What they aim for ("run a half marathon in April").
    Goal,
    /// Something reached, detected by code ("30 mornings in a row").
    Milestone,
    /// A pattern seen in their data ("HRV dips after late meals").
    Insight,
    /// A belief to test ("alcohol lowers my next-morning HRV").
    Hypothesis,
}

impl MemoryKind {
    pub const ALL: [Self; 6] = [
        Self::Fact,
        Self::Preference,
        Self::Goal,
        Self::Milestone,
        Self::Insight,
        Self::Hypothesis,
    ];

    /// The name stored in the `kind` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fact => "fact",
            Self::Preference => "preference",
            Self::Goal => "goal",
            Self::Milestone => "milestone",
            Self::Insight => "insight",
            Self::Hypothesis => "hypothesis",
        }
    }

    /// The kind named `name` (as [`MemoryKind::as_str`] writes it), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// Where a memory came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Provenance {
    /// Said in a conversation of this database (the id stays even if the conversation is deleted later).
    Message(MessageId),
    /// Said in a conversation on another of the person's devices. Conversations stay on the device they
    /// were held on, so the message is named by that device's replica id and its id there: a reference that
    /// means the same on every device, and is never taken for a message of this one.
    DeviceMessage { replica: String, message: MessageId },
    /// Computed: the receipt of the computation.
    Receipt(String),
    /// Told directly (`auren memory remember`).
    Person,
}

impl Provenance {
    /// Stored as `source_kind` and `source_ref`. A message of another device keeps its `message` kind with a
    /// qualified reference `"<replica>:<id>"` (see [`message_ref`]), so the synced `created` field of a memory
    /// made from it names the message without ambiguity wherever it is read.
    fn columns(&self) -> (&'static str, Option<String>) {
        match self {
            Self::Message(id) => ("message", Some(id.0.to_string())),
            Self::DeviceMessage { replica, message } => ("message", Some(format!("{replica}:{}", message.0))),
            Self::Receipt(id) => ("receipt", Some(id.clone())),
            Self::Person => ("person", None),
        }
    }

    fn from_columns(kind: &str, reference: Option<String>) -> Result<Self, StoreError> {
        match (kind, reference) {
            ("person", _) => Ok(Self::Person),
            ("receipt", Some(id)) => Ok(Self::Receipt(id)),
            ("message", Some(reference)) => match message_ref(&reference) {
                Some((None, id)) => Ok(Self::Message(id)),
                Some((Some(replica), message)) => Ok(Self::DeviceMessage {
                    replica: replica.to_owned(),
                    message,
                }),
                None => Err(StoreError::Range(format!(
                    "message provenance {reference:?} is not an id"
                ))),
            },
            (kind, reference) => Err(StoreError::Range(format!("provenance {kind:?} {reference:?}"))),
        }
    }
}

/// A message reference as memories keep it: `"<id>"` (a message of the database the reference was written
/// in) or `"<replica>:<id>"` (a message of the device with that replica id). `None` when it is neither.
pub fn message_ref(reference: &str) -> Option<(Option<&str>, MessageId)> {
    let (replica, id) = match reference.rsplit_once(':') {
        Some((replica, id)) if !replica.is_empty() => (Some(replica), id),
        Some(_) => return None,
        None => (None, reference),
    };
    id.parse().ok().map(|id| (replica, MessageId(id)))
}

/// A memory about to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMemory {
    pub kind: MemoryKind,
    pub text: String,
    pub provenance: Provenance,
    /// 0 (trivia) to 1 (central to the person); recall weighs it.
    pub importance: f64,
    /// When it became true of the person, Unix ms (often the moment it was said).
    pub valid_from: i64,
}

/// How a memory was replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Supersession {
    /// System time of the replacement.
    pub at: i64,
    /// The replacement (`None` once the replacement was forgotten).
    pub by: Option<MemoryId>,
    pub reason: String,
}

/// How a memory was withdrawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Retraction {
    pub at: i64,
    pub reason: String,
}

/// A stored memory with both timelines.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryRow {
    pub id: MemoryId,
    pub kind: MemoryKind,
    pub text: String,
    pub provenance: Provenance,
    pub importance: f64,
    pub valid_from: i64,
    /// End of the world interval (exclusive), set when superseded.
    pub valid_to: Option<i64>,
    pub recorded_at: i64,
    pub superseded: Option<Supersession>,
    pub retracted: Option<Retraction>,
}

impl MemoryRow {
    /// Neither superseded nor retracted: what Auren believes now.
    pub fn is_active(&self) -> bool {
        self.superseded.is_none() && self.retracted.is_none()
    }
}

/// A bi-temporal point: what was known at system time `known_at` about world time `valid_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsOf {
    pub valid_at: i64,
    pub known_at: i64,
}

impl AsOf {
    /// The memories as they stood at `t`: known by then and true then.
    pub fn at(t: i64) -> Self {
        Self {
            valid_at: t,
            known_at: t,
        }
    }
}

/// The memory tables of one store. Cheap to clone (it holds the pool).
#[derive(Clone, Debug)]
pub struct Memories {
    pool: SqlitePool,
}

impl Store {
    /// The cognitive twin: memories, recall, forgetting, proposals.
    pub fn memories(&self) -> Memories {
        Memories {
            pool: self.pool().clone(),
        }
    }
}

/// Longest memory text kept: a memory is a sentence or two, not a document.
pub const MAX_MEMORY_TEXT: usize = 2_000;

const MEMORY_COLUMNS: &str = "id, kind, text, importance, source_kind, source_ref, valid_from, valid_to, recorded_at, \
                              superseded_at, superseded_by, supersede_reason, retracted_at, retract_reason";

fn memory_row(row: &SqliteRow) -> Result<MemoryRow, StoreError> {
    let kind: String = row.try_get(1)?;
    let superseded_at: Option<i64> = row.try_get(9)?;
    let retracted_at: Option<i64> = row.try_get(12)?;
    Ok(MemoryRow {
        id: MemoryId(row.try_get(0)?),
        kind: MemoryKind::parse(&kind)
            .ok_or_else(|| StoreError::Range(format!("unknown memory kind {kind:?}")))?,
        text: row.try_get(2)?,
        importance: row.try_get(3)?,
        provenance: Provenance::from_columns(&row.try_get::<String, _>(4)?, row.try_get(5)?)?,
        valid_from: row.try_get(6)?,
        valid_to: row.try_get(7)?,
        recorded_at: row.try_get(8)?,
        superseded: superseded_at
            .map(|at| {
                Ok::<_, StoreError>(Supersession {
                    at,
                    by: row.try_get::<Option<i64>, _>(10)?.map(MemoryId),
                    reason: row.try_get(11)?,
                })
            })
            .transpose()?,
        retracted: retracted_at
            .map(|at| {
                Ok::<_, StoreError>(Retraction {
                    at,
                    reason: row.try_get(13)?,
                })
            })
            .transpose()?,
    })
}

fn invalid(what: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Invalid {
        what,
        reason: reason.into(),
    }
}

fn not_found(id: MemoryId) -> StoreError {
    StoreError::NotFound {
        what: "memory",
        id: id.to_string(),
    }
}

/// The new memory, if its fields are acceptable.
fn checked(new: &NewMemory) -> Result<&NewMemory, StoreError> {
    if new.text.trim().is_empty() {
        return Err(invalid("memory text", "it is empty"));
    }
    if new.text.chars().count() > MAX_MEMORY_TEXT {
        return Err(invalid(
            "memory text",
            format!("it is longer than {MAX_MEMORY_TEXT} characters"),
        ));
    }
    if !(0.0..=1.0).contains(&new.importance) {
        return Err(invalid(
            "memory importance",
            format!("{} is not between 0 and 1", new.importance),
        ));
    }
    Ok(new)
}

fn reason_checked(reason: &str) -> Result<&str, StoreError> {
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        return Err(invalid("reason", "it is empty: say why"));
    }
    Ok(trimmed)
}

pub(crate) async fn insert_memory(
    conn: &mut SqliteConnection,
    new: &NewMemory,
    now: i64,
) -> Result<MemoryId, StoreError> {
    let new = checked(new)?;
    let (source_kind, source_ref) = new.provenance.columns();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO memories (kind, text, importance, source_kind, source_ref, valid_from, recorded_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(new.kind.as_str())
    .bind(new.text.trim())
    .bind(new.importance)
    .bind(source_kind)
    .bind(source_ref)
    .bind(new.valid_from)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = MemoryId(id);
    sync::record(conn, id, MemoryField::Created, now).await?;
    Ok(id)
}

/// The memory `id`, which must still be active and recorded no later than `now`.
async fn active_memory(conn: &mut SqliteConnection, id: MemoryId, now: i64) -> Result<MemoryRow, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?"
    )))
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or_else(|| not_found(id))?;
    let memory = memory_row(&row)?;
    if let Some(s) = &memory.superseded {
        let by =
            s.by.map_or_else(|| "a forgotten memory".to_owned(), |b| format!("memory {b}"));
        return Err(invalid(
            "memory",
            format!("memory {id} was already superseded by {by}"),
        ));
    }
    if memory.retracted.is_some() {
        return Err(invalid("memory", format!("memory {id} was already retracted")));
    }
    if now < memory.recorded_at {
        return Err(invalid("memory", format!("memory {id} was recorded after {now}")));
    }
    Ok(memory)
}

pub(crate) async fn supersede_in(
    conn: &mut SqliteConnection,
    old: MemoryId,
    replacement: &NewMemory,
    reason: &str,
    now: i64,
) -> Result<MemoryId, StoreError> {
    let reason = reason_checked(reason)?;
    let previous = active_memory(conn, old, now).await?;
    if replacement.valid_from < previous.valid_from {
        return Err(invalid(
            "replacement",
            format!("it becomes valid before the memory {old} it replaces did"),
        ));
    }
    let new_id = insert_memory(conn, replacement, now).await?;
    sqlx::query(
        "UPDATE memories SET valid_to = ?, superseded_at = ?, superseded_by = ?, supersede_reason = ? WHERE id = ?",
    )
    .bind(replacement.valid_from)
    .bind(now)
    .bind(new_id.0)
    .bind(reason)
    .bind(old.0)
    .execute(&mut *conn)
    .await?;
    sync::record(conn, old, MemoryField::Superseded, now).await?;
    Ok(new_id)
}

pub(crate) async fn retract_in(
    conn: &mut SqliteConnection,
    id: MemoryId,
    reason: &str,
    now: i64,
) -> Result<(), StoreError> {
    let reason = reason_checked(reason)?;
    active_memory(conn, id, now).await?;
    sqlx::query("UPDATE memories SET retracted_at = ?, retract_reason = ? WHERE id = ?")
        .bind(now)
        .bind(reason)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    sync::record(conn, id, MemoryField::Retracted, now).await?;
    Ok(())
}

impl Memories {
    /// Stores a new memory, recorded at `now`.
    pub async fn remember(&self, new: &NewMemory, now: i64) -> Result<MemoryId, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let id = insert_memory(&mut tx, new, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Replaces an active memory: the old one's world interval ends where the replacement's begins, both are
    /// linked, the reason is kept. Returns the replacement's id.
    pub async fn supersede(
        &self,
        old: MemoryId,
        replacement: &NewMemory,
        reason: &str,
        now: i64,
    ) -> Result<MemoryId, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let id = supersede_in(&mut tx, old, replacement, reason, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Withdraws an active memory (it was wrong); it stays in the history with the reason.
    pub async fn retract(&self, id: MemoryId, reason: &str, now: i64) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        retract_in(&mut tx, id, reason, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One memory, whatever its state, or [`StoreError::NotFound`] (never stored, or forgotten).
    pub async fn get(&self, id: MemoryId) -> Result<MemoryRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMORY_COLUMNS} FROM memories WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found(id))?;
        memory_row(&row)
    }

    /// The memories as of `as_of`: recorded and not retracted by `known_at`, true at `valid_at` as far as
    /// was known at `known_at` (a supersession recorded later does not end an interval yet). Oldest first.
    pub async fn list(&self, as_of: AsOf) -> Result<Vec<MemoryRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMORY_COLUMNS} FROM memories \
             WHERE recorded_at <= ?1 AND (retracted_at IS NULL OR retracted_at > ?1) AND valid_from <= ?2 \
             AND NOT (superseded_at IS NOT NULL AND superseded_at <= ?1 AND valid_to <= ?2) \
             ORDER BY valid_from, id"
        )))
        .bind(as_of.known_at)
        .bind(as_of.valid_at)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(memory_row).collect()
    }

    /// Every stored memory, superseded and retracted ones included, in the order recorded.
    pub async fn history(&self) -> Result<Vec<MemoryRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMORY_COLUMNS} FROM memories ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(memory_row).collect()
    }

    /// The supersession chain `id` belongs to, oldest version first.
    pub async fn chain(&self, id: MemoryId) -> Result<Vec<MemoryRow>, StoreError> {
        let ids = chain_ids(&mut *self.pool.acquire().await?, id).await?;
        let mut rows = Vec::with_capacity(ids.len());
        for id in ids {
            rows.push(self.get(id).await?);
        }
        rows.sort_by_key(|m| (m.recorded_at, m.id));
        Ok(rows)
    }
}

/// The ids of every version linked to `id` by supersession, in either direction.
pub(crate) async fn chain_ids(
    conn: &mut SqliteConnection,
    id: MemoryId,
) -> Result<Vec<MemoryId>, StoreError> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH RECURSIVE chain (id) AS ( \
             SELECT id FROM memories WHERE id = ?1 \
             UNION SELECT m.id FROM memories m JOIN chain c ON m.superseded_by = c.id \
             UNION SELECT m.superseded_by FROM memories m JOIN chain c ON m.id = c.id \
               WHERE m.superseded_by IS NOT NULL) \
         SELECT id FROM chain ORDER BY id",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await?;
    if ids.is_empty() {
        return Err(not_found(id));
    }
    Ok(ids.into_iter().map(MemoryId).collect())
}
