//! The release engine: `helm upgrade --install`, `helm rollback`, `helm
//! uninstall`, `helm history` and `helm list` against a real cluster,
//! storing every revision exactly as Helm's Secret driver does, so real
//! `helm list/history/upgrade` work on our releases and we on theirs.
//!
//! What it mirrors (see shared notes helm-semantics.md §3–§4): install vs
//! upgrade from the stored history (ordered by revision number, not by
//! Secret name); pending-* first, then deployed/failed; pre-* hooks (Jobs
//! waited on) before the manifest; the manifest applied in Helm's kind
//! order by server-side apply as `helm`; objects dropped by an upgrade
//! deleted unless their live `helm.sh/resource-policy` is `keep`; the
//! previous revision superseded; history pruned to `max_history`.
//!
//! Where it deliberately differs from Helm:
//! - re-running with the same chart and values creates no revision;
//! - a failed install removes the normal objects it created (kept ones and
//!   hook objects stay, so a failed Job can still be inspected);
//! - a failed upgrade is rolled back by default (`rollback_on_failure`);
//! - rollbacks adopt objects this release owns (see `revision.rs`), so kgst
//!   rollbacks across chart versions work;
//! - a failed rollback leaves the previous deployed revision `deployed`;
//! - every operation (uninstall too) takes an owned, expiring lock by
//!   creating the next revision's Secret, and recovers from an abandoned
//!   operation whose lease expired (see `lock.rs`);
//! - after a deploy it waits (bounded) for k0rdent to validate the
//!   ServiceTemplates and reports the verdict;
//! - Pod hooks are not waited on (kgst has none).

mod clock;
mod control;
mod csa_upgrade;
mod diff;
mod documents;
mod drift;
mod error;
mod hooks;
mod install;
mod lease;
mod lock;
mod managed;
mod plan;
mod pointer;
mod rerender;
mod revision;
mod rollback;
mod storage;
mod uninstall;
mod validity;

use std::time::Duration;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::cluster::{Cluster, ObjectKey};
use crate::plugin::selection::PluginSet;
use crate::release::{ReleaseRecord, StoredRelease};
use hooks::HookRun;
use lock::HeldLock;

