//! Per-call plumbing the cluster tools share: which namespaces a call acts
//! in (filter, auth mode, `all_namespaces`), which releases it may act on
//! (kgst ones only, named validly), and MCP progress notifications fed from
//! the engine's steps, in order.

use std::sync::Arc;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};
use rmcp::RoleServer;
use rmcp::model::{ProgressNotificationParam, ProgressToken};
use rmcp::service::{Peer, RequestContext};
use tokio::sync::{mpsc, oneshot};

use super::access::{AuthMode, Caller};
use super::context::Context;
use crate::cluster::{Cluster, ClusterError};
use crate::engine::{Control, EngineOptions, KgstOnly, ProgressSink, Step};
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

/// Namespaces the filter allows that the caller can see, by name.
pub async fn visible_namespaces(
    context: &Context,
    cluster: &Cluster,
) -> Result<Vec<String>, String> {
    let api: Api<Namespace> = Api::all(cluster.client().clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| ClusterError::api("list", "namespaces", e).to_string())?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .filter(|n| context.access.filter.allows(n))
        .collect();
    names.sort();
    Ok(names)
}

/// The namespaces a call acts in.
pub async fn target_namespaces(
    context: &Context,
    caller: &Caller,
    cluster: &Cluster,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> Result<Vec<String>, String> {
    match (namespace, all_namespaces) {
        (Some(_), true) => {
            Err("give either `namespace` or `all_namespaces: true`, not both".to_string())
        }
        (Some(ns), false) => {
            context.access.check_namespace(ns)?;
            Ok(vec![ns.to_string()])
        }
        (None, true) => {
            let names = visible_namespaces(context, cluster).await?;
            if names.is_empty() {
                return Err(format!(
                    "no namespace in the cluster matches this server's namespace filter `{}`; \
                     fix: create one, or name a namespace the filter allows",
                    context.access.filter.pattern()
                ));
            }
            Ok(names)
        }
        (None, false) => {
            if context.access.mode == AuthMode::OidcRequired && matches!(caller, Caller::Token(_)) {
                return Err(
                    "OIDC_REQUIRED: name the `namespace` to act in, or set `all_namespaces: true`"
                        .to_string(),
                );
            }
            context.access.check_namespace(&context.default_namespace)?;
            Ok(vec![context.default_namespace.clone()])
        }
    }
}

/// The caller's cluster client and the namespaces a call acts in.
pub async fn scope(
    context: &Context,
    caller: &Caller,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> Result<(Cluster, Vec<String>), String> {
    let cluster = context.access.cluster_for(caller).await?;
    let namespaces =
        target_namespaces(context, caller, &cluster, namespace, all_namespaces).await?;
    Ok((cluster, namespaces))
}

/// The caller's cluster client and the one namespace a call names (or the
/// default one).
pub async fn single_namespace(
    context: &Context,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<(Cluster, String), String> {
    let (cluster, namespaces) = scope(context, caller, namespace, false).await?;
    Ok((cluster, namespaces[0].clone()))
}

enum Message {
    Progress(Step, String),
    Flush(oneshot::Sender<()>),
}

/// Forwards engine steps as `notifications/progress` when the client sent a
/// progress token; one task keeps them in order.
pub struct Progress {
    sender: Option<mpsc::UnboundedSender<Message>>,
}

impl Progress {
    pub fn for_request(context: &RequestContext<RoleServer>) -> Self {
        let Some(token) = context.meta.get_progress_token() else {
            return Progress { sender: None };
        };
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(forward(context.peer.clone(), token, receiver));
        Progress {
            sender: Some(sender),
        }
    }

    pub fn sink(&self) -> Option<ProgressSink> {
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
        if let Some(sender) = &self.sender {
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
