//! The rmcp server handler and its tool router.

use std::sync::Arc;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{Json, ServerHandler, tool, tool_handler, tool_router};

use super::plugins_tool::{self, PluginList};
use crate::plugin::selection::PluginSet;

#[derive(Clone)]
pub struct K0rdentMcp {
    plugins: Arc<PluginSet>,
    tool_router: ToolRouter<Self>,
}

#[tool_router(router = tool_router)]
impl K0rdentMcp {
    pub fn new(plugins: Arc<PluginSet>) -> Self {
        K0rdentMcp {
            plugins,
            tool_router: Self::tool_router(),
        }
    }

    /// List the sandboxed plugins this server loaded: name, version, world
    /// (renderer or validator), component digest, contract version and the
    /// charts each one handles.
    #[tool(
        name = "k0rdent.plugins.list",
        annotations(
            title = "List plugins",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn plugins_list(&self) -> Json<PluginList> {
        Json(plugins_tool::list(&self.plugins))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for K0rdentMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "k0rdent-mcp",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Installs and manages k0rdent catalog apps through the kgst Helm chart. \
                 Rendering and values validation run in sandboxed WebAssembly plugins.",
            )
    }
}
