//! From rendered files to `helm template` output order (Helm's
//! `releaseutil.SortManifests`): files in path order, split into YAML
//! documents, hooks separated from plain manifests, each group stably sorted
//! by kind install order. Documents come back one per manifest, so the host
//! prints `---\n# Source: <source>\n<content>\n` for each.

use helm_kind_order::install_key;

use crate::value::Value;
use crate::yaml;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Template path as Helm prints it in `# Source:`.
    pub source: String,
    /// One YAML document, trimmed of surrounding whitespace.
    pub content: String,
}

const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

fn is_re2_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Helm's `SplitManifests`: splits on the regex `(?:^|\s*\n)---\s*` (RE2
/// `\s` is ASCII whitespace), then trims each non-empty document.
pub fn split_documents(file: &str) -> Vec<String> {
    let text = file.trim_matches(crate::funcs::is_go_space);
    let b = text.as_bytes();
    let mut docs = Vec::new();
    let mut doc_start = 0;
    let mut i = 0;
    while i < b.len() {
        // A separator starts at the beginning or at a newline (the whitespace
        // before that newline belongs to the separator too).
        let at_line_start = i == 0 || b[i - 1] == b'\n';
        if at_line_start && b[i..].starts_with(b"---") {
            let mut sep_start = i;
            if i > 0 {
                sep_start = i - 1;
                while sep_start > doc_start && is_re2_space(b[sep_start - 1]) {
                    sep_start -= 1;
                }
            }
            let mut end = i + 3;
            while end < b.len() && is_re2_space(b[end]) {
                end += 1;
            }
            if i == 0 || sep_start >= doc_start {
                docs.push(&text[doc_start..sep_start]);
                doc_start = end;
                i = end;
                continue;
            }
        }
        i += 1;
    }
    docs.push(&text[doc_start..]);
    docs.into_iter()
        .filter(|d| !d.is_empty())
        .map(|d| d.trim_matches(crate::funcs::is_go_space).to_string())
        .collect()
}

struct Entry {
    manifest: Manifest,
    kind: String,
}

/// Helm's `lessByKind`, as a total order for a stable sort.
fn by_kind(a: &Entry, b: &Entry) -> std::cmp::Ordering {
    install_key(&a.kind).cmp(&install_key(&b.kind))
}

/// Sorts rendered `(path, text)` pairs into output order.
pub fn sort_manifests(mut files: Vec<(String, String)>) -> Result<Vec<Manifest>, String> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (path, text) in files {
        if text.trim_matches(crate::funcs::is_go_space).is_empty() {
            continue;
        }
        for doc in split_documents(&text) {
            let head = yaml::parse_document(&doc)
                .map_err(|e| format!("YAML parse error on {path}: {e}"))?;
            if !matches!(head, Value::Map(_) | Value::Nil) {
                return Err(format!(
                    "YAML parse error on {path}: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type util.SimpleHead",
                    if head.as_str().is_some() {
                        "string"
                    } else {
                        "array"
                    }
                ));
            }
            let kind = head
                .map_get("kind")
                .and_then(|k| k.as_str().map(String::from))
                .unwrap_or_default();
            let annotations = head
                .map_get("metadata")
                .and_then(|m| m.map_get("annotations"))
                .unwrap_or_default();
            let hook = annotations
                .map_get("helm.sh/hook")
                .and_then(|h| h.as_str().map(String::from));
            let entry = Entry {
                manifest: Manifest {
                    source: path.clone(),
                    content: doc,
                },
                kind,
            };
            match hook {
                None => generic.push(entry),
                Some(events) => {
                    let known = events
                        .split(',')
                        .all(|e| HOOK_EVENTS.contains(&e.trim().to_lowercase().as_str()));
                    // Helm silently drops documents with unknown hook events.
                    if known {
                        hooks.push(entry);
                    }
                }
            }
        }
    }
    generic.sort_by(by_kind);
    hooks.sort_by(by_kind);
    Ok(generic
        .into_iter()
        .chain(hooks)
        .map(|e| e.manifest)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_helm() {
        assert_eq!(split_documents("a: 1\n---\nb: 2\n"), vec!["a: 1", "b: 2"]);
        assert_eq!(split_documents("---\na: 1"), vec!["a: 1"]);
        assert_eq!(split_documents("\n\n"), Vec::<String>::new());
        assert_eq!(
            split_documents("a: 1   \n---   \n\nb: 2"),
            vec!["a: 1", "b: 2"]
        );
        assert_eq!(
            split_documents("a: ---\nb: c---d\n---x"),
            vec!["a: ---\nb: c---d", "x"]
        );
    }

    #[test]
    fn hooks_follow_manifests_in_kind_order() {
        let files = vec![
            (
                "c/templates/b.yaml".to_string(),
                "kind: Job\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n".to_string(),
            ),
            (
                "c/templates/a.yaml".to_string(),
                "kind: HelmRepository\nmetadata:\n  annotations:\n    helm.sh/hook: pre-install\n"
                    .to_string(),
            ),
            (
                "c/templates/s.yaml".to_string(),
                "kind: Service\n---\nkind: ConfigMap\n".to_string(),
            ),
        ];
        let out = sort_manifests(files).unwrap();
        let kinds: Vec<&str> = out
            .iter()
            .map(|m| m.content.lines().next().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec![
                "kind: ConfigMap",
                "kind: Service",
                "kind: Job",
                "kind: HelmRepository"
            ]
        );
    }
}
