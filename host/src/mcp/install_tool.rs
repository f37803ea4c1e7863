//! `k0rdent.mgmt.serviceTemplates.install_from_catalog`: a catalog app
//! installed through kgst as `helm upgrade --install` would, in one
//! namespace or in every namespace the filter allows (bounded concurrency,
//! each reported on its own), acting as the caller.

use futures::StreamExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::access::Caller;
use super::access::namespaces::scope;
use super::context::Context;
use super::error::ToolError;
use super::progress::Progress;
use super::scope::{check_release_name, engine_options};
use crate::engine::{Control, EngineError, InstallMode, InstallRequest, Step};
use crate::flags::parse_duration;
use crate::kgst::{KgstInfo, PreparedApp, describe, prepare_app};
use crate::ops::{self, ReleaseReport};
use crate::plugin::selection::PluginSet;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallArgs {
    /// The app's name in the catalog, e.g. `minio`.
    pub app: String,
    /// The app's chart (the ServiceTemplate's source chart), e.g. `minio`. Also the release name.
    pub template: String,
    /// The chart version, e.g. `14.1.2`.
    pub version: String,
    /// Namespace to install into. Required in OIDC_REQUIRED mode unless `all_namespaces`;
    /// otherwise the server's default (normally `kcm-system`).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Install into every namespace the server's namespace filter allows.
    #[serde(default)]
    pub all_namespaces: bool,
    /// Write nothing: report what would be applied and, per namespace, the `plan` (each
    /// object `create`/`update` with the changed fields/`unchanged`/`delete`/`keep`/`conflict`,
    /// from server-side-apply dry runs as the caller; hooks listed).
    #[serde(default)]
    pub dry_run: bool,
    /// Take fields another field manager owns (server-side apply force): repairs drift that
    /// k0rdent.mgmt.releases.diff reports. Without it an install that meets a conflict is
    /// refused before anything is written, naming the fields and their managers.
    #[serde(default)]
    pub force_conflicts: bool,
    /// Wait for the verify Job at most this long, e.g. `90s`, `5m` (default: the server's --timeout).
    #[serde(default)]
    pub timeout: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct InstallResult {
    /// Every object written, `<namespace>/<Kind>/<name>`, hooks included, in order.
    pub applied: Vec<String>,
    /// `created`, `updated`, `unchanged` or `dry-run` when every namespace agrees, else `mixed`
    /// (namespaces differ, or some failed).
    pub status: InstallStatus,
    /// `<template>:<version>`, kgst's `chart` value.
    pub chart: String,
    pub kgst: KgstInfo,
    pub dry_run: bool,
    /// One entry per namespace, by name.
    pub namespaces: Vec<NamespaceResult>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NamespaceResult {
    pub namespace: String,
    pub release: String,
    /// `created`, `updated`, `unchanged`, `rolled-back` (a failed upgrade was undone),
    /// `failed`, or `dry-run`.
    pub status: InstallStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u32>,
    /// The release record's status (`deployed`, `failed`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release_status: Option<String>,
    pub applied: Vec<String>,
    /// Objects kept by `helm.sh/resource-policy: keep` when the upgrade dropped them.
    pub kept: Vec<String>,
    pub notes: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_template: Option<ServiceTemplateState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Present when the call first recovered the release from an abandoned
    /// operation whose lock had expired: `{revision, holder, since, …}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovered: Option<crate::engine::Recovered>,
    /// `dry_run` only: what the install or upgrade would change in this namespace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<crate::engine::ChangePlan>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ServiceTemplateState {
    pub name: String,
    /// k0rdent's verdict; null when it did not decide in time.
    pub valid: Option<bool>,
    /// k0rdent's reason when invalid: the real cause behind "webhook rejected" errors.
    pub validation_error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What an install did, in one namespace or over all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum InstallStatus {
    Created,
    Updated,
    Unchanged,
    RolledBack,
    Failed,
    DryRun,
    /// Overall only: the namespaces differ, or some failed.
    Mixed,
}

impl InstallStatus {
    /// The word the result carries, for progress messages.
    pub fn as_str(self) -> &'static str {
        match self {
            InstallStatus::Created => "created",
            InstallStatus::Updated => "updated",
            InstallStatus::Unchanged => "unchanged",
            InstallStatus::RolledBack => "rolled-back",
            InstallStatus::Failed => "failed",
            InstallStatus::DryRun => "dry-run",
            InstallStatus::Mixed => "mixed",
        }
    }
}

fn status_of(report: &ReleaseReport) -> InstallStatus {
    match report.action.as_str() {
        "installed" => InstallStatus::Created,
        "upgraded" => InstallStatus::Updated,
        "rolled-back" => InstallStatus::RolledBack,
        _ => InstallStatus::Unchanged,
    }
}

fn success(report: ReleaseReport) -> NamespaceResult {
    let service_template = report
        .service_templates
        .first()
        .map(|st| ServiceTemplateState {
            name: st.name.clone(),
            valid: st.valid,
            validation_error: st.validation_error.clone(),
            note: st.note.clone(),
        });
    NamespaceResult {
        namespace: report.namespace.clone(),
        status: status_of(&report),
        release: report.release,
        revision: Some(report.revision),
        release_status: Some(report.status),
        applied: report.applied,
        kept: report.kept,
        notes: report.notes,
        service_template,
        error: None,
        recovered: report.recovered,
        plan: None,
    }
}

fn failure(namespace: &str, release: &str, error: &EngineError) -> NamespaceResult {
    let status = match error {
        EngineError::RolledBack { .. } => InstallStatus::RolledBack,
        _ => InstallStatus::Failed,
    };
    NamespaceResult {
        namespace: namespace.to_string(),
        release: release.to_string(),
        status,
        revision: None,
        release_status: None,
        applied: Vec::new(),
        kept: Vec::new(),
        notes: String::new(),
        service_template: None,
        error: Some(error.to_string()),
        recovered: None,
        plan: None,
    }
}

/// `created`/`updated`/`unchanged` when every namespace agrees, else `mixed`.
fn overall(results: &[NamespaceResult]) -> InstallStatus {
    use InstallStatus::*;
    let first = results.first().map_or(Unchanged, |r| r.status);
    if results.iter().all(|r| r.status == first)
        && matches!(first, Created | Updated | Unchanged | DryRun)
    {
        first
    } else {
        Mixed
    }
}

pub async fn install(
    context: &Context,
    caller: &Caller,
    args: InstallArgs,
    progress: &Progress,
    control: &Control,
) -> Result<InstallResult, ToolError> {
    check_release_name("template", &args.template)?;
    // One plugin set for the whole call, even if a swap lands meanwhile.
    let snapshot = context.plugins.current();
    let plugins: &PluginSet = &snapshot;
    let mut options = engine_options(context);
    options.force_conflicts = args.force_conflicts;
    if let Some(timeout) = &args.timeout {
        options.timeout = parse_duration(timeout).map_err(|e| format!("timeout: {e}"))?;
    }
    let (cluster, namespaces) = scope(
        &context.access,
        caller,
        args.namespace.as_deref(),
        args.all_namespaces,
    )
    .await?;
    progress.report(
        Step::Pull,
        format!(
            "checking {} {} in the catalog and pulling kgst",
            args.template,
            crate::quote::quote(&args.version)
        ),
    );
    let prepared = control
        .unless_cancelled(
            "the catalog check and the pull of kgst",
            prepare_app(
                context.kgst_sources(plugins),
                &args.app,
                &args.template,
                &args.version,
            ),
        )
        .await??;
    // Every namespace's values before any write: a validator that refuses
    // one refuses the call, not half of it.
    let namespaces = namespaces
        .into_iter()
        .map(|ns| prepared.values(&ns).map(|values| (ns, values)))
        .collect::<Result<Vec<_>, _>>()?;
    let release = args.template.clone();
    let results: Vec<NamespaceResult> = if args.dry_run {
        let mut results = Vec::new();
        for (ns, values) in &namespaces {
            let mut result = dry_run(plugins, &prepared, &release, ns)?;
            let plan = control
                .unless_cancelled(
                    "the plan (server-side-apply dry runs)",
                    ops::plan(
                        &cluster,
                        plugins,
                        options.clone(),
                        InstallRequest {
                            release: release.clone(),
                            namespace: ns.to_string(),
                            chart: &prepared.kgst,
                            values: values.clone(),
                            mode: InstallMode::UpgradeInstall,
                        },
                        control,
                    ),
                )
                .await
                .and_then(|plan| plan);
            match plan {
                Ok(plan) => result.plan = Some(plan),
                Err(e) => {
                    result.status = InstallStatus::Failed;
                    result.error = Some(e.to_string());
                }
            }
            results.push(result);
        }
        results
    } else {
        let prepared = &prepared;
        let cluster = &cluster;
        let options = &options;
        let release = &release;
        let total = namespaces.len();
        let mut results: Vec<NamespaceResult> = futures::stream::iter(namespaces)
            .enumerate()
            .map(|(index, (ns, values))| async move {
                let labelled;
                let control = if total > 1 {
                    labelled = for_namespace(control, progress, &ns, index + 1, total);
                    &labelled
                } else {
                    control
                };
                let report = ops::install(
                    cluster,
                    plugins,
                    options.clone(),
                    InstallRequest {
                        release: release.to_string(),
                        namespace: ns.clone(),
                        chart: &prepared.kgst,
                        values,
                        mode: InstallMode::UpgradeInstall,
                    },
                    control,
                )
                .await;
                match report {
                    Ok(report) => success(report),
                    Err(e) => failure(&ns, release, &e),
                }
            })
            .buffer_unordered(context.access.max_parallel)
            .collect()
            .await;
        results.sort_by(|a, b| a.namespace.cmp(&b.namespace));
        results
    };
    progress.report(Step::Done, overall(&results).as_str());
    if results.iter().all(|r| r.error.is_some()) {
        let errors: Vec<String> = results
            .iter()
            .map(|r| format!("{}: {}", r.namespace, r.error.as_deref().unwrap_or("")))
            .collect();
        return Err(ToolError::Refused(errors.join("\n")));
    }
    Ok(InstallResult {
        applied: results.iter().flat_map(|r| r.applied.clone()).collect(),
        status: overall(&results),
        chart: prepared.chart_value.clone(),
        kgst: prepared.kgst_info.clone(),
        dry_run: args.dry_run,
        namespaces: results,
    })
}

/// The call's control for one of `total` namespaces: its progress messages
/// say which (`namespace team-a (2/3): …`), since namespaces run at once and
/// a task's status message shows only the latest.
fn for_namespace(
    control: &Control,
    progress: &Progress,
    namespace: &str,
    index: usize,
    total: usize,
) -> Control {
    let label = format!("namespace {namespace} ({index}/{total})");
    let sink = progress.sink().map(|sink| {
        let labelled: crate::engine::ProgressSink =
            std::sync::Arc::new(move |step: Step, message: &str| {
                sink(step, &format!("{label}: {message}"))
            });
        labelled
    });
    Control::new(control.cancel.clone(), sink)
}

/// What an install would apply in `namespace`, from a render with no cluster.
fn dry_run(
    plugins: &PluginSet,
    prepared: &PreparedApp,
    release: &str,
    namespace: &str,
) -> Result<NamespaceResult, ToolError> {
    let rendered = prepared.render(plugins, release, namespace)?;
    let mut hooks = Vec::new();
    let mut objects = Vec::new();
    for m in &rendered.manifests {
        let object = describe(&m.source, &m.content, namespace);
        if object.kind.is_empty() {
            continue;
        }
        let reference = format!("{}/{}/{}", object.namespace, object.kind, object.name);
        if object.hook.is_some() {
            hooks.push(reference);
        } else {
            objects.push(reference);
        }
    }
    hooks.extend(objects);
    Ok(NamespaceResult {
        namespace: namespace.to_string(),
        release: release.to_string(),
        status: InstallStatus::DryRun,
        revision: None,
        release_status: None,
        applied: hooks,
        kept: Vec::new(),
        notes: rendered.notes.unwrap_or_default(),
        service_template: None,
        error: None,
        recovered: None,
        plan: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_match_their_json() {
        use InstallStatus::*;
        for status in [
            Created, Updated, Unchanged, RolledBack, Failed, DryRun, Mixed,
        ] {
            assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
        }
    }
}
