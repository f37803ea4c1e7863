//! A rollback's re-render with the plugins that rendered its target.
//!
//! The target revision's labels name its renderer and validator by digest
//! (see `release/rendered_by.rs`). When both are still loaded (superseded or
//! not), the rollback rebuilds the chart from the stored record, validates
//! the stored values and renders them with exactly those components, and
//! compares the result with the stored manifest. Either way the stored
//! manifest is what gets applied, as helm does: a rollback returns to what
//! ran, and a re-render of a chart that draws random values (a password)
//! would otherwise rotate them. The re-render is the proof that the revision
//! is reproducible with the loaded plugins, and its verdict is reported.
//!
//! When a component is not loaded any more, or helm rendered the target, the
//! rollback still proceeds on the stored manifest and says so in its result
//! (`rerender`): refusing would block the one operation meant to get out of
//! trouble because a plugin was upgraded in the meantime.

use std::sync::Arc;

use crate::chart::{Chart, ChartMetadata};
use crate::plugin::Plugin;
use crate::plugin::contract::{Capabilities, ChartFile, ReleaseInfo as RenderRelease};
use crate::release::{ChartRecord, RenderedBy, StoredRelease};
use crate::render::{RenderMode, RenderRequest, render_using};

use super::ReleaseEngine;
use super::control::{Control, Step};
use super::documents::{manifest_text, split};
use super::error::EngineError;

/// What the re-render found, as reported in the rollback's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rerender {
    /// Re-rendered with the recorded components; same manifest as stored.
    Identical(RenderedBy),
    /// Re-rendered with the recorded components; the manifest differs in
    /// these documents (`# Source:` paths).
    Differs {
        by: RenderedBy,
        sources: Vec<String>,
    },
    /// A recorded component is not loaded: not re-rendered.
    NotLoaded { role: &'static str, by: RenderedBy },
    /// helm (or a host before plugins were recorded) rendered the target.
    RenderedByHelm,
    /// The recorded components are loaded but the re-render failed.
    Failed { by: RenderedBy, reason: String },
}

impl Rerender {
    /// The plugins the rollback's new revision records as its renderers:
    /// those of the target, whose manifest it applies.
    pub fn rendered_by(&self) -> Option<&RenderedBy> {
        match self {
            Rerender::Identical(by)
            | Rerender::Differs { by, .. }
            | Rerender::NotLoaded { by, .. }
            | Rerender::Failed { by, .. } => Some(by),
            Rerender::RenderedByHelm => None,
        }
    }

    pub fn message(&self, target: u32) -> String {
        match self {
            Rerender::Identical(by) => format!(
                "re-rendered revision {target} with the plugins that rendered it ({}): identical to its stored manifest, which was applied",
                by.short()
            ),
            Rerender::Differs { by, sources } => format!(
                "re-rendered revision {target} with the plugins that rendered it ({}), but the result differs from its stored manifest in {}; the stored manifest was applied, as helm does",
                by.short(),
                sources.join(", ")
            ),
            Rerender::NotLoaded { role, by } => {
                let component = if *role == "renderer" {
                    &by.renderer
                } else {
                    by.validator.as_ref().unwrap_or(&by.renderer)
                };
                format!(
                    "not re-rendered: the {role} {} that rendered revision {target} is not loaded any more; its stored manifest was applied without a check. To re-render on rollback, load that component again (a --plugin-dir holding it, or --plugin oci://…@{})",
                    component.short(),
                    component.digest
                )
            }
            Rerender::RenderedByHelm => format!(
                "not re-rendered: revision {target} was rendered by helm (no plugin digests recorded); its stored manifest was applied, as helm does"
            ),
            Rerender::Failed { by, reason } => format!(
                "re-rendering revision {target} with the plugins that rendered it ({}) failed: {reason}; its stored manifest was applied",
                by.short()
            ),
        }
    }
}

impl ReleaseEngine<'_> {
    /// Re-renders `target` with its recorded plugins, if they are loaded.
    pub(super) async fn rerender(
        &self,
        target: &StoredRelease,
        control: &Control,
    ) -> Result<Rerender, EngineError> {
        let Some(by) = target.rendered_by() else {
            return Ok(Rerender::RenderedByHelm);
        };
        let Some(renderer) = self.plugins.by_digest(by.renderer.sha256()) else {
            return Ok(Rerender::NotLoaded {
                role: "renderer",
                by,
            });
        };
        let validator = match &by.validator {
            None => None,
            Some(v) => match self.plugins.by_digest(v.sha256()) {
                Some(plugin) => Some(plugin),
                None => {
                    return Ok(Rerender::NotLoaded {
                        role: "validator",
                        by,
                    });
                }
            },
        };
        control.report(
            Step::Render,
            format!(
                "re-rendering revision {} with {}",
                target.record.version,
                by.short()
            ),
        );
        let (kube_version, api_versions) = self.cluster.served().await?;
        let capabilities = Capabilities {
            kube_version,
            api_versions,
            helm_version: self.options.helm_version.clone(),
        };
        Ok(
            match render_target(target, validator, renderer, capabilities) {
                Ok(manifest) if manifest == target.record.manifest => Rerender::Identical(by),
                Ok(manifest) => Rerender::Differs {
                    sources: differing_sources(&target.record.manifest, &manifest),
                    by,
                },
                Err(reason) => Rerender::Failed { by, reason },
            },
        )
    }
}

