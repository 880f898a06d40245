//! Recall: which active memories matter for a question, offline and with no model. SQLite FTS5 finds the
//! memories sharing a word with the question and ranks them by BM25 (with k1 = 0, see `candidates`); the
//! best candidates are then scored by relevance, importance and recency together, so a central goal from last
//! year still beats a trivial remark from yesterday that merely shares a word.

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
    /// BM25 (k1 = 0) relative to the best match (1 for it), 0 when the question had no searchable word.
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

/// The meaningful words of `question`, lowercased, deduplicated, each quoted as an FTS5 string (so nothing a
/// person types is query syntax).
fn terms(question: &str) -> Vec<String> {
    let mut terms: Vec<String> = words(question)
        .map(str::to_lowercase)
        .filter(|w| !STOPWORDS.contains(&w.as_str()))
        .collect();
    terms.sort();
    terms.dedup();
    // Beyond a few dozen words a question is a paste; the first ones carry it.
    terms.truncate(32);
    terms.into_iter().map(|t| format!("\"{t}\"")).collect()
}

/// BM25's inverse document frequency of a term found in `df` of `n` memories.
fn idf(df: i64, n: i64) -> f64 {
    let (df, n) = (df as f64, n.max(df) as f64);
    ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
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
        let terms = terms(question);
        let mut hits = if terms.is_empty() {
            self.without_words(now).await?
        } else {
            self.candidates(&terms, now).await?
        };
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.memory.id.cmp(&a.memory.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    /// BM25 with k1 = 0 (a memory is a sentence or two, so how often a word repeats in it says nothing):
    /// a memory's relevance is the sum of the IDFs of the question's words it contains. Summing in SQLite
    /// over the FTS5 postings costs a fraction of FTS5's own `bm25()`, which reads every match's positions and
    /// length; 100k memories stay within a few milliseconds.
    async fn candidates(&self, terms: &[String], now: i64) -> Result<Vec<RecallHit>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        // The largest id stands in for the number of memories: IDF only weighs words against each other.
        let n: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM memories")
            .fetch_one(&mut *conn)
            .await?;
        let mut weighted = Vec::with_capacity(terms.len());
        for term in terms {
            let df: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories_fts WHERE memories_fts MATCH ?")
                .bind(term)
                .fetch_one(&mut *conn)
                .await?;
            if df > 0 {
                weighted.push(serde_json::json!([term, idf(df, n)]));
            }
        }
        if weighted.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH terms (expr, weight) AS ( \
                 SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?1)), \
             scored (id, relevance) AS ( \
                 SELECT memories_fts.rowid, SUM(terms.weight) FROM terms \
                 JOIN memories_fts ON memories_fts MATCH terms.expr \
                 GROUP BY memories_fts.rowid ORDER BY 2 DESC, 1 DESC LIMIT ?2) \
             SELECT {MEMORY_COLUMNS}, scored.relevance FROM scored JOIN memories USING (id) WHERE valid_from <= ?3"
        )))
        .bind(serde_json::Value::Array(weighted).to_string())
        .bind(CANDIDATES)
        .bind(now)
        .fetch_all(&mut *conn)
        .await?;
        let mut scored = Vec::with_capacity(rows.len());
        for row in &rows {
            scored.push((memory_row(row)?, row.try_get::<f64, _>(14)?));
        }
        let best = scored.iter().map(|(_, r)| *r).fold(0.0_f64, f64::max);
        Ok(scored
            .into_iter()
            .map(|(memory, relevance)| {
                let relevance = if best > 0.0 { relevance / best } else { 1.0 };
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
    use super::terms;

    #[test]
    fn questions_become_quoted_words_without_stopwords() {
        let table: [(&str, &[&str]); 4] = [
            ("Why is my HRV down?", &["\"down\"", "\"hrv\""]),
            ("what do I", &[]),
            ("\"quoted\" AND -x* quoted", &["\"quoted\"", "\"x\""]),
            ("", &[]),
        ];
        for (question, expected) in table {
            assert_eq!(terms(question), expected, "{question:?}");
        }
    }
}
