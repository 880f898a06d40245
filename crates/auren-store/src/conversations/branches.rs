//! Branches: editing a question and sending it again adds a sibling under the same parent, so a
//! conversation is a tree. A leaf's path (root to leaf) is one linear conversation; the newest message's path
//! is the one shown by default.

use super::{ConversationId, Conversations, MESSAGE_COLUMNS, MessageId, MessageRow, message_row, not_found};
use crate::StoreError;

impl Conversations {
    /// The messages from the root to `leaf`, in order (`leaf` need not be a leaf: any message's ancestry).
    pub async fn path(&self, leaf: MessageId) -> Result<Vec<MessageRow>, StoreError> {
        let columns = MESSAGE_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH RECURSIVE up (id, depth) AS ( \
                 SELECT ?, 0 \
                 UNION ALL SELECT m.parent_id, up.depth + 1 FROM messages m JOIN up ON m.id = up.id \
                 WHERE m.parent_id IS NOT NULL) \
             SELECT {columns} FROM up JOIN messages m ON m.id = up.id ORDER BY up.depth DESC"
        )))
        .bind(leaf.0)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(not_found("message", leaf));
        }
        rows.iter().map(message_row).collect()
    }

    /// The path to the conversation's newest message (empty for a conversation with no messages).
    pub async fn latest_path(&self, conversation: ConversationId) -> Result<Vec<MessageRow>, StoreError> {
        match self.latest_message(conversation).await? {
            Some(leaf) => self.path(leaf).await,
            None => Ok(Vec::new()),
        }
    }

    /// The path through `message` down to the newest message below it (itself when nothing is): what a
    /// branch shows when the person flips to it — its question and the answers that followed, not the path
    /// cut at the question.
    pub async fn latest_path_through(&self, message: MessageId) -> Result<Vec<MessageRow>, StoreError> {
        let newest: Option<i64> = sqlx::query_scalar(
            "WITH RECURSIVE down (id) AS ( \
                 SELECT id FROM messages WHERE id = ? \
                 UNION ALL SELECT m.id FROM messages m JOIN down ON m.parent_id = down.id) \
             SELECT MAX(id) FROM down",
        )
        .bind(message.0)
        .fetch_one(&self.pool)
        .await?;
        match newest {
            Some(leaf) => self.path(MessageId(leaf)).await,
            None => Err(not_found("message", message)),
        }
    }

    /// The conversation's newest message, if it has one.
    pub async fn latest_message(
        &self,
        conversation: ConversationId,
    ) -> Result<Option<MessageId>, StoreError> {
        self.get(conversation).await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM messages WHERE conversation_id = ?")
            .bind(conversation.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(id.map(MessageId))
    }

    /// The messages sharing `message`'s parent (roots share the conversation), itself included, oldest first:
    /// the alternatives a person can switch between.
    pub async fn siblings(&self, message: MessageId) -> Result<Vec<MessageRow>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = \
             (SELECT conversation_id FROM messages WHERE id = ?1) \
             AND parent_id IS (SELECT parent_id FROM messages WHERE id = ?1) ORDER BY id"
        )))
        .bind(message.0)
        .fetch_all(&self.pool)
        .await?;
        if rows.is_empty() {
            return Err(not_found("message", message));
        }
        rows.iter().map(message_row).collect()
    }
}
