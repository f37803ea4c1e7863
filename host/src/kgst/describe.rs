//! What a rendered kgst document is, read from its YAML: what the render tool
//! lists and a dry-run install reports as `<namespace>/<Kind>/<name>`.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize, JsonSchema)]
pub struct RenderedObject {
    pub source: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// Helm hook events (`pre-install, pre-upgrade`) when this object is a hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
    pub content: String,
}

/// Identity of a rendered document; fields the YAML lacks are empty, and a
/// document without a namespace is in `default_namespace`.
pub fn describe(source: &str, content: &str, default_namespace: &str) -> RenderedObject {
    let doc = helm_yaml::parse_values(content).unwrap_or_default();
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
    let metadata = doc.get("metadata");
    let namespace = text(metadata.and_then(|m| m.get("namespace")));
    RenderedObject {
        source: source.to_string(),
        api_version: text(doc.get("apiVersion")),
        kind: text(doc.get("kind")),
        name: text(metadata.and_then(|m| m.get("name"))),
        namespace: if namespace.is_empty() {
            default_namespace.to_string()
        } else {
            namespace
        },
        hook: metadata
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get("helm.sh/hook"))
            .and_then(Value::as_str)
            .map(str::to_string),
        content: content.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_identity_and_hooks_and_defaults_the_namespace() {
        let hook = "apiVersion: v1\nkind: Job\nmetadata:\n  name: verify\n  annotations:\n    helm.sh/hook: pre-install\n";
        let object = describe("kgst/templates/job.yaml", hook, "kcm-system");
        assert_eq!(
            (
                object.kind.as_str(),
                object.name.as_str(),
                object.namespace.as_str()
            ),
            ("Job", "verify", "kcm-system")
        );
        assert_eq!(object.hook.as_deref(), Some("pre-install"));
        let placed = describe(
            "s",
            "kind: A\nmetadata:\n  namespace: other\n",
            "kcm-system",
        );
        assert_eq!(placed.namespace, "other");
        assert!(placed.hook.is_none() && placed.name.is_empty());
        assert!(describe("s", "{not yaml", "ns").kind.is_empty());
    }
}
