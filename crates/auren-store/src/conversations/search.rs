//! Full-text search over message text (FTS5, BM25 order) with a highlighted snippet per hit.

use super::{ConversationId, Conversations, MessageId, Role};
use crate::StoreError;
use sqlx::Row;

/// One message that matched a search.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub message: MessageId,
    pub conversation: ConversationId,
    pub title: String,
    pub role: Role,
    /// The matching passage, the matched words between `[` and `]`, cut with `…`.
    pub snippet: String,
    pub created_at: i64,
}

/// The FTS5 query for free text a person typed: each word quoted (so `"`, `*`, `-`, `AND` and the like are
/// plain words, never query syntax) and all required. `None` when the text holds no word.
pub(crate) fn match_all_words(text: &str) -> Option<String> {
    let words: Vec<String> = words(text).map(|w| format!("\"{w}\"")).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The words of `text` as the index's tokenizer sees them: runs of letters and digits.
pub(crate) fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

impl Conversations {
    /// The messages containing every word of `query` (stemmed: "slept" finds "sleep"), best match first.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<SearchHit>, StoreError> {
        let Some(expression) = match_all_words(query) else {
            return Err(StoreError::Invalid {
                what: "search",
                reason: format!("{query:?} contains no word to search for"),
            });
        };
        let rows = sqlx::query(
            "SELECT m.id, m.conversation_id, c.title, m.role, \
             snippet(messages_fts, 0, '[', ']', '…', 24), m.created_at \
             FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE messages_fts MATCH ? ORDER BY rank LIMIT ?",
        )
        .bind(expression)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let role: String = row.try_get(3)?;
                Ok(SearchHit {
                    message: MessageId(row.try_get(0)?),
                    conversation: ConversationId(row.try_get(1)?),
                    title: row.try_get(2)?,
                    role: Role::parse(&role)
                        .ok_or_else(|| StoreError::Range(format!("unknown role {role:?}")))?,
                    snippet: row.try_get(4)?,
                    created_at: row.try_get(5)?,
                })
            })
            .collect()
    }
}