/// The manifest text of `target`'s chart and values rendered as that revision.
fn render_target(
    target: &StoredRelease,
    validator: Option<Arc<Plugin>>,
    renderer: Arc<Plugin>,
    capabilities: Capabilities,
) -> Result<String, String> {
    let chart = chart_from_record(&target.record.chart)?;
    let record = &target.record;
    let request = RenderRequest {
        chart: &chart,
        release: RenderRelease {
            name: record.name.clone(),
            namespace: record.namespace.clone(),
            revision: record.version,
            // What the target's own render saw: only revision 1 installs.
            is_install: record.version == 1,
            is_upgrade: record.version != 1,
            service: "Helm".into(),
        },
        user_values: record.config.clone(),
        capabilities,
    };
    let rendered = tokio::task::block_in_place(|| {
        render_using(validator, renderer, request, RenderMode::Live)
    })
    .map_err(|e| e.to_string())?;
    let docs = split(&rendered.manifests).map_err(|e| e.to_string())?;
    Ok(manifest_text(&docs.manifests))
}

/// The chart as helm stored it: Chart.yaml, values.yaml, the schema,
/// templates and other files of the top chart. Helm keeps no subcharts in a
/// release, so a chart with dependencies cannot be rebuilt.
pub fn chart_from_record(record: &ChartRecord) -> Result<Chart, String> {
    let metadata = record
        .metadata
        .as_ref()
        .ok_or("the stored chart has no metadata")?;
    if !metadata.dependencies.is_empty() {
        return Err(format!(
            "chart {} has dependencies, and helm does not store subcharts in a release",
            metadata.name
        ));
    }
    let file = |path: &str, data: Vec<u8>| ChartFile {
        path: format!("{}/{path}", metadata.name),
        data,
    };
    let chart_yaml = to_json(metadata)?;
    let mut files = vec![file("Chart.yaml", chart_yaml.clone())];
    if let Some(values) = &record.values {
        // JSON is YAML: the renderer reads it as values.yaml.
        files.push(file("values.yaml", to_json(values)?));
    }
    if let Some(schema) = record.schema_bytes().map_err(|e| format!("schema: {e}"))? {
        files.push(file("values.schema.json", schema));
    }
    for stored in record
        .templates
        .iter()
        .flatten()
        .chain(record.files.iter().flatten())
    {
        let data = stored
            .bytes()
            .map_err(|e| format!("file {}: {e}", stored.name))?;
        files.push(file(&stored.name, data));
    }
    let metadata = ChartMetadata::parse(&chart_yaml).map_err(|e| e.to_string())?;
    Ok(Chart { metadata, files })
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, String> {
    serde_json::to_vec(value).map_err(|e| e.to_string())
}

/// `# Source:` paths of documents present in one manifest text and not
/// identical in the other.
fn differing_sources(stored: &str, rendered: &str) -> Vec<String> {
    let documents = |text: &str| -> Vec<(String, String)> {
        text.split("---\n# Source: ")
            .filter(|d| !d.is_empty())
            .map(|d| {
                let (source, body) = d.split_once('\n').unwrap_or((d, ""));
                (source.to_string(), body.to_string())
            })
            .collect()
    };
    let (a, b) = (documents(stored), documents(rendered));
    let mut sources: Vec<String> = a
        .iter()
        .filter(|d| !b.contains(d))
        .chain(b.iter().filter(|d| !a.contains(d)))
        .map(|(source, _)| source.clone())
        .collect();
    sources.sort();
    sources.dedup();
    sources
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::{ChartFileRecord, ChartMetadataRecord};

    #[test]
    fn a_stored_chart_is_rebuilt_under_its_name() {
        let record = ChartRecord {
            metadata: Some(ChartMetadataRecord {
                name: "demo".into(),
                version: "1.2.3".into(),
                api_version: "v2".into(),
                ..Default::default()
            }),
            templates: Some(vec![ChartFileRecord::new("templates/cm.yaml", b"kind: X")]),
            values: Some(serde_json::from_str(r#"{"a": 1}"#).unwrap()),
            ..Default::default()
        };
        let chart = chart_from_record(&record).unwrap();
        assert_eq!(chart.metadata.name, "demo");
        assert_eq!(chart.metadata.version, "1.2.3");
        assert_eq!(chart.file_text("values.yaml").unwrap(), r#"{"a":1}"#);
        assert_eq!(chart.file_text("templates/cm.yaml").unwrap(), "kind: X");
    }

    #[test]
    fn a_chart_with_dependencies_is_not_rebuilt() {
        let record = ChartRecord {
            metadata: Some(ChartMetadataRecord {
                name: "demo".into(),
                version: "1.0.0".into(),
                dependencies: vec![Default::default()],
                ..Default::default()
            }),
            ..Default::default()
        };
        let err = chart_from_record(&record).unwrap_err();
        assert!(err.contains("subcharts"), "{err}");
    }

    #[test]
    fn differing_documents_are_named() {
        let stored = "---\n# Source: a.yaml\nx: 1\n---\n# Source: b.yaml\ny: 1\n";
        let rendered = "---\n# Source: a.yaml\nx: 1\n---\n# Source: b.yaml\ny: 2\n";
        assert_eq!(differing_sources(stored, rendered), vec!["b.yaml"]);
    }
}
