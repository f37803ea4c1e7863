//! After a deploy: k0rdent's controller checks each ServiceTemplate (does
//! the chart it names exist, is it readable) and writes `status.valid` and
//! `status.validationError`. That error is the real cause behind the vague
//! "webhook rejected" reports users see later, so the engine waits for it,
//! bounded, and reports it in full.

use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use crate::cluster::{Backoff, Cluster, ObjectKey};

use super::control::{Control, Step};
use super::error::EngineError;

pub const SERVICE_TEMPLATE_KIND: &str = "ServiceTemplate";
pub const SERVICE_TEMPLATE_GROUP: &str = "k0rdent.mirantis.com";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct TemplateValidity {
    pub name: String,
    pub namespace: String,
    /// `None`: the controller did not decide within the wait (or the caller
    /// cancelled the wait); `note` says which.
    pub valid: Option<bool>,
    pub validation_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn is_service_template(key: &ObjectKey) -> bool {
    key.kind == SERVICE_TEMPLATE_KIND
        && key
            .api_version
            .split_once('/')
            .is_some_and(|(group, _)| group == SERVICE_TEMPLATE_GROUP)
}

/// Reads `status.valid` of every ServiceTemplate in `keys` until each has one
/// or `timeout` passes.
pub(super) async fn wait_for_validity(
    cluster: &Cluster,
    keys: &[ObjectKey],
    timeout: Duration,
    control: &Control,
) -> Result<Vec<TemplateValidity>, EngineError> {
    let keys: Vec<&ObjectKey> = keys.iter().filter(|k| is_service_template(k)).collect();
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    control.report(
        Step::Validation,
        format!(
            "waiting for k0rdent to validate {} ServiceTemplate(s)",
            keys.len()
        ),
    );
    let deadline = Instant::now() + timeout;
    let mut out: Vec<Option<TemplateValidity>> = vec![None; keys.len()];
    // k0rdent validates within a second or so; look soon, then back off.
    let mut backoff = Backoff::new();
    loop {
        for (slot, key) in out.iter_mut().zip(&keys) {
            if slot.is_some() {
                continue;
            }
            let Some(live) = cluster.get(key).await? else {
                continue;
            };
            let status = live.data.get("status");
            if let Some(valid) = status
                .and_then(|s| s.get("valid"))
                .and_then(|v| v.as_bool())
            {
                *slot = Some(TemplateValidity {
                    name: key.name.clone(),
                    namespace: key.namespace.clone().unwrap_or_default(),
                    valid: Some(valid),
                    validation_error: status
                        .and_then(|s| s.get("validationError"))
                        .and_then(|v| v.as_str())
                        .filter(|e| !e.is_empty())
                        .map(str::to_string),
                    note: None,
                });
            }
        }
        if out.iter().all(Option::is_some) {
            break;
        }
        let note = if control.is_cancelled() {
            Some("the caller cancelled the wait for validation".to_string())
        } else if Instant::now() >= deadline {
            Some(format!(
                "not validated within {}s; is the k0rdent controller running? (kubectl get servicetemplate -n <namespace>)",
                timeout.as_secs()
            ))
        } else {
            None
        };
        if let Some(note) = note {
            for (slot, key) in out.iter_mut().zip(&keys) {
                slot.get_or_insert_with(|| TemplateValidity {
                    name: key.name.clone(),
                    namespace: key.namespace.clone().unwrap_or_default(),
                    valid: None,
                    validation_error: None,
                    note: Some(note.clone()),
                });
            }
            break;
        }
        tokio::select! {
            () = backoff.sleep() => {}
            () = control.cancel.cancelled() => {}
        }
    }
    Ok(out.into_iter().flatten().collect())
}
