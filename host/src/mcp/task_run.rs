//! Tool calls run as MCP tasks (the `io.modelcontextprotocol/tasks`
//! extension, SEP-2663, as rmcp implements it): which tools may become a
//! task, when a call does, the task's own cancellation token and status
//! message in place of the request's, and the `tasks/*` answers.
//!
//! Task creation is the server's choice per call (SEP-2663): a call to a tool
//! that writes (install, upgrade, rollback, uninstall, unlock) from a client
//! that declared the extension becomes a task; every other call runs in its
//! request as before, progress notifications included. The extension has no
//! per-tool field, so each tool says in its `_meta` under
//! [`TASK_SUPPORT_META`] whether it may run as a task (`optional`) or never
//! does (`forbidden`: the fast read-only tools).

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResponse, ErrorCode, GetTaskResult, JsonObject, MetaObject, Tool};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer};

use super::access::bearer_token;
use super::task_store::{Outcome, Owner, TaskHandle, TaskStore};
use crate::engine::{ProgressSink, Step};

/// The `_meta` key of a tool that says whether it runs as a task.
pub const TASK_SUPPORT_META: &str = "k0rdent.io/taskSupport";

/// Whether calls to `tool` may become tasks: those that write (the long
/// ones: they pull, apply and wait for Jobs); read-only tools answer fast.
pub fn may_run_as_task(tool: &Tool) -> bool {
    tool.annotations.as_ref().and_then(|a| a.read_only_hint) != Some(true)
}

/// Writes each tool's task support into its `_meta`.
pub fn advertise<S>(router: &mut ToolRouter<S>) {
    for route in router.map.values_mut() {
        let support = if may_run_as_task(&route.attr) {
            "optional"
        } else {
            "forbidden"
        };
        let meta = route.attr.meta.get_or_insert_with(MetaObject::new);
        meta.insert(TASK_SUPPORT_META.to_string(), support.into());
    }
}

/// Whether this call's client declared the tasks extension (in `initialize`
/// or, for 2026-07-28, in the request's `_meta`).
pub fn client_accepts_tasks(context: &RequestContext<RoleServer>) -> bool {
    context
        .client_capabilities()
        .is_some_and(|capabilities| capabilities.supports_tasks())
}

/// Who owns the tasks this call creates or asks about: the bearer token of
/// an HTTP call when it carries one (in OIDC_REQUIRED always), else the
/// local caller (stdio's one client).
pub fn owner_of(context: &RequestContext<RoleServer>) -> Owner {
    context
        .extensions
        .get::<http::request::Parts>()
        .and_then(|parts| bearer_token(&parts.headers))
        .map_or_else(Owner::local, |token| Owner::bearer(&token))
}

/// Carried in a task's request context: progress goes to the task's status
/// message (its client polls), not to notifications nobody may receive.
#[derive(Clone)]
pub struct TaskStatusSink(pub ProgressSink);

/// The request context the task's tool call runs with: the task's own
/// cancellation token (the request's ends with its response, and over
/// HTTP with its connection) and its status sink; the rest (the caller's
/// credentials, the peer) as the request had them.
pub fn detach(
    mut context: RequestContext<RoleServer>,
    handle: &TaskHandle,
) -> RequestContext<RoleServer> {
    context.ct = handle.cancel.clone();
    let status = handle.clone();
    let sink: ProgressSink = std::sync::Arc::new(move |step: Step, message: &str| {
        status.set_message(format!("{}: {message}", step.as_str()));
    });
    context.extensions.insert(TaskStatusSink(sink));
    context
}

/// How the task ended, from what its tool call answered. A call stopped by
/// `tasks/cancel` that ended in an error is `cancelled`, its message the
/// error's text (which says what was left behind: nothing, a failed first
/// install removed, an upgrade rolled back). One that finished anyway is
/// `completed`: cancellation is cooperative, and a multi-namespace install
/// reports each namespace.
pub fn outcome(cancelled: bool, response: Result<CallToolResponse, ErrorData>) -> Outcome {
    match response {
        Ok(CallToolResponse::Complete(result)) => {
            if cancelled && result.is_error == Some(true) {
                let text: Vec<&str> = result
                    .content
                    .iter()
                    .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
                    .collect();
                return Outcome::Cancelled(text.join("\n"));
            }
            Outcome::Completed(as_object(&result))
        }
        Err(error) if cancelled => Outcome::Cancelled(error.message.to_string()),
        Err(error) => Outcome::Failed(as_object(&error)),
        // The confirmation gate runs before a task is created, and a task
        // never starts another.
        Ok(other) => Outcome::Failed(as_object(&ErrorData::internal_error(
            format!(
                "the tool answered a {} inside a task",
                if matches!(other, CallToolResponse::Task(_)) {
                    "task"
                } else {
                    "question"
                }
            ),
            None,
        ))),
    }
}

