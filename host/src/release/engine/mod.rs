//! The release engine: `helm upgrade --install` and `helm uninstall` against
//! a real cluster, storing every revision exactly as Helm's Secret driver
//! does, so real `helm list/history/upgrade` work on our releases and we on
//! theirs.
//!
//! What it mirrors (see shared notes helm-semantics.md §3–§4): install vs
//! upgrade from the stored history; pending-* first, then deployed/failed;
//! pre-install/pre-upgrade hooks (Jobs waited on) before the manifest; the
//! manifest applied in Helm's kind order by server-side apply as `helm`;
//! objects dropped by an upgrade deleted unless their live
//! `helm.sh/resource-policy` is `keep`; the previous revision superseded;
//! history pruned to `max_history`.
//!
//! Where it deliberately differs from Helm:
//! - re-running with the same chart and values creates no revision;
//! - a failed install removes the normal objects it created (kept ones and
//!   hook objects stay, so a failed Job can still be inspected);
//! - Pod hooks are not waited on (kgst has none).

mod clock;
mod documents;
mod error;
mod hooks;
mod storage;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::chart::Chart;
use crate::cluster::{Cluster, ObjectKey, add_ownership, check_ownership, has_keep_policy};
use crate::plugin::contract::{Capabilities, ReleaseInfo as RenderRelease};
use crate::plugin::selection::PluginSet;
use crate::release::{
    ApplyMethod, HookEvent, HookRecord, NewRelease, RecordTime, ReleaseRecord, Revision, Status,
    StoredRelease, chart_record_from_chart, latest, next_revision, revisions_to_prune,
    upgrade_base, upgrade_should_install, validate_release_name,
};
use crate::render::{RenderRequest, render};

pub use documents::{
    Document, DocumentError, SplitDocuments, execution_order, manifest_text, parse_manifest_text,
    sort_for_install, split,
};
pub use error::EngineError;
pub use storage::ReleaseStore;

use hooks::HookRun;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// `--history-max` (0 = unlimited).
    pub max_history: usize,
    /// `--timeout`: per hook wait and per delete wait.
    pub timeout: Duration,
    /// `.Capabilities.HelmVersion` for templates.
    pub helm_version: String,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            max_history: crate::release::DEFAULT_MAX_HISTORY,
            timeout: Duration::from_secs(300),
            helm_version: "v4.1.4".into(),
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallAction {
    Installed,
    Upgraded,
    /// Same chart and values as the deployed revision: nothing written.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct ReleaseOutcome {
    pub action: InstallAction,
    pub revision: u32,
    pub record: ReleaseRecord,
    /// Normal objects applied, in order.
    pub applied: Vec<ObjectKey>,
    /// Objects of the previous revision the upgrade deleted.
    pub deleted: Vec<ObjectKey>,
    /// Objects of the previous revision left in place by `keep`.
    pub kept: Vec<ObjectKey>,
}

#[derive(Debug, Clone)]
pub struct UninstallOutcome {
    pub release: String,
    pub revision: u32,
    pub deleted: Vec<ObjectKey>,
    /// `These resources were kept due to the resource policy:`.
    pub kept: Vec<ObjectKey>,
    /// Names of the release Secrets removed.
    pub secrets_deleted: Vec<String>,
}

/// One normal object the new revision applies.
struct Target {
    key: ObjectKey,
    object: Value,
    keep: bool,
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

