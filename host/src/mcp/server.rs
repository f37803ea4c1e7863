//! The rmcp server handler and its tool router.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, CancelTaskParams,
    CompleteRequestParams, CompleteResult, ContentBlock, CreateTaskResult, GetPromptRequestParams,
    GetPromptResponse, GetTaskParams, GetTaskResult, Implementation, JsonObject, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerCapabilities,
    ServerConfig, UpdateTaskParams,
};
// MCP logging is deprecated by SEP-2577 but part of the revisions clients negotiate today.
#[allow(deprecated)]
use rmcp::model::SetLevelRequestParams;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::catalog_tool::{self, CatalogList, CatalogListArgs};
use super::client_log::ClientLog;
use super::confirm::{self, Verdict};
use super::context::Context;
use super::discovery;
use super::error::ToolError;
use super::install_tool::{self, InstallArgs, InstallResult};
use super::metrics::{Metrics, Outcome};
use super::plugins_tool::{self, PluginList};
use super::progress::Progress;
use super::releases_tool::{
    self, DiffArgs, DiffResult, History, HistoryArgs, NamespaceList, RollbackArgs, TemplatesList,
    TemplatesListArgs, UninstallArgs, UninstallResult, UnlockArgs,
};
use super::render_tool::{self, RenderArgs, RenderResult};
use super::task_store::{self, TaskStore};
use super::{task_run, tool_set};
use crate::engine::Control;
use crate::ops::ReleaseReport;
use crate::quote::quote;

/// The arguments of a tool that takes none: its schema then says so too.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// Most text a tool error carries: errors quote untrusted input (names,
/// URLs, pod logs), and a caller must not be able to make the server echo
/// megabytes back or into a client's context.
pub const MAX_TOOL_ERROR_BYTES: usize = 16 * 1024;

/// Argument names the tool's input schema does not declare, as a tool
/// error naming them and the accepted ones. Checked before any work: an
/// ignored argument (say a `repo_url`) would let a caller believe it was
/// honoured.
fn unknown_arguments(
    tool: &str,
    schema: &JsonObject,
    arguments: Option<&JsonObject>,
) -> Option<String> {
    let accepted: Vec<&str> = schema
        .get("properties")
        .and_then(|p| p.as_object())
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let mut unknown: Vec<&str> = arguments?
        .keys()
        .map(String::as_str)
        .filter(|name| !accepted.contains(name))
        .collect();
    if unknown.is_empty() {
        return None;
    }
    unknown.sort_unstable();
    const SHOWN: usize = 5;
    let mut named: Vec<String> = unknown.iter().take(SHOWN).map(|n| quote(n)).collect();
    if unknown.len() > SHOWN {
        named.push(format!("and {} more", unknown.len() - SHOWN));
    }
    let mut accepted = accepted;
    accepted.sort_unstable();
    let accepted = if accepted.is_empty() {
        "it takes no arguments".to_string()
    } else {
        format!("it accepts {}", accepted.join(", "))
    };
    Some(format!(
        "unknown argument{} {} for {tool}: {accepted}; fix: remove {}",
        if unknown.len() == 1 { "" } else { "s" },
        named.join(", "),
        if unknown.len() == 1 { "it" } else { "them" },
    ))
}

/// Cuts the text of a tool error to [`MAX_TOOL_ERROR_BYTES`] in all; text
/// blocks past the cut are dropped.
fn bound_error_text(result: &mut CallToolResult) {
    let mut budget = MAX_TOOL_ERROR_BYTES;
    result.content.retain_mut(|block| {
        let ContentBlock::Text(text) = block else {
            return true;
        };
        if budget == 0 {
            return false;
        }
        if text.text.len() <= budget {
            budget -= text.text.len();
            return true;
        }
        let mut end = budget;
        while !text.text.is_char_boundary(end) {
            end -= 1;
        }
        let cut = text.text.len() - end;
        text.text.truncate(end);
        text.text
            .push_str(&format!("… (error cut here: {cut} more bytes)"));
        budget = 0;
        true
    });
}

