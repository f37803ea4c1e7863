//! The operation lock: one operation at a time per release, across
//! processes and replicas, with nothing but the release Secrets.
//!
//! Every writing operation (install, upgrade, rollback, uninstall) starts by
//! *creating* the Secret of the next revision (`latest + 1`), carrying a
//! lease (see `lease.rs`). A create of an existing name fails, so of the
//! operations that read the same history exactly one wins; the winner then
//! reads the history again and backs out (deleting only its own Secret) if
//! the revision it built on changed meanwhile, which closes the race
//! between operations that read different histories (one read before an
//! uninstall deleted everything, one after). Uninstall takes the lock the
//! same way, with an `uninstalling` copy of the latest revision that it
//! deletes last.
//!
//! While the operation runs, its lease is renewed every third of its
//! duration, and every write of its own record is conditional on the
//! Secret's resourceVersion: a process whose lease was taken over stops
//! instead of overwriting the record of whoever recovered it.
//!
//! A later operation that finds an expired lease recovers the release as
//! a person would with helm: the stuck revision is marked `failed`, then
//! the release is rolled back to its last deployed revision, or, for a
//! first install, the objects it created are removed. It reports that it
//! did (`Recovered`) and goes on. A pending record without a lease (helm's,
//! or one written before leases) is never taken to be abandoned: only
//! `unlock` with force recovers it.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::Api;
use schemars::JsonSchema;
use serde::Serialize;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::cluster::{ObjectKey, check_ownership, has_keep_policy};
use crate::quote::quote;
use crate::release::{
    ReleaseRecord, Revision, Status, StoredRelease, latest, recovery_target, secret_name,
};

use super::control::{Control, Step};
use super::documents::{parse_manifest_text, sort_for_install};
use super::error::{EngineError, HeldBy};
use super::lease::{Lease, LockState, UNLEASED_HOLDER, instance_id, lock_state, rfc3339};
use super::storage::{Changed, ReleaseStore, renew};
use super::{ReleaseEngine, clock};

/// What a call did about an abandoned operation before doing its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Recovered {
    /// The revision whose operation was abandoned; now `failed`.
    pub revision: u32,
    /// Its status before (`pending-upgrade`, …).
    pub status: String,
    /// Who held it.
    pub holder: String,
    /// When that operation began (RFC 3339).
    pub since: String,
    /// When its lease ran out (RFC 3339); absent when it had none (helm's
    /// own pending record, unlocked with force).
    pub expired_at: Option<String>,
    /// What was done, in words.
    pub remediation: String,
    /// The revision that rolled the release back, if it was rolled back.
    pub rollback_revision: Option<u32>,
    /// Objects of an abandoned first install removed (`namespace/Kind/name`).
    pub deleted: Vec<String>,
}

/// What `unlock` found and did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UnlockOutcome {
    pub release: String,
    pub namespace: String,
    /// `expired`, `live` (taken with force or held by this process) or
    /// `none` (a record without a lease, taken with force).
    pub lease: String,
    pub recovered: Recovered,
}

/// The lock this operation holds: its revision's Secret, the Secret's
/// resourceVersion as last written by us, and the renewal task.
pub(super) struct HeldLock<'a> {
    store: ReleaseStore<'a>,
    release: String,
    namespace: String,
    revision: u32,
    labels: std::collections::BTreeMap<String, String>,
    lease: Lease,
    /// The Secret's resourceVersion as we last wrote it; `None` once
    /// someone else wrote it: the lock is lost.
    resource_version: Arc<Mutex<Option<String>>>,
    renewal: Option<(CancellationToken, JoinHandle<()>)>,
}

impl<'a> HeldLock<'a> {
    fn new(
        store: ReleaseStore<'a>,
        record: &ReleaseRecord,
        labels: std::collections::BTreeMap<String, String>,
        lease: Lease,
        resource_version: String,
    ) -> Self {
        HeldLock {
            store,
            release: record.name.clone(),
            namespace: record.namespace.clone(),
            revision: record.version,
            labels,
            lease,
            resource_version: Arc::new(Mutex::new(Some(resource_version))),
            renewal: None,
        }
    }

