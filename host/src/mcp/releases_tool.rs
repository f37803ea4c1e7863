//! The cluster tools besides install: installed ServiceTemplates, uninstall,
//! release history, rollback and unlock, and the namespaces a caller may use. Each
//! acts as the caller and inside the namespace filter.

use futures::StreamExt;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::access::Caller;
use super::access::namespaces::{scope, single_namespace, visible_namespaces};
use super::context::Context;
use super::error::ToolError;
use super::scope::{check_release_name, engine_options, kgst_only};
use crate::cluster::{ClusterError, RELEASE_NAME_ANNOTATION, RESOURCE_POLICY_ANNOTATION};
use crate::engine::{
    ChangePlan, Control, DriftReport, InstallMode, InstallRequest, SERVICE_TEMPLATE_GROUP,
    SERVICE_TEMPLATE_KIND, UnlockOutcome,
};
use crate::flags::parse_duration;
use crate::kgst::prepare_app;
use crate::ops::{self, HistoryRow, ReleaseReport, UninstallReport};

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplatesListArgs {
    /// Namespace to list (default: the server's default namespace).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Every namespace the filter allows.
    #[serde(default)]
    pub all_namespaces: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TemplatesList {
    pub templates: Vec<InstalledTemplate>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InstalledTemplate {
    pub namespace: String,
    pub name: String,
    /// The chart the template points at, `name:version` when known.
    pub chart: Option<String>,
    pub valid: Option<bool>,
    pub validation_error: Option<String>,
    /// The Helm release that owns it (`meta.helm.sh/release-name`).
    pub release: Option<String>,
    /// Marked `helm.sh/resource-policy: keep`: it stays after uninstall.
    pub kept_on_uninstall: bool,
}

fn service_templates() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(SERVICE_TEMPLATE_GROUP, "v1beta1", SERVICE_TEMPLATE_KIND),
        "servicetemplates",
    )
}

