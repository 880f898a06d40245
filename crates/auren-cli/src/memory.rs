//! `auren memory list|remember|retract|forget|proposals|confirm|reject`: the cognitive twin — what Auren
//! remembers about the person, as of any moment, and the person's control over it. `retract` keeps the
//! history (the memory is withdrawn, not erased); `forget` removes the text for good.

use anyhow::Context;
use auren_clock::{UnixMillis, now_unix_ms};
use auren_store::memory::{
    AsOf, MemoryKind, MemoryOp, MemoryRow, NewMemory, ProposalId, ProposalStatus, Provenance,
};
use auren_store::{MemoryId, Store};
use std::path::PathBuf;

use crate::import::parse_at;
use crate::places::{db_path, runtime};

/// Importance of what the person tells Auren directly, when not given.
const PERSON_IMPORTANCE: f64 = 0.7;

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
    /// What Auren believed at a moment (default: now): known by then and true then.
    List {
        /// A past moment: 2025-11-21T07:30:00 or a date.
        #[arg(long)]
        as_of: Option<String>,
        /// Every version ever recorded (superseded and retracted ones too), instead of one moment.
        #[arg(long, conflicts_with = "as_of")]
        history: bool,
        #[arg(long)]
        json: bool,
    },
    /// Tell Auren something to remember.
    Remember {
        text: String,
        /// fact, preference, goal, milestone, insight or hypothesis.
        #[arg(long, default_value = "fact")]
        kind: String,
        /// 0 (trivia) to 1 (central to you).
        #[arg(long, default_value_t = PERSON_IMPORTANCE)]
        importance: f64,
    },
    /// Withdraw a memory, keeping its history (it no longer counts from now on).
    Retract {
        id: i64,
        #[arg(long)]
        reason: String,
    },
    /// Remove a memory and every version of it for good, with every quote of its text.
    Forget { id: i64 },
    /// Memory changes the coach proposed that wait for your yes.
    Proposals {
        #[arg(long)]
        json: bool,
    },
    /// Apply a proposed memory change.
    Confirm { id: i64 },
    /// Turn a proposed memory change down.
    Reject { id: i64 },
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let text = runtime()?.block_on(async {
        let store = Store::open(&db_path(args.db)?).await?;
        let text = execute(&store, args.command).await;
        store.close().await;
        text
    })?;
    print!("{text}");
    Ok(())
}

