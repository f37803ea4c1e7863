//! What upgrade, rollback and atomic recovery share: from the documents of
//! the new revision and the manifest of the current one to a plan (keys,
//! Helm's import check), then hooks → apply → removal of dropped objects →
//! hooks.
//!
//! The import check adopts an existing object that is *owned by this
//! release* even when the current manifest lacks it. Helm's rollback does
//! not, which breaks every kgst rollback across a chart-version change: the
//! target's ServiceTemplate (its name carries the version) survived by
//! `resource-policy: keep` but is absent from the current manifest, and Helm
//! stops with `original object ServiceTemplate … not found`.

use crate::timings::timed;
use std::collections::BTreeSet;

use serde_json::Value;

use crate::cluster::{
    ApplyMode, ClusterError, KEEP, ObjectKey, RESOURCE_POLICY_ANNOTATION, add_ownership,
    check_ownership, has_keep_policy,
};
use crate::release::{HookEvent, ReleaseRecord};

use super::ReleaseEngine;
use super::control::{Control, Step};
use super::csa_upgrade::upgraded_managed_fields;
use super::documents::{Document, parse_manifest_text};
use super::error::EngineError;
use super::lock::HeldLock;

/// One normal object the new revision applies.
pub(super) struct Target {
    pub key: ObjectKey,
    pub object: Value,
    pub keep: bool,
}

pub(super) struct Plan {
    pub targets: Vec<Target>,
    /// Per target, what a server-side-apply dry run says the server would store.
    pub dry_runs: Vec<DryRun>,
    /// Objects of the current revision's manifest.
    pub current_keys: Vec<ObjectKey>,
    /// Targets that existed before this operation.
    pub existed: BTreeSet<ObjectKey>,
}

/// The answer of a server-side-apply dry run of one target.
pub(super) enum DryRun {
    /// What the server would store.
    Stored(Value),
    /// Another field manager owns fields the target sets: the server's words.
    Conflict(String),
    /// The server would refuse it otherwise (invalid, forbidden, …). Not an
    /// error here: the apply fails the same way, and the operation handles
    /// that failure as it always has (a failed revision, a rollback).
    Rejected(String),
}

/// What applying a revision changed besides the targets.
#[derive(Debug, Default)]
pub(super) struct Applied {
    /// Normal objects applied, in order.
    pub objects: Vec<ObjectKey>,
    /// Hook objects created, in order.
    pub hooks: Vec<ObjectKey>,
    /// Dropped objects deleted.
    pub deleted: Vec<ObjectKey>,
    /// Dropped objects left in place by their live `keep` policy.
    pub kept: Vec<ObjectKey>,
}

