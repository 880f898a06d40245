//! Conversations with the coach: messages (edit-and-resend makes branches: two messages with one parent),
//! the steps of each turn, the receipts the tools computed, the claims of each answer, per-message usage and
//! cost. Plain store types: the agents crate maps its own `Receipt`, `Claim` and events onto them (as JSON where
//! the store need not look inside).
//!
//! Submodules: `branches` (a leaf's path, a message's siblings), `search` (FTS5 over message text with
//! snippets), `export` (one conversation as Markdown or JSON).

mod branches;
mod export;
pub(crate) mod search;

pub use export::{ConversationExport, ExportedMessage};
pub use search::SearchHit;

use crate::{Store, StoreError};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::{Row, SqliteConnection};
use std::fmt;

/// The id of a stored conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConversationId(pub i64);

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The id of a stored message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub i64);

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Who wrote a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    User,
    Assistant,
}

impl Role {
    /// The name stored in the `role` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }

    /// The role named `name` (as [`Role::as_str`] writes it), if there is one.
    pub fn parse(name: &str) -> Option<Self> {
        [Self::User, Self::Assistant]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// A conversation as the list shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationRow {
    pub id: ConversationId,
    pub title: String,
    pub created_at: i64,
    /// The last message's time (or the last rename).
    pub updated_at: i64,
    pub message_count: i64,
    /// What the conversation's answers cost, every branch included.
    pub spent: ConversationUsage,
}

/// What a conversation cost: the usage of every answer it holds, summed over every branch. An abandoned
/// branch (a question edited and sent again) was paid for too, so it counts. This is the one definition:
/// the conversation list and the chat's meter both show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConversationUsage {
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// Some answer's count was a tokenizer's estimate.
    pub estimated: bool,
    pub model_calls: u64,
}

/// What an answer cost: the sum over the model calls of its turn.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MessageUsage {
    pub tokens_in: u64,
    pub tokens_out: u64,
    pub cost_usd: f64,
    /// A count was a tokenizer's estimate (the stream carried no usage).
    pub estimated: bool,
    pub model_calls: u32,
    /// How full the model's context was; `None` when no model call knew it (an offline answer, a turn
    /// stored before the figure was kept).
    pub context: Option<ContextUse>,
}

/// How much of the model's context an answer's turn filled: the last model call's input tokens (the call
/// whose prompt holds the most) over the model's context window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContextUse {
    /// More than 0: a call with no input tokens counted is no figure.
    pub tokens: u64,
    /// The model's context window in tokens, when the gateway knew it.
    pub window: Option<u32>,
}

/// A message about to be stored.
#[derive(Clone, Debug, PartialEq)]
pub struct NewMessage {
    /// The message this one follows; `None` starts the conversation (or a new root branch).
    pub parent: Option<MessageId>,
    pub role: Role,
    /// Who answered (the agents' `Specialist` wire name), for answers.
    pub specialist: Option<String>,
    /// The model that wrote it, for answers from a model.
    pub model: Option<String>,
    pub text: String,
    /// `None` for the person's messages.
    pub usage: Option<MessageUsage>,
    /// Written by the offline analyst (no model).
    pub offline: bool,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A stored message.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageRow {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub parent: Option<MessageId>,
    pub role: Role,
    pub specialist: Option<String>,
    pub model: Option<String>,
    pub text: String,
    pub usage: Option<MessageUsage>,
    pub offline: bool,
    pub created_at: i64,
}

/// One step of a turn: its kind (`"routed"`, `"tool_call"`, `"model_request"`, …, as the agents name them)
/// and its JSON payload (for a model request, the exact body sent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepRow {
    pub seq: i64,
    pub kind: String,
    pub payload_json: String,
    pub at: i64,
}

/// A stored receipt: the agents' `Receipt` as JSON under its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceiptRow {
    pub id: String,
    pub body_json: String,
    pub created_at: i64,
}

/// Whether a claim was matched to a computed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grounding {
    /// Matched; `receipt` vouches for it (stored with [`Conversations::save_receipt`]).
    Grounded { receipt: String },
    /// No receipt holds this value: shown marked, never passed silently.
    Ungrounded,
}

/// One measured quantity stated in an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimRow {
    /// As written ("62 ms").
    pub text: String,
    pub value: f64,
    /// The agents' `Unit` wire name (`"ms"`, `"bpm"`, …).
    pub unit: String,
    pub grounding: Grounding,
}