fn as_object(value: &impl serde::Serialize) -> JsonObject {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => JsonObject::new(),
    }
}

/// Ends the task as `failed` if its work is dropped before it recorded an
/// outcome (a panic, or the runtime going away), so no task stays `working`
/// forever; after [`TaskHandle::finish`] it changes nothing.
pub struct FinishOnDrop(pub TaskHandle);

impl Drop for FinishOnDrop {
    fn drop(&mut self) {
        self.0
            .finish(Outcome::Failed(as_object(&ErrorData::internal_error(
                "the task stopped before its tool call ended (the server failed or shut down); \
             fix: check the release with k0rdent.mgmt.releases.history and call the tool again",
                None,
            ))));
    }
}

/// The answer for a task id this caller has no task under: the same for an
/// id that never existed, one that expired and another caller's.
fn unknown_task(id: &str) -> ErrorData {
    ErrorData::new(
        ErrorCode::INVALID_PARAMS,
        format!(
            "unknown task {}: no task with this id belongs to this caller (finished tasks are kept \
             for {} minutes after they end); fix: use the taskId the tools/call result gave you, \
             with the same credentials",
            crate::quote::quote(id),
            super::task_store::LIMITS.retention.as_secs() / 60
        ),
        None,
    )
}

pub fn get(
    store: &TaskStore,
    context: &RequestContext<RoleServer>,
    id: &str,
) -> Result<GetTaskResult, ErrorData> {
    store
        .get(&owner_of(context), id)
        .map(GetTaskResult::new)
        .ok_or_else(|| unknown_task(id))
}

pub fn cancel(
    store: &TaskStore,
    context: &RequestContext<RoleServer>,
    id: &str,
) -> Result<(), ErrorData> {
    if store.cancel(&owner_of(context), id) {
        Ok(())
    } else {
        Err(unknown_task(id))
    }
}

/// `tasks/update`: these tasks never ask for input, so there is nothing to
/// deliver; responses to keys never asked are ignored, as SEP-2663 says.
pub fn update(
    store: &TaskStore,
    context: &RequestContext<RoleServer>,
    id: &str,
) -> Result<(), ErrorData> {
    if store.contains(&owner_of(context), id) {
        Ok(())
    } else {
        Err(unknown_task(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::{CallToolResult, ContentBlock, ToolAnnotations};

    #[test]
    fn only_tools_that_write_run_as_tasks() {
        let schema = std::sync::Arc::new(JsonObject::new());
        let mut tool = Tool::new("t", "d", schema);
        assert!(may_run_as_task(&tool), "no annotations: may write");
        tool.annotations = Some(ToolAnnotations::new().read_only(true));
        assert!(!may_run_as_task(&tool));
        tool.annotations = Some(ToolAnnotations::new().read_only(false));
        assert!(may_run_as_task(&tool));
    }

    #[test]
    fn a_cancelled_call_that_failed_is_cancelled_with_its_reason() {
        let failed = CallToolResult::error(vec![ContentBlock::text(
            "cancelled by the caller during the pull; nothing was written",
        )]);
        assert_eq!(
            outcome(true, Ok(failed.clone().into())),
            Outcome::Cancelled(
                "cancelled by the caller during the pull; nothing was written".into()
            )
        );
        // Not cancelled: a tool error is a completed task (SEP-2663).
        assert!(
            matches!(outcome(false, Ok(failed.into())), Outcome::Completed(r) if r["isError"] == true)
        );
        // Cancelled but finished: completed.
        let ok = CallToolResult::success(vec![ContentBlock::text("done")]);
        assert!(matches!(
            outcome(true, Ok(ok.into())),
            Outcome::Completed(_)
        ));
        let error = ErrorData::invalid_params("bad", None);
        assert!(
            matches!(outcome(false, Err(error.clone())), Outcome::Failed(e) if e["code"] == -32602)
        );
        assert_eq!(outcome(true, Err(error)), Outcome::Cancelled("bad".into()));
    }
}