/// Bounds the error text of a tool call's answer; see [`bound_error_text`].
fn bound_response(response: &mut Result<CallToolResponse, ErrorData>) {
    match response {
        Ok(CallToolResponse::Complete(result)) if result.is_error == Some(true) => {
            bound_error_text(result)
        }
        Err(error) if error.message.len() > MAX_TOOL_ERROR_BYTES => {
            error.message = quote(&error.message).into();
        }
        _ => {}
    }
}

#[derive(Clone)]
pub struct K0rdentMcp {
    context: Arc<Context>,
    metrics: Arc<Metrics>,
    tool_router: ToolRouter<Self>,
    /// Tools `--read-only` hid, so a call to one can name the flag.
    hidden: Arc<Vec<String>>,
    client_log: ClientLog,
    /// The MCP tasks of every caller: one store per process, shared by the
    /// per-request handlers of stateless HTTP.
    tasks: Arc<TaskStore>,
}

/// The protocol versions served. 2025-03-26 is left out: it is the one
/// revision with JSON-RPC batches, which this server refuses (see
/// [`super::wire`]); a client asking for it is offered a newer one.
const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2024_11_05,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

#[tool_router(router = tool_router)]
impl K0rdentMcp {
    pub fn new(context: Arc<Context>) -> Self {
        let mut tool_router = Self::tool_router();
        let hidden = tool_set::shape(&mut tool_router, context.read_only);
        task_run::advertise(&mut tool_router);
        let metrics = Metrics::with_plugins(&context.plugins);
        K0rdentMcp {
            context,
            metrics,
            tool_router,
            hidden: Arc::new(hidden),
            client_log: ClientLog::default(),
            tasks: TaskStore::new(task_store::LIMITS),
        }
    }

    /// The handler for a new HTTP session: shared state, the session's own log level.
    pub fn for_session(&self) -> Self {
        K0rdentMcp {
            client_log: ClientLog::default(),
            ..self.clone()
        }
    }

    /// Server shutdown: cancels every running task and waits (at most
    /// `grace`) for each to end the way a cancelled call does — a first
    /// install removed, an upgrade rolled back — rather than be dropped
    /// between two writes with its release left pending.
    pub async fn stop_tasks(&self, grace: std::time::Duration) {
        self.tasks.cancel_all();
        let deadline = Instant::now() + grace;
        while self.tasks.running() > 0 && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
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
    pub async fn plugins_list(&self, Parameters(_): Parameters<NoArgs>) -> Json<PluginList> {
        Json(plugins_tool::list_active(&self.context.plugins))
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
        context: RequestContext<RoleServer>,
    ) -> Result<Json<CatalogList>, ToolError> {
        unless_cancelled(
            &context,
            "the catalog listing",
            catalog_tool::list(&self.context, args),
        )
        .await
        .map(Json)
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
        context: RequestContext<RoleServer>,
    ) -> Result<Json<RenderResult>, ToolError> {
        let work = render_tool::render_app(&self.context, args);
        unless_cancelled(&context, "the render", work)
            .await
            .map(Json)
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
    ) -> Result<Json<InstallResult>, ToolError> {
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
    ) -> Result<Json<TemplatesList>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let work = releases_tool::list_templates(&self.context, &caller, args);
        unless_cancelled(&context, "the ServiceTemplate listing", work)
            .await
            .map(Json)
    }