    /// Every stored revision of `release`, oldest first.
    pub async fn history(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<Vec<StoredRelease>, EngineError> {
        self.store().history(release, namespace).await
    }

    /// `helm upgrade --install`.
    pub async fn upgrade_install(
        &self,
        req: InstallRequest<'_>,
    ) -> Result<ReleaseOutcome, EngineError> {
        let (name, ns) = (req.release.as_str(), req.namespace.as_str());
        validate_release_name(name)?;
        let store = self.store();
        let history = store.history(name, ns).await?;
        let is_install = upgrade_should_install(&history);
        let (revision, current) = if is_install {
            (next_revision(&history), None)
        } else {
            let base =
                upgrade_base(name, &history).map_err(|e| EngineError::history(name, ns, e))?;
            (base.last.revision() + 1, Some(base.current))
        };

        let capabilities = Capabilities {
            kube_version: self.cluster.kube_version().await?,
            api_versions: self.cluster.api_versions().await?,
            helm_version: self.options.helm_version.clone(),
        };
        let request = RenderRequest {
            chart: req.chart,
            release: RenderRelease {
                name: name.to_string(),
                namespace: ns.to_string(),
                revision,
                is_install,
                is_upgrade: !is_install,
                service: "Helm".into(),
            },
            user_values: req.values.clone(),
            capabilities,
        };
        // Plugin calls are CPU-bound; keep them off the async workers.
        let rendered = tokio::task::block_in_place(|| render(self.plugins, request))?;
        let docs = split(&rendered.manifests)?;
        let manifest = manifest_text(&docs.manifests);
        let hooks: Vec<HookRecord> = docs.hooks.iter().map(|(_, h)| h.clone()).collect();
        let chart = chart_record_from_chart(req.chart)?;

        if let Some(current) = current
            && unchanged(&history, current, &req.values, &chart, &manifest, &hooks)
        {
            return Ok(ReleaseOutcome {
                action: InstallAction::Unchanged,
                revision: current.revision(),
                record: current.record.clone(),
                applied: Vec::new(),
                deleted: Vec::new(),
                kept: Vec::new(),
            });
        }

        let mut targets = Vec::new();
        for doc in &docs.manifests {
            let mut object = doc.object.clone();
            let key = self.cluster.key_for(&mut object, ns).await?;
            add_ownership(&mut object, name, ns);
            targets.push(Target {
                key,
                keep: has_keep_policy(doc.annotations()),
                object,
            });
        }
        let mut current_keys = Vec::new();
        if let Some(current) = current {
            for doc in parse_manifest_text(&current.record.manifest)? {
                let mut object = doc.object;
                current_keys.push(self.cluster.key_for(&mut object, ns).await?);
            }
        }
        // Helm's import check, before anything is written: an existing object
        // must be this release's (by metadata, or by being in its manifest).
        let mut existed = BTreeSet::new();
        for target in &targets {
            if let Some(live) = self.cluster.get(&target.key).await? {
                if !current_keys.contains(&target.key) {
                    check_ownership(&live, &target.key, name, ns)?;
                }
                existed.insert(target.key.clone());
            }
        }

        if !is_install {
            for old in revisions_to_prune(&history, self.options.max_history) {
                store.delete(name, ns, old).await?;
            }
        }
        let now = clock::now();
        let first_deployed = current
            .and_then(|c| c.record.info.first_deployed.time())
            .unwrap_or(now);
        let labels = match latest(&history) {
            Some(last) if !is_install => last.user_labels(),
            _ => BTreeMap::new(),
        };
        let mut record = NewRelease {
            name: name.to_string(),
            namespace: ns.to_string(),
            revision,
            status: if is_install {
                Status::PendingInstall
            } else {
                Status::PendingUpgrade
            },
            description: if is_install {
                "Initial install underway".into()
            } else {
                "Preparing upgrade".into()
            },
            chart,
            config: req.values.clone(),
            manifest,
            hooks,
            notes: rendered.notes.unwrap_or_default(),
            first_deployed,
            last_deployed: now,
            apply_method: Some(ApplyMethod::ServerSide),
        }
        .into_record()?;
        store.create(&record, &labels).await?;

        let mut applied = Vec::new();
        let result = self
            .apply_revision(
                &mut record,
                &labels,
                is_install,
                &targets,
                &current_keys,
                &mut applied,
            )
            .await;
        let (deleted, kept) = match result {
            Ok(done) => done,
            Err(err) => {
                let (operation, description) = if is_install {
                    ("INSTALLATION", format!("Release {name:?} failed: {err}"))
                } else {
                    ("UPGRADE", format!("Upgrade {name:?} failed: {err}"))
                };
                if is_install {
                    // Leave nothing half-installed but what the chart asked to keep.
                    for target in targets
                        .iter()
                        .filter(|t| !t.keep && !existed.contains(&t.key))
                    {
                        if applied.contains(&target.key) {
                            let _ = self.cluster.delete(&target.key).await;
                        }
                    }
                }
                record.info.status = Some(Status::Failed);
                record.info.description = description;
                store.update(&record, &labels).await?;
                return Err(EngineError::Failed {
                    operation,
                    release: name.to_string(),
                    revision,
                    source: Box::new(err),
                });
            }
        };

        if let Some(current) = current {
            let mut old = current.record.clone();
            old.info.status = Some(Status::Superseded);
            store.update(&old, &current.user_labels()).await?;
        }
        record.info.status = Some(Status::Deployed);
        record.info.description = if is_install {
            "Install complete".into()
        } else {
            "Upgrade complete".into()
        };
        store.update(&record, &labels).await?;
        Ok(ReleaseOutcome {
            action: if is_install {
                InstallAction::Installed
            } else {
                InstallAction::Upgraded
            },
            revision,
            record,
            applied,
            deleted,
            kept,
        })
    }

    /// Hooks, manifest, removal of dropped objects, post hooks. Returns the
    /// dropped objects deleted and kept.
    async fn apply_revision(
        &self,
        record: &mut ReleaseRecord,
        labels: &BTreeMap<String, String>,
        is_install: bool,
        targets: &[Target],
        current_keys: &[ObjectKey],
        applied: &mut Vec<ObjectKey>,
    ) -> Result<(Vec<ObjectKey>, Vec<ObjectKey>), EngineError> {
        let store = self.store();
        let hooks = HookRun {
            cluster: self.cluster,
            store: &store,
            timeout: self.options.timeout,
        };
        let (pre, post) = if is_install {
            (HookEvent::PreInstall, HookEvent::PostInstall)
        } else {
            (HookEvent::PreUpgrade, HookEvent::PostUpgrade)
        };
        hooks.run(record, labels, pre).await?;
        for target in targets {
            self.cluster.apply(&target.key, &target.object).await?;
            applied.push(target.key.clone());
        }
        let (mut deleted, mut kept) = (Vec::new(), Vec::new());
        for old in current_keys.iter().rev() {
            if targets.iter().any(|t| &t.key == old) {
                continue;
            }
            // Upgrades honour the *live* annotation, exactly `keep`.
            let Some(live) = self.cluster.get(old).await? else {
                continue;
            };
            let live_keep = live
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(crate::cluster::RESOURCE_POLICY_ANNOTATION))
                .is_some_and(|v| v == crate::cluster::KEEP);
            if live_keep {
                kept.push(old.clone());
            } else {
                self.cluster.delete(old).await?;
                deleted.push(old.clone());
            }
        }
        hooks.run(record, labels, post).await?;
        Ok((deleted, kept))
    }

