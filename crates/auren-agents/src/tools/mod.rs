//! The one tool registry, used by the specialists and by the MCP server: names, argument types (their JSON
//! schemas are generated with schemars), and the computations over the person's data, each returning its
//! result and receipts.

use crate::receipt::Receipt;

/// The result of one tool call: the JSON the model (or MCP client) sees, and the receipts of the numbers in it.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolOutput {
    pub content: serde_json::Value,
    pub receipts: Vec<Receipt>,
}

/// A tool call that could not run; the message goes back to the model as the tool result.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("unknown tool {0:?}")]
    Unknown(String),
    #[error("bad arguments for {tool}: {message}")]
    BadArguments { tool: String, message: String },
    #[error("{tool} failed: {source}")]
    Store {
        tool: String,
        #[source]
        source: auren_store::StoreError,
    },
}
