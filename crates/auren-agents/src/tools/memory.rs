//! recall, remember and retract: the cognitive-twin memory in auren-store. Whether remember and retract
//! change the memories at once or wait for the person's yes is the toolbox's [`MemoryWrites`] setting.

use auren_store::MemoryId;
use auren_store::memory::{MemoryKind, MemoryOp, NewMemory, Provenance};
use serde_json::json;

use super::args::{MemoryKindArg, Recall, Remember, Retract};
use super::receipts::ReceiptBuilder;
use super::{ToolError, ToolName, ToolOutput, Toolbox};
use crate::receipt::Source;

/// What remember and retract do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryWrites {
    /// Change the memories at once.
    #[default]
    Apply,
    /// Store a proposal the person confirms or rejects later.
    Propose,
}

const MAX_RECALL: u32 = 50;
const MAX_TEXT: usize = 2_000;

fn kind_of(k: MemoryKindArg) -> MemoryKind {
    match k {
        MemoryKindArg::Fact => MemoryKind::Fact,
        MemoryKindArg::Preference => MemoryKind::Preference,
        MemoryKindArg::Goal => MemoryKind::Goal,
        MemoryKindArg::Milestone => MemoryKind::Milestone,
        MemoryKindArg::Insight => MemoryKind::Insight,
        MemoryKindArg::Hypothesis => MemoryKind::Hypothesis,
    }
}

pub(super) async fn recall(tb: &Toolbox, args: Recall) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::Recall;
    let limit = args.limit.unwrap_or(8);
    if !(1..=MAX_RECALL).contains(&limit) {
        return Err(ToolError::bad(
            tool,
            format!("limit {limit} must be 1 to {MAX_RECALL}"),
        ));
    }
    let now = tb.clock().now().0;
    let hits = tb
        .store()
        .memories()
        .recall(&args.query, limit as usize, now)
        .await
        .map_err(ToolError::store(tool))?;
    let mut rec = ReceiptBuilder::new(
        tb.ids(),
        tool,
        format!("memories recalled for {:?}", args.query),
        "SQLite FTS5 BM25 relevance weighed with importance and recency",
    );
    let list: Vec<_> = hits
        .iter()
        .map(|h| {
            rec.source(Source::Memory { id: h.memory.id.0 });
            json!({
                "id": h.memory.id.0,
                "kind": h.memory.kind.as_str(),
                "text": h.memory.text,
                "importance": h.memory.importance,
                "recorded_at": auren_clock::UnixMillis(h.memory.recorded_at).to_string(),
                "score": h.score,
            })
        })
        .collect();
    let receipt = rec.build();
    Ok(ToolOutput {
        content: json!({ "memories": list, "receipt": receipt.id }),
        receipts: vec![receipt],
    })
}

pub(super) async fn remember(tb: &Toolbox, args: Remember) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::Remember;
    let text = args.text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(ToolError::bad(
            tool,
            format!("the text must be 1 to {MAX_TEXT} characters"),
        ));
    }
    let importance = args.importance.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&importance) {
        return Err(ToolError::bad(
            tool,
            format!("importance {importance} must be between 0 and 1"),
        ));
    }
    let now = tb.clock().now().0;
    let new = NewMemory {
        kind: kind_of(args.kind.unwrap_or(MemoryKindArg::Fact)),
        text: text.to_owned(),
        provenance: Provenance::Person,
        importance,
        valid_from: now,
    };
    write(tb, tool, MemoryOp::Add(new), now).await
}

pub(super) async fn retract(tb: &Toolbox, args: Retract) -> Result<ToolOutput, ToolError> {
    let tool = ToolName::Retract;
    let reason = args.reason.trim();
    if reason.is_empty() {
        return Err(ToolError::bad(tool, "a retraction needs a reason"));
    }
    let now = tb.clock().now().0;
    let op = MemoryOp::Retract {
        id: MemoryId(args.id),
        reason: reason.to_owned(),
    };
    write(tb, tool, op, now).await
}

async fn write(tb: &Toolbox, tool: ToolName, op: MemoryOp, now: i64) -> Result<ToolOutput, ToolError> {
    let memories = tb.store().memories();
    let content = match tb.memory_writes() {
        MemoryWrites::Apply => {
            let id = memories.apply(&op, now).await.map_err(ToolError::store(tool))?;
            json!({ "applied": true, "memory_id": id.map(|m| m.0) })
        }
        MemoryWrites::Propose => {
            let id = memories.propose(&op, now).await.map_err(ToolError::store(tool))?;
            json!({ "applied": false, "proposal_id": id.0, "note": "waits for the person's confirmation" })
        }
    };
    Ok(ToolOutput {
        content,
        receipts: Vec::new(),
    })
}
