//! A catalog app made ready to render: looked up in the catalog, its chart
//! checked in its registry before anything else happens (the pre-flight),
//! kgst pulled, and the validator that builds kgst's values chosen.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Map, Value};

use super::KgstError;
use super::intent::values_for_intent;
use crate::catalog::CatalogSource;
use crate::chart::{ArchiveLimits, Chart};
use crate::oci::{ChartRef, ChartSource, PullOrigin};
use crate::plugin::contract::InstallIntent;
use crate::plugin::selection::PluginSet;
use crate::plugin::{Plugin, PluginError};
use crate::render::{RenderRequest, Rendered, render};

/// Where a catalog install's inputs come from.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub catalog: &'a CatalogSource,
    pub charts: &'a ChartSource,
    /// The kgst chart every install goes through.
    pub kgst: &'a ChartRef,
    pub plugins: &'a PluginSet,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KgstInfo {
    pub reference: String,
    pub digest: String,
    pub origin: KgstOrigin,
}

/// Where the kgst archive came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KgstOrigin {
    /// Downloaded now.
    Registry,
    /// The cache, after the registry confirmed the digest.
    Cache,
    /// The cache, because the registry was unreachable.
    CacheOffline,
}

impl From<&PullOrigin> for KgstOrigin {
    fn from(origin: &PullOrigin) -> Self {
        match origin {
            PullOrigin::Registry => KgstOrigin::Registry,
            PullOrigin::Cache => KgstOrigin::Cache,
            PullOrigin::CacheOffline { .. } => KgstOrigin::CacheOffline,
        }
    }
}

/// A catalog app resolved and checked, with kgst pulled and the validator
/// that builds its values: what render, install and diff share.
pub struct PreparedApp {
    pub kgst: Chart,
    pub kgst_info: KgstInfo,
    /// `<template>:<version>`.
    pub chart_value: String,
    pub repository: String,
    app: String,
    template: String,
    version: String,
    validator: Arc<Plugin>,
}

/// Checks the app against the catalog and its chart against the registry,
/// pulls kgst and picks the validator that will build its values. A validator
/// built before `values-for-intent` existed is refused here, before anything
/// is rendered.
pub async fn prepare_app(
    sources: Sources<'_>,
    app: &str,
    template: &str,
    version: &str,
) -> Result<PreparedApp, KgstError> {
    let snapshot = sources.catalog.get(false).await?;
    let (_, chart_entry) = snapshot.index.chart_version(app, template, version)?;
    let repository = chart_entry.repository.clone();

    // Pre-flight: the app's chart must exist before anything is rendered or applied.
    let app_chart = ChartRef::parse(&format!("{repository}/{template}"), Some(version))
        .map_err(KgstError::AppChart)?;
    sources
        .charts
        .check_exists(&app_chart)
        .await
        .map_err(KgstError::AppChart)?;

    let pulled = sources
        .charts
        .pull(sources.kgst)
        .await
        .map_err(KgstError::KgstPull)?;
    let kgst = Chart::from_archive(&pulled.bytes, &ArchiveLimits::default())?;
    let validator = kgst_validator(sources.plugins, &kgst)?;
    Ok(PreparedApp {
        kgst_info: KgstInfo {
            reference: sources.kgst.to_string(),
            digest: pulled.manifest_digest.clone(),
            origin: KgstOrigin::from(&pulled.origin),
        },
        kgst,
        chart_value: format!("{template}:{version}"),
        repository,
        app: app.to_string(),
        template: template.to_string(),
        version: version.to_string(),
        validator,
    })
}

/// The validator for this kgst, which must be able to build values.
fn kgst_validator(plugins: &PluginSet, kgst: &Chart) -> Result<Arc<Plugin>, KgstError> {
    let meta = &kgst.metadata;
    let validator = plugins
        .validator_for(&meta.name, &meta.version)?
        .ok_or_else(|| {
            // Only reachable when a bench allowed unvalidated kgst renders:
            // without a validator there is no one to build the values.
            PluginError::ValidatorRequired {
                chart: meta.name.clone(),
                version: meta.version.clone(),
                loaded: "none that handles it".into(),
            }
        })?;
    validator.require_values_for_intent()?;
    Ok(validator)
}

impl PreparedApp {
    /// The kgst values that install this app into `namespace`, from the
    /// validator: what `--set chart=…` (and `repo.*`) are to helm.
    pub fn values(&self, namespace: &str) -> Result<Map<String, Value>, KgstError> {
        let intent = InstallIntent {
            app: self.app.clone(),
            chart: self.template.clone(),
            version: self.version.clone(),
            repository: self.repository.clone(),
            namespace: namespace.to_string(),
        };
        values_for_intent(&self.validator, &self.kgst, &intent)
    }

    /// Validates and renders this app as a first install into `namespace`,
    /// with no cluster.
    pub fn render(
        &self,
        plugins: &PluginSet,
        release: &str,
        namespace: &str,
    ) -> Result<Rendered, KgstError> {
        let request = RenderRequest {
            chart: &self.kgst,
            release: crate::capabilities::release(
                release.to_string(),
                namespace.to_string(),
                1,
                true,
            ),
            user_values: self.values(namespace)?,
            capabilities: crate::capabilities::offline(
                crate::defaults::DEFAULT_KUBE_VERSION.into(),
                vec!["k0rdent.mirantis.com/v1beta1".into()],
            ),
        };
        Ok(tokio::task::block_in_place(|| render(plugins, request))?)
    }
}
