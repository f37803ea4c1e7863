//! Helm's ownership metadata on a release's normal (non-hook) objects, and
//! the check that stops a release from taking over another release's object.

use kube::api::DynamicObject;
use serde_json::{Map, Value};

use super::error::ClusterError;
use super::objects::ObjectKey;

pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
pub const HELM_MANAGED_BY: &str = crate::defaults::RELEASE_SERVICE;
pub const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
pub const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
pub const RESOURCE_POLICY_ANNOTATION: &str = "helm.sh/resource-policy";
pub const KEEP: &str = "keep";

/// Adds the label and annotations `helm install` puts on every normal object.
pub fn add_ownership(object: &mut Value, release: &str, release_namespace: &str) {
    let Some(obj) = object.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !meta.is_object() {
        *meta = Value::Object(Map::new());
    }
    let meta = meta.as_object_mut().expect("just made an object");
    let mut set = |field: &str, key: &str, value: &str| {
        let entry = meta
            .entry(field)
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        entry
            .as_object_mut()
            .expect("just made an object")
            .insert(key.into(), Value::String(value.into()));
    };
    set("labels", MANAGED_BY_LABEL, HELM_MANAGED_BY);
    set("annotations", RELEASE_NAME_ANNOTATION, release);
    set(
        "annotations",
        RELEASE_NAMESPACE_ANNOTATION,
        release_namespace,
    );
}

/// Helm's import check: an existing object may join the release only when
/// it already carries this release's ownership metadata.
pub fn check_ownership(
    live: &DynamicObject,
    key: &ObjectKey,
    release: &str,
    release_namespace: &str,
) -> Result<(), ClusterError> {
    let labels = live.metadata.labels.clone().unwrap_or_default();
    let annotations = live.metadata.annotations.clone().unwrap_or_default();
    let mut problems = Vec::new();
    let mut expect =
        |kind: &str, map: &std::collections::BTreeMap<String, String>, k: &str, want: &str| {
            match map.get(k) {
                None => problems.push(format!(
                    "{kind} validation error: missing key {k:?}: must be set to {want:?}"
                )),
                Some(v) if v != want => problems.push(format!(
                    "{kind} validation error: key {k:?} must equal {want:?}: current value is {v:?}"
                )),
                Some(_) => {}
            }
        };
    expect("label", &labels, MANAGED_BY_LABEL, HELM_MANAGED_BY);
    expect("annotation", &annotations, RELEASE_NAME_ANNOTATION, release);
    expect(
        "annotation",
        &annotations,
        RELEASE_NAMESPACE_ANNOTATION,
        release_namespace,
    );
    if problems.is_empty() {
        return Ok(());
    }
    let owner = match (
        annotations.get(RELEASE_NAME_ANNOTATION),
        annotations.get(RELEASE_NAMESPACE_ANNOTATION),
    ) {
        (Some(name), Some(ns)) => format!("release {name:?} in namespace {ns:?}"),
        _ => "no Helm release (it was created by something else)".to_string(),
    };
    Err(ClusterError::NotOwned {
        object: Box::new(key.clone()),
        problems: problems.join("; "),
        owner,
    })
}

/// `helm.sh/resource-policy: keep`, compared as Helm's uninstall does
/// (trimmed, lower-cased).
pub fn has_keep_policy(annotations: Option<&Map<String, Value>>) -> bool {
    annotations
        .and_then(|a| a.get(RESOURCE_POLICY_ANNOTATION))
        .and_then(Value::as_str)
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(KEEP))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key() -> ObjectKey {
        ObjectKey {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: "c".into(),
        }
    }

    #[test]
    fn ownership_metadata_is_added_and_checked() {
        let mut obj = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
        add_ownership(&mut obj, "rel", "ns");
        let live: DynamicObject = serde_json::from_value(obj).unwrap();
        check_ownership(&live, &key(), "rel", "ns").unwrap();
        let err = check_ownership(&live, &key(), "other", "ns")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(r#"ConfigMap "c" in namespace "ns" exists and cannot be imported"#),
            "{err}"
        );
        assert!(
            err.contains(r#"must equal "other": current value is "rel""#),
            "{err}"
        );
        assert!(err.contains(r#"release "rel" in namespace "ns""#), "{err}");
    }

    #[test]
    fn keep_is_trimmed_and_case_insensitive() {
        let a = json!({"helm.sh/resource-policy": " Keep "});
        assert!(has_keep_policy(a.as_object()));
        assert!(!has_keep_policy(
            json!({"helm.sh/resource-policy": "delete"}).as_object()
        ));
        assert!(!has_keep_policy(None));
    }
}