async fn execute(store: &Store, command: Command) -> anyhow::Result<String> {
    let memories = store.memories();
    let now = now_unix_ms();
    match command {
        Command::List { as_of, history, json } => {
            let rows = match (history, as_of) {
                (true, _) => memories.history().await?,
                (false, Some(text)) => memories.list(AsOf::at(parse_at(&text)?)).await?,
                (false, None) => memories.list(AsOf::at(now)).await?,
            };
            if json {
                let rows: Vec<serde_json::Value> = rows.iter().map(memory_json).collect();
                return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
            }
            if rows.is_empty() {
                return Ok("No memories.\n".to_owned());
            }
            Ok(rows.iter().map(memory_line).collect())
        }
        Command::Remember {
            text,
            kind,
            importance,
        } => {
            let kind = parse_kind(&kind)?;
            if !(0.0..=1.0).contains(&importance) {
                anyhow::bail!("--importance {importance} is outside 0 to 1");
            }
            let new = NewMemory {
                kind,
                text,
                provenance: Provenance::Person,
                importance,
                valid_from: now,
            };
            let id = memories.remember(&new, now).await?;
            Ok(format!("Remembered as memory {id} ({}).\n", kind.as_str()))
        }
        Command::Retract { id, reason } => {
            memories
                .retract(MemoryId(id), &reason, now)
                .await
                .with_context(|| format!("memory {id}: see auren memory list"))?;
            Ok(format!(
                "Memory {id} retracted ({reason}); its history is kept.\n"
            ))
        }
        Command::Forget { id } => {
            let gone = memories
                .forget(MemoryId(id))
                .await
                .with_context(|| format!("memory {id}: see auren memory list --history"))?;
            let ids: Vec<String> = gone.memories.iter().map(ToString::to_string).collect();
            Ok(format!(
                "Forgot memory {id} ({} version(s): {}); {} other row(s) that quoted it now read [forgotten].\n",
                ids.len(),
                ids.join(", "),
                gone.scrubbed_rows
            ))
        }
        Command::Proposals { json } => {
            let rows = memories.proposals(Some(ProposalStatus::Pending)).await?;
            let lines: Vec<(i64, String)> = rows.iter().map(|p| (p.id.0, op_text(&p.op))).collect();
            if json {
                let rows: Vec<serde_json::Value> = lines
                    .iter()
                    .map(|(id, op)| serde_json::json!({ "id": id, "change": op }))
                    .collect();
                return Ok(format!("{}\n", serde_json::to_string_pretty(&rows)?));
            }
            if lines.is_empty() {
                return Ok("No proposed memory changes.\n".to_owned());
            }
            Ok(lines.iter().map(|(id, op)| format!("{id:>5}  {op}\n")).collect())
        }
        Command::Confirm { id } => {
            let made = memories
                .confirm(ProposalId(id), now)
                .await
                .with_context(|| format!("proposal {id}: see auren memory proposals"))?;
            Ok(match made {
                Some(memory) => format!("Proposal {id} applied: memory {memory}.\n"),
                None => format!("Proposal {id} applied.\n"),
            })
        }
        Command::Reject { id } => {
            memories
                .reject(ProposalId(id), now)
                .await
                .with_context(|| format!("proposal {id}: see auren memory proposals"))?;
            Ok(format!("Proposal {id} rejected.\n"))
        }
    }
}

fn parse_kind(name: &str) -> anyhow::Result<MemoryKind> {
    MemoryKind::parse(name.trim()).with_context(|| {
        let kinds: Vec<&str> = MemoryKind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown memory kind {name:?}: use one of {}", kinds.join(", "))
    })
}

fn op_text(op: &MemoryOp) -> String {
    match op {
        MemoryOp::Add(new) => format!("remember ({}): {}", new.kind.as_str(), new.text),
        MemoryOp::Supersede {
            old,
            replacement,
            reason,
        } => {
            format!("replace memory {old} with: {} ({reason})", replacement.text)
        }
        MemoryOp::Retract { id, reason } => format!("retract memory {id} ({reason})"),
    }
}

fn provenance_text(p: &Provenance) -> String {
    match p {
        Provenance::Message(id) => format!("message {id}"),
        Provenance::DeviceMessage { replica, message } => format!("message {message} on device {replica}"),
        Provenance::Receipt(id) => format!("receipt {id}"),
        Provenance::Person => "you".to_owned(),
    }
}

fn memory_line(m: &MemoryRow) -> String {
    let state = match (&m.superseded, &m.retracted) {
        (_, Some(r)) => format!(" [retracted: {}]", r.reason),
        (Some(s), None) => format!(" [superseded: {}]", s.reason),
        (None, None) => String::new(),
    };
    format!(
        "{:>5}  {:<10}  since {}  {}{state}  (from {})\n",
        m.id.0,
        m.kind.as_str(),
        UnixMillis(m.valid_from).civil_minute(),
        m.text,
        provenance_text(&m.provenance)
    )
}

fn memory_json(m: &MemoryRow) -> serde_json::Value {
    serde_json::json!({
        "id": m.id.0,
        "kind": m.kind.as_str(),
        "text": m.text,
        "provenance": provenance_text(&m.provenance),
        "importance": m.importance,
        "valid_from": m.valid_from,
        "valid_to": m.valid_to,
        "recorded_at": m.recorded_at,
        "active": m.is_active(),
        "superseded": m.superseded.as_ref().map(|s| serde_json::json!({
            "at": s.at, "by": s.by.map(|b| b.0), "reason": s.reason,
        })),
        "retracted": m.retracted.as_ref().map(|r| serde_json::json!({ "at": r.at, "reason": r.reason })),
    })
}