    /// Uninstall a catalog app's release (`helm uninstall <template>`).
    /// Objects the chart keeps — the ServiceTemplate and the HelmRepository
    /// every template shares — stay and are listed as kept. Only releases
    /// of the kgst chart whose objects stay where this server may act;
    /// others are refused with the reason.
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
    ) -> Result<Json<UninstallResult>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = releases_tool::uninstall(&self.context, &caller, args, &control).await;
        progress.flush().await;
        result.map(Json)
    }

    /// A release's revisions, oldest first (`helm history`): status, chart,
    /// and what each revision did. Only releases of the kgst chart.
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
    ) -> Result<Json<History>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let work = releases_tool::history(&self.context, &caller, args);
        unless_cancelled(&context, "the history", work)
            .await
            .map(Json)
    }

    /// What would change, writing nothing. Without `app`/`version`: the
    /// release's drift — its last deployed revision against the live objects:
    /// each object `missing` (deleted outside the release), `changed` (with the
    /// JSON pointers of the fields the release set that now differ) or
    /// `unchanged`; `ignore` hides fields. With `app` and `version`: the plan
    /// of upgrading to that catalog version, from server-side-apply dry runs
    /// as the caller. Repair drift with install_from_catalog `force_conflicts`.
    #[tool(
        name = "k0rdent.mgmt.releases.diff",
        annotations(
            title = "Release drift and upgrade plan",
            read_only_hint = true,
            destructive_hint = false,
            idempotent_hint = true,
            open_world_hint = true
        )
    )]
    pub async fn releases_diff(
        &self,
        Parameters(args): Parameters<DiffArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<DiffResult>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let work = releases_tool::diff(&self.context, &caller, args, &control);
        let result = unless_cancelled(&context, "the diff", work).await;
        progress.flush().await;
        result.map(Json)
    }

    /// Roll a release back to an earlier revision (`helm rollback`),
    /// recorded as a new revision. Works across kgst chart versions, where
    /// helm itself stops with "original object not found". Only releases of
    /// the kgst chart whose objects stay where this server may act.
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
    ) -> Result<Json<ReleaseReport>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = releases_tool::rollback(&self.context, &caller, args, &control).await;
        progress.flush().await;
        result.map(Json)
    }

    /// Recover a release from a stuck operation (`helm` users do this by
    /// hand): the pending revision is marked failed, then the release is
    /// rolled back to its last deployed revision (or a failed first
    /// install's objects are removed); history is never deleted. Refuses a
    /// live lock held by another server unless `force`.
    #[tool(
        name = "k0rdent.mgmt.releases.unlock",
        annotations(
            title = "Unlock a stuck release",
            read_only_hint = false,
            destructive_hint = true,
            idempotent_hint = false,
            open_world_hint = false
        )
    )]
    pub async fn releases_unlock(
        &self,
        Parameters(args): Parameters<UnlockArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<crate::engine::UnlockOutcome>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let progress = Progress::for_request(&context);
        let control = progress.control(&context);
        let result = releases_tool::unlock(&self.context, &caller, args, &control).await;
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
        Parameters(_): Parameters<NoArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<NamespaceList>, ToolError> {
        let caller = self.context.access.caller(&context)?;
        let work = releases_tool::namespaces(&self.context, &caller);
        unless_cancelled(&context, "the namespace listing", work)
            .await
            .map(Json)
    }
}