    /// `helm uninstall`: delete-hooks, the release's objects except those
    /// the chart marks `keep` (reported), then every revision's Secret.
    pub async fn uninstall(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<UninstallOutcome, EngineError> {
        let store = self.store();
        let history = store.history(release, namespace).await?;
        let Some(last) = latest(&history) else {
            return Err(EngineError::NotFound {
                release: release.to_string(),
                namespace: namespace.to_string(),
            });
        };
        let labels = last.user_labels();
        let mut record = last.record.clone();
        let (mut deleted, mut kept) = (Vec::new(), Vec::new());
        if record.status() != Some(Status::Uninstalled) {
            record.info.status = Some(Status::Uninstalling);
            record.info.deleted = RecordTime::At(clock::now());
            record.info.description = "Deletion in progress (or silently failed)".into();
            store.update(&record, &labels).await?;
            let hooks = HookRun {
                cluster: self.cluster,
                store: &store,
                timeout: self.options.timeout,
            };
            hooks
                .run(&mut record, &labels, HookEvent::PreDelete)
                .await?;
            let mut docs = parse_manifest_text(&record.manifest)?;
            sort_for_install(&mut docs);
            for doc in docs.iter().rev() {
                let mut object = doc.object.clone();
                let key = self.cluster.key_for(&mut object, namespace).await?;
                if has_keep_policy(doc.annotations()) {
                    kept.push(key);
                } else if self.cluster.delete(&key).await? {
                    deleted.push(key);
                }
            }
            hooks
                .run(&mut record, &labels, HookEvent::PostDelete)
                .await?;
        }
        let mut secrets_deleted = Vec::new();
        for rev in &history {
            store.delete(release, namespace, rev.revision()).await?;
            secrets_deleted.push(rev.secret_name.clone());
        }
        Ok(UninstallOutcome {
            release: release.to_string(),
            revision: record.version,
            deleted,
            kept,
            secrets_deleted,
        })
    }
}

/// Same chart, values, manifest and hooks as the deployed latest revision.
fn unchanged(
    history: &[StoredRelease],
    current: &StoredRelease,
    values: &Map<String, Value>,
    chart: &crate::release::ChartRecord,
    manifest: &str,
    hooks: &[HookRecord],
) -> bool {
    let is_latest = latest(history).map(Revision::revision) == Some(current.revision());
    let stored = &current.record;
    let same_hooks = stored.hooks.len() == hooks.len()
        && stored
            .hooks
            .iter()
            .zip(hooks)
            .all(|(a, b)| a.path == b.path && a.manifest == b.manifest);
    is_latest
        && stored.status() == Some(Status::Deployed)
        && &stored.config == values
        && stored.chart.name_version() == chart.name_version()
        && stored.chart.templates == chart.templates
        && stored.manifest == manifest
        && same_hooks
}
