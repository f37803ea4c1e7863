//! `k0rdent.mgmt.serviceTemplates.render`: everything install_from_catalog
//! would apply for an app, without touching a cluster — the catalog lookup,
//! the registry pre-flight, kgst pulled and validated and rendered in the sandbox.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::Digest;

use super::context::Context;
use crate::catalog::DEFAULT_REPOSITORY;
use crate::chart::{ArchiveLimits, Chart};
use crate::oci::ChartRef;
use crate::plugin::contract::ReleaseInfo;
use crate::render::{RenderRequest, Rendered, render};

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
    /// The values after validation: kgst's defaults with this app's settings.
    pub values: Value,
    /// What would be applied, hooks included, in Helm's order.
    pub manifests: Vec<RenderedObject>,
    /// Plugins that did the work (`name@version`).
    pub plugins: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct KgstInfo {
    pub reference: String,
    pub digest: String,
    /// `registry`, `cache`, or `cache_offline` (the registry was unreachable).
    pub origin: String,
}

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

/// Hex digits of the repository hash a HelmRepository name ends with when
/// the plain name would lose information (64 bits: no one finds another
/// URL with the same suffix).
const NAME_HASH_HEX: usize = 16;

/// HelmRepository names kgst reserves for its own catalogs.
const RESERVED_NAMES: [&str; 2] = ["k0rdent-catalog", "k0rdent-enterprise-catalog"];