/// The conversation tables of one store. Cheap to clone (it holds the pool).
#[derive(Clone, Debug)]
pub struct Conversations {
    pool: SqlitePool,
}

impl Store {
    /// The conversations, messages, steps, receipts and claims.
    pub fn conversations(&self) -> Conversations {
        Conversations {
            pool: self.pool().clone(),
        }
    }
}

fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid {
        what,
        reason: format!("{value} does not fit SQLite's INTEGER"),
    })
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Range(format!("{what} is negative: {value}")))
}

/// A conversation with its message count and what it cost ([`ConversationUsage`]: every message of every
/// branch); the caller adds its WHERE, `GROUP BY c.id` and order.
const CONVERSATION_SELECT: &str = "SELECT c.id, c.title, c.created_at, c.updated_at, COUNT(m.id), \
     COALESCE(SUM(m.tokens_in), 0), COALESCE(SUM(m.tokens_out), 0), COALESCE(SUM(m.cost_usd), 0.0), \
     COALESCE(MAX(m.cost_estimated), 0), COALESCE(SUM(m.model_calls), 0) \
     FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id";

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, parent_id, role, specialist, model, text, tokens_in, \
                                          tokens_out, cost_usd, cost_estimated, model_calls, offline, created_at, \
                                          context_tokens, context_window";

pub(crate) fn message_row(row: &SqliteRow) -> Result<MessageRow, StoreError> {
    let role: String = row.try_get(3)?;
    let tokens_in: Option<i64> = row.try_get(7)?;
    let usage = match tokens_in {
        None => None,
        Some(tokens_in) => Some(MessageUsage {
            tokens_in: to_u64(tokens_in, "tokens_in")?,
            tokens_out: to_u64(row.try_get(8)?, "tokens_out")?,
            cost_usd: row.try_get(9)?,
            estimated: row.try_get(10)?,
            model_calls: u32::try_from(row.try_get::<i64, _>(11)?)
                .map_err(|_| StoreError::Range("model_calls out of range".into()))?,
            context: context_use(row.try_get(14)?, row.try_get(15)?)?,
        }),
    };
    Ok(MessageRow {
        id: MessageId(row.try_get(0)?),
        conversation: ConversationId(row.try_get(1)?),
        parent: row.try_get::<Option<i64>, _>(2)?.map(MessageId),
        role: Role::parse(&role).ok_or_else(|| StoreError::Range(format!("unknown role {role:?}")))?,
        specialist: row.try_get(4)?,
        model: row.try_get(5)?,
        text: row.try_get(6)?,
        usage,
        offline: row.try_get(12)?,
        created_at: row.try_get(13)?,
    })
}

/// The stored context figure: both columns NULL (not known) or the tokens with the window if known.
fn context_use(tokens: Option<i64>, window: Option<i64>) -> Result<Option<ContextUse>, StoreError> {
    let Some(tokens) = tokens else {
        return Ok(None);
    };
    let window = window
        .map(|w| u32::try_from(w).map_err(|_| StoreError::Range(format!("context window {w} out of range"))))
        .transpose()?;
    Ok(Some(ContextUse {
        tokens: to_u64(tokens, "context_tokens")?,
        window,
    }))
}

fn not_found(what: &'static str, id: impl fmt::Display) -> StoreError {
    StoreError::NotFound {
        what,
        id: id.to_string(),
    }
}

/// The conversation a message belongs to, or [`StoreError::NotFound`].
async fn conversation_of(
    conn: &mut SqliteConnection,
    message: MessageId,
) -> Result<ConversationId, StoreError> {
    sqlx::query("SELECT conversation_id FROM messages WHERE id = ?")
        .bind(message.0)
        .fetch_optional(conn)
        .await?
        .map(|row| Ok::<_, StoreError>(ConversationId(row.try_get(0)?)))
        .transpose()?
        .ok_or_else(|| not_found("message", message))
}

fn title_checked(title: &str) -> Result<&str, StoreError> {
    let trimmed = title.trim();
    if trimmed.is_empty() {
        return Err(StoreError::Invalid {
            what: "conversation title",
            reason: "it is empty".into(),
        });
    }
    Ok(trimmed)
}

