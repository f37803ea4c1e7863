//! What an install or upgrade would change, without writing: every object of
//! the new manifest through a server-side-apply dry run as the caller (so
//! admission, defaulting and RBAC answer as for the real apply), compared
//! with the live object; objects the new revision drops; the hooks that
//! would run (listed, not diffed: they are created anew each time).

use schemars::JsonSchema;
use serde::Serialize;

use crate::cluster::ObjectKey;
use crate::release::{HookRecord, chart_record_from_chart, validate_release_name};

use super::control::Control;
use super::diff::{Compare, MAX_OBJECTS, ObjectAction, ObjectChange, changes, normalise};
use super::documents::manifest_text;
use super::error::EngineError;
use super::install::{starting_point, unchanged};
use super::revision::DryRun;
use super::{InstallRequest, ReleaseEngine};

/// What `upgrade --install` would do to a release.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ChangePlan {
    pub release: String,
    pub namespace: String,
    /// `install` or `upgrade`.
    pub operation: String,
    /// The revision it would record.
    pub revision: u32,
    /// Same chart, values and manifest as the deployed revision: the
    /// operation would write nothing and run no hook.
    pub no_op: bool,
    /// Normal objects in apply order, then the ones the new revision drops.
    pub objects: Vec<ObjectChange>,
    /// Hooks that would run (created anew, so not diffed), in stored order.
    pub hooks: Vec<PlannedHook>,
    /// Objects left out of `objects` beyond the first [`MAX_OBJECTS`].
    pub omitted: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PlannedHook {
    /// `namespace/Kind/name`.
    pub object: String,
    /// `pre-install`, `post-upgrade`, …
    pub events: Vec<String>,
}

impl ReleaseEngine<'_> {
    /// The plan of `upgrade_install(req)`, writing nothing.
    pub async fn plan_upgrade_install(
        &self,
        req: InstallRequest<'_>,
        control: &Control,
    ) -> Result<ChangePlan, EngineError> {
        let (name, ns) = (req.release.as_str(), req.namespace.as_str());
        validate_release_name(name)?;
        if let Some(scope) = &self.options.kgst_only {
            scope.check_chart(name, ns, &req.chart.metadata.name)?;
        }
        let history = self.managed_history(name, ns).await?;
        let (is_install, revision, current) = starting_point(name, ns, &history, req.mode)?;
        let (docs, _notes, _rendered_by) = self
            .render_revision(&req, revision, is_install, control)
            .await?;
        let manifest = manifest_text(&docs.manifests);
        let hooks: Vec<HookRecord> = docs.hooks.iter().map(|(_, h)| h.clone()).collect();
        let chart = chart_record_from_chart(req.chart)?;
        let no_op = !self.options.force_conflicts
            && current.is_some_and(|current| {
                unchanged(&history, current, &req.values, &chart, &manifest, &hooks)
            });

        let plan = self
            .plan_objects(
                name,
                ns,
                &docs.manifests,
                current.map(|c| c.record.manifest.as_str()),
                false,
            )
            .await?;
        let mut objects = Vec::new();
        for (target, dry_run) in plan.targets.iter().zip(&plan.dry_runs) {
            let object = target.key.path();
            let change = match dry_run {
                DryRun::Conflict(message) | DryRun::Rejected(message) => {
                    let action = if matches!(dry_run, DryRun::Conflict(_)) {
                        ObjectAction::Conflict
                    } else {
                        ObjectAction::Rejected
                    };
                    let mut change = ObjectChange::new(object, action);
                    change.message = Some(crate::quote::quote(message));
                    change
                }
                DryRun::Stored(stored) => match self.cluster.get(&target.key).await? {
                    None => ObjectChange::new(object, ObjectAction::Create),
                    Some(live) => {
                        let (mut stored, mut live) = (stored.clone(), live_value(&live)?);
                        normalise(&mut stored);
                        normalise(&mut live);
                        let (fields, truncated) = changes(
                            &stored,
                            &live,
                            Compare::Whole,
                            &[],
                            &target.key.kind,
                            &target.key.name,
                        );
                        let action = if fields.is_empty() {
                            ObjectAction::Unchanged
                        } else {
                            ObjectAction::Update
                        };
                        let mut change = ObjectChange::new(object, action);
                        change.changes = fields;
                        change.changes_truncated = truncated;
                        change
                    }
                },
            };
            objects.push(change);
        }
        for (old, keep) in self.dropped(&plan).await? {
            let action = if keep {
                ObjectAction::Keep
            } else {
                ObjectAction::Delete
            };
            objects.push(ObjectChange::new(old.path(), action));
        }
        let mut planned_hooks = Vec::new();
        for (doc, hook) in &docs.hooks {
            let mut object = doc.object.clone();
            let key: ObjectKey = self.cluster.key_for(&mut object, ns).await?;
            planned_hooks.push(PlannedHook {
                object: key.path(),
                events: hook.events.iter().map(|e| e.as_str().to_string()).collect(),
            });
        }
        let omitted = objects.len().saturating_sub(MAX_OBJECTS);
        objects.truncate(MAX_OBJECTS);
        Ok(ChangePlan {
            release: name.to_string(),
            namespace: ns.to_string(),
            operation: if is_install { "install" } else { "upgrade" }.into(),
            revision,
            no_op,
            objects,
            hooks: planned_hooks,
            omitted,
        })
    }
}

/// A live object as JSON, for comparing.
pub(super) fn live_value(
    live: &kube::api::DynamicObject,
) -> Result<serde_json::Value, EngineError> {
    serde_json::to_value(live).map_err(|e| EngineError::Internal(format!("live object: {e}")))
}
