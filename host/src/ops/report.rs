//! What an operation answers, as JSON for MCP results and `-o json`, and as
//! the lines Helm prints. Field names follow `helm list/history -o json`
//! where Helm has them, and the k0rdent Go MCP server's (`applied`) where
//! it has them.

use schemars::JsonSchema;
use serde::Serialize;

use crate::cluster::ObjectKey;
use crate::engine::{Recovered, ReleaseOutcome, TemplateValidity, UninstallOutcome};
use crate::release::{RenderedBy, StoredRelease};

/// `<namespace>/<Kind>/<name>` (cluster-scoped: `<Kind>/<name>`).
pub fn object_ref(key: &ObjectKey) -> String {
    match &key.namespace {
        Some(ns) => format!("{ns}/{}/{}", key.kind, key.name),
        None => format!("{}/{}", key.kind, key.name),
    }
}

fn refs(keys: &[ObjectKey]) -> Vec<String> {
    keys.iter().map(object_ref).collect()
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReleaseReport {
    pub release: String,
    pub namespace: String,
    pub revision: u32,
    /// The release status after the operation (`deployed`, …).
    pub status: String,
    /// `installed`, `upgraded`, `unchanged` or `rolled-back`.
    pub action: String,
    /// `<kgst chart>-<version>`.
    pub chart: String,
    /// Every object written, hooks first in the order they ran, then the
    /// manifest in Helm's order: `<namespace>/<Kind>/<name>`.
    pub applied: Vec<String>,
    /// Objects of the previous revision removed.
    pub deleted: Vec<String>,
    /// Objects of the previous revision left in place by `helm.sh/resource-policy: keep`.
    pub kept: Vec<String>,
    /// Rendered NOTES.txt.
    pub notes: String,
    /// k0rdent's verdict on each ServiceTemplate.
    pub service_templates: Vec<TemplateValidity>,
    /// Present when this call first recovered the release from an abandoned
    /// operation whose lock had expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
    /// The renderer and validator (name, version, digest) that rendered the
    /// revision's manifest; absent when helm rendered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rendered_by: Option<RenderedBy>,
    /// Rollback only: whether the target was re-rendered with the plugins
    /// that rendered it, and what that showed (docs/release-engine.md).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rerender: Option<String>,
}

impl ReleaseReport {
    pub fn from_outcome(outcome: &ReleaseOutcome) -> Self {
        let record = &outcome.record;
        let mut applied = refs(&outcome.hooks);
        applied.extend(refs(&outcome.applied));
        ReleaseReport {
            release: record.name.clone(),
            namespace: record.namespace.clone(),
            revision: outcome.revision,
            status: record
                .status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            action: outcome.action.as_str().to_string(),
            chart: record.chart.name_version().unwrap_or_default(),
            applied,
            deleted: refs(&outcome.deleted),
            kept: refs(&outcome.kept),
            notes: record.info.notes.clone(),
            service_templates: outcome.service_templates.clone(),
            recovered: outcome.recovered.clone(),
            rendered_by: outcome.rendered_by.clone(),
            rerender: outcome.rerender.clone(),
        }
    }

    /// What the CLI prints, close to Helm's summary.
    pub fn text(&self) -> String {
        let mut out = recovered_text(self.recovered.as_ref());
        out.push_str(&format!(
            "Release {:?} {} in namespace {:?}.\nREVISION: {}\nSTATUS: {}\nCHART: {}\n",
            self.release, self.action, self.namespace, self.revision, self.status, self.chart
        ));
        out.push_str(&format!(
            "RENDERED BY: {}\n",
            rendered_by_text(self.rendered_by.as_ref())
        ));
        if let Some(rerender) = &self.rerender {
            out.push_str(&format!("RE-RENDER: {rerender}\n"));
        }
        for (title, list) in [
            ("APPLIED", &self.applied),
            ("DELETED", &self.deleted),
            ("KEPT (resource policy)", &self.kept),
        ] {
            if !list.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for item in list {
                    out.push_str(&format!("  {item}\n"));
                }
            }
        }
        for st in &self.service_templates {
            let verdict = match (st.valid, &st.validation_error, &st.note) {
                (Some(true), _, _) => "valid".to_string(),
                (Some(false), Some(e), _) => format!("INVALID: {e}"),
                (Some(false), None, _) => "INVALID".to_string(),
                (None, _, Some(note)) => format!("not validated: {note}"),
                (None, _, None) => "not validated".to_string(),
            };
            out.push_str(&format!(
                "SERVICETEMPLATE {}/{}: {verdict}\n",
                st.namespace, st.name
            ));
        }
        if !self.notes.trim().is_empty() {
            out.push_str(&format!("NOTES:\n{}\n", self.notes.trim_end()));
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UninstallReport {
    pub release: String,
    pub namespace: String,
    pub revision: u32,
    pub deleted: Vec<String>,
    /// Objects the chart keeps (`helm.sh/resource-policy: keep`), e.g. the
    /// shared HelmRepository and the ServiceTemplate; still in the cluster.
    pub kept: Vec<String>,
    /// Release Secrets removed (every revision).
    pub release_records_deleted: Vec<String>,
    /// Present when this call first recovered the release from an abandoned
    /// operation whose lock had expired.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<Recovered>,
}

impl UninstallReport {
    pub fn from_outcome(namespace: &str, outcome: &UninstallOutcome) -> Self {
        UninstallReport {
            release: outcome.release.clone(),
            namespace: namespace.to_string(),
            revision: outcome.revision,
            deleted: refs(&outcome.deleted),
            kept: refs(&outcome.kept),
            release_records_deleted: outcome.secrets_deleted.clone(),
            recovered: outcome.recovered.clone(),
        }
    }

    pub fn text(&self) -> String {
        let mut out = recovered_text(self.recovered.as_ref());
        if !self.kept.is_empty() {
            out.push_str("These resources were kept due to the resource policy:\n");
            for item in &self.kept {
                out.push_str(&format!("[{item}]\n"));
            }
            out.push('\n');
        }
        out.push_str(&format!("release \"{}\" uninstalled\n", self.release));
        out
    }
}

/// The line the CLI prints before its own report when it recovered the
/// release first.
pub fn recovered_text(recovered: Option<&Recovered>) -> String {
    match recovered {
        None => String::new(),
        Some(r) => format!(
            "RECOVERED: revision {} ({}) held by {} since {}{}: {}\n",
            r.revision,
            r.status,
            r.holder,
            r.since,
            r.expired_at
                .as_ref()
                .map(|at| format!(", lease expired {at}"))
                .unwrap_or_default(),
            r.remediation
        ),
    }
}

/// A row of `helm history -o json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryRow {
    pub revision: u32,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
    pub description: String,
    /// `helm`, or the renderer and validator that rendered this revision,
    /// one line (`name@version (sha256:<12 hex>…)`).
    pub rendered_by: String,
    /// The same with full digests; absent when helm rendered the revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugins: Option<RenderedBy>,
}

/// `helm` when helm (or a host before plugins were recorded) rendered it.
pub fn rendered_by_text(by: Option<&RenderedBy>) -> String {
    by.map_or_else(|| "helm".to_string(), RenderedBy::short)
}

/// A row of `helm list -o json`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ListRow {
    pub name: String,
    pub namespace: String,
    /// A string, as Helm writes it.
    pub revision: String,
    pub updated: String,
    pub status: String,
    pub chart: String,
    pub app_version: String,
}

fn updated(stored: &StoredRelease) -> String {
    stored
        .record
        .info
        .last_deployed
        .time()
        .map(|t| t.to_rfc3339_nano())
        .unwrap_or_default()
}

fn app_version(stored: &StoredRelease) -> String {
    stored
        .record
        .chart
        .metadata
        .as_ref()
        .map(|m| m.app_version.clone())
        .unwrap_or_default()
}

fn status(stored: &StoredRelease) -> String {
    stored
        .record
        .status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}

/// Oldest first, by revision number.
pub fn history_rows(history: &[StoredRelease]) -> Vec<HistoryRow> {
    history
        .iter()
        .map(|s| HistoryRow {
            revision: s.record.version,
            updated: updated(s),
            status: status(s),
            chart: s.record.chart.name_version().unwrap_or_default(),
            app_version: app_version(s),
            description: s.record.info.description.clone(),
            rendered_by: rendered_by_text(s.rendered_by().as_ref()),
            plugins: s.rendered_by(),
        })
        .collect()
}

pub fn list_rows(releases: &[StoredRelease]) -> Vec<ListRow> {
    releases
        .iter()
        .map(|s| ListRow {
            name: s.record.name.clone(),
            namespace: s.record.namespace.clone(),
            revision: s.record.version.to_string(),
            updated: updated(s),
            status: status(s),
            chart: s.record.chart.name_version().unwrap_or_default(),
            app_version: app_version(s),
        })
        .collect()
}
