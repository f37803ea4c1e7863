//! From rendered documents to what a release applies: normal objects (kind
//! ordered, stored in `manifest`) and hooks (stored kind ordered, run in
//! weight-then-name order), parsed as Helm's `releaseutil` does.

use helm_kind_order::install_key;
use serde_json::Value;

use crate::plugin::contract::Manifest;
use crate::release::{HookEvent, HookRecord, delete_policy};

pub const HOOK_ANNOTATION: &str = "helm.sh/hook";
pub const HOOK_WEIGHT_ANNOTATION: &str = "helm.sh/hook-weight";
pub const HOOK_DELETE_POLICY_ANNOTATION: &str = "helm.sh/hook-delete-policy";
pub const HOOK_OUTPUT_LOG_POLICY_ANNOTATION: &str = "helm.sh/hook-output-log-policy";

/// One normal document of a release.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `kgst/templates/service-template.yaml`.
    pub source: String,
    /// The trimmed YAML text as rendered.
    pub text: String,
    /// The parsed object (YAML 1.1 scalars, as Helm's sigs.k8s.io/yaml).
    pub object: Value,
}

impl Document {
    pub fn kind(&self) -> &str {
        self.object
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn name(&self) -> &str {
        self.object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
    pub fn annotations(&self) -> Option<&serde_json::Map<String, Value>> {
        self.object
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
    }
}

/// A release's documents split as Helm splits them.
#[derive(Debug, Clone, Default)]
pub struct SplitDocuments {
    /// Install order.
    pub manifests: Vec<Document>,
    /// Stored order (kind ordered); see [`execution_order`].
    pub hooks: Vec<(Document, HookRecord)>,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "YAML parse error on {source_path}: {message}; fix: correct the template or the values it renders"
)]
pub struct DocumentError {
    pub source_path: String,
    pub message: String,
}

/// Stable sort by Helm's install order.
pub fn sort_for_install(docs: &mut [Document]) {
    docs.sort_by(|a, b| install_key(a.kind()).cmp(&install_key(b.kind())));
}

/// Splits rendered manifests into normal documents and hooks. A document
/// with an unknown hook event is dropped, as Helm drops it.
pub fn split(rendered: &[Manifest]) -> Result<SplitDocuments, DocumentError> {
    let mut out = SplitDocuments::default();
    for manifest in rendered {
        let text = manifest.content.trim();
        if text.is_empty() {
            continue;
        }
        let object = helm_yaml::parse_values(text).map_err(|message| DocumentError {
            source_path: manifest.source.clone(),
            message,
        })?;
        let doc = Document {
            source: manifest.source.clone(),
            text: text.to_string(),
            object: Value::Object(object),
        };
        let annotation = |key: &str| {
            doc.annotations()
                .and_then(|a| a.get(key))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let Some(hook_events) = annotation(HOOK_ANNOTATION) else {
            out.manifests.push(doc);
            continue;
        };
        let mut events = Vec::new();
        let mut unknown = false;
        for event in hook_events.split(',') {
            let event = event.trim().to_ascii_lowercase();
            let event = if event == "test-success" {
                "test".to_string()
            } else {
                event
            };
            match event.parse::<HookEvent>() {
                Ok(e) => events.push(e),
                Err(_) => unknown = true,
            }
        }
        if unknown {
            tracing::warn!(source = %doc.source, "skipping a hook with an unknown event: {hook_events}");
            continue;
        }
        let list = |key: &str| -> Vec<String> {
            annotation(key)
                .map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_ascii_lowercase())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut delete_policies = list(HOOK_DELETE_POLICY_ANNOTATION);
        if delete_policies.is_empty() {
            // Helm's default, and Helm stores it in the release.
            delete_policies.push(delete_policy::BEFORE_HOOK_CREATION.to_string());
        }
        let record = HookRecord {
            name: doc.name().to_string(),
            kind: doc.kind().to_string(),
            path: doc.source.clone(),
            manifest: doc.text.clone(),
            events,
            weight: annotation(HOOK_WEIGHT_ANNOTATION)
                .and_then(|w| w.trim().parse().ok())
                .unwrap_or(0),
            delete_policies,
            output_log_policies: list(HOOK_OUTPUT_LOG_POLICY_ANNOTATION),
            ..HookRecord::default()
        };
        out.hooks.push((doc, record));
    }
    sort_for_install(&mut out.manifests);
    out.hooks
        .sort_by(|(a, _), (b, _)| install_key(a.kind()).cmp(&install_key(b.kind())));
    Ok(out)
}

/// Indices of the hooks for `event` in Helm's execution order: weight, then
/// name; equal ones keep the stored (kind) order.
pub fn execution_order(hooks: &[HookRecord], event: HookEvent) -> Vec<usize> {
    let mut chosen: Vec<usize> = (0..hooks.len())
        .filter(|&i| hooks[i].events.contains(&event))
        .collect();
    chosen.sort_by(|&a, &b| {
        (hooks[a].weight, &hooks[a].name).cmp(&(hooks[b].weight, &hooks[b].name))
    });
    chosen
}

/// `release.manifest`: `---\n# Source: <file>\n<doc>\n` per normal document.
pub fn manifest_text(docs: &[Document]) -> String {
    docs.iter()
        .map(|d| format!("---\n# Source: {}\n{}\n", d.source, d.text))
        .collect()
}

/// The documents of a stored `release.manifest` (ours or Helm's).
pub fn parse_manifest_text(manifest: &str) -> Result<Vec<Document>, DocumentError> {
    let mut docs = Vec::new();
    for chunk in manifest
        .split("---\n# Source: ")
        .filter(|c| !c.trim().is_empty())
    {
        let (source, body) = chunk.split_once('\n').unwrap_or((chunk, ""));
        // A template may emit several documents under one Source header.
        for part in body.split("\n---\n") {
            let text = part.trim().trim_start_matches("---").trim();
            if text.is_empty() {
                continue;
            }
            let object = helm_yaml::parse_values(text).map_err(|message| DocumentError {
                source_path: source.to_string(),
                message,
            })?;
            docs.push(Document {
                source: source.to_string(),
                text: text.to_string(),
                object: Value::Object(object),
            });
        }
    }
    Ok(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(source: &str, content: &str) -> Manifest {
        Manifest {
            source: source.into(),
            content: content.into(),
        }
    }

    #[test]
    fn hooks_are_split_defaulted_and_ordered_like_helm() {
        let rendered = [
            m(
                "c/templates/st.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: st",
            ),
            m(
                "c/templates/ns.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n",
            ),
            m(
                "c/templates/job.yaml",
                "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: verify\n  annotations:\n    helm.sh/hook: pre-install, PRE-UPGRADE\n    helm.sh/hook-delete-policy: before-hook-creation",
            ),
            m(
                "c/templates/repo.yaml",
                "apiVersion: v1\nkind: HelmRepository\nmetadata:\n  name: k0rdent-catalog\n  annotations:\n    helm.sh/hook: pre-install\n    helm.sh/resource-policy: keep",
            ),
            m(
                "c/templates/bad.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    helm.sh/hook: pre-nothing",
            ),
        ];
        let split = split(&rendered).unwrap();
        let kinds: Vec<&str> = split.manifests.iter().map(Document::kind).collect();
        assert_eq!(kinds, ["Namespace", "ConfigMap"]);
        let stored: Vec<&str> = split.hooks.iter().map(|(_, h)| h.name.as_str()).collect();
        assert_eq!(
            stored,
            ["verify", "k0rdent-catalog"],
            "stored in kind order"
        );
        let hooks: Vec<HookRecord> = split.hooks.iter().map(|(_, h)| h.clone()).collect();
        assert_eq!(hooks[1].delete_policies, ["before-hook-creation"]);
        assert_eq!(
            hooks[0].events,
            [HookEvent::PreInstall, HookEvent::PreUpgrade]
        );
        let order: Vec<&str> = execution_order(&hooks, HookEvent::PreInstall)
            .into_iter()
            .map(|i| hooks[i].name.as_str())
            .collect();
        assert_eq!(order, ["k0rdent-catalog", "verify"], "weight then name");
        assert_eq!(execution_order(&hooks, HookEvent::PreUpgrade), [0]);

        let text = manifest_text(&split.manifests);
        assert!(text.starts_with("---\n# Source: c/templates/ns.yaml\napiVersion: v1\n"));
        let back = parse_manifest_text(&text).unwrap();
        assert_eq!(back, split.manifests);
    }
}
