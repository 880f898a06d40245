//! Usage accounting: what one call used and cost ([`UsageRecord`]), and the [`UsageLedger`] trait that
//! persists records and sums them per day, month, model and conversation. The SQLite ledger is an adapter
//! over auren-store's `llm_usage` table, kept by the crate that wires the gateway to the store (the
//! `auren` CLI's `ledger.rs`), so the store does not depend on this crate.

use crate::clock::UnixMillis;
use crate::prices::Usd;
use futures::future::BoxFuture;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// One finished (or broken-off) call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageRecord {
    pub at: UnixMillis,
    pub provider: String,
    pub model: String,
    pub conversation: Option<String>,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    /// The token counts came from the gateway's tokenizer, not the provider.
    pub estimated: bool,
    /// `None` when the model has no known price (a local server): shown as unpriced, counted as 0.
    pub cost: Option<Usd>,
}

/// How to group usage totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UsageGrouping {
    pub by_day: bool,
    pub by_month: bool,
    pub by_model: bool,
    pub by_conversation: bool,
}

/// A filter and grouping for [`UsageLedger::summary`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageQuery {
    pub grouping: UsageGrouping,
    /// Only calls at or after this instant.
    pub since: Option<UnixMillis>,
    /// Only calls before this instant.
    pub until: Option<UnixMillis>,
    pub conversation: Option<String>,
}

/// One row of totals. The grouping keys not asked for are `None`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UsageTotals {
    /// `YYYY-MM-DD` (UTC).
    pub day: Option<String>,
    /// `YYYY-MM` (UTC).
    pub month: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub conversation: Option<String>,
    pub calls: u64,
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub cost: Usd,
    /// Calls whose token counts were estimated.
    pub estimated_calls: u64,
    /// Calls with no known price (their cost counts as 0).
    pub unpriced_calls: u64,
}

/// A ledger could not do what was asked: what it was doing, and the error of whatever keeps the records
/// (a database, a file), kept whole so its chain of causes survives.
#[derive(Debug, thiserror::Error)]
#[error("usage ledger: {context}: {source}")]
pub struct LedgerError {
    /// What the ledger was doing, e.g. "recording a call".
    pub context: String,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl LedgerError {
    pub fn new(
        context: impl Into<String>,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// Where usage is kept.
pub trait UsageLedger: Send + Sync {
    fn record<'a>(&'a self, record: &'a UsageRecord) -> BoxFuture<'a, Result<(), LedgerError>>;

    /// Totals matching `query`, grouped as it asks, ordered by day, month, provider, model, conversation.
    fn summary<'a>(&'a self, query: &'a UsageQuery) -> BoxFuture<'a, Result<Vec<UsageTotals>, LedgerError>>;

    /// The total cost of calls at or after `since` (what budgets start from).
    fn spent_since(&self, since: UnixMillis) -> BoxFuture<'_, Result<Usd, LedgerError>>;
}

/// Groups records into totals: shared by ledgers that fetch rows and sum them in Rust.
pub fn summarise<'a>(
    records: impl IntoIterator<Item = &'a UsageRecord>,
    query: &UsageQuery,
) -> Vec<UsageTotals> {
    let mut rows = GroupedTotals::new(query.grouping);
    for r in records {
        if query.since.is_some_and(|s| r.at < s)
            || query.until.is_some_and(|u| r.at >= u)
            || query
                .conversation
                .as_ref()
                .is_some_and(|c| r.conversation.as_ref() != Some(c))
        {
            continue;
        }
        let date = r.at.utc_date();
        rows.add(UsageTotals {
            day: Some(date.to_string()),
            month: Some(date.month_key()),
            provider: Some(r.provider.clone()),
            model: Some(r.model.clone()),
            conversation: r.conversation.clone(),
            calls: 1,
            input_tokens: r.input_tokens,
            cached_input_tokens: r.cached_input_tokens,
            output_tokens: r.output_tokens,
            cost: r.cost.unwrap_or(Usd::ZERO),
            estimated_calls: u64::from(r.estimated),
            unpriced_calls: u64::from(r.cost.is_none()),
        });
    }
    rows.into_rows()
}

/// Usage totals being grouped: each part added lands in the row its [`UsageGrouping`] puts it in. The one
/// fold behind [`summarise`] and behind ledgers that sum finer rows in their database (the SQLite ledger sums
/// per day, provider, model and conversation) and fold the coarser groupings here.
#[derive(Clone, Debug, Default)]
pub struct GroupedTotals {
    grouping: UsageGrouping,
    rows: BTreeMap<[Option<String>; 5], UsageTotals>,
}

impl GroupedTotals {
    pub fn new(grouping: UsageGrouping) -> Self {
        Self {
            grouping,
            rows: BTreeMap::new(),
        }
    }

    /// Adds `part`, whose keys are all those of its calls (day, month, provider, model, conversation); the
    /// keys the grouping does not ask for are dropped.
    pub fn add(&mut self, part: UsageTotals) {
        let g = self.grouping;
        let key = [
            part.day.filter(|_| g.by_day),
            part.month.filter(|_| g.by_month),
            part.provider.filter(|_| g.by_model),
            part.model.filter(|_| g.by_model),
            part.conversation.filter(|_| g.by_conversation),
        ];
        let row = self.rows.entry(key.clone()).or_insert_with(|| {
            let [day, month, provider, model, conversation] = key;
            UsageTotals {
                day,
                month,
                provider,
                model,
                conversation,
                ..UsageTotals::default()
            }
        });
        row.calls += part.calls;
        row.input_tokens += part.input_tokens;
        row.cached_input_tokens += part.cached_input_tokens;
        row.output_tokens += part.output_tokens;
        row.cost = row.cost.saturating_add(part.cost);
        row.estimated_calls += part.estimated_calls;
        row.unpriced_calls += part.unpriced_calls;
    }

    /// The rows, ordered by day, month, provider, model, conversation.
    pub fn into_rows(self) -> Vec<UsageTotals> {
        self.rows.into_values().collect()
    }
}

/// A ledger in memory: for tests, and for callers that keep no history.
#[derive(Debug, Default)]
pub struct MemoryLedger {
    records: Mutex<Vec<UsageRecord>>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn records(&self) -> Vec<UsageRecord> {
        self.records.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl UsageLedger for MemoryLedger {
    fn record<'a>(&'a self, record: &'a UsageRecord) -> BoxFuture<'a, Result<(), LedgerError>> {
        self.records
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(record.clone());
        Box::pin(std::future::ready(Ok(())))
    }

    fn summary<'a>(&'a self, query: &'a UsageQuery) -> BoxFuture<'a, Result<Vec<UsageTotals>, LedgerError>> {
        let records = self.records();
        Box::pin(std::future::ready(Ok(summarise(&records, query))))
    }

    fn spent_since(&self, since: UnixMillis) -> BoxFuture<'_, Result<Usd, LedgerError>> {
        let total = self
            .records()
            .iter()
            .filter(|r| r.at >= since)
            .fold(Usd::ZERO, |sum, r| {
                sum.saturating_add(r.cost.unwrap_or(Usd::ZERO))
            });
        Box::pin(std::future::ready(Ok(total)))
    }
}
