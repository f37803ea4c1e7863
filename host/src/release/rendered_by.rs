//! Which plugins rendered a revision, kept in the release Secret's labels.
//!
//! Why labels: Helm reads every non-system label of a release Secret into
//! `Release.Labels` and writes them back whenever it rewrites the Secret
//! (marking a revision `superseded`, for one), so they survive helm v3 and v4
//! working on our releases; fields we added to the release JSON or Secret
//! annotations would be dropped on helm's first rewrite. Helm never looks
//! inside them.
//!
//! Why a `rendered-revision` label: helm's `upgrade` and `rollback` copy the
//! labels of an earlier revision into the one they write, ours included. A
//! revision whose number differs from its `rendered-revision` (or that has
//! none) was therefore written by helm (or by a host before this record
//! existed): "rendered by helm".
//!
//! A label value holds at most 63 characters, a sha256 in hex 64, so each
//! digest is stored as two halves, `…-sha256-hi` + `…-sha256-lo`.

use std::collections::BTreeMap;

use serde::Serialize;

/// Prefix of every label this module writes.
pub const LABEL_PREFIX: &str = "k0rdent-mcp.k0rdent.io/";
const REVISION_KEY: &str = "k0rdent-mcp.k0rdent.io/rendered-revision";
const ROLES: [&str; 2] = ["renderer", "validator"];

/// One plugin component, as it identified itself at load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RenderComponent {
    pub name: String,
    /// Empty when the version was not a valid label value and so not kept.
    pub version: String,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
}

impl RenderComponent {
    pub fn of(plugin: &crate::plugin::Plugin) -> Self {
        RenderComponent {
            name: plugin.manifest().name.clone(),
            version: plugin.manifest().version.clone(),
            digest: format!("sha256:{}", plugin.manifest().sha256),
        }
    }

    /// The lower-case hex digest, without `sha256:`.
    pub fn sha256(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }

    /// `name@version (sha256:<first 12>…)`, for tables and messages.
    pub fn short(&self) -> String {
        let hex = self.sha256();
        let version = if self.version.is_empty() {
            String::new()
        } else {
            format!("@{}", self.version)
        };
        format!(
            "{}{version} (sha256:{}…)",
            self.name,
            &hex[..hex.len().min(12)]
        )
    }
}

/// The renderer and (if the chart had one) validator of a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RenderedBy {
    pub renderer: RenderComponent,
    pub validator: Option<RenderComponent>,
}

impl RenderedBy {
    /// Removes our labels from `labels` (helm copies them forward), then
    /// adds the ones that say this set rendered `revision`.
    pub fn write_labels(&self, labels: &mut BTreeMap<String, String>, revision: u32) {
        clear_labels(labels);
        labels.insert(REVISION_KEY.into(), revision.to_string());
        for (role, component) in ROLES
            .iter()
            .zip([Some(&self.renderer), self.validator.as_ref()])
        {
            let Some(component) = component else { continue };
            labels.insert(key(role, "name"), component.name.clone());
            if is_label_value(&component.version) {
                labels.insert(key(role, "version"), component.version.clone());
            }
            let hex = component.sha256();
            let (hi, lo) = hex.split_at(hex.len() / 2);
            labels.insert(key(role, "sha256-hi"), hi.to_string());
            labels.insert(key(role, "sha256-lo"), lo.to_string());
        }
    }

    /// What the labels of `revision` say rendered it; `None` when helm (or
    /// a host before this record existed) wrote it.
    pub fn from_labels(labels: &BTreeMap<String, String>, revision: u32) -> Option<Self> {
        if labels.get(REVISION_KEY)? != &revision.to_string() {
            return None;
        }
        let component = |role: &str| -> Option<RenderComponent> {
            let name = labels.get(&key(role, "name"))?.clone();
            let hex = format!(
                "{}{}",
                labels.get(&key(role, "sha256-hi"))?,
                labels.get(&key(role, "sha256-lo"))?
            );
            let well_formed = hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            well_formed.then(|| RenderComponent {
                name,
                version: labels
                    .get(&key(role, "version"))
                    .cloned()
                    .unwrap_or_default(),
                digest: format!("sha256:{hex}"),
            })
        };
        Some(RenderedBy {
            renderer: component("renderer")?,
            validator: component("validator"),
        })
    }