/// A HelmRepository name for a repository other than the catalog's own,
/// one per repository: kgst recreates the HelmRepository on every install,
/// so two repositories sharing a name would repoint each other's apps.
/// `oci://<host>/<path>` made of lower-case letters, digits and `-` alone
/// is its own name; any other is cut to fit, with `-<hash of the URL>`.
/// A plain name never ends the way a hashed one does, so none collide.
fn repository_name(repository: &str) -> String {
    let plain: String = repository
        .trim_start_matches("oci://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let lossless = repository.strip_prefix("oci://") == Some(plain.as_str())
        && crate::names::is_dns_label(&plain)
        && !looks_hashed(&plain)
        && !RESERVED_NAMES.contains(&plain.as_str());
    if lossless {
        return plain;
    }
    let digest = hex::encode(sha2::Sha256::digest(repository.as_bytes()));
    let hash = &digest[..NAME_HASH_HEX];
    let mut prefix = plain;
    prefix.truncate(63 - NAME_HASH_HEX - 1);
    let prefix = prefix.trim_matches('-');
    if prefix.is_empty() {
        hash.to_string()
    } else {
        format!("{prefix}-{hash}")
    }
}

/// Ends as [`repository_name`]'s hashed names do: `-` (or nothing) and
/// [`NAME_HASH_HEX`] hex digits.
fn looks_hashed(name: &str) -> bool {
    let Some(split) = name.len().checked_sub(NAME_HASH_HEX) else {
        return false;
    };
    let (head, tail) = name.split_at(split);
    tail.bytes().all(|b| b.is_ascii_hexdigit()) && (head.is_empty() || head.ends_with('-'))
}

/// kgst's values for one app, in the layout of the kgst version in use.
fn kgst_values(
    kgst_version: &str,
    chart: &str,
    repository: &str,
) -> Result<Map<String, Value>, String> {
    let major = kgst_version.split('.').next().unwrap_or("0");
    let mut values = Map::new();
    values.insert("chart".into(), Value::String(chart.to_string()));
    if repository != DEFAULT_REPOSITORY {
        let name = repository_name(repository);
        let repo = match major {
            "1" => json!({"name": name, "url": repository}),
            "0" => {
                return Err(format!(
                    "kgst {kgst_version} predates the `chart` value; run the server with --kgst-version 2.0.2"
                ));
            }
            _ => json!({"name": name, "spec": {"url": repository, "type": "oci"}}),
        };
        values.insert("repo".into(), repo);
    } else if major == "0" {
        return Err(format!(
            "kgst {kgst_version} predates the `chart` value; run the server with --kgst-version 2.0.2"
        ));
    }
    Ok(values)
}

/// A catalog app resolved and checked, with kgst pulled and the values
/// kgst needs for it: what render and install_from_catalog share.
pub struct PreparedApp {
    pub kgst: Chart,
    pub kgst_info: KgstInfo,
    /// `<template>:<version>`.
    pub chart_value: String,
    pub repository: String,
    pub values: Map<String, Value>,
}

/// Checks the app against the catalog and its chart against the registry,
/// then pulls kgst.
pub async fn prepare_app(
    context: &Context,
    app: &str,
    template: &str,
    version: &str,
) -> Result<PreparedApp, String> {
    let snapshot = context
        .catalog
        .get(false)
        .await
        .map_err(|e| e.to_string())?;
    let (_, chart_entry) = snapshot
        .index
        .chart_version(app, template, version)
        .map_err(|e| e.to_string())?;
    let repository = chart_entry.repository.clone();

    // Pre-flight: the app's chart must exist before anything is rendered or applied.
    let app_chart = ChartRef::parse(&format!("{repository}/{template}"), Some(version))
        .map_err(|e| e.to_string())?;
    context
        .charts
        .check_exists(&app_chart)
        .await
        .map_err(|e| e.to_string())?;

    let pulled = context
        .charts
        .pull(&context.kgst)
        .await
        .map_err(|e| e.to_string())?;
    let kgst =
        Chart::from_archive(&pulled.bytes, &ArchiveLimits::default()).map_err(|e| e.to_string())?;
    let chart_value = format!("{template}:{version}");
    let values = kgst_values(&kgst.metadata.version, &chart_value, &repository)?;
    Ok(PreparedApp {
        kgst_info: KgstInfo {
            reference: context.kgst.to_string(),
            digest: pulled.manifest_digest.clone(),
            origin: match pulled.origin {
                crate::oci::PullOrigin::Registry => "registry".into(),
                crate::oci::PullOrigin::Cache => "cache".into(),
                crate::oci::PullOrigin::CacheOffline { .. } => "cache_offline".into(),
            },
        },
        kgst,
        chart_value,
        repository,
        values,
    })
}

pub async fn render_app(context: &Context, args: RenderArgs) -> Result<RenderResult, String> {
    super::scope::check_release_name("template", &args.template)?;
    let namespace = args
        .namespace
        .clone()
        .unwrap_or_else(|| context.default_namespace.clone());
    context.access.check_namespace(&namespace)?;
    let prepared = prepare_app(context, &args.app, &args.template, &args.version).await?;
    let release = args.template.clone();
    let rendered = render_prepared(context, &prepared, &release, &namespace)?;
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

/// Validates and renders a prepared app as a first install, with no cluster.
pub fn render_prepared(
    context: &Context,
    prepared: &PreparedApp,
    release: &str,
    namespace: &str,
) -> Result<Rendered, String> {
    let request = RenderRequest {
        chart: &prepared.kgst,
        release: ReleaseInfo {
            name: release.to_string(),
            namespace: namespace.to_string(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        user_values: prepared.values.clone(),
        capabilities: crate::capabilities::offline(
            crate::capabilities::DEFAULT_KUBE_VERSION.into(),
            vec!["k0rdent.mirantis.com/v1beta1".into()],
        ),
    };
    tokio::task::block_in_place(|| render(&context.plugins, request)).map_err(|e| e.to_string())
}

/// Identity of a rendered document, read from its YAML.
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
    fn values_follow_the_kgst_layout() {
        let v = kgst_values("2.0.2", "minio:14.1.2", DEFAULT_REPOSITORY).unwrap();
        assert_eq!(Value::Object(v), json!({"chart": "minio:14.1.2"}));
        let v = kgst_values(
            "2.0.2",
            "nginx:1.0.0",
            "oci://registry.example.com/partner/charts",
        )
        .unwrap();
        assert_eq!(
            v["repo"]["name"],
            repository_name("oci://registry.example.com/partner/charts")
        );
        assert_eq!(
            v["repo"]["spec"]["url"],
            "oci://registry.example.com/partner/charts"
        );
        let v = kgst_values("1.2.0", "nginx:1.0.0", "oci://r.example/c").unwrap();
        assert_eq!(v["repo"]["url"], "oci://r.example/c");
        assert!(
            kgst_values("0.2.0", "a:1", DEFAULT_REPOSITORY)
                .unwrap_err()
                .contains("--kgst-version")
        );
    }

    #[test]
    fn repository_names_are_one_per_repository() {
        // Lossless: the repository is its own name.
        assert_eq!(repository_name("oci://charts-internal"), "charts-internal");
        let colliding = [
            "oci://a.b/c",
            "oci://a-b/c",
            "oci://A-b/c",
            "oci://a-b-c",
            "https://a-b/c",
            "oci://k0rdent-catalog",
        ];
        let names: Vec<String> = colliding.iter().map(|r| repository_name(r)).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[3], "a-b-c");
        assert!(names[0].starts_with("a-b-c-"), "{}", names[0]);
        assert_ne!(names[5], "k0rdent-catalog", "reserved by kgst");
        // A plain name shaped like a hashed one is hashed, so it cannot take another's name.
        let hashed = repository_name("oci://a.b/c");
        assert_ne!(repository_name(&format!("oci://{hashed}")), hashed);
        // Long URLs that differ only past the cut still differ, and fit a DNS label.
        let long = |tail: &str| {
            repository_name(&format!(
                "oci://registry.example.com/{}/{tail}",
                "x".repeat(80)
            ))
        };
        let (a, b) = (long("a"), long("b"));
        assert_ne!(a, b);
        for name in names.iter().chain([&a, &b]) {
            assert!(crate::names::is_dns_label(name), "{name}");
        }
        assert_eq!(
            repository_name("oci://a.b/c"),
            repository_name("oci://a.b/c")
        );
    }
}
