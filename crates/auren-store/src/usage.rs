//! The `llm_usage` table: auren-gateway's `UsageLedger` on SQLite.

use crate::{Store, StoreError};
use auren_gateway::usage::{GroupedTotals, LedgerError, UsageLedger, UsageQuery, UsageRecord, UsageTotals};
use auren_gateway::{UnixMillis, Usd};
use futures::future::BoxFuture;
use sqlx::Row;

fn to_i64(value: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(value)
        .map_err(|_| StoreError::Range(format!("{what} {value} does not fit SQLite's INTEGER")))
}

fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Range(format!("{what} is negative: {value}")))
}

impl From<StoreError> for LedgerError {
    fn from(error: StoreError) -> Self {
        LedgerError(error.to_string())
    }
}

impl Store {
    /// Appends one call's usage.
    pub async fn record_usage(&self, record: &UsageRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO llm_usage (at_ms, day, provider, model, conversation, input_tokens, cached_input_tokens, \
             output_tokens, estimated, cost_picodollars) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(record.at.0)
        .bind(record.at.utc_date().to_string())
        .bind(&record.provider)
        .bind(&record.model)
        .bind(&record.conversation)
        .bind(to_i64(record.input_tokens, "input_tokens")?)
        .bind(to_i64(record.cached_input_tokens, "cached_input_tokens")?)
        .bind(to_i64(record.output_tokens, "output_tokens")?)
        .bind(record.estimated)
        .bind(record.cost.map(|c| c.picodollars))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Totals grouped as `query` asks. SQLite sums per day, provider, model and conversation; the coarser
    /// groupings are folded here.
    pub async fn usage_summary(&self, query: &UsageQuery) -> Result<Vec<UsageTotals>, StoreError> {
        let rows = sqlx::query(
            "SELECT day, provider, model, conversation, COUNT(*) AS calls, SUM(input_tokens), \
             SUM(cached_input_tokens), SUM(output_tokens), SUM(COALESCE(cost_picodollars, 0)), SUM(estimated), \
             SUM(cost_picodollars IS NULL) \
             FROM llm_usage \
             WHERE at_ms >= ? AND at_ms < ? AND (? IS NULL OR conversation = ?) \
             GROUP BY day, provider, model, conversation",
        )
        .bind(query.since.map_or(i64::MIN, |s| s.0))
        .bind(query.until.map_or(i64::MAX, |u| u.0))
        .bind(&query.conversation)
        .bind(&query.conversation)
        .fetch_all(&self.pool)
        .await?;
        let mut totals = GroupedTotals::new(query.grouping);
        for row in rows {
            let day: String = row.try_get(0)?;
            totals.add(UsageTotals {
                month: Some(day.get(..7).unwrap_or(&day).to_owned()),
                day: Some(day),
                provider: Some(row.try_get(1)?),
                model: Some(row.try_get(2)?),
                conversation: row.try_get(3)?,
                calls: to_u64(row.try_get(4)?, "calls")?,
                input_tokens: to_u64(row.try_get(5)?, "input_tokens")?,
                cached_input_tokens: to_u64(row.try_get(6)?, "cached_input_tokens")?,
                output_tokens: to_u64(row.try_get(7)?, "output_tokens")?,
                cost: Usd {
                    picodollars: row.try_get(8)?,
                },
                estimated_calls: to_u64(row.try_get(9)?, "estimated")?,
                unpriced_calls: to_u64(row.try_get(10)?, "unpriced")?,
            });
        }
        Ok(totals.into_rows())
    }

    /// The cost of every call at or after `since`.
    pub async fn spent_since(&self, since: UnixMillis) -> Result<Usd, StoreError> {
        let row = sqlx::query("SELECT COALESCE(SUM(cost_picodollars), 0) FROM llm_usage WHERE at_ms >= ?")
            .bind(since.0)
            .fetch_one(&self.pool)
            .await?;
        Ok(Usd {
            picodollars: row.try_get(0)?,
        })
    }
}

impl UsageLedger for Store {
    fn record<'a>(&'a self, record: &'a UsageRecord) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(async move { Ok(self.record_usage(record).await?) })
    }

    fn summary<'a>(&'a self, query: &'a UsageQuery) -> BoxFuture<'a, Result<Vec<UsageTotals>, LedgerError>> {
        Box::pin(async move { Ok(self.usage_summary(query).await?) })
    }

    fn spent_since(&self, since: UnixMillis) -> BoxFuture<'_, Result<Usd, LedgerError>> {
        Box::pin(async move { Ok(Store::spent_since(self, since).await?) })
    }
}
