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

fn combined(relevance: f64, importance: f64, recency: f64) -> f64 {
    let (w_rel, w_imp, w_rec) = WEIGHTS;
    w_rel * relevance + w_imp * importance + w_rec * recency
}

fn hit(memory: MemoryRow, relevance: f64, now: i64) -> RecallHit {
    let recency = recency(memory.recorded_at, now);
    RecallHit {
        score: combined(relevance, memory.importance, recency),
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
            self.candidates(&terms, limit, now).await?
        };
        hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.memory.id.cmp(&a.memory.id)));
        hits.truncate(limit);
        Ok(hits)
    }

    /// BM25 with k1 = 0 (a memory is a sentence or two, so how often a word repeats in it says nothing):
    /// a memory's relevance is the sum of the IDFs of the question's words it contains. Summing in SQLite
    /// over the FTS5 postings costs a fraction of FTS5's own `bm25()`, which reads every match's positions and
    /// length; 100k memories stay within a few milliseconds.
    async fn candidates(
        &self,
        terms: &[String],
        limit: usize,
        now: i64,
    ) -> Result<Vec<RecallHit>, StoreError> {
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
                weighted.push((term, idf(df, n)));
            }
        }
        if weighted.is_empty() {
            return Ok(Vec::new());
        }
        // One FTS5 lookup per word, UNION ALL: a join from a list of words let the planner scan the index.
        let lookups = vec!["SELECT rowid, ? FROM memories_fts WHERE memories_fts MATCH ?"; weighted.len()]
            .join(" UNION ALL ");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "WITH hits (id, weight) AS ({lookups}), \
             scored (id, relevance) AS ( \
                 SELECT id, SUM(weight) FROM hits GROUP BY id ORDER BY 2 DESC, 1 DESC LIMIT ?) \
             SELECT id, importance, recorded_at, scored.relevance FROM scored JOIN memories USING (id) \
             WHERE valid_from <= ?"
        )));
        for (term, weight) in &weighted {
            query = query.bind(*weight).bind(*term);
        }
        let rows = query.bind(CANDIDATES).bind(now).fetch_all(&mut *conn).await?;
        // Scored from four columns first; only the `limit` best are read in full.
        let mut scored = Vec::with_capacity(rows.len());
        for row in &rows {
            let (id, importance, recorded_at, relevance): (i64, f64, i64, f64) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            scored.push((id, importance, recorded_at, relevance));
        }
        let best = scored.iter().map(|c| c.3).fold(0.0_f64, f64::max);
        let relative = |relevance: f64| if best > 0.0 { relevance / best } else { 1.0 };
        scored.sort_by(|a, b| {
            let score = |c: &(i64, f64, i64, f64)| combined(relative(c.3), c.1, recency(c.2, now));
            score(b).total_cmp(&score(a)).then(b.0.cmp(&a.0))
        });
        scored.truncate(limit);
        let ids: Vec<i64> = scored.iter().map(|c| c.0).collect();
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {MEMORY_COLUMNS} FROM memories WHERE id IN (SELECT value FROM json_each(?))"
        )))
        .bind(serde_json::json!(ids).to_string())
        .fetch_all(&mut *conn)
        .await?;
        let mut full = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            let memory = memory_row(row)?;
            full.insert(memory.id.0, memory);
        }
        Ok(scored
            .into_iter()
            .filter_map(|(id, _, _, relevance)| full.remove(&id).map(|m| hit(m, relative(relevance), now)))
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
