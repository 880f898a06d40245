//! The SQLite usage ledger: auren-gateway's `UsageLedger` over auren-store's `llm_usage` table.
//!
//! The store knows nothing of the gateway (it would pull reqwest, keyring and tiktoken into every crate
//! above it), so the crate that wires the two together translates between them: a gateway record becomes
//! a store row, and the store's totals per day, provider, model and conversation are folded by the
//! gateway's own `GroupedTotals` into whatever grouping a query asks for.

use auren_gateway::usage::{GroupedTotals, LedgerError, UsageLedger, UsageQuery, UsageRecord, UsageTotals};
use auren_gateway::{UnixMillis, Usd};
use auren_store::{Store, UsageDayTotals, UsageFilter, UsageRow};
use futures::future::BoxFuture;

/// The gateway's usage ledger, kept in the store's database.
#[derive(Clone, Debug)]
pub struct SqliteLedger {
    store: Store,
}

impl SqliteLedger {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn record_call(&self, record: &UsageRecord) -> Result<(), LedgerError> {
        self.store.record_usage(&usage_row(record)).await.map_err(|e| {
            LedgerError::new(
                format!("recording a call to {}:{}", record.provider, record.model),
                e,
            )
        })
    }

    async fn sum(&self, query: &UsageQuery) -> Result<Vec<UsageTotals>, LedgerError> {
        let filter = UsageFilter {
            since_ms: query.since.map(|s| s.0),
            until_ms: query.until.map(|u| u.0),
            conversation: query.conversation.clone(),
        };
        let days = self
            .store
            .usage_by_day(&filter)
            .await
            .map_err(|e| LedgerError::new("summing usage", e))?;
        let mut totals = GroupedTotals::new(query.grouping);
        for day in days {
            totals.add(usage_totals(day));
        }
        Ok(totals.into_rows())
    }

    async fn cost_since(&self, since: UnixMillis) -> Result<Usd, LedgerError> {
        let picodollars = self
            .store
            .usage_cost_since(since.0)
            .await
            .map_err(|e| LedgerError::new(format!("summing the cost of calls since {since}"), e))?;
        Ok(Usd { picodollars })
    }
}

fn usage_row(record: &UsageRecord) -> UsageRow {
    UsageRow {
        at_ms: record.at.0,
        provider: record.provider.clone(),
        model: record.model.clone(),
        conversation: record.conversation.clone(),
        input_tokens: record.input_tokens,
        cached_input_tokens: record.cached_input_tokens,
        output_tokens: record.output_tokens,
        estimated: record.estimated,
        cost_picodollars: record.cost.map(|c| c.picodollars),
    }
}

/// One day's totals with every grouping key filled in, ready to be folded.
fn usage_totals(day: UsageDayTotals) -> UsageTotals {
    // The day is `YYYY-MM-DD`, so its month is the first seven characters.
    let month = day.day.get(..7).unwrap_or(&day.day).to_owned();
    UsageTotals {
        day: Some(day.day),
        month: Some(month),
        provider: Some(day.provider),
        model: Some(day.model),
        conversation: day.conversation,
        calls: day.calls,
        input_tokens: day.input_tokens,
        cached_input_tokens: day.cached_input_tokens,
        output_tokens: day.output_tokens,
        cost: Usd {
            picodollars: day.cost_picodollars,
        },
        estimated_calls: day.estimated_calls,
        unpriced_calls: day.unpriced_calls,
    }
}

impl UsageLedger for SqliteLedger {
    fn record<'a>(&'a self, record: &'a UsageRecord) -> BoxFuture<'a, Result<(), LedgerError>> {
        Box::pin(self.record_call(record))
    }

    fn summary<'a>(&'a self, query: &'a UsageQuery) -> BoxFuture<'a, Result<Vec<UsageTotals>, LedgerError>> {
        Box::pin(self.sum(query))
    }

    fn spent_since(&self, since: UnixMillis) -> BoxFuture<'_, Result<Usd, LedgerError>> {
        Box::pin(self.cost_since(since))
    }
}

#[cfg(test)]
mod tests;