impl Conversations {
    /// Starts a conversation.
    pub async fn create(&self, title: &str, now: i64) -> Result<ConversationId, StoreError> {
        let row = sqlx::query(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(title_checked(title)?)
        .bind(now)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(ConversationId(row.try_get(0)?))
    }

    /// Starts a conversation with a message the coach wrote on its own, once per `trigger_key`: `None` when
    /// that trigger already has its message (even if the person has since deleted that conversation).
    pub async fn post_proactive(
        &self,
        trigger_key: &str,
        title: &str,
        message: &NewMessage,
    ) -> Result<Option<(ConversationId, MessageId)>, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let row = sqlx::query(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?) RETURNING id",
        )
        .bind(title_checked(title)?)
        .bind(message.created_at)
        .bind(message.created_at)
        .fetch_one(&mut *tx)
        .await?;
        let conversation = ConversationId(row.try_get(0)?);
        let id = insert_message(
            &mut tx,
            conversation,
            &NewMessage {
                parent: None,
                ..message.clone()
            },
        )
        .await?;
        let claimed = sqlx::query(
            "INSERT INTO proactive_messages (trigger_key, conversation_id, message_id, created_at) \
             VALUES (?, ?, ?, ?) ON CONFLICT (trigger_key) DO NOTHING",
        )
        .bind(trigger_key)
        .bind(conversation.0)
        .bind(id.0)
        .bind(message.created_at)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            // Rolled back on drop: the conversation and message above never existed.
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some((conversation, id)))
    }

    /// Gives a conversation a new title.
    pub async fn rename(&self, id: ConversationId, title: &str, now: i64) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE conversations SET title = ?, updated_at = max(updated_at, ?) WHERE id = ?")
                .bind(title_checked(title)?)
                .bind(now)
                .bind(id.0)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("conversation", id));
        }
        Ok(())
    }

    /// Deletes a conversation with its messages, steps and claims, and the receipts nothing else cites
    /// (another conversation's message or a memory's provenance).
    pub async fn delete(&self, id: ConversationId) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        let receipts: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT mr.receipt_id FROM message_receipts mr JOIN messages m ON m.id = mr.message_id \
             WHERE m.conversation_id = ?",
        )
        .bind(id.0)
        .fetch_all(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM conversations WHERE id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(not_found("conversation", id));
        }
        for receipt in receipts {
            sqlx::query(
                "DELETE FROM receipts WHERE id = ?1 \
                 AND NOT EXISTS (SELECT 1 FROM message_receipts WHERE receipt_id = ?1) \
                 AND NOT EXISTS (SELECT 1 FROM claims WHERE receipt_id = ?1) \
                 AND NOT EXISTS (SELECT 1 FROM memories WHERE source_kind = 'receipt' AND source_ref = ?1)",
            )
            .bind(&receipt)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every conversation, the most recently updated first.
    pub async fn list(&self) -> Result<Vec<ConversationRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CONVERSATION_SELECT} GROUP BY c.id ORDER BY c.updated_at DESC, c.id DESC"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(conversation_row).collect()
    }

    /// One conversation, or [`StoreError::NotFound`].
    pub async fn get(&self, id: ConversationId) -> Result<ConversationRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{CONVERSATION_SELECT} WHERE c.id = ? GROUP BY c.id"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("conversation", id))?;
        conversation_row(&row)
    }

    /// Appends a message; its parent must belong to the same conversation. The conversation's `updated_at`
    /// moves to the message's time.
    pub async fn append_message(
        &self,
        conversation: ConversationId,
        message: &NewMessage,
    ) -> Result<MessageId, StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        if let Some(parent) = message.parent {
            let owner = conversation_of(&mut tx, parent).await?;
            if owner != conversation {
                return Err(StoreError::Invalid {
                    what: "message parent",
                    reason: format!("message {parent} belongs to conversation {owner}, not {conversation}"),
                });
            }
        }
        let touched = sqlx::query("UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?")
            .bind(message.created_at)
            .bind(conversation.0)
            .execute(&mut *tx)
            .await?;
        if touched.rows_affected() == 0 {
            return Err(not_found("conversation", conversation));
        }
        let id = insert_message(&mut tx, conversation, message).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// One message, or [`StoreError::NotFound`].
    pub async fn message(&self, id: MessageId) -> Result<MessageRow, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?"
        )))
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| not_found("message", id))?;
        message_row(&row)
    }

    /// Every message of a conversation, every branch, in the order they were stored.
    pub async fn messages(&self, conversation: ConversationId) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = ? ORDER BY id"
        )))
        .bind(conversation.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(message_row).collect()
    }

    /// Appends a step to a message's turn and returns its sequence number (0, 1, …).
    pub async fn append_step(
        &self,
        message: MessageId,
        kind: &str,
        payload_json: &str,
        at: i64,
    ) -> Result<i64, StoreError> {
        if kind.is_empty() {
            return Err(StoreError::Invalid {
                what: "step kind",
                reason: "it is empty".into(),
            });
        }
        json_checked("step payload", payload_json)?;
        let mut tx = crate::begin_write(&self.pool).await?;
        conversation_of(&mut tx, message).await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO steps (message_id, seq, kind, payload, at) \
             VALUES (?1, (SELECT COALESCE(MAX(seq) + 1, 0) FROM steps WHERE message_id = ?1), ?2, ?3, ?4) \
             RETURNING seq",
        )
        .bind(message.0)
        .bind(kind)
        .bind(payload_json)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(seq)
    }

    /// A message's steps in order.
    pub async fn steps(&self, message: MessageId) -> Result<Vec<StepRow>, StoreError> {
        let rows = sqlx::query("SELECT seq, kind, payload, at FROM steps WHERE message_id = ? ORDER BY seq")
            .bind(message.0)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StepRow {
                    seq: row.try_get(0)?,
                    kind: row.try_get(1)?,
                    payload_json: row.try_get(2)?,
                    at: row.try_get(3)?,
                })
            })
            .collect()
    }

    /// Stores a receipt. Saving the same id again with the same body does nothing; with another body it
    /// is refused (a receipt, once cited, never changes).
    pub async fn save_receipt(&self, id: &str, body_json: &str, now: i64) -> Result<(), StoreError> {
        if id.is_empty() {
            return Err(StoreError::Invalid {
                what: "receipt id",
                reason: "it is empty".into(),
            });
        }
        json_checked("receipt", body_json)?;
        let mut tx = crate::begin_write(&self.pool).await?;
        let existing: Option<String> = sqlx::query_scalar("SELECT body FROM receipts WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        match existing {
            Some(body) if body == body_json => return Ok(()),
            Some(_) => {
                return Err(StoreError::Invalid {
                    what: "receipt",
                    reason: format!("{id} is already stored with another body"),
                });
            }
            None => {}
        }
        sqlx::query("INSERT INTO receipts (id, body, created_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(body_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// One receipt, if stored.
    pub async fn receipt(&self, id: &str) -> Result<Option<ReceiptRow>, StoreError> {
        let row = sqlx::query("SELECT id, body, created_at FROM receipts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(receipt_row).transpose()
    }

    /// Records that a message cites these (stored) receipts.
    pub async fn link_receipts(&self, message: MessageId, receipts: &[&str]) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        conversation_of(&mut tx, message).await?;
        for receipt in receipts {
            sqlx::query("INSERT OR IGNORE INTO message_receipts (message_id, receipt_id) VALUES (?, ?)")
                .bind(message.0)
                .bind(receipt)
                .execute(&mut *tx)
                .await
                .map_err(|e| unknown_receipt(e, receipt))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The receipts a message cites (linked or named by its claims), by id.
    pub async fn message_receipts(&self, message: MessageId) -> Result<Vec<ReceiptRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, body, created_at FROM receipts WHERE id IN \
             (SELECT receipt_id FROM message_receipts WHERE message_id = ?1 \
              UNION SELECT receipt_id FROM claims WHERE message_id = ?1 AND receipt_id IS NOT NULL) \
             ORDER BY id",
        )
        .bind(message.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(receipt_row).collect()
    }

    /// Appends an answer's claims (after any stored before).
    pub async fn add_claims(&self, message: MessageId, claims: &[ClaimRow]) -> Result<(), StoreError> {
        let mut tx = crate::begin_write(&self.pool).await?;
        conversation_of(&mut tx, message).await?;
        for claim in claims {
            let value = crate::sessions::finite("claim value", claim.value)?;
            let (grounded, receipt) = match &claim.grounding {
                Grounding::Grounded { receipt } => (true, Some(receipt.as_str())),
                Grounding::Ungrounded => (false, None),
            };
            sqlx::query(
                "INSERT INTO claims (message_id, seq, text, value, unit, grounded, receipt_id) \
                 VALUES (?1, (SELECT COALESCE(MAX(seq) + 1, 0) FROM claims WHERE message_id = ?1), ?2, ?3, ?4, ?5, ?6)",
            )
            .bind(message.0)
            .bind(&claim.text)
            .bind(value)
            .bind(&claim.unit)
            .bind(grounded)
            .bind(receipt)
            .execute(&mut *tx)
            .await
            .map_err(|e| unknown_receipt(e, receipt.unwrap_or_default()))?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A message's claims in order.
    pub async fn claims(&self, message: MessageId) -> Result<Vec<ClaimRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT text, value, unit, grounded, receipt_id FROM claims WHERE message_id = ? ORDER BY seq",
        )
        .bind(message.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let grounded: bool = row.try_get(3)?;
                let receipt: Option<String> = row.try_get(4)?;
                Ok(ClaimRow {
                    text: row.try_get(0)?,
                    value: row.try_get(1)?,
                    unit: row.try_get(2)?,
                    grounding: match (grounded, receipt) {
                        (true, Some(receipt)) => Grounding::Grounded { receipt },
                        // A grounded claim whose receipt was deleted with its conversation can no longer be
                        // traced, so it is shown as ungrounded.
                        _ => Grounding::Ungrounded,
                    },
                })
            })
            .collect()
    }
}

async fn insert_message(
    conn: &mut SqliteConnection,
    conversation: ConversationId,
    message: &NewMessage,
) -> Result<MessageId, StoreError> {
    let usage = message.usage.as_ref();
    let cost = usage
        .map(|u| crate::sessions::finite("message cost", u.cost_usd))
        .transpose()?;
    if cost.is_some_and(|c| c < 0.0) {
        return Err(StoreError::Invalid {
            what: "message cost",
            reason: "it is negative".into(),
        });
    }
    let context = usage.and_then(|u| u.context);
    if let Some(context) = context
        && (context.tokens == 0 || context.window == Some(0))
    {
        return Err(StoreError::Invalid {
            what: "message context",
            reason: format!(
                "{} tokens of a {:?}-token window: a figure counts more than 0 of more than 0",
                context.tokens, context.window
            ),
        });
    }
    let row = sqlx::query(
        "INSERT INTO messages (conversation_id, parent_id, role, specialist, model, text, tokens_in, tokens_out, \
         cost_usd, cost_estimated, model_calls, offline, created_at, context_tokens, context_window) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(conversation.0)
    .bind(message.parent.map(|p| p.0))
    .bind(message.role.as_str())
    .bind(&message.specialist)
    .bind(&message.model)
    .bind(&message.text)
    .bind(usage.map(|u| to_i64(u.tokens_in, "tokens_in")).transpose()?)
    .bind(usage.map(|u| to_i64(u.tokens_out, "tokens_out")).transpose()?)
    .bind(cost)
    .bind(usage.map(|u| u.estimated))
    .bind(usage.map(|u| i64::from(u.model_calls)))
    .bind(message.offline)
    .bind(message.created_at)
    .bind(context.map(|c| to_i64(c.tokens, "context tokens")).transpose()?)
    .bind(context.and_then(|c| c.window).map(i64::from))
    .fetch_one(conn)
    .await?;
    Ok(MessageId(row.try_get(0)?))
}

fn conversation_row(row: &SqliteRow) -> Result<ConversationRow, StoreError> {
    Ok(ConversationRow {
        id: ConversationId(row.try_get(0)?),
        title: row.try_get(1)?,
        created_at: row.try_get(2)?,
        updated_at: row.try_get(3)?,
        message_count: row.try_get(4)?,
        spent: ConversationUsage {
            tokens_in: to_u64(row.try_get(5)?, "tokens_in")?,
            tokens_out: to_u64(row.try_get(6)?, "tokens_out")?,
            cost_usd: row.try_get(7)?,
            estimated: row.try_get(8)?,
            model_calls: to_u64(row.try_get(9)?, "model_calls")?,
        },
    })
}

fn receipt_row(row: &SqliteRow) -> Result<ReceiptRow, StoreError> {
    Ok(ReceiptRow {
        id: row.try_get(0)?,
        body_json: row.try_get(1)?,
        created_at: row.try_get(2)?,
    })
}

fn json_checked(what: &'static str, text: &str) -> Result<(), StoreError> {
    serde_json::from_str::<serde_json::Value>(text)
        .map(|_| ())
        .map_err(|e| StoreError::Invalid {
            what,
            reason: format!("not valid JSON: {e}"),
        })
}

/// A foreign-key failure names the receipt that is not stored; any other error passes through.
fn unknown_receipt(error: sqlx::Error, receipt: &str) -> StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => not_found("receipt", receipt),
        _ => StoreError::Query(error),
    }
}
