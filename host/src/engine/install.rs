//! `helm upgrade --install`.

use crate::timings::timed;
use std::collections::BTreeMap;

use crate::plugin::contract::Capabilities;
use crate::release::{
    ApplyMethod, HookEvent, HookRecord, NewRelease, ReleaseRecord, RenderComponent, RenderedBy,
    Revision, Status, StoredRelease, chart_record_from_chart, check_install_name_free, latest,
    next_revision, revisions_to_prune, upgrade_base, upgrade_should_install, validate_release_name,
};
use crate::render::{RenderRequest, render};

use super::control::{Control, Step};
use super::documents::{SplitDocuments, manifest_text, split};
use super::error::EngineError;
use super::lock::HeldLock;
use super::revision::{Applied, Plan};
use super::validity::wait_for_validity;
use super::{InstallAction, InstallMode, InstallRequest, ReleaseEngine, ReleaseOutcome, clock};

/// A revision ready to be written: rendered, planned against the live objects, its pending record built.
struct Pending<'h> {
    record: ReleaseRecord,
    /// The user labels the previous revision carried (helm's `--labels`), kept on upgrade.
    labels: BTreeMap<String, String>,
    plan: Plan,
    /// The plugins that rendered it, recorded in its labels.
    rendered_by: RenderedBy,
    is_install: bool,
    /// The deployed revision an upgrade starts from.
    current: Option<&'h StoredRelease>,
}