    /// Renews the lease every `every` until the lock is released or lost.
    fn start_renewal(&mut self, every: Duration, api: Api<Secret>) {
        let cancel = CancellationToken::new();
        let (stop, cell) = (cancel.clone(), self.resource_version.clone());
        let name = secret_name(&self.release, self.revision);
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
                let mut current = cell.lock().await;
                let Some(version) = current.clone() else {
                    return;
                };
                match renew(&api, &name, &version, clock::unix_now()).await {
                    Ok(Ok(new)) => *current = Some(new),
                    Ok(Err(Changed)) => {
                        tracing::warn!(secret = %name, "operation lock lost: the release record was written by another process");
                        *current = None;
                        return;
                    }
                    // The lease has two more renewals before it runs out.
                    Err(e) => {
                        tracing::warn!(secret = %name, error = %e, "renewing the operation lock failed; retrying")
                    }
                }
            }
        });
        self.renewal = Some((cancel, task));
    }

    async fn stop_renewal(&mut self) {
        if let Some((cancel, task)) = self.renewal.take() {
            cancel.cancel();
            let _ = task.await;
        }
    }

    fn lost(&self, what: &str) -> EngineError {
        EngineError::LockLost {
            release: self.release.clone(),
            namespace: self.namespace.clone(),
            revision: self.revision,
            what: what.to_string(),
        }
    }

    /// Writes `record` (this lock's revision) keeping the lease, renewed.
    pub async fn save(&self, record: &ReleaseRecord) -> Result<(), EngineError> {
        self.write(record, true).await
    }

    /// Writes `record` without the lease: the operation is over.
    pub async fn release(mut self, record: &ReleaseRecord) -> Result<(), EngineError> {
        self.stop_renewal().await;
        self.write(record, false).await
    }

    /// Deletes this lock's Secret (the end of an uninstall).
    pub async fn delete(mut self) -> Result<(), EngineError> {
        self.stop_renewal().await;
        let current = self.resource_version.lock().await;
        let Some(version) = current.clone() else {
            return Err(self.lost("its record was written by another process"));
        };
        match self
            .store
            .delete_if_unchanged(&self.release, &self.namespace, self.revision, &version)
            .await?
        {
            Ok(()) => Ok(()),
            Err(Changed) => Err(self.lost("its record was written by another process")),
        }
    }

    async fn write(&self, record: &ReleaseRecord, keep_lease: bool) -> Result<(), EngineError> {
        let mut current = self.resource_version.lock().await;
        let Some(version) = current.clone() else {
            return Err(self.lost(
                "a renewal found its record written by another process (the lease had expired and \
                 the release was recovered, or it was unlocked with force)",
            ));
        };
        let lease = Lease {
            renewed: clock::unix_now(),
            ..self.lease.clone()
        };
        match self
            .store
            .replace_if_unchanged(record, &self.labels, keep_lease.then_some(&lease), &version)
            .await?
        {
            Ok(new) => {
                *current = Some(new);
                Ok(())
            }
            Err(Changed) => {
                *current = None;
                Err(self.lost(
                    "its record was written by another process (the lease had expired and the \
                     release was recovered, or it was unlocked with force)",
                ))
            }
        }
    }
}

impl Drop for HeldLock<'_> {
    fn drop(&mut self) {
        if let Some((cancel, _)) = &self.renewal {
            cancel.cancel();
        }
    }
}

impl<'a> ReleaseEngine<'a> {
    /// The release's history once no other operation holds it, recovering an
    /// abandoned operation (expired lease) first.
    pub(super) async fn take_turn(
        &self,
        release: &str,
        namespace: &str,
        control: &Control,
    ) -> Result<(Vec<StoredRelease>, Option<Recovered>), EngineError> {
        let history = self.managed_history(release, namespace).await?;
        let state = lock_state(latest(&history), clock::unix_now());
        if let LockState::Leased { expired: true, .. } = state {
            let recovered = self
                .recover(release, namespace, &history, &state, control)
                .await?;
            let history = self.managed_history(release, namespace).await?;
            return match lock_state(latest(&history), clock::unix_now()) {
                LockState::Free => Ok((history, Some(recovered))),
                other => Err(in_progress(release, namespace, &other)),
            };
        }
        match state {
            LockState::Free => Ok((history, None)),
            other => Err(in_progress(release, namespace, &other)),
        }
    }

