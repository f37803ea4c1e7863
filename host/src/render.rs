//! One path from chart and values to manifests, shared by the `template` CLI,
//! the MCP tools and the release engine: release-name check, the validator
//! plugin for the chart (if any), then the renderer plugin, both sandboxed.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::plugin::contract::{
    Capabilities, ChartMetadata, Manifest, ReleaseInfo, RenderError, RenderInput, ValidateInput,
    Violation,
};
use crate::plugin::selection::PluginSet;
use crate::plugin::{Plugin, PluginError, World};

#[derive(Debug, Clone)]
pub struct RenderRequest<'a> {
    pub chart: &'a Chart,
    pub release: ReleaseInfo,
    pub user_values: Map<String, Value>,
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone)]
pub struct Rendered {
    /// Chart defaults coalesced with the user values, as the validator computed
    /// them (`None` when no validator handles this chart).
    pub effective_values: Option<Value>,
    /// One YAML document each, in `helm template` order.
    pub manifests: Vec<Manifest>,
    pub notes: Option<String>,
    pub validator: Option<Arc<Plugin>>,
    pub renderer: Arc<Plugin>,
}

#[derive(Debug, thiserror::Error)]
pub enum RenderFailure {
    #[error("release name check failed: {0}")]
    // Not a `#[source]`: the message already includes it, and `{:#}` would repeat it.
    ReleaseName(crate::release::BuildError),
    #[error(
        "values for chart {chart} are invalid:\n{}",
        format_violations(violations)
    )]
    Values {
        chart: String,
        violations: Vec<Violation>,
    },
    #[error("{}", .0.message)]
    Template(RenderError),
    #[error(transparent)]
    Plugin(#[from] PluginError),
    #[error("values are not valid JSON for the plugins: {0}")]
    Encoding(String),
}

fn format_violations(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| {
            let path = if v.path.is_empty() {
                String::new()
            } else {
                format!("{}: ", v.path)
            };
            format!("- {path}{}\n  fix: {}", v.message, v.hint)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn render(plugins: &PluginSet, request: RenderRequest<'_>) -> Result<Rendered, RenderFailure> {
    crate::release::validate_release_name(&request.release.name)
        .map_err(RenderFailure::ReleaseName)?;
    let chart = request.chart;
    let meta = &chart.metadata;
    let user_values = serde_json::to_string(&Value::Object(request.user_values))
        .map_err(|e| RenderFailure::Encoding(e.to_string()))?;

    let validator = match plugins.select(World::Validator, &meta.name, &meta.version) {
        Ok(p) => Some(p),
        Err(PluginError::NoPluginFor { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let mut effective_values = None;
    if let Some(validator) = &validator {
        let input = ValidateInput {
            chart: ChartMetadata {
                name: meta.name.clone(),
                version: meta.version.clone(),
                app_version: meta.app_version.clone(),
                api_version: meta.api_version.clone(),
            },
            default_values_yaml: chart.file_text("values.yaml"),
            values_schema_json: chart.file_text("values.schema.json"),
            values_json: user_values.clone(),
            capabilities: request.capabilities.clone(),
        };
        match validator.validate(&input)? {
            Ok(values) => {
                let parsed: Value =
                    serde_json::from_str(&values).map_err(|e| PluginError::Contract {
                        plugin: validator.manifest().name.clone(),
                        message: format!("its effective values are not JSON: {e}"),
                    })?;
                effective_values = Some(parsed);
            }
            Err(violations) => {
                return Err(RenderFailure::Values {
                    chart: format!("{}:{}", meta.name, meta.version),
                    violations,
                });
            }
        }
    }

    let renderer = plugins.select(World::Renderer, &meta.name, &meta.version)?;
    let input = RenderInput {
        files: chart.files.clone(),
        // The renderer coalesces chart defaults itself; it gets the user's
        // layer so that a user `null` still deletes a default, as in Helm.
        values_json: user_values,
        release: request.release,
        capabilities: request.capabilities,
    };
    let output = renderer.render(&input)?.map_err(RenderFailure::Template)?;
    Ok(Rendered {
        effective_values,
        manifests: output.manifests,
        notes: output.notes,
        validator,
        renderer,
    })
}

/// `helm template`'s stdout for rendered manifests.
pub fn helm_template_text(manifests: &[Manifest]) -> String {
    let mut out = String::new();
    for m in manifests {
        out.push_str("---\n# Source: ");
        out.push_str(&m.source);
        out.push('\n');
        out.push_str(&m.content);
        out.push('\n');
    }
    out
}
