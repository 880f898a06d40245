//! recall, remember and retract: the cognitive-twin memory in auren-store.

use super::args::{Recall, Remember, Retract};
use super::{ToolError, ToolName, ToolOutput, Toolbox};

fn unavailable(tool: ToolName) -> ToolError {
    ToolError::not_enough(tool, "the memory store is not available yet")
}

pub(super) async fn recall(_tb: &Toolbox, _args: Recall) -> Result<ToolOutput, ToolError> {
    Err(unavailable(ToolName::Recall))
}

pub(super) async fn remember(_tb: &Toolbox, _args: Remember) -> Result<ToolOutput, ToolError> {
    Err(unavailable(ToolName::Remember))
}

pub(super) async fn retract(_tb: &Toolbox, _args: Retract) -> Result<ToolOutput, ToolError> {
    Err(unavailable(ToolName::Retract))
}
