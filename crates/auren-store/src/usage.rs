//! The `llm_usage` table: one row per LLM call (tokens and cost), summed per UTC day, provider, model and
//! conversation.
//!
//! The store speaks its own plain types here: it knows nothing of the gateway. The crate that wires the
//! gateway to the store (the CLI today) implements the gateway's `UsageLedger` over these methods and folds
//! the per-day totals into whatever grouping it is asked for.

use crate::{Store, StoreError};
use auren_clock::UnixMillis;
use sqlx::Row;

/// One LLM call as the `llm_usage` table keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRow {
    /// When the call ended, Unix milliseconds; its UTC day is stored with it.
    pub at_ms: i64,
    pub provider: String,
    pub model: String,
    pub conversation: Option<String>,
    /// All prompt tokens, cached ones included.
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// The token counts are a tokenizer's estimate, not the provider's.
    pub estimated: bool,
    /// The cost in picodollars (10⁻¹² USD); `None` when the model has no known price.
    pub cost_picodollars: Option<i64>,
}

/// Which calls [`Store::usage_by_day`] sums. Every bound left `None` lets all calls through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageFilter {
    /// Only calls at or after this instant (Unix ms).
    pub since_ms: Option<i64>,
    /// Only calls before this instant (Unix ms).
    pub until_ms: Option<i64>,
    /// Only the calls of this conversation.
    pub conversation: Option<String>,
}

/// The sums over the calls of one UTC day, provider, model and conversation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageDayTotals {
    /// `YYYY-MM-DD`, UTC.
    pub day: String,
    pub provider: String,
    pub model: String,
    pub conversation: Option<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// Unpriced calls count as 0.
    pub cost_picodollars: i64,
    /// Calls whose token counts were estimated.
    pub estimated_calls: u64,
    /// Calls with no known price.
    pub unpriced_calls: u64,
}

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Range(format!("{what} {value} does not fit SQLite's INTEGER")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Range(format!("{what} is negative: {value}")))
}

impl Store {
    /// Appends one call's usage.
    pub async fn record_usage(&self, row: &UsageRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO llm_usage (at_ms, day, provider, model, conversation, input_tokens, cached_input_tokens, \
             output_tokens, estimated, cost_picodollars) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.at_ms)
        .bind(UnixMillis(row.at_ms).utc_date().to_string())
        .bind(&row.provider)
        .bind(&row.model)
        .bind(&row.conversation)
        .bind(to_i64(row.input_tokens, "input_tokens")?)
        .bind(to_i64(row.cached_input_tokens, "cached_input_tokens")?)
        .bind(to_i64(row.output_tokens, "output_tokens")?)
        .bind(row.estimated)
        .bind(row.cost_picodollars)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The calls `filter` lets through, summed per day, provider, model and conversation, ordered by those
    /// four (no conversation first).
    pub async fn usage_by_day(&self, filter: &UsageFilter) -> Result<Vec<UsageDayTotals>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, provider, model, conversation, COUNT(*) AS calls, SUM(input_tokens), \
             SUM(cached_input_tokens), SUM(output_tokens), SUM(COALESCE(cost_picodollars, 0)), SUM(estimated), \
             SUM(cost_picodollars IS NULL) \
             FROM llm_usage \
             WHERE at_ms >= ? AND at_ms < ? AND (? IS NULL OR conversation = ?) \
             GROUP BY day, provider, model, conversation \
             ORDER BY day, provider, model, conversation",
        )
        .bind(filter.since_ms.unwrap_or(i64::MIN))
        .bind(filter.until_ms.unwrap_or(i64::MAX))
        .bind(&filter.conversation)
        .bind(&filter.conversation)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(UsageDayTotals {
                    day: row.try_get(0)?,
                    provider: row.try_get(1)?,
                    model: row.try_get(2)?,
                    conversation: row.try_get(3)?,
                    calls: to_u64(row.try_get(4)?, "calls")?,
                    input_tokens: to_u64(row.try_get(5)?, "input_tokens")?,
                    cached_input_tokens: to_u64(row.try_get(6)?, "cached_input_tokens")?,
                    output_tokens: to_u64(row.try_get(7)?, "output_tokens")?,
                    cost_picodollars: row.try_get(8)?,
                    estimated_calls: to_u64(row.try_get(9)?, "estimated")?,
                    unpriced_calls: to_u64(row.try_get(10)?, "unpriced")?,
                })
            })
            .collect()
    }

    /// The cost in picodollars of every call at or after `since_ms` (unpriced calls count as 0).
    pub async fn usage_cost_since(&self, since_ms: i64) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COALESCE(SUM(cost_picodollars), 0) FROM llm_usage WHERE at_ms >= ?")
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }
}
