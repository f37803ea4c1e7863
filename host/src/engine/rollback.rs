//! `helm rollback <release> [revision]`.

use crate::release::{
    ApplyMethod, HookEvent, HookPhase, NewRelease, RecordTime, Revision, Status, StoredRelease,
    clear_rendered_by_labels as clear_labels, latest, revisions_to_prune,
};

use super::control::{Control, Step};
use super::documents::parse_manifest_text;
use super::error::EngineError;
use super::revision::Applied;
use super::{InstallAction, ReleaseEngine, ReleaseOutcome, clock};

impl ReleaseEngine<'_> {
    /// Rolls `release` back to `to` (`None` or 0: the revision before the
    /// latest), recording a new revision with the target's chart, values,
    /// manifest and hooks, as Helm does. First it re-renders the target with
    /// the plugins that rendered it when they are loaded (see `rerender.rs`).
    pub async fn rollback(
        &self,
        name: &str,
        ns: &str,
        to: Option<u32>,
        control: &Control,
    ) -> Result<ReleaseOutcome, EngineError> {
        let (history, recovered) = self.take_turn(name, ns, control).await?;
        let mut outcome = self.rollback_from(name, ns, &history, to, control).await?;
        outcome.recovered = recovered;
        Ok(outcome)
    }

    /// The rollback proper, from `history` as read by a caller that found
    /// no other operation holding the release (or holds it itself).
    pub(super) async fn rollback_from(
        &self,
        name: &str,
        ns: &str,
        history: &[StoredRelease],
        to: Option<u32>,
        control: &Control,
    ) -> Result<ReleaseOutcome, EngineError> {
        let store = self.store();
        let Some(last) = latest(history) else {
            return Err(EngineError::NotFound {
                release: name.to_string(),
                namespace: ns.to_string(),
            });
        };
        let wanted = to
            .filter(|&r| r > 0)
            .unwrap_or(last.revision().saturating_sub(1));
        let Some(target) = history.iter().find(|r| r.revision() == wanted) else {
            return Err(EngineError::NoSuchRevision {
                release: name.to_string(),
                namespace: ns.to_string(),
                revision: wanted,
                available: history
                    .iter()
                    .map(|r| r.revision().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        control.report(
            Step::Rollback,
            format!("rolling {name} back to revision {wanted}"),
        );
        let revision = last.revision() + 1;
        let rerender = self.rerender(target, control).await?;
        let docs = parse_manifest_text(&target.record.manifest)?;
        let plan = self
            .plan(name, ns, &docs, Some(last.record.manifest.as_str()))
            .await?;
        let now = clock::now();
        let mut hooks = target.record.hooks.clone();
        for hook in &mut hooks {
            hook.last_run.started_at = RecordTime::Absent;
            hook.last_run.completed_at = RecordTime::Absent;
            hook.last_run.phase = HookPhase::Unknown;
        }
        let mut labels = target.user_labels();
        match rerender.rendered_by() {
            Some(by) => by.write_labels(&mut labels, revision),
            None => clear_labels(&mut labels),
        }
        let mut record = NewRelease {
            name: name.to_string(),
            namespace: ns.to_string(),
            revision,
            status: Status::PendingRollback,
            description: format!("Rollback to {wanted}"),
            chart: target.record.chart.clone(),
            config: target.record.config.clone(),
            manifest: target.record.manifest.clone(),
            hooks,
            notes: target.record.info.notes.clone(),
            first_deployed: last.record.info.first_deployed.time().unwrap_or(now),
            last_deployed: now,
            apply_method: Some(ApplyMethod::ServerSide),
        }
        .into_record()?;
        if control.is_cancelled() {
            return Err(control.cancelled("the preparation of the rollback"));
        }
        let lock = self.lock(&record, labels, history).await?;
        // Pruning is a write too: only under the lock.
        let pruned = revisions_to_prune(history, self.options.max_history);
        for &old in &pruned {
            store.delete(name, ns, old).await?;
        }

        let mut applied = Applied::default();
        let result = self
            .apply_revision(
                &mut record,
                &lock,
                (HookEvent::PreRollback, HookEvent::PostRollback),
                &plan,
                &mut applied,
                control,
            )
            .await;
        if let Err(err) = result {
            if matches!(err, EngineError::LockLost { .. }) {
                return Err(err);
            }
            record.info.status = Some(Status::Failed);
            record.info.description = format!("Rollback {name:?} failed: {err}");
            lock.release(&record).await?;
            return Err(EngineError::Failed {
                operation: "ROLLBACK",
                release: name.to_string(),
                revision,
                source: Box::new(err),
            });
        }
        for stored in history
            .iter()
            .filter(|r| r.status() == Some(Status::Deployed) && !pruned.contains(&r.revision()))
        {
            let mut old = stored.record.clone();
            old.info.status = Some(Status::Superseded);
            store.update(&old, &stored.user_labels()).await?;
        }
        record.info.status = Some(Status::Deployed);
        lock.release(&record).await?;
        let service_templates = self.validity_of(&record, control).await?;
        let mut outcome = ReleaseOutcome::deployed(
            InstallAction::RolledBack,
            record,
            applied,
            service_templates,
        );
        outcome.rendered_by = rerender.rendered_by().cloned();
        outcome.rerender = Some(rerender.message(wanted));
        Ok(outcome)
    }
}
