//! `k0rdent.mgmt.serviceTemplates.render`: everything install_from_catalog
//! would apply for an app, without touching a cluster — the catalog lookup,
//! the registry pre-flight, kgst pulled and validated and rendered in the
//! sandbox (all in [`crate::kgst`]); this file maps arguments and results.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::context::Context;
use super::error::ToolError;
use crate::kgst::{KgstError, KgstInfo, RenderedObject, describe, prepare_app};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderArgs {
    /// The app's name in the catalog, e.g. `minio`.
    pub app: String,
    /// The app's chart (ServiceTemplate source chart), e.g. `minio`.
    pub template: String,
    /// The chart version, e.g. `14.1.2`.
    pub version: String,
    /// Target namespace; the server's default (normally `kcm-system`) when omitted.
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RenderResult {
    pub release: String,
    pub namespace: String,
    /// `<template>:<version>`, as kgst's `chart` value.
    pub chart: String,
    /// Repository the ServiceTemplate's HelmRepository points at.
    pub repository: String,
    pub kgst: KgstInfo,
    /// The values after validation: kgst's defaults with the values the
    /// validator built for this app.
    pub values: Value,
    /// What would be applied, hooks included, in Helm's order.
    pub manifests: Vec<RenderedObject>,
    /// Plugins that did the work (`name@version`).
    pub plugins: Vec<String>,
}

pub async fn render_app(context: &Context, args: RenderArgs) -> Result<RenderResult, ToolError> {
    super::scope::check_release_name("template", &args.template)?;
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| context.access.default_namespace.clone());
    context.access.check_namespace(&namespace)?;
    render(context, &args, namespace)
        .await
        .map_err(ToolError::from)
}

async fn render(
    context: &Context,
    args: &RenderArgs,
    namespace: String,
) -> Result<RenderResult, KgstError> {
    let snapshot = context.plugins.current();
    let prepared = prepare_app(
        context.kgst_sources(&snapshot),
        &args.app,
        &args.template,
        &args.version,
    )
    .await?;
    let release = args.template.clone();
    let rendered = prepared.render(&snapshot, &release, &namespace)?;
    let manifests = rendered
        .manifests
        .iter()
        .map(|m| describe(&m.source, &m.content, &namespace))
        .collect();
    let mut plugins = Vec::new();
    if let Some(v) = &rendered.validator {
        plugins.push(format!("{}@{}", v.manifest().name, v.manifest().version));
    }
    plugins.push(format!(
        "{}@{}",
        rendered.renderer.manifest().name,
        rendered.renderer.manifest().version
    ));
    Ok(RenderResult {
        release,
        namespace,
        chart: prepared.chart_value,
        repository: prepared.repository,
        kgst: prepared.kgst_info,
        values: rendered.effective_values.unwrap_or(Value::Null),
        manifests,
        plugins,
    })
}