/// What preparation found: nothing to do, or a revision to write.
enum Prepared<'h> {
    Unchanged(&'h StoredRelease),
    Pending(Box<Pending<'h>>),
}

impl ReleaseEngine<'_> {
    /// `helm upgrade --install`, in helm's three phases: prepare (read, render, plan; no write),
    /// perform (lock, hooks, apply, record), and on failure fail-and-roll-back.
    pub async fn upgrade_install(
        &self,
        req: InstallRequest<'_>,
        control: &Control,
    ) -> Result<ReleaseOutcome, EngineError> {
        let (name, ns) = (req.release.as_str(), req.namespace.as_str());
        validate_release_name(name)?;
        if let Some(scope) = &self.options.kgst_only {
            scope.check_chart(name, ns, &req.chart.metadata.name)?;
        }
        if control.is_cancelled() {
            return Err(control.cancelled("the start of the operation"));
        }
        let (history, recovered) = timed(
            "engine: read history, check lock",
            self.take_turn(name, ns, control),
        )
        .await?;
        let mut outcome = match self.prepare(&req, &history, control).await? {
            Prepared::Unchanged(current) => {
                let service_templates = timed(
                    "engine: validity",
                    self.validity_of(&current.record, control),
                )
                .await?;
                ReleaseOutcome::unchanged(current, service_templates)
            }
            Prepared::Pending(pending) => self.perform(*pending, &history, control).await?,
        };
        outcome.recovered = recovered;
        Ok(outcome)
    }

    /// Everything before the first write: where the release starts from, the rendered revision,
    /// whether it changes anything, the object plan (server-side-apply dry runs) and the pending
    /// record.
    async fn prepare<'h>(
        &self,
        req: &InstallRequest<'_>,
        history: &'h [StoredRelease],
        control: &Control,
    ) -> Result<Prepared<'h>, EngineError> {
        let (name, ns) = (req.release.as_str(), req.namespace.as_str());
        let (is_install, revision, current) = starting_point(name, ns, history, req.mode)?;
        let (docs, notes, rendered_by) = self
            .render_revision(req, revision, is_install, control)
            .await?;
        let manifest = manifest_text(&docs.manifests);
        let hooks: Vec<HookRecord> = docs.hooks.iter().map(|(_, h)| h.clone()).collect();
        let chart = chart_record_from_chart(req.chart)?;

        // Forcing is how drift is repaired: the same chart and values then
        // still apply, taking back what others changed.
        if let Some(current) = current
            && !self.options.force_conflicts
            && unchanged(history, current, &req.values, &chart, &manifest, &hooks)
        {
            return Ok(Prepared::Unchanged(current));
        }

        let plan = timed(
            "engine: plan (dry runs)",
            self.plan(
                name,
                ns,
                &docs.manifests,
                current.map(|c| c.record.manifest.as_str()),
            ),
        )
        .await?;
        let now = clock::now();
        let first_deployed = current
            .and_then(|c| c.record.info.first_deployed.time())
            .unwrap_or(now);
        let mut labels = match latest(history) {
            Some(last) if !is_install => last.user_labels(),
            _ => BTreeMap::new(),
        };
        rendered_by.write_labels(&mut labels, revision);
        let record = NewRelease {
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
            notes,
            first_deployed,
            last_deployed: now,
            apply_method: Some(ApplyMethod::ServerSide),
        }
        .into_record()?;
        Ok(Prepared::Pending(Box::new(Pending {
            record,
            labels,
            plan,
            rendered_by,
            is_install,
            current,
        })))
    }

    /// The writes: the pending revision (which is the lock), pruning, hooks and objects, then the
    /// previous revision superseded and this one deployed.
    async fn perform(
        &self,
        mut pending: Pending<'_>,
        history: &[StoredRelease],
        control: &Control,
    ) -> Result<ReleaseOutcome, EngineError> {
        if control.is_cancelled() {
            return Err(control.cancelled("the preparation of the release"));
        }
        let (name, ns) = (
            pending.record.name.clone(),
            pending.record.namespace.clone(),
        );
        let labels = std::mem::take(&mut pending.labels);
        let lock = timed(
            "engine: lock (pending record)",
            self.lock(&pending.record, labels, history),
        )
        .await?;
        let store = self.store();
        // Pruning is a write too: only under the lock.
        if !pending.is_install {
            for old in revisions_to_prune(history, self.options.max_history) {
                store.delete(&name, &ns, old).await?;
            }
        }

        let events = if pending.is_install {
            (HookEvent::PreInstall, HookEvent::PostInstall)
        } else {
            (HookEvent::PreUpgrade, HookEvent::PostUpgrade)
        };
        let mut applied = Applied::default();
        let result = self
            .apply_revision(
                &mut pending.record,
                &lock,
                events,
                &pending.plan,
                &mut applied,
                control,
            )
            .await;
        if let Err(err) = result {
            return Err(self.fail(pending, lock, &applied, err, control).await);
        }

        let record_phase = crate::timings::phase(|| "engine: record (supersede, deployed)");
        if let Some(current) = pending.current {
            let mut old = current.record.clone();
            old.info.status = Some(Status::Superseded);
            store.update(&old, &current.user_labels()).await?;
        }
        let mut record = pending.record;
        record.info.status = Some(Status::Deployed);
        record.info.description = if pending.is_install {
            "Install complete".into()
        } else {
            "Upgrade complete".into()
        };
        lock.release(&record).await?;
        drop(record_phase);
        let service_templates =
            timed("engine: validity", self.validity_of(&record, control)).await?;
        let action = if pending.is_install {
            InstallAction::Installed
        } else {
            InstallAction::Upgraded
        };
        let mut outcome = ReleaseOutcome::deployed(action, record, applied, service_templates);
        outcome.rendered_by = Some(pending.rendered_by);
        Ok(outcome)
    }

    /// A failed revision: recorded failed; a first install's new objects removed; an upgrade rolled
    /// back to the revision it started from (unless `rollback_on_failure` is off). Returns the error
    /// the caller gets, naming what was done.
    async fn fail(
        &self,
        pending: Pending<'_>,
        lock: HeldLock<'_>,
        applied: &Applied,
        err: EngineError,
        control: &Control,
    ) -> EngineError {
        if matches!(err, EngineError::LockLost { .. }) {
            // Whoever took the lock over owns the record and the cleanup.
            return err;
        }
        let Pending {
            mut record,
            plan,
            is_install,
            current,
            ..
        } = pending;
        let (name, ns, revision) = (
            record.name.clone(),
            record.namespace.clone(),
            record.version,
        );
        let (operation, description) = if is_install {
            ("INSTALLATION", format!("Release {name:?} failed: {err}"))
        } else {
            ("UPGRADE", format!("Upgrade {name:?} failed: {err}"))
        };
        if is_install {
            // Leave nothing half-installed but what the chart asked to keep.
            self.remove_created(&plan, applied).await;
        }
        record.info.status = Some(Status::Failed);
        record.info.description = description;
        let Some(current) = current.filter(|_| self.options.rollback_on_failure) else {
            if let Err(write) = lock.release(&record).await {
                return write;
            }
            return EngineError::Failed {
                operation,
                release: name,
                revision,
                source: Box::new(err),
            };
        };
        control.report(
            Step::Rollback,
            format!(
                "upgrade failed; rolling back to revision {}",
                current.revision()
            ),
        );
        // Still leased while failed, so no other operation starts before the rollback's revision
        // exists.
        if let Err(write) = lock.save(&record).await {
            return write;
        }
        // The rollback must finish even if the caller cancelled the upgrade: that is what leaves
        // the release consistent.
        let rollback = self
            .rollback_holding(
                &name,
                &ns,
                lock,
                &record,
                current.revision(),
                &Control::default(),
            )
            .await;
        match rollback {
            Ok(done) => EngineError::RolledBack {
                operation,
                release: name,
                revision,
                rolled_back_to: current.revision(),
                rollback_revision: done.revision,
                source: Box::new(err),
            },
            Err(rollback) => EngineError::RollbackFailed {
                operation,
                release: name,
                revision,
                rolled_back_to: current.revision(),
                source: Box::new(err),
                rollback: Box::new(rollback),
            },
        }
    }

    /// Validates and renders `req` in the sandbox as revision `revision`
    /// (`.Capabilities` from the server): its documents, NOTES.txt and the
    /// plugins that rendered them.
    pub(super) async fn render_revision(
        &self,
        req: &InstallRequest<'_>,
        revision: u32,
        is_install: bool,
        control: &Control,
    ) -> Result<(SplitDocuments, String, RenderedBy), EngineError> {
        control.report(
            Step::Validate,
            format!(
                "validating values and rendering {}",
                req.chart.metadata.name
            ),
        );
        let (kube_version, api_versions) =
            timed("engine: capabilities (discovery)", self.cluster.served()).await?;
        let capabilities = Capabilities {
            kube_version,
            api_versions,
            helm_version: self.options.helm_version.clone(),
        };
        let request = RenderRequest {
            chart: req.chart,
            release: crate::capabilities::release(
                req.release.clone(),
                req.namespace.clone(),
                revision,
                is_install,
            ),
            user_values: req.values.clone(),
            capabilities,
        };
        // Plugin calls are CPU-bound; keep them off the async workers.
        let rendered = tokio::task::block_in_place(|| {
            let _phase = crate::timings::phase(|| "validate and render (sandbox)");
            render(self.plugins, request)
        })?;
        control.report(
            Step::Render,
            format!("rendered {} document(s)", rendered.manifests.len()),
        );
        let rendered_by = RenderedBy {
            renderer: RenderComponent::of(&rendered.renderer),
            validator: rendered.validator.as_deref().map(RenderComponent::of),
        };
        Ok((
            split(&rendered.manifests)?,
            rendered.notes.unwrap_or_default(),
            rendered_by,
        ))
    }

    /// k0rdent's verdict on the ServiceTemplates of `record`'s manifest.
    pub(super) async fn validity_of(
        &self,
        record: &crate::release::ReleaseRecord,
        control: &Control,
    ) -> Result<Vec<super::TemplateValidity>, EngineError> {
        if self.options.validation_timeout.is_zero() {
            return Ok(Vec::new());
        }
        let mut keys = Vec::new();
        for doc in super::parse_manifest_text(&record.manifest)? {
            let mut object = doc.object;
            keys.push(self.cluster.key_for(&mut object, &record.namespace).await?);
        }
        let limits = control.wait_limits(self.options.validation_timeout);
        wait_for_validity(self.cluster, &keys, &limits, control).await
    }
}

/// Install or upgrade (Helm's rules, checked against `mode`), the revision
/// it records, and the revision an upgrade starts from.
pub(super) fn starting_point<'h>(
    name: &str,
    ns: &str,
    history: &'h [StoredRelease],
    mode: InstallMode,
) -> Result<(bool, u32, Option<&'h StoredRelease>), EngineError> {
    let is_install = upgrade_should_install(history);
    match mode {
        InstallMode::Install => check_install_name_free(history, false)
            .map_err(|e| EngineError::history(name, ns, e))?,
        InstallMode::Upgrade if is_install => {
            return Err(EngineError::NotFound {
                release: name.to_string(),
                namespace: ns.to_string(),
            });
        }
        _ => {}
    }
    if is_install {
        return Ok((true, next_revision(history), None));
    }
    let base = upgrade_base(name, history).map_err(|e| EngineError::history(name, ns, e))?;
    Ok((false, base.last.revision() + 1, Some(base.current)))
}

/// Same chart, values, manifest and hooks as the deployed latest revision.
pub(super) fn unchanged(
    history: &[StoredRelease],
    current: &StoredRelease,
    values: &serde_json::Map<String, serde_json::Value>,
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
