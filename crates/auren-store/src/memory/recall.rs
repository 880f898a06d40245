//! Recall: which active memories matter for a question, offline and with no model. SQLite FTS5 ranks the
//! memories sharing a word with the question by BM25; the best candidates are then scored by relevance,
//! importance and recency together, so a central goal from last year still beats a trivial remark from
//! yesterday that merely shares a word.

use super::{MEMORY_COLUMNS, Memories, MemoryRow, memory_row};
use crate::StoreError;
use crate::conversations::search::words;
use sqlx::Row;

/// One recalled memory with the parts of its score.
#[derive(Clone, Debug, PartialEq)]
pub struct RecallHit {
    pub memory: MemoryRow,
    /// The combined score, 0–1, higher first.
    pub score: f64,
    /// BM25 relative to the best match (1 for it), 0 when the question had no searchable word.
    pub relevance: f64,
    /// 1 when just recorded, halving every [`RECENCY_HALF_LIFE_DAYS`].
    pub recency: f64,
}

/// How fast recency fades: a memory recorded this long ago counts half as recent.
pub const RECENCY_HALF_LIFE_DAYS: f64 = 180.0;

/// Weights of relevance, importance and recency in the score (they sum to 1).
const WEIGHTS: (f64, f64, f64) = (0.6, 0.25, 0.15);

/// How many BM25 candidates are rescored: enough that importance and recency can reorder the top, few enough
/// that a common word over 100k memories stays cheap.
const CANDIDATES: u32 = 200;

/// Words too common to say anything about which memory is meant; dropped before searching.
const STOPWORDS: &[&str] = &[
    "a", "about", "am", "an", "and", "are", "as", "at", "be", "been", "but", "by", "can", "did", "do",
    "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "of",
    "on", "or", "our", "should", "so", "that", "the", "this", "to", "was", "we", "were", "what", "when",
    "which", "who", "why", "will", "with", "would", "you", "your",
];

/// The FTS5 query matching any meaningful word of `question` (each quoted, so nothing is query syntax).
fn any_word(question: &str) -> Option<String> {
    let mut terms: Vec<String> = words(question)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    terms.sort();
    terms.dedup();
    // Beyond a few dozen words a question is a paste; the first ones carry it.
    terms.truncate(32);
    (!terms.is_empty()).then(|| {
        terms
            .iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    })
}

fn recency(recorded_at: i64, now: i64) -> f64 {
    let age_days = (now - recorded_at).max(0) as f64 / 86_400_000.0;
    0.5_f64.powf(age_days / RECENCY_HALF_LIFE_DAYS)
}

fn hit(memory: MemoryRow, relevance: f64, now: i64) -> RecallHit {
    let recency = recency(memory.recorded_at, now);
    let (w_rel, w_imp, w_rec) = WEIGHTS;
    RecallHit {
        score: w_rel * relevance + w_imp * memory.importance + w_rec * recency,
        relevance,
        recency,
        memory,
    }
}

impl Memories {
    /// The `limit` active memories (true at `now`) most worth recalling for `question`, best first. A question
    /// with no searchable word gets the most important and recent memories.
    pub async fn recall(&self, question: &str, limit: usize, now: i64) -> Result<Vec<RecallHit>, StoreError> {
        let mut hits = match any_word(question) {
            Some(expression) => self.candidates(&expression, now).await?,
            None => self.without_words(now).await?,
        };
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.memory.id.cmp(&a.memory.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    async fn candidates(&self, expression: &str, now: i64) -> Result<Vec<RecallHit>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH hits (id, bm25) AS ( \
                 SELECT rowid, rank FROM memories_fts WHERE memories_fts MATCH ?1 ORDER BY rank LIMIT ?2) \
             SELECT {MEMORY_COLUMNS}, hits.bm25 FROM hits JOIN memories USING (id) WHERE valid_from <= ?3"
        )))
        .bind(expression)
        .bind(CANDIDATES)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        // FTS5's BM25 is negative, the best match most negative.
        let mut scored = Vec::with_capacity(rows.len());
        for row in &rows {
            scored.push((memory_row(row)?, row.try_get::<f64, _>(14)?));
        }
        let best = scored.iter().map(|(_, b)| *b).fold(0.0_f64, f64::min);
        Ok(scored
            .into_iter()
            .map(|(memory, bm25)| {
                let relevance = if best < 0.0 { bm25 / best } else { 1.0 };
                hit(memory, relevance, now)
            })
            .collect())
    }

    async fn without_words(&self, now: i64) -> Result<Vec<RecallHit>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMORY_COLUMNS} FROM memories \
             WHERE superseded_at IS NULL AND retracted_at IS NULL AND valid_from <= ? \
             ORDER BY importance DESC, recorded_at DESC LIMIT ?"
        )))
        .bind(now)
        .bind(CANDIDATES)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok(hit(memory_row(row)?, 0.0, now)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::any_word;

    #[test]
    fn questions_become_quoted_alternatives_without_stopwords() {
        let table = [
            ("Why is my HRV down?", Some("\"down\" OR \"hrv\"")),
            ("what do I", None),
            ("\"quoted\" AND -x*", Some("\"quoted\" OR \"x\"")),
            ("", None),
        ];
        for (question, expected) in table {
            assert_eq!(any_word(question).as_deref(), expected, "{question:?}");
        }
    }
}
