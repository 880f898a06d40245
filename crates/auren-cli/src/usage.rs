//! `auren usage [--json] [--db PATH]`: tokens and cost of LLM calls, by UTC day and model.

use crate::places::{db_path, runtime};
use auren_agents::ledger::SqliteLedger;
use auren_gateway::{UsageGrouping, UsageLedger, UsageQuery, UsageTotals, Usd};
use auren_store::Store;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Print JSON (one object per day and model) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let rows = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let query = UsageQuery {
            grouping: UsageGrouping {
                by_day: true,
                by_model: true,
                ..UsageGrouping::default()
            },
            ..UsageQuery::default()
        };
        let rows = SqliteLedger::new(store.clone()).summary(&query).await?;
        store.close().await;
        anyhow::Ok(rows)
    })?;
    if args.json {
        let json: Vec<serde_json::Value> = rows.iter().map(row_json).collect();
        println!("{}", serde_json::to_string_pretty(&json)?);
    } else {
        print!("{}", table(&rows));
    }
    Ok(())
}

fn row_json(row: &UsageTotals) -> serde_json::Value {
    serde_json::json!({
        "day": row.day,
        "provider": row.provider,
        "model": row.model,
        "calls": row.calls,
        "input_tokens": row.input_tokens,
        "cached_input_tokens": row.cached_input_tokens,
        "output_tokens": row.output_tokens,
        "cost_usd": row.cost.as_dollars(),
        "estimated_calls": row.estimated_calls,
        "unpriced_calls": row.unpriced_calls,
    })
}

/// The text table; `~` marks rows with estimated token counts, `unpriced` rows whose model has no price.
pub fn table(rows: &[UsageTotals]) -> String {
    if rows.is_empty() {
        return "No LLM usage recorded yet.\n".to_owned();
    }
    let mut out = format!(
        "{:<10}  {:<40}  {:>5}  {:>10}  {:>10}  {:>10}  {:>12}\n",
        "day", "model", "calls", "input", "cached", "output", "cost (USD)"
    );
    let mut total = UsageTotals::default();
    for row in rows {
        let model = format!(
            "{}:{}",
            row.provider.as_deref().unwrap_or("?"),
            row.model.as_deref().unwrap_or("?")
        );
        let approx = if row.estimated_calls > 0 { "~" } else { "" };
        let cost = if row.unpriced_calls == row.calls {
            "unpriced".to_owned()
        } else {
            cost_text(row.cost)
        };
        out.push_str(&format!(
            "{:<10}  {:<40}  {:>5}  {:>10}  {:>10}  {:>10}  {:>12}\n",
            row.day.as_deref().unwrap_or(""),
            model,
            row.calls,
            format!("{approx}{}", row.input_tokens),
            row.cached_input_tokens,
            format!("{approx}{}", row.output_tokens),
            cost
        ));
        total.calls += row.calls;
        total.input_tokens += row.input_tokens;
        total.cached_input_tokens += row.cached_input_tokens;
        total.output_tokens += row.output_tokens;
        total.cost = total.cost.saturating_add(row.cost);
    }
    out.push_str(&format!(
        "{:<10}  {:<40}  {:>5}  {:>10}  {:>10}  {:>10}  {:>12}\n",
        "total",
        "",
        total.calls,
        total.input_tokens,
        total.cached_input_tokens,
        total.output_tokens,
        cost_text(total.cost)
    ));
    out
}

fn cost_text(cost: Usd) -> String {
    format!("{:.6}", cost.as_dollars())
}