    /// Takes the lock by creating `record`'s Secret (revision `latest + 1`
    /// of `snapshot`), then checks that `snapshot` is still the history it
    /// builds on.
    pub(super) async fn lock(
        &self,
        record: &ReleaseRecord,
        labels: std::collections::BTreeMap<String, String>,
        snapshot: &[StoredRelease],
    ) -> Result<HeldLock<'a>, EngineError> {
        let (release, namespace) = (record.name.as_str(), record.namespace.as_str());
        let store = self.store();
        let lease = Lease::new(instance_id(), clock::unix_now(), self.lease_seconds());
        let Some(version) = store.create_leased(record, &labels, &lease).await? else {
            let holder = store.get(release, namespace, record.version).await?;
            let state = lock_state(holder.as_ref(), clock::unix_now());
            return Err(match state {
                LockState::Free => concurrent_change(release, namespace, record.version),
                other => in_progress(release, namespace, &other),
            });
        };
        let now = store.history(release, namespace).await?;
        let builds_on_snapshot = match latest(snapshot) {
            Some(base) => now.iter().any(|r| {
                r.secret_name == base.secret_name && r.resource_version == base.resource_version
            }),
            None => now.len() == 1,
        };
        if !builds_on_snapshot || latest(&now).map(Revision::revision) != Some(record.version) {
            // Only our own, untouched Secret is removed; nothing else was written.
            let _ = store
                .delete_if_unchanged(release, namespace, record.version, &version)
                .await?;
            return Err(concurrent_change(release, namespace, record.version));
        }
        let mut held = HeldLock::new(store, record, labels, lease, version);
        let every = (self.options.lease / 3).max(Duration::from_millis(500));
        held.start_renewal(every, self.store().api(namespace));
        Ok(held)
    }

    fn lease_seconds(&self) -> u64 {
        self.options.lease.as_secs().max(1)
    }

    /// `unlock`: recovers the release from the operation that holds it, if
    /// that operation is abandoned (expired lease), held by this very
    /// process, or `force` says so.
    pub async fn unlock(
        &self,
        release: &str,
        namespace: &str,
        force: bool,
        control: &Control,
    ) -> Result<UnlockOutcome, EngineError> {
        crate::release::validate_release_name(release)?;
        let history = self.managed_history(release, namespace).await?;
        let Some(last) = latest(&history) else {
            return Err(EngineError::NotFound {
                release: release.to_string(),
                namespace: namespace.to_string(),
            });
        };
        let state = lock_state(Some(last), clock::unix_now());
        let lease = match &state {
            LockState::Free => {
                return Err(EngineError::NotLocked {
                    release: release.to_string(),
                    namespace: namespace.to_string(),
                    revision: last.revision(),
                    status: last
                        .status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_else(|| "without a status".into()),
                });
            }
            LockState::Leased { expired: true, .. } => "expired",
            LockState::Leased { lease, .. } if force || lease.holder == instance_id() => "live",
            LockState::Unleased { .. } if force => "none",
            LockState::Leased {
                revision, lease, ..
            } => {
                return Err(EngineError::UnlockRefused {
                    release: release.to_string(),
                    namespace: namespace.to_string(),
                    held: Box::new(HeldBy {
                        revision: *revision,
                        holder: quote(&lease.holder),
                        since: rfc3339(lease.since),
                        detail: format!(
                            " and its lease is live (renewed {}, expires {})",
                            rfc3339(lease.renewed),
                            rfc3339(lease.expires())
                        ),
                        fix: format!(
                            "wait for that operation to finish; if that process is gone, wait until {} (the next \
                         operation then recovers the release by itself) or unlock with force \
                         (`k0rdent-mcp unlock {release} -n {namespace} --force`, or `force: true`)",
                            rfc3339(lease.expires())
                        ),
                    }),
                });
            }
            LockState::Unleased {
                revision,
                status,
                since,
            } => {
                return Err(EngineError::UnlockRefused {
                    release: release.to_string(),
                    namespace: namespace.to_string(),
                    held: Box::new(HeldBy {
                        revision: *revision,
                        holder: UNLEASED_HOLDER.to_string(),
                        since: since
                            .map(rfc3339)
                            .unwrap_or_else(|| "an unknown time".into()),
                        detail: format!(" ({}, no lease)", status.as_str()),
                        fix: format!(
                            "make sure no helm or k0rdent-mcp operation on {release} still runs, then unlock with \
                         force (`k0rdent-mcp unlock {release} -n {namespace} --force`, or `force: true`)"
                        ),
                    }),
                });
            }
        };
        let recovered = self
            .recover(release, namespace, &history, &state, control)
            .await?;
        Ok(UnlockOutcome {
            release: release.to_string(),
            namespace: namespace.to_string(),
            lease: lease.to_string(),
            recovered,
        })
    }

    /// Helm users' remediation, done for them: the stuck latest revision is
    /// taken over (a conditional write, so two recoverers cannot both
    /// proceed) and marked failed, then the release is rolled back to the
    /// newest revision that ran (deployed, or superseded by the stuck
    /// operation just before it died: see `recovery_target`), or, when none
    /// ever ran, a first install's objects are removed.
    async fn recover(
        &self,
        release: &str,
        namespace: &str,
        history: &[StoredRelease],
        state: &LockState,
        control: &Control,
    ) -> Result<Recovered, EngineError> {
        let Some(stuck) = latest(history) else {
            return Err(EngineError::Internal("recovery of an empty history".into()));
        };
        let (holder, since, expired_at) = match state {
            LockState::Leased { lease, .. } => (
                lease.holder.clone(),
                rfc3339(lease.since),
                lease
                    .is_expired(clock::unix_now())
                    .then(|| rfc3339(lease.expires())),
            ),
            LockState::Unleased { since, .. } => (
                UNLEASED_HOLDER.to_string(),
                since
                    .map(rfc3339)
                    .unwrap_or_else(|| "an unknown time".into()),
                None,
            ),
            LockState::Free => {
                return Err(EngineError::Internal("recovery of a free release".into()));
            }
        };
        let was = stuck
            .status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        let mut record = stuck.record.clone();
        if record
            .status()
            .is_some_and(|s| s.is_pending() || s == Status::Uninstalling)
        {
            record.info.status = Some(Status::Failed);
        }
        let why = match &expired_at {
            Some(at) => format!("its lease ran out at {at}"),
            None => "unlocked with force".to_string(),
        };
        record.info.description = format!(
            "{} interrupted ({was}, held by {} since {since}; {why}); recovered by {}",
            operation_name(stuck.status()),
            quote(&holder),
            instance_id()
        );
        let store = self.store();
        let lease = Lease::new(instance_id(), clock::unix_now(), self.lease_seconds());
        let version = stuck.resource_version.clone().unwrap_or_default();
        let labels = stuck.user_labels();
        let Ok(version) = store
            .replace_if_unchanged(&record, &labels, Some(&lease), &version)
            .await?
        else {
            return Err(concurrent_change(release, namespace, stuck.revision()));
        };
        tracing::warn!(
            release,
            namespace,
            revision = stuck.revision(),
            holder = %holder,
            since = %since,
            "recovering a release from an abandoned operation ({why})"
        );
        control.report(
            Step::Rollback,
            format!(
                "recovering {release}: revision {} ({was}) was held by {} since {since}; {why}",
                stuck.revision(),
                quote(&holder)
            ),
        );
        let held = HeldLock::new(store, &record, labels, lease, version);
        let deployed = recovery_target(history, stuck.revision());
        let mut recovered = Recovered {
            revision: stuck.revision(),
            status: was,
            holder: quote(&holder),
            since,
            expired_at,
            remediation: String::new(),
            rollback_revision: None,
            deleted: Vec::new(),
        };
        match deployed {
            Some(target) => {
                let done = self
                    .rollback_holding(
                        release,
                        namespace,
                        held,
                        &record,
                        target.revision(),
                        &Control::default(),
                    )
                    .await?;
                recovered.remediation = format!(
                    "marked revision {} failed and rolled back to revision {} (recorded as revision {})",
                    stuck.revision(),
                    target.revision(),
                    done.revision
                );
                recovered.rollback_revision = Some(done.revision);
            }
            None => {
                let deleted = self
                    .remove_first_install(release, namespace, &record)
                    .await?;
                held.release(&record).await?;
                recovered.remediation = format!(
                    "marked revision {} failed and removed the {} object(s) the interrupted first install created",
                    stuck.revision(),
                    deleted.len()
                );
                recovered.deleted = deleted.iter().map(ObjectKey::path).collect();
            }
        }
        Ok(recovered)
    }

    /// Rolls back to `to` while `held` (the latest revision, `held_record`)
    /// keeps everyone else out until the rollback's own revision exists;
    /// then releases `held` whatever the rollback's outcome.
    pub(super) async fn rollback_holding(
        &self,
        release: &str,
        namespace: &str,
        mut held: HeldLock<'a>,
        held_record: &ReleaseRecord,
        to: u32,
        control: &Control,
    ) -> Result<super::ReleaseOutcome, EngineError> {
        // A renewal would change the held Secret between the snapshot and
        // the rollback's check of it.
        held.stop_renewal().await;
        let history = self.managed_history(release, namespace).await?;
        let result = self
            .rollback_from(release, namespace, &history, Some(to), control)
            .await;
        held.release(held_record).await?;
        result
    }

    /// The normal objects of an abandoned first install that are still this
    /// release's, except those the chart keeps.
    async fn remove_first_install(
        &self,
        release: &str,
        namespace: &str,
        record: &ReleaseRecord,
    ) -> Result<Vec<ObjectKey>, EngineError> {
        let mut docs = parse_manifest_text(&record.manifest)?;
        sort_for_install(&mut docs);
        let mut deleted = Vec::new();
        for doc in docs.iter().rev() {
            if has_keep_policy(doc.annotations()) {
                continue;
            }
            let mut object = doc.object.clone();
            let key = self.cluster.key_for(&mut object, namespace).await?;
            let Some(live) = self.cluster.get(&key).await? else {
                continue;
            };
            // An object that existed before (not this release's) stays.
            if check_ownership(&live, &key, release, namespace).is_ok()
                && self.cluster.delete(&key).await?
            {
                deleted.push(key);
            }
        }
        Ok(deleted)
    }
}