pub use control::{Control, ProgressSink, Step};
pub use diff::{FieldChange, MAX_CHANGES_PER_OBJECT, MAX_OBJECTS, ObjectAction, ObjectChange};
pub use documents::{
    Document, DocumentError, SplitDocuments, execution_order, manifest_text, parse_manifest_text,
    sort_for_install, split,
};
pub use drift::DriftReport;
pub use error::{EngineError, HeldBy};
pub use lease::{
    HOLDER_ANNOTATION, LEASE_SECONDS_ANNOTATION, Lease, RENEWED_ANNOTATION, SINCE_ANNOTATION,
    instance_id,
};
pub use lock::{Recovered, UnlockOutcome};
pub use managed::{KGST_CHART, KgstOnly, NamespaceCheck};
pub use plan::{ChangePlan, PlannedHook};
pub use pointer::{IgnoreError, IgnoreRule, MAX_IGNORE_RULES, Pointer};
pub use storage::ReleaseStore;
pub use validity::{
    SERVICE_TEMPLATE_GROUP, SERVICE_TEMPLATE_KIND, TemplateValidity, is_service_template,
};

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--history-max` (0 = unlimited).
    pub max_history: usize,
    /// `--timeout`: per hook wait and per delete wait (each also ends when
    /// the caller cancels).
    pub timeout: Duration,
    /// `.Capabilities.HelmVersion` for templates.
    pub helm_version: String,
    /// Roll a failed upgrade back to the revision it replaced (Helm's
    /// `--rollback-on-failure`, on by default here).
    pub rollback_on_failure: bool,
    /// How long to wait for k0rdent to validate deployed ServiceTemplates
    /// (zero: do not wait).
    pub validation_timeout: Duration,
    /// Act only on kgst releases whose objects stay in reach (the MCP
    /// tools); `None`: any release, as helm (the CLI).
    pub kgst_only: Option<KgstOnly>,
    /// How long an operation's lock lasts without renewal (renewed every
    /// third of it while the operation runs); a later operation recovers a
    /// release whose lock ran out.
    pub lease: Duration,
    /// Take fields another field manager owns when applying (helm's
    /// `--force-conflicts`): how drift is repaired. Off, an apply that meets
    /// a conflict is refused before anything is written, naming the fields,
    /// their managers and this flag.
    pub force_conflicts: bool,
}

/// `--lock-lease` default.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(60);

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_history: crate::release::DEFAULT_MAX_HISTORY,
            timeout: Duration::from_secs(300),
            helm_version: crate::defaults::HELM_VERSION.into(),
            rollback_on_failure: true,
            validation_timeout: Duration::from_secs(60),
            kgst_only: None,
            lease: DEFAULT_LEASE,
            force_conflicts: false,
        }
    }
}

/// `helm upgrade --install <release> <chart> -n <namespace>` with these values.
#[derive(Debug, Clone)]
pub struct InstallRequest<'c> {
    pub release: String,
    pub namespace: String,
    pub chart: &'c Chart,
    /// Only the user's values (Helm's `config`).
    pub values: Map<String, Value>,
    pub mode: InstallMode,
}

/// Which Helm command the request stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstallMode {
    /// `helm install`: the name must be free.
    Install,
    /// `helm upgrade`: the release must exist.
    Upgrade,
    /// `helm upgrade --install`.
    #[default]
    UpgradeInstall,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallAction {
    Installed,
    Upgraded,
    /// Same chart and values as the deployed revision: nothing written.
    Unchanged,
    RolledBack,
}

impl InstallAction {
    pub fn as_str(self) -> &'static str {
        match self {
            InstallAction::Installed => "installed",
            InstallAction::Upgraded => "upgraded",
            InstallAction::Unchanged => "unchanged",
            InstallAction::RolledBack => "rolled-back",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReleaseOutcome {
    pub action: InstallAction,
    pub revision: u32,
    pub record: ReleaseRecord,
    /// Normal objects applied, in order.
    pub applied: Vec<ObjectKey>,
    /// Hook objects created, in the order they ran.
    pub hooks: Vec<ObjectKey>,
    /// Objects of the previous revision this one deleted.
    pub deleted: Vec<ObjectKey>,
    /// Objects of the previous revision left in place by `keep`.
    pub kept: Vec<ObjectKey>,
    /// k0rdent's verdict on each ServiceTemplate of the release.
    pub service_templates: Vec<TemplateValidity>,
    /// An abandoned operation this call recovered the release from first.
    pub recovered: Option<Recovered>,
    /// The plugins that rendered the revision's manifest (`None`: helm did).
    pub rendered_by: Option<crate::release::RenderedBy>,
    /// A rollback's account of its re-render with the target's plugins (see
    /// `rollback.rs`); `None` for other operations.
    pub rerender: Option<String>,
}

impl ReleaseOutcome {
    fn deployed(
        action: InstallAction,
        record: ReleaseRecord,
        applied: revision::Applied,
        service_templates: Vec<TemplateValidity>,
    ) -> Self {
        ReleaseOutcome {
            action,
            revision: record.version,
            record,
            applied: applied.objects,
            hooks: applied.hooks,
            deleted: applied.deleted,
            kept: applied.kept,
            service_templates,
            recovered: None,
            rendered_by: None,
            rerender: None,
        }
    }

    /// Same chart and values as the deployed revision `current`: nothing written.
    fn unchanged(current: &StoredRelease, service_templates: Vec<TemplateValidity>) -> Self {
        ReleaseOutcome {
            action: InstallAction::Unchanged,
            revision: crate::release::Revision::revision(current),
            record: current.record.clone(),
            applied: Vec::new(),
            hooks: Vec::new(),
            deleted: Vec::new(),
            kept: Vec::new(),
            service_templates,
            recovered: None,
            rendered_by: current.rendered_by(),
            rerender: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UninstallOutcome {
    pub release: String,
    pub revision: u32,
    pub deleted: Vec<ObjectKey>,
    /// `These resources were kept due to the resource policy:`.
    pub kept: Vec<ObjectKey>,
    /// Names of the release Secrets removed (every revision; the
    /// transient lock revision of the uninstall itself is not listed).
    pub secrets_deleted: Vec<String>,
    /// An abandoned operation this call recovered the release from first.
    pub recovered: Option<Recovered>,
}

pub struct ReleaseEngine<'a> {
    cluster: &'a Cluster,
    plugins: &'a PluginSet,
    options: EngineOptions,
}

impl<'a> ReleaseEngine<'a> {
    pub fn new(cluster: &'a Cluster, plugins: &'a PluginSet, options: EngineOptions) -> Self {
        ReleaseEngine {
            cluster,
            plugins,
            options,
        }
    }

    fn store(&self) -> ReleaseStore<'a> {
        ReleaseStore::new(self.cluster)
    }

    /// Hooks run under the operation's lock, with this engine's timeout.
    fn hook_run<'h>(&'h self, lock: &'h HeldLock<'h>, control: &'h Control) -> HookRun<'h> {
        HookRun {
            cluster: self.cluster,
            lock,
            timeout: self.options.timeout,
            control,
        }
    }

    /// The stored history of `release`, refused when this engine may not act on it.
    async fn managed_history(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<Vec<StoredRelease>, EngineError> {
        let history = self.store().history(release, namespace).await?;
        if let Some(scope) = &self.options.kgst_only {
            scope.check_history(release, namespace, &history)?;
        }
        Ok(history)
    }

    /// Every stored revision of `release`, oldest first (by number).
    pub async fn history(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<Vec<StoredRelease>, EngineError> {
        self.store().history(release, namespace).await
    }
}

#[cfg(test)]
mod tests;
