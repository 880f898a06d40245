//! `auren hypotheses [--json]`: the person's hypotheses ("alcohol lowers my next-morning HRV"), each re-tested
//! on the mornings stored so far before it is shown. Status (open, supported, refuted, inconclusive) is
//! computed by code from the test, never by a model.

use auren_agents::Toolbox;
use auren_agents::hypothesis::retest_all;
use auren_gateway::SystemClock;
use auren_store::Store;
use std::path::PathBuf;
use std::sync::Arc;

use crate::places::{db_path, runtime};

#[derive(clap::Args)]
pub struct Args {
    /// One JSON array (each hypothesis with its latest evidence) instead of text.
    #[arg(long)]
    pub json: bool,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let text = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let text = render(&store, args.json).await;
        store.close().await;
        text
    })?;
    print!("{text}");
    Ok(())
}

async fn render(store: &Store, json: bool) -> anyhow::Result<String> {
    let toolbox = Toolbox::new(store.clone(), Arc::new(SystemClock));
    let retests = retest_all(&toolbox, toolbox.today()).await?;
    let rows = store.hypotheses().list().await?;
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|h| {
                serde_json::json!({
                    "id": h.id.0,
                    "statement": h.statement,
                    "metric": h.metric,
                    "exposure_tag": h.exposure_tag,
                    "lag_days": h.lag_days,
                    "direction": h.direction.as_str(),
                    "test": h.test,
                    "alpha": h.alpha,
                    "min_n": h.min_n,
                    "status": h.status.as_str(),
                    "evidence": h.evidence_json.as_deref().and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok()),
                    "last_tested_at": h.last_tested_at,
                })
            })
            .collect();
        return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
    }
    if rows.is_empty() {
        return Ok(
            "No hypotheses yet: ask the coach to test one, e.g. auren ask \"does alcohol lower my \
                   next-morning HRV?\"\n"
                .to_owned(),
        );
    }
    let mut out = String::new();
    for h in &rows {
        out.push_str(&format!(
            "{:>4}  {:<12}  {}\n",
            h.id.0,
            h.status.as_str(),
            h.statement
        ));
        match retests.iter().find(|r| r.id == h.id.0) {
            Some(r) => {
                let e = &r.evidence;
                let mean = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.3}"));
                out.push_str(&format!(
                    "      {} after {} (lag {} d) vs other days: {} (n {}) vs {} (n {}), p {}, g {}\n      {}\n",
                    h.metric,
                    h.exposure_tag,
                    h.lag_days,
                    mean(e.mean_exposed),
                    e.n_exposed,
                    mean(e.mean_other),
                    e.n_other,
                    e.p.map_or("–".to_owned(), |p| format!("{p:.4}")),
                    mean(e.hedges_g),
                    e.reason
                ));
                if r.changed() {
                    out.push_str(&format!(
                        "      status changed: {} → {}\n",
                        r.before.as_str(),
                        r.after.as_str()
                    ));
                }
            }
            None => out.push_str("      not re-tested: this version does not know its metric or test\n"),
        }
    }
    Ok(out)
}
