//! Per-call plumbing the cluster tools share: which releases a call may act on (kgst ones only, named
//! validly), the namespaces it acts in (resolved by `access::namespaces`), and MCP progress
//! notifications fed from the engine's steps, in order.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use tokio::sync::{mpsc, oneshot};

use super::context::Context;
use super::task_run::TaskStatusSink;
use crate::engine::{Control, EngineOptions, KgstOnly, ProgressSink, Step};

// Namespace resolution lives with the access rules; the tools reach it through here.
pub use super::access::namespaces::{scope, single_namespace, visible_namespaces};
use crate::quote::quote;
use crate::release::validate_release_name;

/// A release name from a tool argument, checked before it reaches a label
/// selector, a Secret name or any cluster call.
pub fn check_release_name(argument: &str, name: &str) -> Result<(), String> {
    validate_release_name(name).map_err(|_| {
        format!(
            "{argument} {} is not a valid release name: use 1–53 lower-case letters, digits, '-' \
             and '.', starting and ending with a letter or digit; fix: pass the template name as \
             k0rdent.catalog.serviceTemplates.list shows it, e.g. minio",
            quote(name)
        )
    })
}

/// The tools act only on kgst releases whose objects stay in the release
/// namespace or in namespaces the filter allows.
pub fn kgst_only(context: &Context) -> KgstOnly {
    let filter = context.access.filter.clone();
    KgstOnly {
        other_namespaces: Arc::new(move |ns| filter.allows(ns)),
    }
}

/// The server's engine options, restricted to what the tools may manage.
pub fn engine_options(context: &Context) -> EngineOptions {
    EngineOptions {
        kgst_only: Some(kgst_only(context)),
        ..context.engine.clone()
    }
}

enum Message {
    Progress(Step, String),
    Flush(oneshot::Sender<()>),
}

/// Forwards engine steps as `notifications/progress` when the client sent a
/// progress token; one task keeps them in order. A call run as an MCP task
/// reports to the task's status message instead ([`super::task_run`]).
pub struct Progress {
    sender: Option<mpsc::UnboundedSender<Message>>,
    task_status: Option<ProgressSink>,
}

impl Progress {
    pub fn for_request(context: &RequestContext<RoleServer>) -> Self {
        if let Some(TaskStatusSink(sink)) = context.extensions.get::<TaskStatusSink>() {
            return Progress {
                sender: None,
                task_status: Some(sink.clone()),
            };
        }
        let Some(token) = context.meta.get_progress_token() else {
            return Progress {
                sender: None,
                task_status: None,
            };
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(forward(context.peer.clone(), token, receiver));
        Progress {
            sender: Some(sender),
            task_status: None,
        }
    }

    pub fn sink(&self) -> Option<ProgressSink> {
        if let Some(sink) = &self.task_status {
            return Some(sink.clone());
        }
        let sender = self.sender.clone()?;
        Some(Arc::new(move |step: Step, message: &str| {
            let _ = sender.send(Message::Progress(step, message.to_string()));
        }))
    }

    /// A [`Control`] cancelled with the request and reporting here.
    pub fn control(&self, context: &RequestContext<RoleServer>) -> Control {
        Control::new(context.ct.clone(), self.sink())
    }

    pub fn report(&self, step: Step, message: impl Into<String>) {
        if let Some(sink) = &self.task_status {
            sink(step, &message.into());
        } else if let Some(sender) = &self.sender {
            let _ = sender.send(Message::Progress(step, message.into()));
        }
    }

    /// Waits until every notification sent so far is written, so none
    /// arrives after the result.
    pub async fn flush(&self) {
        if let Some(sender) = &self.sender {
            let (done, wait) = oneshot::channel();
            if sender.send(Message::Flush(done)).is_ok() {
                let _ = wait.await;
            }
        }
    }
}

async fn forward(
    peer: Peer<RoleServer>,
    token: ProgressToken,
    mut receiver: mpsc::UnboundedReceiver<Message>,
) {
    let mut count = 0u32;
    while let Some(message) = receiver.recv().await {
        match message {
            Message::Progress(step, text) => {
                count += 1;
                let mut param = ProgressNotificationParam::new(token.clone(), f64::from(count));
                param.message = Some(format!("{}: {text}", step.as_str()));
                if peer.notify_progress(param).await.is_err() {
                    // The client went away; keep draining so senders never block.
                    continue;
                }
            }
            Message::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}