fn text(value: &Value, pointer: &str) -> Option<String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub async fn list_templates(
    context: &Context,
    caller: &Caller,
    args: TemplatesListArgs,
) -> Result<TemplatesList, ToolError> {
    let (cluster, namespaces) = scope(
        &context.access,
        caller,
        args.namespace.as_deref(),
        args.all_namespaces,
    )
    .await?;
    let resource = service_templates();
    let mut templates = Vec::new();
    for ns in namespaces {
        let api: Api<DynamicObject> =
            Api::namespaced_with(cluster.client().clone(), &ns, &resource);
        let list = api.list(&ListParams::default()).await.map_err(|e| {
            ClusterError::api("list", format!("ServiceTemplates in namespace {ns:?}"), e)
                .to_string()
        })?;
        for item in list.items {
            let annotations = item.metadata.annotations.clone().unwrap_or_default();
            let data = &item.data;
            let chart = match (
                text(data, "/spec/helm/chartSpec/chart"),
                text(data, "/spec/helm/chartSpec/version"),
            ) {
                (Some(name), Some(version)) => Some(format!("{name}:{version}")),
                (Some(name), None) => Some(name),
                _ => None,
            };
            templates.push(InstalledTemplate {
                namespace: ns.clone(),
                name: item.metadata.name.clone().unwrap_or_default(),
                chart,
                valid: data.pointer("/status/valid").and_then(Value::as_bool),
                validation_error: text(data, "/status/validationError").filter(|e| !e.is_empty()),
                release: annotations.get(RELEASE_NAME_ANNOTATION).cloned(),
                kept_on_uninstall: annotations
                    .get(RESOURCE_POLICY_ANNOTATION)
                    .is_some_and(|p| p.trim().eq_ignore_ascii_case("keep")),
            });
        }
    }
    Ok(TemplatesList { templates })
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UninstallArgs {
    /// The template (release) to remove, as installed by install_from_catalog, e.g. `minio`.
    pub template: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// Remove it from every namespace the filter allows where it is installed.
    #[serde(default)]
    pub all_namespaces: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UninstallResult {
    /// One entry per namespace where the release existed.
    pub namespaces: Vec<UninstallReport>,
    /// Namespaces searched where the release did not exist.
    pub not_installed_in: Vec<String>,
}

pub async fn uninstall(
    context: &Context,
    caller: &Caller,
    args: UninstallArgs,
    control: &Control,
) -> Result<UninstallResult, ToolError> {
    check_release_name("template", &args.template)?;
    let options = engine_options(context);
    let (cluster, namespaces) = scope(
        &context.access,
        caller,
        args.namespace.as_deref(),
        args.all_namespaces,
    )
    .await?;
    let (cluster, options) = (&cluster, &options);
    let release = args.template.as_str();
    let outcomes: Vec<(String, Result<UninstallReport, crate::engine::EngineError>)> =
        futures::stream::iter(namespaces)
            .map(|ns| async move {
                let result = ops::uninstall(
                    cluster,
                    &context.plugins.current(),
                    options.clone(),
                    release,
                    &ns,
                    control,
                )
                .await;
                (ns, result)
            })
            .buffer_unordered(context.access.max_parallel)
            .collect()
            .await;
    let mut result = UninstallResult {
        namespaces: Vec::new(),
        not_installed_in: Vec::new(),
    };
    let mut errors = Vec::new();
    for (ns, outcome) in outcomes {
        match outcome {
            Ok(report) => result.namespaces.push(report),
            Err(crate::engine::EngineError::NotFound { .. }) => result.not_installed_in.push(ns),
            Err(e) => errors.push(format!("{ns}: {e}")),
        }
    }
    if !errors.is_empty() {
        errors.sort();
        return Err(ToolError::Refused(errors.join("\n")));
    }
    if result.namespaces.is_empty() {
        return Err(ToolError::Refused(format!(
            "release {release:?} is not installed in {}; fix: check the name with k0rdent.mgmt.serviceTemplates.list",
            result.not_installed_in.join(", ")
        )));
    }
    result
        .namespaces
        .sort_by(|a, b| a.namespace.cmp(&b.namespace));
    result.not_installed_in.sort();
    Ok(result)
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Release name (for catalog installs: the template, e.g. `minio`).
    pub release: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct History {
    pub release: String,
    pub namespace: String,
    /// Oldest first, by revision number.
    pub revisions: Vec<HistoryRow>,
}

pub async fn history(
    context: &Context,
    caller: &Caller,
    args: HistoryArgs,
) -> Result<History, ToolError> {
    check_release_name("release", &args.release)?;
    let (cluster, namespace) =
        single_namespace(&context.access, caller, args.namespace.as_deref()).await?;
    let revisions = ops::history(
        &cluster,
        &args.release,
        &namespace,
        Some(&kgst_only(context)),
    )
    .await?;
    Ok(History {
        release: args.release,
        namespace,
        revisions,
    })
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiffArgs {
    /// Release name (for catalog installs: the template, e.g. `minio`).
    pub release: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// With `version`: plan an upgrade of the release to this catalog app's chart version
    /// (the release name is the template), as install_from_catalog would do it.
    #[serde(default)]
    pub app: Option<String>,
    /// With `app`: the chart version to plan the upgrade to, e.g. `14.1.3`.
    #[serde(default)]
    pub version: Option<String>,
    /// Drift only: fields to leave out, each a JSON pointer (RFC 6901) applied to every
    /// object (`/spec/interval`) or scoped to one (`ServiceTemplate/minio-14-1-2:/spec/helm`;
    /// `Kind/name:` ignores the object). At most 100.
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// `plan` (with `app` and `version`) or `drift` (without), never both.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DiffResult {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<ChangePlan>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftReport>,
}

pub async fn diff(
    context: &Context,
    caller: &Caller,
    args: DiffArgs,
    control: &Control,
) -> Result<DiffResult, ToolError> {
    check_release_name("release", &args.release)?;
    let (cluster, namespace) =
        single_namespace(&context.access, caller, args.namespace.as_deref()).await?;
    let options = engine_options(context);
    match (&args.app, &args.version) {
        (None, None) => {
            let drift = ops::drift(
                &cluster,
                &context.plugins.current(),
                options,
                &args.release,
                &namespace,
                &args.ignore,
            )
            .await?;
            Ok(DiffResult {
                plan: None,
                drift: Some(drift),
            })
        }
        (Some(app), Some(version)) => {
            if !args.ignore.is_empty() {
                return Err("ignore applies to drift, not to a plan; fix: leave out app and version to \
                            see drift, or leave out ignore"
                    .into());
            }
            let plugins = context.plugins.current();
            let prepared =
                prepare_app(context.kgst_sources(&plugins), app, &args.release, version).await?;
            let values = prepared.values(&namespace)?;
            let plan = ops::plan(
                &cluster,
                &plugins,
                options,
                InstallRequest {
                    release: args.release.clone(),
                    namespace: namespace.clone(),
                    chart: &prepared.kgst,
                    values,
                    mode: InstallMode::UpgradeInstall,
                },
                control,
            )
            .await?;
            Ok(DiffResult {
                plan: Some(plan),
                drift: None,
            })
        }
        _ => Err("app and version go together; fix: give both to plan an upgrade, or neither to see the \
                  release's drift"
            .into()),
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackArgs {
    pub release: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// Revision to return to; omitted or 0: the one before the latest.
    #[serde(default)]
    pub revision: Option<u32>,
    /// Hook wait limit, e.g. `90s`, `5m`.
    #[serde(default)]
    pub timeout: Option<String>,
}

pub async fn rollback(
    context: &Context,
    caller: &Caller,
    args: RollbackArgs,
    control: &Control,
) -> Result<ReleaseReport, ToolError> {
    check_release_name("release", &args.release)?;
    let mut options = engine_options(context);
    if let Some(timeout) = &args.timeout {
        options.timeout = parse_duration(timeout).map_err(|e| format!("timeout: {e}"))?;
    }
    let (cluster, namespace) =
        single_namespace(&context.access, caller, args.namespace.as_deref()).await?;
    ops::rollback(
        &cluster,
        &context.plugins.current(),
        options,
        &args.release,
        &namespace,
        args.revision,
        control,
    )
    .await
    .map_err(ToolError::from)
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockArgs {
    pub release: String,
    #[serde(default)]
    pub namespace: Option<String>,
    /// Also take a lock whose lease is still live, or a pending record without a lease
    /// (helm's own): only when no operation on the release still runs.
    #[serde(default)]
    pub force: bool,
}

pub async fn unlock(
    context: &Context,
    caller: &Caller,
    args: UnlockArgs,
    control: &Control,
) -> Result<UnlockOutcome, ToolError> {
    check_release_name("release", &args.release)?;
    let (cluster, namespace) =
        single_namespace(&context.access, caller, args.namespace.as_deref()).await?;
    ops::unlock(
        &cluster,
        &context.plugins.current(),
        engine_options(context),
        &args.release,
        &namespace,
        args.force,
        control,
    )
    .await
    .map_err(ToolError::from)
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NamespaceList {
    /// The server's namespace filter (matched against whole names).
    pub filter: String,
    /// Namespaces the caller can see that the filter allows.
    pub namespaces: Vec<String>,
}

pub async fn namespaces(context: &Context, caller: &Caller) -> Result<NamespaceList, ToolError> {
    let cluster = context.access.cluster_for(caller).await?;
    Ok(NamespaceList {
        filter: context.access.filter.pattern().to_string(),
        namespaces: visible_namespaces(&context.access, &cluster).await?,
    })
}
