//! `auren conversations list|show|search|export`: the stored conversations with the coach — messages with
//! who answered, the numbers each answer stated (grounded or not) and what the turn cost.

use anyhow::Context;
use auren_clock::UnixMillis;
use auren_store::conversations::{ConversationExport, Grounding, MessageRow, Role};
use auren_store::{ConversationId, Store};
use std::path::PathBuf;

use crate::places::{db_path, runtime};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long, global = true)]
    pub db: Option<PathBuf>,
}

#[derive(clap::Subcommand)]
pub enum Command {
    /// Every conversation, the most recent first.
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One conversation's messages (its latest branch), with the claims of each answer.
    Show {
        id: i64,
        /// The export JSON (messages, claims, steps, receipts) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Messages containing every word of QUERY, best match first.
    Search {
        query: String,
        #[arg(long, default_value_t = 20)]
        limit: u32,
        #[arg(long)]
        json: bool,
    },
    /// A conversation as Markdown (default) or JSON, to stdout or --out.
    Export {
        id: i64,
        /// markdown or json.
        #[arg(long, default_value = "markdown")]
        format: String,
        /// Write here instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let text = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let text = render(&store, args.command).await;
        store.close().await;
        text
    })?;
    print!("{text}");
    Ok(())
}

async fn render(store: &Store, command: Command) -> anyhow::Result<String> {
    let conversations = store.conversations();
    match command {
        Command::List { json } => {
            let rows = conversations.list().await?;
            if json {
                let rows: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|c| {
                        serde_json::json!({
                            "id": c.id.0, "title": c.title, "created_at": c.created_at,
                            "updated_at": c.updated_at, "messages": c.message_count,
                        })
                    })
                    .collect();
                return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
            }
            if rows.is_empty() {
                return Ok("No conversations yet: ask something with auren ask \"…\".\n".to_owned());
            }
            let mut out = format!(
                "{:>5}  {:<17}  {:>8}  {}\n",
                "id", "updated (UTC)", "messages", "title"
            );
            for c in rows {
                out.push_str(&format!(
                    "{:>5}  {:<17}  {:>8}  {}\n",
                    c.id.0,
                    UnixMillis(c.updated_at).civil_minute(),
                    c.message_count,
                    c.title
                ));
            }
            Ok(out)
        }
        Command::Show { id, json } => {
            let export = exported(store, id).await?;
            if json {
                return Ok(format!("{}\n", serde_json::to_string_pretty(&export.to_json())?));
            }
            let mut out = format!("# {} (conversation {id})\n", export.conversation.title);
            for m in &export.messages {
                let who = match m.message.role {
                    Role::User => "you".to_owned(),
                    _ => answerer(&m.message),
                };
                out.push_str(&format!(
                    "\n[{}] {who}:\n{}\n",
                    UnixMillis(m.message.created_at).civil_minute(),
                    m.message.text.trim_end()
                ));
                for claim in &m.claims {
                    out.push_str(&match &claim.grounding {
                        Grounding::Grounded { receipt } => {
                            format!("  ✓ {} (receipt {receipt})\n", claim.text)
                        }
                        Grounding::Ungrounded => format!("  ✗ {} — not grounded\n", claim.text),
                    });
                }
            }
            Ok(out)
        }
        Command::Search { query, limit, json } => {
            let hits = conversations.search(&query, limit).await?;
            if json {
                let hits: Vec<serde_json::Value> = hits
                    .iter()
                    .map(|h| {
                        serde_json::json!({
                            "message": h.message.0, "conversation": h.conversation.0, "title": h.title,
                            "role": h.role.as_str(), "snippet": h.snippet, "created_at": h.created_at,
                        })
                    })
                    .collect();
                return Ok(format!("{}\n", serde_json::to_string_pretty(&hits)?));
            }
            if hits.is_empty() {
                return Ok(format!("No message contains every word of {query:?}.\n"));
            }
            Ok(hits
                .iter()
                .map(|h| {
                    format!(
                        "conversation {} ({}), message {} [{}]: {}\n",
                        h.conversation.0,
                        h.title,
                        h.message.0,
                        h.role.as_str(),
                        h.snippet
                    )
                })
                .collect())
        }
        Command::Export { id, format, out } => {
            let export = exported(store, id).await?;
            let text = match format.as_str() {
                "markdown" | "md" => export.to_markdown(),
                "json" => format!("{}\n", serde_json::to_string_pretty(&export.to_json())?),
                other => anyhow::bail!("unknown export format {other:?}: use markdown or json"),
            };
            match out {
                Some(path) => {
                    std::fs::write(&path, text)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    Ok(format!("Wrote conversation {id} to {}.\n", path.display()))
                }
                None => Ok(text),
            }
        }
    }
}

async fn exported(store: &Store, id: i64) -> anyhow::Result<ConversationExport> {
    store
        .conversations()
        .export(ConversationId(id), None)
        .await
        .with_context(|| format!("conversation {id}: see auren conversations list"))
}

/// Who wrote an answer: the specialist, the model, or the offline analyst.
fn answerer(m: &MessageRow) -> String {
    let specialist = m.specialist.clone().unwrap_or_else(|| "coach".to_owned());
    match (&m.model, m.offline) {
        (_, true) => format!("{specialist} (offline)"),
        (Some(model), false) => format!("{specialist} ({model})"),
        (None, false) => specialist,
    }
}
