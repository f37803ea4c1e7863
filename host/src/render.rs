//! One path from chart and values to manifests, shared by the `template` CLI,
//! the MCP tools and the release engine: release-name check, the validator
//! plugin for the chart (if any), then the renderer plugin, both sandboxed.
//!
//! The sandbox has no clock and only constant randomness, so the host hands
//! the renderer fresh entropy and the current time with every render; the
//! `template --deterministic` mode fixes both instead.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::plugin::contract::{
    Capabilities, ChartMetadata, Manifest, ReleaseInfo, RenderError, RenderInput, Timestamp,
    ValidateInput, Violation,
};
use crate::plugin::selection::PluginSet;
use crate::plugin::{Plugin, PluginError, World};

/// Where a render's randomness and `now` come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RenderMode {
    /// Fresh entropy from the operating system and the current time, per
    /// render: a chart that generates a password gets a new, unguessable one.
    #[default]
    Live,
    /// [`DETERMINISTIC_SEED`] and the Unix epoch: the same input renders the
    /// same output (reviewable diffs, golden tests). Never for real installs:
    /// every "random" password is then public.
    Deterministic,
}

/// The entropy of [`RenderMode::Deterministic`].
pub const DETERMINISTIC_SEED: &[u8; 32] = b"k0rdent-mcp deterministic render";
/// Bytes of entropy a live render receives.
const ENTROPY_BYTES: usize = 32;

impl RenderMode {
    fn entropy_and_time(self) -> Result<(Vec<u8>, Timestamp), RenderFailure> {
        match self {
            RenderMode::Deterministic => Ok((
                DETERMINISTIC_SEED.to_vec(),
                Timestamp {
                    seconds: 0,
                    nanoseconds: 0,
                },
            )),
            RenderMode::Live => {
                let mut entropy = vec![0u8; ENTROPY_BYTES];
                getrandom::fill(&mut entropy).map_err(|e| RenderFailure::Entropy(e.to_string()))?;
                let since_epoch = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default();
                let now = Timestamp {
                    seconds: i64::try_from(since_epoch.as_secs()).unwrap_or(i64::MAX),
                    nanoseconds: since_epoch.subsec_nanos(),
                };
                Ok((entropy, now))
            }
        }
    }
}

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
    #[error("cannot draw random bytes for the render from the operating system: {0}")]
    Entropy(String),
}

/// Violations as the `template` command prints them: one `- path: message` and
/// its `fix:` each.
pub fn format_violations(violations: &[Violation]) -> String {
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

/// Renders with fresh entropy and the current time ([`RenderMode::Live`]).
pub fn render(plugins: &PluginSet, request: RenderRequest<'_>) -> Result<Rendered, RenderFailure> {
    render_with(plugins, request, RenderMode::Live)
}

pub fn render_with(
    plugins: &PluginSet,
    request: RenderRequest<'_>,
    mode: RenderMode,
) -> Result<Rendered, RenderFailure> {
    crate::release::validate_release_name(&request.release.name)
        .map_err(RenderFailure::ReleaseName)?;
    let meta = &request.chart.metadata;
    let validator = plugins.validator_for(&meta.name, &meta.version)?;
    let renderer = plugins.select(World::Renderer, &meta.name, &meta.version)?;
    render_using(validator, renderer, request, mode)
}

/// Renders with exactly these components, whatever the plugin set would
/// choose today: how a rollback re-renders a revision with the plugins that
/// rendered it.
pub fn render_using(
    validator: Option<Arc<Plugin>>,
    renderer: Arc<Plugin>,
    request: RenderRequest<'_>,
    mode: RenderMode,
) -> Result<Rendered, RenderFailure> {
    crate::release::validate_release_name(&request.release.name)
        .map_err(RenderFailure::ReleaseName)?;
    let chart = request.chart;
    let meta = &chart.metadata;
    let user_values = serde_json::to_string(&Value::Object(request.user_values))
        .map_err(|e| RenderFailure::Encoding(e.to_string()))?;

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

    let (entropy, now) = mode.entropy_and_time()?;
    let input = RenderInput {
        files: chart.files.clone(),
        // The renderer coalesces chart defaults itself; it gets the user's
        // layer so that a user `null` still deletes a default, as in Helm.
        values_json: user_values,
        release: request.release,
        capabilities: request.capabilities,
        entropy,
        now,
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