impl K0rdentMcp {
    /// Runs the call as an MCP task and answers its handle at once; a full
    /// store answers a tool error instead, and nothing runs.
    fn start_task(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> CallToolResponse {
        let owner = task_run::owner_of(&context);
        let (task, handle) = match self
            .tasks
            .create(owner, format!("{}: started", request.name))
        {
            Ok(created) => created,
            Err(full) => {
                return CallToolResult::error(vec![ContentBlock::text(full.to_string())]).into();
            }
        };
        let context = task_run::detach(context, &handle);
        let this = self.clone();
        let tool = request.name.to_string();
        tokio::spawn(async move {
            let _unfinished = task_run::FinishOnDrop(handle.clone());
            let started = Instant::now();
            let mut response = this
                .tool_router
                .call(ToolCallContext::new(&this, request, context))
                .await;
            bound_response(&mut response);
            let outcome = task_run::outcome(handle.cancel.is_cancelled(), response);
            tracing::info!(
                task = handle.id(),
                tool,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "MCP task ended: {}",
                match &outcome {
                    task_store::Outcome::Completed(_) => "completed",
                    task_store::Outcome::Failed(_) => "failed",
                    task_store::Outcome::Cancelled(_) => "cancelled",
                }
            );
            handle.finish(outcome);
        });
        CreateTaskResult::new(task).into()
    }
}

/// Runs a tool that writes nothing until it ends or its caller cancels
/// (over HTTP, a dropped connection cancels too): its registry and cluster
/// requests are then dropped at once instead of running on to their own
/// timeouts.
async fn unless_cancelled<T>(
    context: &RequestContext<RoleServer>,
    during: &str,
    work: impl Future<Output = Result<T, ToolError>>,
) -> Result<T, ToolError> {
    Control::new(context.ct.clone(), None)
        .unless_cancelled(during, work)
        .await?
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for K0rdentMcp {
    /// The router's dispatch, timed and counted for `/metrics`.
    async fn call_tool(
        &self,
        mut request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.hidden.iter().any(|name| *name == request.name) {
            return Err(ErrorData::invalid_params(
                tool_set::read_only_refusal(&request.name),
                None,
            ));
        }
        // Unknown names share one label: a client must not be able to grow
        // the metrics without bound by inventing tool names.
        let tool = if self.tool_router.has_route(&request.name) {
            request.name.to_string()
        } else {
            "unknown".to_string()
        };
        let started = Instant::now();
        let peer = context.peer.clone();
        let unknown = self
            .tool_router
            .get(&request.name)
            .and_then(|t| unknown_arguments(&t.name, &t.input_schema, request.arguments.as_ref()));
        let verdict = match (&unknown, self.tool_router.get(&request.name)) {
            (None, Some(tool)) if confirm::is_destructive(tool) => {
                confirm::gate(
                    self.context.confirm,
                    tool,
                    &mut request.arguments,
                    request.input_responses.as_ref(),
                    &context,
                )
                .await
            }
            _ => Verdict::Proceed,
        };
        let mut response = match (unknown, verdict) {
            (Some(message), _) | (None, Verdict::Refuse(message)) => {
                Ok(CallToolResult::error(vec![ContentBlock::text(message)]).into())
            }
            (None, Verdict::Ask(question)) => Ok(CallToolResponse::InputRequired(question)),
            (None, Verdict::Proceed)
                if task_run::client_accepts_tasks(&context)
                    && self
                        .tool_router
                        .get(&request.name)
                        .is_some_and(task_run::may_run_as_task) =>
            {
                Ok(self.start_task(request, context))
            }
            (None, Verdict::Proceed) => {
                self.tool_router
                    .call(ToolCallContext::new(self, request, context))
                    .await
            }
        };
        bound_response(&mut response);
        let outcome = match &response {
            Ok(CallToolResponse::Complete(result)) if result.is_error == Some(true) => {
                Outcome::ToolError
            }
            Ok(_) => Outcome::Ok,
            Err(_) => Outcome::ProtocolError,
        };
        self.metrics.record(&tool, outcome, started.elapsed());
        self.client_log
            .tool_finished(&peer, &tool, outcome, started.elapsed())
            .await;
        response
    }

    /// The catalog as resources; see `discovery`.
    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        discovery::list_resources(&self.context).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(discovery::list_resource_templates())
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let caller = self
            .context
            .access
            .caller(&context)
            .map_err(|m| ErrorData::invalid_request(m.to_string(), None))?;
        discovery::read_resource(&self.context, &caller, &request.uri)
            .await
            .map(ReadResourceResponse::Complete)
    }

    async fn list_prompts(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListPromptsResult, ErrorData> {
        Ok(discovery::list_prompts())
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        discovery::get_prompt(&self.context, &request.name, request.arguments.as_ref())
            .await
            .map(GetPromptResponse::Complete)
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        let caller = self
            .context
            .access
            .caller(&context)
            .map_err(|m| ErrorData::invalid_request(m.to_string(), None))?;
        discovery::complete(&self.context, &caller, &request).await
    }

    /// MCP logging (older revisions): the session's minimum level; see `client_log`.
    #[allow(deprecated)]
    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.client_log.set_level(request.level);
        Ok(())
    }

    /// SEP-2663 `tasks/get`: the caller's own task, with its result once it ended.
    async fn get_task(
        &self,
        request: GetTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetTaskResult, ErrorData> {
        task_run::get(&self.tasks, &context, &request.task_id)
    }

    async fn update_task(
        &self,
        request: UpdateTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        task_run::update(&self.tasks, &context, &request.task_id)
    }

    /// SEP-2663 `tasks/cancel`: reaches the token the engine honours.
    async fn cancel_task(
        &self,
        request: CancelTaskParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        task_run::cancel(&self.tasks, &context, &request.task_id)
    }

    /// Every tool fits in one page, so the server never hands out a cursor,
    /// and any cursor a client sends is one it made up.
    async fn list_tools(
        &self,
        request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        if let Some(cursor) = request.and_then(|r| r.cursor) {
            return Err(ErrorData::invalid_params(
                format!(
                    "invalid cursor {}: this server lists every tool in one page and issues no cursors; \
                     fix: call tools/list without a cursor",
                    quote(&cursor)
                ),
                None,
            ));
        }
        let modern = context
            .protocol_version()
            .is_some_and(|version| version >= ProtocolVersion::V_2026_07_28);
        let mut result = ListToolsResult::with_all_items(self.tool_router.list_all());
        if modern {
            // rmcp's own hints: no freshness promise, and the same list for every caller.
            result.ttl_ms = Some(0);
            result.cache_scope = Some(rmcp::model::CacheScope::Public);
        }
        Ok(result)
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        std::borrow::Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    #[allow(deprecated)] // enable_logging: see `client_log`
    fn get_info(&self) -> ServerConfig {
        let mut capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_logging()
            .enable_completions()
            .enable_prompts()
            .enable_resources()
            .build();
        // --read-only serves no tool that runs as a task.
        if !self.context.read_only {
            capabilities.extensions = ServerCapabilities::builder()
                .enable_tasks()
                .build()
                .extensions;
        }
        ServerConfig::new(capabilities)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: serde_json::Value) -> JsonObject {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn unknown_arguments_are_named_with_the_accepted_ones() {
        let schema = object(json!({"properties": {"app": {}, "version": {}}}));
        assert_eq!(
            unknown_arguments("t", &schema, Some(&object(json!({"app": "a"})))),
            None
        );
        assert_eq!(unknown_arguments("t", &schema, None), None);
        assert_eq!(
            unknown_arguments(
                "t",
                &schema,
                Some(&object(json!({"app": "a", "repo_url": "x"})))
            )
            .unwrap(),
            "unknown argument \"repo_url\" for t: it accepts app, version; fix: remove it"
        );
        let none = object(json!({"properties": {}}));
        let many =
            object(json!({"a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "x".repeat(1000): 1}));
        let text = unknown_arguments("t", &none, Some(&many)).unwrap();
        assert!(
            text.contains("and 2 more") && text.contains("it takes no arguments"),
            "{text}"
        );
        assert!(text.len() < 300, "{text}");
    }

    #[test]
    fn error_text_is_bounded_in_all() {
        let mut result = CallToolResult::error(vec![
            ContentBlock::text("é".repeat(MAX_TOOL_ERROR_BYTES)),
            ContentBlock::text("more"),
        ]);
        bound_error_text(&mut result);
        let total: usize = result
            .content
            .iter()
            .filter_map(|c| c.as_text())
            .map(|t| t.text.len())
            .sum();
        assert!(total <= MAX_TOOL_ERROR_BYTES + 64, "{total}");
        assert_eq!(result.content.len(), 1, "blocks past the cut are dropped");
        let first = &result.content[0].as_text().unwrap().text;
        assert!(
            first.ends_with("more bytes)"),
            "{}",
            &first[first.len() - 60..]
        );
        let mut small = CallToolResult::error(vec![ContentBlock::text("short")]);
        bound_error_text(&mut small);
        assert_eq!(small.content[0].as_text().unwrap().text, "short");
    }
}
