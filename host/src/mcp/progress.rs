//! MCP progress for one call: engine steps forwarded as `notifications/progress` (in order, flushed
//! before the result) when the client sent a progress token, or written to the task's status message
//! when the call runs as an MCP task.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use tokio::sync::{mpsc, oneshot};

use super::task_run::TaskStatusSink;
use crate::engine::{Control, ProgressSink, Step};

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
