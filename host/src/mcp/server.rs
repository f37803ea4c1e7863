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
use super::install_tool::{self, InstallArgs, InstallResult};
use super::metrics::{Metrics, Outcome};
use super::plugins_tool::{self, PluginList};
use super::releases_tool::{
    self, History, HistoryArgs, NamespaceList, RollbackArgs, TemplatesList, TemplatesListArgs,
    UninstallArgs, UninstallResult,
};
use super::render_tool::{self, RenderArgs, RenderResult};
use super::scope::Progress;
use crate::ops::ReleaseReport;

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

    /// Install a catalog app as a k0rdent ServiceTemplate through the kgst
    /// chart, exactly as `helm upgrade --install <template> kgst --set
    /// chart=<template>:<version>` would: the HelmRepository and the verify
    /// Job first (waited for), then the ServiceTemplate, recorded as a Helm
    /// release that the helm CLI can read. Acts as the caller. Re-running
    /// with the same version changes nothing; a failed upgrade is rolled
    /// back. Reports every object written (hooks included) and k0rdent's
    /// verdict on the ServiceTemplate. Sends progress notifications when
    /// given a progress token; cancelling stops waiting and leaves the
    /// release consistent.
    #[tool(
        name = "k0rdent.mgmt.serviceTemplates.install_from_catalog",
        annotations(
            title = "Install a catalog app",
            read_only_hint = false,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn install_from_catalog(
        &self,
        Parameters(args): Parameters<InstallArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<InstallResult>, String> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = install_tool::install(&self.context, &caller, args, &progress, &control).await;
        progress.flush().await;
        result.map(Json)
    }

    /// List the ServiceTemplates installed in a namespace (or every
    /// namespace the filter allows): chart, k0rdent's validity verdict and
    /// error, and the Helm release that owns each.
    #[tool(
        name = "k0rdent.mgmt.serviceTemplates.list",
        annotations(
            title = "List installed ServiceTemplates",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn templates_list(
        &self,
        Parameters(args): Parameters<TemplatesListArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<TemplatesList>, String> {
        let caller = self.context.access.caller(&context)?;
        releases_tool::list_templates(&self.context, &caller, args)
            .await
            .map(Json)
    }

    /// Uninstall a catalog app's release (`helm uninstall <template>`).
    /// Objects the chart keeps — the ServiceTemplate and the HelmRepository
    /// every template shares — stay and are listed as kept.
    #[tool(
        name = "k0rdent.mgmt.serviceTemplates.uninstall",
        annotations(
            title = "Uninstall a catalog app",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn templates_uninstall(
        &self,
        Parameters(args): Parameters<UninstallArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<UninstallResult>, String> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = releases_tool::uninstall(&self.context, &caller, args, &control).await;
        progress.flush().await;
        result.map(Json)
    }

    /// A release's revisions, oldest first (`helm history`): status, chart,
    /// and what each revision did.
    #[tool(
        name = "k0rdent.mgmt.releases.history",
        annotations(
            title = "Release history",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn releases_history(
        &self,
        Parameters(args): Parameters<HistoryArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<History>, String> {
        let caller = self.context.access.caller(&context)?;
        releases_tool::history(&self.context, &caller, args)
            .await
            .map(Json)
    }

    /// Roll a release back to an earlier revision (`helm rollback`),
    /// recorded as a new revision. Works across kgst chart versions, where
    /// helm itself stops with "original object not found".
    #[tool(
        name = "k0rdent.mgmt.releases.rollback",
        annotations(
            title = "Roll a release back",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn releases_rollback(
        &self,
        Parameters(args): Parameters<RollbackArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<ReleaseReport>, String> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = releases_tool::rollback(&self.context, &caller, args, &control).await;
        progress.flush().await;
        result.map(Json)
    }

    /// The namespaces this server may act in for the caller: those the
    /// caller can see that match the server's namespace filter.
    #[tool(
        name = "k0rdent.mgmt.namespaces.list",
        annotations(
            title = "List usable namespaces",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = false
        )
    )]
    pub async fn namespaces_list(
        &self,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<NamespaceList>, String> {
        let caller = self.context.access.caller(&context)?;
        releases_tool::namespaces(&self.context, &caller)
            .await
            .map(Json)
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
