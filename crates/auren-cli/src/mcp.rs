//! `auren mcp [--db PATH]`: a Model Context Protocol server over stdio (the official `rmcp` SDK), named
//! "auren", exposing the coach's own tools — the same names, descriptions and argument schemas
//! (`auren_agents::Toolbox`) — so an MCP client (Claude Desktop, an IDE) reads the person's data with the
//! numbers computed in Rust. stdout carries JSON-RPC only; logs go to stderr.
//!
//! Each result is the tool's JSON with the receipts of its numbers: `{"result": …, "receipts": […]}`, as text
//! content and as structured content. A tool that fails (bad arguments, a missing session) answers a tool
//! error whose text the client shows; an unknown tool name is a protocol error.

use anyhow::Context;
use auren_agents::{ToolError, Toolbox};
use auren_gateway::SystemClock;
use auren_store::Store;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use std::path::PathBuf;
use std::sync::Arc;

use crate::places::{db_path, runtime};

/// The server's name as clients see it.
pub const SERVER_NAME: &str = "auren";

#[derive(clap::Args)]
pub struct Args {
    /// The database (default: auren.db in the platform's data directory).
    #[arg(long)]
    pub db: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Logs to stderr: stdout is the protocol's.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("AUREN_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .try_init();
    runtime()?.block_on(serve(args))
}

async fn serve(args: Args) -> anyhow::Result<()> {
    let store = Store::open(&db_path(args.db)?).await?;
    let server = AurenMcp {
        toolbox: Toolbox::new(store.clone(), Arc::new(SystemClock)),
        tools: Arc::new(tools()?),
    };
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .context("starting the MCP session on stdio")?;
    let quit = running.waiting().await.context("the MCP session's task failed");
    store.close().await;
    quit?;
    Ok(())
}

/// Every tool of the toolbox as MCP lists it: name, description and the schemars argument schema.
fn tools() -> anyhow::Result<Vec<Tool>> {
    auren_agents::tools::all_specs()
        .into_iter()
        .map(|spec| {
            let schema = match spec.schema {
                serde_json::Value::Object(map) => map,
                other => anyhow::bail!("tool {} has a non-object schema: {other}", spec.name.as_str()),
            };
            Ok(Tool::new(spec.name.as_str(), spec.description, Arc::new(schema)))
        })
        .collect()
}

/// The server: the person's toolbox and the tool list built once.
#[derive(Clone)]
struct AurenMcp {
    toolbox: Toolbox,
    tools: Arc<Vec<Tool>>,
}

impl ServerHandler for AurenMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(SERVER_NAME, env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Auren: heart-rate variability from the person's own chest-strap sessions and morning \
                 readings. Every number comes from a tool and carries receipts; quote them, do not estimate.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request
            .arguments
            .map_or(serde_json::Value::Null, serde_json::Value::Object);
        match self.toolbox.call(&request.name, args).await {
            Ok(output) => {
                let body = serde_json::json!({ "result": output.content, "receipts": output.receipts });
                let mut result = CallToolResult::success(vec![ContentBlock::json(&body)?]);
                result.structured_content = Some(body);
                Ok(result.into())
            }
            Err(ToolError::Unknown(name)) => Err(ErrorData::invalid_params(
                format!("unknown tool {name:?}: tools/list names the tools"),
                None,
            )),
            Err(error) => Ok(CallToolResult::error(vec![ContentBlock::text(error.to_string())]).into()),
        }
    }
}
