//! The rmcp server handler and its tool router.

use std::sync::Arc;
use std::time::Instant;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, Implementation, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, tool, tool_handler, tool_router};

use super::catalog_tool::{self, CatalogList, CatalogListArgs};
use super::context::Context;
use super::metrics::{Metrics, Outcome};
use super::plugins_tool::{self, PluginList};
use super::render_tool::{self, RenderArgs, RenderResult};

#[derive(Clone)]
pub struct K0rdentMcp {
    context: Arc<Context>,
    metrics: Arc<Metrics>,
    tool_router: ToolRouter<Self>,
}

#[tool_router(router = tool_router)]
impl K0rdentMcp {
    pub fn new(context: Arc<Context>) -> Self {
        K0rdentMcp {
            context,
            metrics: Metrics::new(),
            tool_router: Self::tool_router(),
        }
    }

    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    /// The tool-call counters, shared by every clone (one per HTTP session).
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
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
        Json(plugins_tool::list(&self.context.plugins))
    }

    /// List the apps of the k0rdent catalog that can be installed as
    /// ServiceTemplates: each app's charts with their versions, newest first.
    /// Filter by `app` (substring) or `tag`; `refresh` fetches the index again.
    #[tool(
        name = "k0rdent.catalog.serviceTemplates.list",
        annotations(
            title = "List catalog apps",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn catalog_list(
        &self,
        Parameters(args): Parameters<CatalogListArgs>,
    ) -> Result<Json<CatalogList>, String> {
        catalog_tool::list(&self.context, args).await.map(Json)
    }

    /// Show exactly what installing a catalog app would apply, without
    /// touching a cluster: checks the app, chart and version against the
    /// catalog and the registry, then validates and renders kgst in the
    /// sandbox. Returns the validated values and every manifest, hooks
    /// included, in the order Helm applies them.
    #[tool(
        name = "k0rdent.mgmt.serviceTemplates.render",
        annotations(
            title = "Render a catalog app's ServiceTemplate",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn render(
        &self,
        Parameters(args): Parameters<RenderArgs>,
    ) -> Result<Json<RenderResult>, String> {
        render_tool::render_app(&self.context, args).await.map(Json)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for K0rdentMcp {
    /// The router's dispatch, timed and counted for `/metrics`.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // Unknown names share one label: a client must not be able to grow
        // the metrics without bound by inventing tool names.
        let tool = if self.tool_router.has_route(&request.name) {
            request.name.to_string()
        } else {
            "unknown".to_string()
        };
        let started = Instant::now();
        let response = self
            .tool_router
            .call(ToolCallContext::new(self, request, context))
            .await;
        let outcome = match &response {
            Ok(CallToolResponse::Complete(result)) if result.is_error == Some(true) => {
                Outcome::ToolError
            }
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::ProtocolError,
        };
        self.metrics.record(&tool, outcome, started.elapsed());
        response
    }

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