impl ReleaseEngine<'_> {
    /// Keys, ownership metadata, the import check and a dry run of every
    /// target, before anything is written. A conflict with another field
    /// manager is refused here, unless forced, so it never leaves a failed
    /// revision or a rollback behind.
    pub(super) async fn plan(
        &self,
        release: &str,
        namespace: &str,
        docs: &[Document],
        current_manifest: Option<&str>,
    ) -> Result<Plan, EngineError> {
        let plan = self
            .plan_objects(release, namespace, docs, current_manifest, true)
            .await?;
        for (target, dry_run) in plan.targets.iter().zip(&plan.dry_runs) {
            if let DryRun::Conflict(message) = dry_run {
                return Err(conflict(release, namespace, &target.key, message));
            }
        }
        Ok(plan)
    }

    /// [`Self::plan`] without refusing conflicts: what a diff reports.
    /// `take_over_csa` moves what a client-side apply of `helm` owns to its
    /// server-side apply first (a write; see `csa_upgrade.rs`).
    pub(super) async fn plan_objects(
        &self,
        release: &str,
        namespace: &str,
        docs: &[Document],
        current_manifest: Option<&str>,
        take_over_csa: bool,
    ) -> Result<Plan, EngineError> {
        let mut targets = Vec::new();
        for doc in docs {
            let mut object = doc.object.clone();
            let key = self.cluster.key_for(&mut object, namespace).await?;
            add_ownership(&mut object, release, namespace);
            targets.push(Target {
                key,
                keep: has_keep_policy(doc.annotations()),
                object,
            });
        }
        let mut current_keys = Vec::new();
        if let Some(manifest) = current_manifest {
            for doc in parse_manifest_text(manifest)? {
                let mut object = doc.object;
                current_keys.push(self.cluster.key_for(&mut object, namespace).await?);
            }
        }
        let mut existed = BTreeSet::new();
        for target in &targets {
            if let Some(live) = self.cluster.get(&target.key).await? {
                if !current_keys.contains(&target.key) {
                    check_ownership(&live, &target.key, release, namespace)?;
                }
                if take_over_csa {
                    self.take_over_csa(&target.key, &live).await?;
                }
                existed.insert(target.key.clone());
            }
        }
        let mode = ApplyMode {
            force_conflicts: self.options.force_conflicts,
            dry_run: true,
        };
        let mut dry_runs = Vec::new();
        for target in &targets {
            dry_runs.push(
                match self
                    .cluster
                    .apply_with(&target.key, &target.object, mode)
                    .await
                {
                    Ok(stored) => DryRun::Stored(serde_json::to_value(stored).map_err(|e| {
                        EngineError::Internal(format!("dry run of {}: {e}", target.key))
                    })?),
                    Err(ClusterError::Api {
                        code: 409, message, ..
                    }) => DryRun::Conflict(message),
                    Err(ClusterError::Cancelled { during }) => {
                        return Err(EngineError::Cancelled { during });
                    }
                    Err(other) => DryRun::Rejected(other.to_string()),
                },
            );
        }
        Ok(Plan {
            targets,
            dry_runs,
            current_keys,
            existed,
        })
    }

    /// Hooks of `events.0`, the targets, removal of the current revision's
    /// objects the new one drops (unless their *live* policy is exactly
    /// `keep`), hooks of `events.1`. `applied` grows as objects are written,
    /// so a caller cleaning up after an error knows what this created.
    pub(super) async fn apply_revision(
        &self,
        record: &mut ReleaseRecord,
        lock: &HeldLock<'_>,
        events: (HookEvent, HookEvent),
        plan: &Plan,
        applied: &mut Applied,
        control: &Control,
    ) -> Result<(), EngineError> {
        let hooks = self.hook_run(lock, control);
        timed(
            "engine: pre hooks",
            hooks.run(record, events.0, &mut applied.hooks),
        )
        .await?;
        let apply_phase = crate::timings::phase(|| "engine: apply objects");
        control.report(
            Step::Apply,
            format!("applying {} object(s)", plan.targets.len()),
        );
        let mode = ApplyMode {
            force_conflicts: self.options.force_conflicts,
            dry_run: false,
        };
        for target in &plan.targets {
            // A conflict can still come from a writer that acted after the plan.
            self.cluster
                .apply_with(&target.key, &target.object, mode)
                .await
                .map_err(|e| match e {
                    ClusterError::Api {
                        code: 409, message, ..
                    } => conflict(
                        record.name.as_str(),
                        &record.namespace,
                        &target.key,
                        &message,
                    ),
                    other => other.into(),
                })?;
            applied.objects.push(target.key.clone());
        }
        for (old, keep) in self.dropped(plan).await? {
            if keep {
                applied.kept.push(old);
            } else {
                self.cluster.delete(&old).await?;
                applied.deleted.push(old);
            }
        }
        drop(apply_phase);
        timed(
            "engine: post hooks",
            hooks.run(record, events.1, &mut applied.hooks),
        )
        .await?;
        Ok(())
    }

    /// Moves `helm`'s client-side-apply ownership of `live` to its
    /// server-side apply, as helm v4 does when it upgrades or rolls back a
    /// release applied client-side.
    async fn take_over_csa(
        &self,
        key: &ObjectKey,
        live: &kube::api::DynamicObject,
    ) -> Result<(), EngineError> {
        let managed = serde_json::to_value(&live.metadata.managed_fields)
            .map_err(|e| EngineError::Internal(format!("managedFields of {key}: {e}")))?;
        let (Some(entries), Some(resource_version)) =
            (managed.as_array(), &live.metadata.resource_version)
        else {
            return Ok(());
        };
        if let Some(upgraded) = upgraded_managed_fields(entries) {
            self.cluster
                .replace_managed_fields(key, resource_version, upgraded)
                .await?;
        }
        Ok(())
    }

    /// Objects of the current revision the new one drops that still exist,
    /// last applied first, each with whether its *live* policy is exactly
    /// `keep` (the live object decides, as in Helm).
    pub(super) async fn dropped(&self, plan: &Plan) -> Result<Vec<(ObjectKey, bool)>, EngineError> {
        let mut out = Vec::new();
        for old in plan.current_keys.iter().rev() {
            if plan.targets.iter().any(|t| &t.key == old) {
                continue;
            }
            let Some(live) = self.cluster.get(old).await? else {
                continue;
            };
            let keep = live
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(RESOURCE_POLICY_ANNOTATION))
                .is_some_and(|v| v == KEEP);
            out.push((old.clone(), keep));
        }
        Ok(out)
    }

    /// After a failed install: removes the normal objects this operation
    /// created, except those the chart keeps. Best effort: the error that
    /// caused the failure is what the caller reports.
    pub(super) async fn remove_created(&self, plan: &Plan, applied: &Applied) {
        for target in plan
            .targets
            .iter()
            .filter(|t| !t.keep && !plan.existed.contains(&t.key))
        {
            if applied.objects.contains(&target.key) {
                let _ = self.cluster.delete(&target.key).await;
            }
        }
    }
}

fn conflict(release: &str, namespace: &str, key: &ObjectKey, message: &str) -> EngineError {
    EngineError::Conflict {
        release: release.to_string(),
        namespace: namespace.to_string(),
        object: key.path(),
        message: crate::quote::quote(message),
    }
}
