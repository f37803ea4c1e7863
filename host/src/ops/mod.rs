//! Release operations shared by the CLI (`install`, `upgrade`, `rollback`,
//! `uninstall`, `history`, `list`) and the MCP tools: one code path from a
//! loaded chart and values to a report, so both surfaces behave and answer
//! alike.

mod report;

pub use report::{
    HistoryRow, ListRow, ReleaseReport, UninstallReport, history_rows, list_rows, object_ref,
    recovered_text,
};

use crate::cluster::Cluster;
use crate::engine::{
    ChangePlan, Control, DriftReport, EngineError, EngineOptions, IgnoreRule, InstallRequest,
    KgstOnly, ReleaseEngine, ReleaseStore, UnlockOutcome,
};
use crate::plugin::selection::PluginSet;

/// `helm upgrade --install` (or `install`/`upgrade` with `request.mode`) and its report.
pub async fn install(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    request: InstallRequest<'_>,
    control: &Control,
) -> Result<ReleaseReport, EngineError> {
    let engine = ReleaseEngine::new(cluster, plugins, options);
    let outcome = engine.upgrade_install(request, control).await?;
    Ok(ReleaseReport::from_outcome(&outcome))
}

/// What [`install`] would change, writing nothing (server-side-apply dry
/// runs as the cluster's identity).
pub async fn plan(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    request: InstallRequest<'_>,
    control: &Control,
) -> Result<ChangePlan, EngineError> {
    ReleaseEngine::new(cluster, plugins, options)
        .plan_upgrade_install(request, control)
        .await
}

/// Drift of a release's last deployed revision from the live objects;
/// `ignore` entries are validated first.
pub async fn drift(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    release: &str,
    namespace: &str,
    ignore: &[String],
) -> Result<DriftReport, EngineError> {
    let rules = IgnoreRule::parse_all(ignore)?;
    ReleaseEngine::new(cluster, plugins, options)
        .drift(release, namespace, &rules)
        .await
}

pub async fn rollback(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    release: &str,
    namespace: &str,
    revision: Option<u32>,
    control: &Control,
) -> Result<ReleaseReport, EngineError> {
    let engine = ReleaseEngine::new(cluster, plugins, options);
    let outcome = engine
        .rollback(release, namespace, revision, control)
        .await?;
    Ok(ReleaseReport::from_outcome(&outcome))
}

pub async fn uninstall(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    release: &str,
    namespace: &str,
    control: &Control,
) -> Result<UninstallReport, EngineError> {
    let engine = ReleaseEngine::new(cluster, plugins, options);
    let outcome = engine.uninstall(release, namespace, control).await?;
    Ok(UninstallReport::from_outcome(namespace, &outcome))
}

/// Recovers a release from the operation that holds its lock (see
/// `ReleaseEngine::unlock`).
pub async fn unlock(
    cluster: &Cluster,
    plugins: &PluginSet,
    options: EngineOptions,
    release: &str,
    namespace: &str,
    force: bool,
    control: &Control,
) -> Result<UnlockOutcome, EngineError> {
    ReleaseEngine::new(cluster, plugins, options)
        .unlock(release, namespace, force, control)
        .await
}

/// Reads release Secrets only: no plugins needed. With `kgst_only`, a
/// release the MCP tools may not manage is refused rather than shown.
pub async fn history(
    cluster: &Cluster,
    release: &str,
    namespace: &str,
    kgst_only: Option<&KgstOnly>,
) -> Result<Vec<HistoryRow>, EngineError> {
    let history = ReleaseStore::new(cluster)
        .history(release, namespace)
        .await?;
    if let Some(scope) = kgst_only {
        scope.check_history(release, namespace, &history)?;
    }
    if history.is_empty() {
        return Err(EngineError::NotFound {
            release: release.to_string(),
            namespace: namespace.to_string(),
        });
    }
    Ok(history_rows(&history))
}

/// Reads release Secrets only: no plugins needed.
pub async fn list(
    cluster: &Cluster,
    namespace: Option<&str>,
    all: bool,
) -> Result<Vec<ListRow>, EngineError> {
    let releases = ReleaseStore::new(cluster)
        .latest_releases(namespace, all)
        .await?;
    Ok(list_rows(&releases))
}
