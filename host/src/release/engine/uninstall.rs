//! `helm uninstall`.

use crate::cluster::has_keep_policy;
use crate::release::{HookEvent, RecordTime, Revision, Status, latest};

use super::control::{Control, Step};
use super::documents::{parse_manifest_text, sort_for_install};
use super::error::EngineError;
use super::hooks::HookRun;
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
        let history = self.managed_history(release, namespace).await?;
        let Some(last) = latest(&history) else {
            return Err(EngineError::NotFound {
                release: release.to_string(),
                namespace: namespace.to_string(),
            });
        };
        if last.record.status().is_some_and(Status::is_pending) {
            return Err(EngineError::in_progress(release, namespace));
        }
        control.report(Step::Uninstall, format!("uninstalling {release}"));
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
                control,
            };
            let mut hook_objects = Vec::new();
            hooks
                .run(
                    &mut record,
                    &labels,
                    HookEvent::PreDelete,
                    &mut hook_objects,
                )
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
                .run(
                    &mut record,
                    &labels,
                    HookEvent::PostDelete,
                    &mut hook_objects,
                )
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
