//! The one error type of the MCP tools. Each tool returns it; rmcp turns it into the tool result
//! (`isError: true`, its text) in one place (`IntoContents` below), so the layers under the tools keep
//! their own typed errors and the MCP layer converts nothing by hand.

use rmcp::model::{ContentBlock, IntoContents};

use crate::catalog::CatalogError;
use crate::cluster::ClusterError;
use crate::engine::EngineError;
use crate::kgst::KgstError;
use crate::plugin::PluginError;

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Refused by the MCP layer itself: a bad argument, the namespace filter, the auth mode, a
    /// confirmation. The text names the input and the fix.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Kgst(#[from] Box<KgstError>),
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error(transparent)]
    Catalog(#[from] CatalogError),
}

impl From<String> for ToolError {
    fn from(message: String) -> Self {
        ToolError::Refused(message)
    }
}

impl From<&str> for ToolError {
    fn from(message: &str) -> Self {
        ToolError::Refused(message.to_string())
    }
}

impl From<KgstError> for ToolError {
    fn from(error: KgstError) -> Self {
        ToolError::Kgst(Box::new(error))
    }
}

impl IntoContents for ToolError {
    fn into_contents(self) -> Vec<ContentBlock> {
        vec![ContentBlock::text(self.to_string())]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_error_reaches_the_client_as_its_text() {
        let error = ToolError::from("namespace \"x\" is outside the filter; fix: …".to_string());
        let contents = error.into_contents();
        assert_eq!(contents.len(), 1);
        assert_eq!(
            contents[0].as_text().map(|t| t.text.as_str()),
            Some("namespace \"x\" is outside the filter; fix: …")
        );
    }
}
