//! `helm uninstall`.

use crate::cluster::{ObjectKey, has_keep_policy};
use crate::release::{HookEvent, RecordTime, ReleaseRecord, Revision, Status, latest};

use super::control::{Control, Step};
use super::documents::{parse_manifest_text, sort_for_install};
use super::error::EngineError;
use super::lock::HeldLock;
use super::{ReleaseEngine, UninstallOutcome, clock};

impl ReleaseEngine<'_> {
    /// Delete-hooks, the release's objects except those the chart marks
    /// `keep` (reported), then every revision's Secret.
    pub async fn uninstall(
        &self,
        release: &str,
        namespace: &str,
        control: &Control,
    ) -> Result<UninstallOutcome, EngineError> {
        let store = self.store();
        let (history, recovered) = self.take_turn(release, namespace, control).await?;
        let Some(last) = latest(&history) else {
            return Err(EngineError::NotFound {
                release: release.to_string(),
                namespace: namespace.to_string(),
            });
        };
        control.report(Step::Uninstall, format!("uninstalling {release}"));
        // The lock: an `uninstalling` copy of the latest revision as the next
        // one, so uninstall races install, upgrade and rollback on the same
        // create. It is deleted last.
        let mut record = last.record.clone();
        record.version = last.revision() + 1;
        record.info.status = Some(Status::Uninstalling);
        record.info.deleted = RecordTime::At(clock::now());
        record.info.description = "Deletion in progress (or silently failed)".into();
        if control.is_cancelled() {
            return Err(control.cancelled("the preparation of the uninstall"));
        }
        let lock = self.lock(&record, last.user_labels(), &history).await?;
        let (mut deleted, mut kept) = (Vec::new(), Vec::new());
        if last.record.status() != Some(Status::Uninstalled) {
            let removed = self
                .remove_objects(
                    &mut record,
                    &lock,
                    namespace,
                    &mut deleted,
                    &mut kept,
                    control,
                )
                .await;
            if let Err(err) = removed {
                if !matches!(err, EngineError::LockLost { .. }) {
                    record.info.status = Some(Status::Failed);
                    record.info.description = format!("Uninstallation failed: {err}");
                    lock.release(&record).await?;
                }
                return Err(err);
            }
        }
        let mut secrets_deleted = Vec::new();
        for rev in &history {
            store.delete(release, namespace, rev.revision()).await?;
            secrets_deleted.push(rev.secret_name.clone());
        }
        lock.delete().await?;
        Ok(UninstallOutcome {
            release: release.to_string(),
            revision: last.revision(),
            deleted,
            kept,
            secrets_deleted,
            recovered,
        })
    }

    /// Delete hooks around the deletion of the manifest's objects, except
    /// those the chart keeps.
    async fn remove_objects(
        &self,
        record: &mut ReleaseRecord,
        lock: &HeldLock<'_>,
        namespace: &str,
        deleted: &mut Vec<ObjectKey>,
        kept: &mut Vec<ObjectKey>,
        control: &Control,
    ) -> Result<(), EngineError> {
        let hooks = self.hook_run(lock, control);
        let mut hook_objects = Vec::new();
        hooks
            .run(record, HookEvent::PreDelete, &mut hook_objects)
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
            .run(record, HookEvent::PostDelete, &mut hook_objects)
            .await
    }
}