    /// One line: `renderer …; validator …`.
    pub fn short(&self) -> String {
        let mut out = format!("renderer {}", self.renderer.short());
        if let Some(v) = &self.validator {
            out.push_str(&format!("; validator {}", v.short()));
        }
        out
    }
}

impl super::StoredRelease {
    /// The plugins that rendered this revision; `None`: helm wrote it.
    pub fn rendered_by(&self) -> Option<RenderedBy> {
        RenderedBy::from_labels(&self.labels, self.record.version)
    }
}

/// Drops every label of ours from `labels`.
pub fn clear_labels(labels: &mut BTreeMap<String, String>) {
    labels.retain(|k, _| !is_ours(k));
}

fn is_ours(key: &str) -> bool {
    key.starts_with(LABEL_PREFIX)
        && (key == REVISION_KEY
            || ROLES
                .iter()
                .any(|r| key[LABEL_PREFIX.len()..].starts_with(r)))
}

fn key(role: &str, field: &str) -> String {
    format!("{LABEL_PREFIX}{role}-{field}")
}

/// Kubernetes label value rules: at most 63 characters of `[A-Za-z0-9._-]`,
/// starting and ending with a letter or digit (or empty).
fn is_label_value(text: &str) -> bool {
    text.len() <= 63
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && text
            .bytes()
            .next()
            .is_none_or(|b| b.is_ascii_alphanumeric())
        && text
            .bytes()
            .last()
            .is_none_or(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(name: &str, version: &str, fill: char) -> RenderComponent {
        RenderComponent {
            name: name.into(),
            version: version.into(),
            digest: format!("sha256:{}", fill.to_string().repeat(64)),
        }
    }

    fn sample() -> RenderedBy {
        RenderedBy {
            renderer: component("helm-renderer", "0.3.0", 'a'),
            validator: Some(component("kgst-validator-v2", "2.0.0+build.1", 'b')),
        }
    }

    #[test]
    fn labels_round_trip_for_the_revision_they_name() {
        let mut labels = BTreeMap::from([("team".to_string(), "a".to_string())]);
        sample().write_labels(&mut labels, 3);
        assert!(labels.values().all(|v| is_label_value(v)), "{labels:?}");
        assert_eq!(labels["team"], "a", "user labels stay");
        let read = RenderedBy::from_labels(&labels, 3).unwrap();
        assert_eq!(read.renderer, sample().renderer);
        let validator = read.validator.unwrap();
        assert_eq!(validator.digest, sample().validator.unwrap().digest);
        assert_eq!(validator.version, "", "`+` is no label value: not kept");
    }

    #[test]
    fn labels_copied_to_another_revision_say_helm() {
        let mut labels = BTreeMap::new();
        sample().write_labels(&mut labels, 3);
        assert_eq!(RenderedBy::from_labels(&labels, 4), None);
        assert_eq!(RenderedBy::from_labels(&BTreeMap::new(), 1), None);
    }

    #[test]
    fn rewriting_drops_a_validator_the_new_revision_did_not_use() {
        let mut labels = BTreeMap::new();
        sample().write_labels(&mut labels, 1);
        let plain = RenderedBy {
            validator: None,
            ..sample()
        };
        plain.write_labels(&mut labels, 2);
        assert_eq!(RenderedBy::from_labels(&labels, 2), Some(plain));
        clear_labels(&mut labels);
        assert!(labels.is_empty(), "{labels:?}");
    }

    #[test]
    fn a_mangled_digest_is_not_trusted() {
        let mut labels = BTreeMap::new();
        sample().write_labels(&mut labels, 1);
        labels.insert(key("renderer", "sha256-lo"), "zz".into());
        assert_eq!(RenderedBy::from_labels(&labels, 1), None);
    }
}
