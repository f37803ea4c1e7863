//! After a deploy: k0rdent's controller checks each ServiceTemplate (does
//! the chart it names exist, is it readable) and writes `status.valid` and
//! `status.validationError`. That error is the real cause behind the vague
//! "webhook rejected" reports users see later, so the engine waits for it,
//! bounded, and reports it in full.

use std::sync::Mutex;

use kube::api::DynamicObject;
use serde::Serialize;

use crate::cluster::{Cluster, ObjectKey, WaitEnd, WaitLimits, await_condition};

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

/// Reads `status.valid` of every ServiceTemplate in `keys` until each has one,
/// the wait's deadline passes or the caller cancels; the undecided ones then
/// carry a note saying which.
pub(super) async fn wait_for_validity(
    cluster: &Cluster,
    keys: &[ObjectKey],
    limits: &WaitLimits,
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
    // Verdicts found so far: a look reads only the undecided templates, and
    // what it found survives a wait that ends mid-look.
    let found: Mutex<Vec<Option<TemplateValidity>>> = Mutex::new(vec![None; keys.len()]);
    let look = || async {
        for (i, key) in keys.iter().enumerate() {
            if found.lock().unwrap()[i].is_some() {
                continue;
            }
            if let Some(verdict) = cluster.get(key).await?.and_then(|live| verdict(key, &live)) {
                found.lock().unwrap()[i] = Some(verdict);
            }
        }
        let all = found.lock().unwrap().iter().all(Option::is_some);
        Ok::<_, EngineError>(all.then_some(()))
    };
    let note = match await_condition(limits, look).await? {
        WaitEnd::Met(()) => None,
        WaitEnd::Cancelled => Some("the caller cancelled the wait for validation".to_string()),
        WaitEnd::TimedOut => Some(format!(
            "not validated within {}s; is the k0rdent controller running? (kubectl get servicetemplate -n <namespace>)",
            limits.timeout.as_secs()
        )),
    };
    let found = found.into_inner().unwrap();
    Ok(found
        .into_iter()
        .zip(&keys)
        .map(|(slot, key)| {
            slot.unwrap_or_else(|| TemplateValidity {
                name: key.name.clone(),
                namespace: key.namespace.clone().unwrap_or_default(),
                valid: None,
                validation_error: None,
                note: note.clone(),
            })
        })
        .collect())
}

/// k0rdent's verdict on `live`, `None` while `status.valid` is unset.
fn verdict(key: &ObjectKey, live: &DynamicObject) -> Option<TemplateValidity> {
    let status = live.data.get("status")?;
    let valid = status.get("valid")?.as_bool()?;
    Some(TemplateValidity {
        name: key.name.clone(),
        namespace: key.namespace.clone().unwrap_or_default(),
        valid: Some(valid),
        validation_error: status
            .get("validationError")
            .and_then(|v| v.as_str())
            .filter(|e| !e.is_empty())
            .map(str::to_string),
        note: None,
    })
}