fn operation_name(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::PendingInstall) => "install",
        Some(Status::PendingUpgrade) => "upgrade",
        Some(Status::PendingRollback) => "rollback",
        Some(Status::Uninstalling) => "uninstall",
        _ => "operation",
    }
}

/// "in progress since …, by …", with what the caller can do.
fn in_progress(release: &str, namespace: &str, state: &LockState) -> EngineError {
    let (revision, since, holder, detail, fix) = match state {
        LockState::Leased {
            revision,
            status,
            lease,
            ..
        } => (
            *revision,
            rfc3339(lease.since),
            quote(&lease.holder),
            format!(
                ", {}, lease renewed {}, expires {}",
                status.map(Status::as_str).unwrap_or("no status"),
                rfc3339(lease.renewed),
                rfc3339(lease.expires())
            ),
            format!(
                "wait for it to finish and retry; if that process is gone, the next operation after {} \
                 recovers the release by itself (or run `k0rdent-mcp unlock {release} -n {namespace} --force`)",
                rfc3339(lease.expires())
            ),
        ),
        LockState::Unleased {
            revision,
            status,
            since,
        } => (
            *revision,
            since
                .map(rfc3339)
                .unwrap_or_else(|| "an unknown time".into()),
            UNLEASED_HOLDER.to_string(),
            format!(", {}, no lease", status.as_str()),
            format!(
                "wait for it to finish and retry; if no helm or k0rdent-mcp operation on it still runs, \
                 run `k0rdent-mcp unlock {release} -n {namespace} --force` (or the unlock tool with \
                 force: true), which marks it failed and rolls back"
            ),
        ),
        LockState::Free => return concurrent_change(release, namespace, 0),
    };
    EngineError::InProgress {
        release: release.to_string(),
        namespace: namespace.to_string(),
        held: Box::new(HeldBy {
            revision,
            since,
            holder,
            detail,
            fix,
        }),
    }
}

/// Lost a race that ended before the loser could see the winner's lease.
fn concurrent_change(release: &str, namespace: &str, revision: u32) -> EngineError {
    EngineError::InProgress {
        release: release.to_string(),
        namespace: namespace.to_string(),
        held: Box::new(HeldBy {
            revision,
            since: rfc3339(clock::unix_now()),
            holder: "a concurrent operation".into(),
            detail: ", which changed the release while this one prepared; this one wrote nothing"
                .into(),
            fix: "retry: the release's history now includes that operation".into(),
        }),
    }
}
