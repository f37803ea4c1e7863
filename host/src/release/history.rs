//! Choosing among a release's revisions as Helm's storage and actions do:
//! latest, deployed, what an upgrade builds on, what `helm list` shows and
//! which old revisions get pruned.
//!
//! Always by numeric revision. The Kubernetes API lists Secrets in name order
//! (`….v10` before `….v9`), and Helm itself trips over that in
//! `upgrade --install` (it looks at the last *listed* revision); the functions
//! here sort first, so they pick revision 10 over 9.

use super::record::ReleaseRecord;
use super::secret::StoredRelease;
use super::status::Status;

/// `--history-max` default (env `HELM_MAX_HISTORY`); 0 means unlimited.
pub const DEFAULT_MAX_HISTORY: usize = 10;

/// What the history functions need to know about a revision, so they work on
/// decoded records and on Secrets alike.
pub trait Revision {
    fn release_name(&self) -> &str;
    fn release_namespace(&self) -> &str;
    fn revision(&self) -> u32;
    fn status(&self) -> Option<Status>;
}

impl Revision for ReleaseRecord {
    fn release_name(&self) -> &str {
        &self.name
    }
    fn release_namespace(&self) -> &str {
        &self.namespace
    }
    fn revision(&self) -> u32 {
        self.version
    }
    fn status(&self) -> Option<Status> {
        self.info.status
    }
}

impl Revision for StoredRelease {
    fn release_name(&self) -> &str {
        self.record.release_name()
    }
    fn release_namespace(&self) -> &str {
        self.record.release_namespace()
    }
    fn revision(&self) -> u32 {
        self.record.revision()
    }
    fn status(&self) -> Option<Status> {
        Revision::status(&self.record)
    }
}

impl<T: Revision> Revision for &T {
    fn release_name(&self) -> &str {
        (*self).release_name()
    }
    fn release_namespace(&self) -> &str {
        (*self).release_namespace()
    }
    fn revision(&self) -> u32 {
        (*self).revision()
    }
    fn status(&self) -> Option<Status> {
        (*self).status()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// Helm: `"<name>" has no deployed releases` (also for no history at all).
    #[error("{0:?} has no deployed releases")]
    NoDeployedReleases(String),
    /// Helm's `errPending`: the latest revision is pending-*.
    #[error("another operation (install/upgrade/rollback) is in progress")]
    OperationInProgress,
    /// Install over an existing release without `--replace` (or `--replace`
    /// while the latest revision is neither uninstalled nor failed).
    #[error("cannot reuse a name that is still in use")]
    NameInUse,
}

/// Oldest first, by revision number (stable for equal numbers).
pub fn sort_by_revision<T: Revision>(history: &mut [T]) {
    history.sort_by_key(Revision::revision);
}

/// Helm's `Last`: the highest revision, whatever its status.
pub fn latest<T: Revision>(history: &[T]) -> Option<&T> {
    history.iter().max_by_key(|r| r.revision())
}

/// Helm's `Deployed`: the highest revision with status `deployed` (normally
/// there is at most one; only `deployed` counts, not pending or superseded).
pub fn latest_deployed<T: Revision>(history: &[T]) -> Option<&T> {
    history
        .iter()
        .filter(|r| r.status() == Some(Status::Deployed))
        .max_by_key(|r| r.revision())
}

/// The revision a new install/upgrade/rollback gets: latest + 1, or 1.
pub fn next_revision<T: Revision>(history: &[T]) -> u32 {
    latest(history).map_or(1, |r| r.revision() + 1)
}

/// The revisions an upgrade starts from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UpgradeBase<'a, T> {
    /// The highest revision; the new one is `last + 1`.
    pub last: &'a T,
    /// What the upgrade diffs against and marks superseded: `last` if it is
    /// deployed, else the latest deployed, else `last` if it failed or was
    /// superseded.
    pub current: &'a T,
}

/// Helm's `prepareUpgrade` choice of last and current revision.
pub fn upgrade_base<'a, T: Revision>(
    release: &str,
    history: &'a [T],
) -> Result<UpgradeBase<'a, T>, HistoryError> {
    let last =
        latest(history).ok_or_else(|| HistoryError::NoDeployedReleases(release.to_string()))?;
    let last_status = last.status();
    if last_status.is_some_and(Status::is_pending) {
        return Err(HistoryError::OperationInProgress);
    }
    let current = if last_status == Some(Status::Deployed) {
        last
    } else if let Some(deployed) = latest_deployed(history) {
        deployed
    } else if matches!(last_status, Some(Status::Failed | Status::Superseded)) {
        last
    } else {
        return Err(HistoryError::NoDeployedReleases(release.to_string()));
    };
    Ok(UpgradeBase { last, current })
}

/// Helm's install name check: free when there is no history, or with
/// `--replace` when the latest revision is uninstalled or failed.
pub fn check_install_name_free<T: Revision>(
    history: &[T],
    replace: bool,
) -> Result<(), HistoryError> {
    match latest(history).map(|r| r.status()) {
        None => Ok(()),
        Some(Some(Status::Uninstalled | Status::Failed)) if replace => Ok(()),
        Some(_) => Err(HistoryError::NameInUse),
    }
}

/// Whether `upgrade --install` should install: no history, or the latest
/// revision is uninstalled (kept with `--keep-history`). Helm decides this
/// on the last revision in API order, which with 10+ revisions is not the
/// latest and makes it fail with "has no deployed releases"; this decides
/// on the numerically latest revision instead.
pub fn upgrade_should_install<T: Revision>(history: &[T]) -> bool {
    latest(history).is_none_or(|r| r.status() == Some(Status::Uninstalled))
}

/// The revision an interrupted operation's recovery rolls back to: the
/// newest one below `stuck` that is `deployed` or `superseded`. An upgrade
/// or rollback marks the previous revision superseded *before* its own
/// becomes deployed, so a process that dies in between leaves no deployed
/// revision at all; the superseded one is still what runs, and removing the
/// stuck revision's objects (as for a first install) would delete objects
/// that revision owns. `None` only when no revision below ever deployed
/// (a first install, or one after a kept uninstall or failed installs).
pub fn recovery_target<T: Revision>(history: &[T], stuck: u32) -> Option<&T> {
    history
        .iter()
        .filter(|r| r.revision() < stuck)
        .filter(|r| matches!(r.status(), Some(Status::Deployed | Status::Superseded)))
        .max_by_key(|r| r.revision())
}

/// Revisions currently `deployed`; a rollback marks all of them superseded.
pub fn deployed_revisions<T: Revision>(history: &[T]) -> Vec<u32> {
    let mut revisions: Vec<u32> = history
        .iter()
        .filter(|r| r.status() == Some(Status::Deployed))
        .map(Revision::revision)
        .collect();
    revisions.sort_unstable();
    revisions
}

/// `helm list`'s rows before status filtering: the highest revision of each
/// release (keyed by namespace and name), sorted by name as `helm list` is
/// by default. Filter the result by status afterwards, as Helm does (see
/// [`Status::listed_by_default`]), so an old deployed revision never shows
/// for a release whose latest revision is uninstalled.
pub fn latest_per_release<T: Revision>(all: &[T]) -> Vec<&T> {
    let mut latest: std::collections::BTreeMap<(&str, &str), &T> = Default::default();
    for entry in all {
        let key = (entry.release_name(), entry.release_namespace());
        match latest.get(&key) {
            Some(kept) if kept.revision() > entry.revision() => {}
            _ => {
                latest.insert(key, entry);
            }
        }
    }
    latest.into_values().collect()
}

/// Revisions Helm deletes before storing a new revision when the history is
/// capped at `max_history` (0 = unlimited), oldest first. Mirrors Helm's
/// `removeLeastRecent(max_history - 1)`: keep at most `max_history - 1`
/// existing revisions so the new one makes `max_history`, never deleting the
/// latest deployed revision. Helm applies this on upgrade and rollback only.
pub fn revisions_to_prune<T: Revision>(history: &[T], max_history: usize) -> Vec<u32> {
    if max_history == 0 {
        return Vec::new();
    }
    let keep = max_history - 1;
    if history.len() <= keep {
        return Vec::new();
    }
    let protected = latest_deployed(history).map(Revision::revision);
    let mut oldest_first: Vec<u32> = history.iter().map(Revision::revision).collect();
    oldest_first.sort_unstable();
    let mut doomed = Vec::new();
    for revision in &oldest_first {
        if oldest_first.len() - doomed.len() == keep {
            break;
        }
        if Some(*revision) != protected {
            doomed.push(*revision);
        }
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Rev(&'static str, u32, Status);

    impl Revision for Rev {
        fn release_name(&self) -> &str {
            self.0
        }
        fn release_namespace(&self) -> &str {
            "ns"
        }
        fn revision(&self) -> u32 {
            self.1
        }
        fn status(&self) -> Option<Status> {
            Some(self.2)
        }
    }

    /// Revisions 1..=12 in the order the API lists their Secrets (by name).
    fn twelve_in_api_order(latest_status: Status) -> Vec<Rev> {
        let mut names: Vec<String> = (1..=12).map(|n| format!("r.v{n}")).collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let revision: u32 = n.trim_start_matches("r.v").parse().unwrap();
                let status = if revision == 12 {
                    latest_status
                } else {
                    Status::Superseded
                };
                Rev("r", revision, status)
            })
            .collect()
    }

    #[test]
    fn twelve_revisions_order_numerically_not_by_name() {
        let mut history = twelve_in_api_order(Status::Deployed);
        assert_eq!(history.last().unwrap().1, 9, "API order puts v9 last");
        assert_eq!(latest(&history).unwrap().1, 12);
        assert_eq!(next_revision(&history), 13);
        sort_by_revision(&mut history);
        let order: Vec<u32> = history.iter().map(|r| r.1).collect();
        assert_eq!(order, (1..=12).collect::<Vec<_>>());
    }

    #[test]
    fn upgrade_install_sees_the_uninstalled_twelfth_revision() {
        // Helm's bug: it reads v9 (superseded) and fails instead of installing.
        let history = twelve_in_api_order(Status::Uninstalled);
        assert!(upgrade_should_install(&history));
        assert!(upgrade_should_install::<Rev>(&[]));
        assert!(!upgrade_should_install(&twelve_in_api_order(
            Status::Deployed
        )));
    }

    #[test]
    fn recovery_rolls_back_to_the_newest_revision_that_ran() {
        use Status::*;
        let target = |h: &[Rev], stuck| recovery_target(h, stuck).map(|r| r.1);
        // Killed between "previous superseded" and "new deployed": no
        // deployed revision is left, the superseded one still runs.
        let h = [
            Rev("r", 1, Superseded),
            Rev("r", 2, Superseded),
            Rev("r", 3, PendingUpgrade),
        ];
        assert_eq!(target(&h, 3), Some(2));
        let h = [Rev("r", 1, Superseded), Rev("r", 2, PendingRollback)];
        assert_eq!(target(&h, 2), Some(1));
        // The deployed one wins over older superseded ones, failed ones never count.
        let h = [
            Rev("r", 1, Superseded),
            Rev("r", 2, Deployed),
            Rev("r", 3, Failed),
            Rev("r", 4, PendingUpgrade),
        ];
        assert_eq!(target(&h, 4), Some(2));
        // An uninstall's lock copies the latest revision as the next one.
        let h = [Rev("r", 1, Deployed), Rev("r", 2, Uninstalling)];
        assert_eq!(target(&h, 2), Some(1));
        // A first install, after a kept uninstall, or after failed installs:
        // nothing to roll back to.
        assert_eq!(target(&[Rev("r", 1, PendingInstall)], 1), None);
        let h = [Rev("r", 1, Uninstalled), Rev("r", 2, PendingInstall)];
        assert_eq!(target(&h, 2), None);
        let h = [Rev("r", 1, Failed), Rev("r", 2, PendingUpgrade)];
        assert_eq!(target(&h, 2), None);
        // Only revisions below the stuck one.
        let h = [Rev("r", 1, Deployed), Rev("r", 2, PendingUpgrade)];
        assert_eq!(target(&h, 1), None);
    }

    #[test]
    fn upgrade_base_follows_helm() {
        use Status::*;
        let h = [Rev("r", 1, Superseded), Rev("r", 2, Deployed)];
        let base = upgrade_base("r", &h).unwrap();
        assert_eq!((base.last.1, base.current.1), (2, 2));

        let h = [Rev("r", 1, Deployed), Rev("r", 2, Failed)];
        let base = upgrade_base("r", &h).unwrap();
        assert_eq!((base.last.1, base.current.1), (2, 1));

        // A failed rollback leaves no deployed revision: build on the last.
        let h = [Rev("r", 1, Superseded), Rev("r", 2, Failed)];
        assert_eq!(upgrade_base("r", &h).unwrap().current.1, 2);

        for pending in [PendingInstall, PendingUpgrade, PendingRollback] {
            let h = [Rev("r", 1, Deployed), Rev("r", 2, pending)];
            assert_eq!(
                upgrade_base("r", &h),
                Err(HistoryError::OperationInProgress)
            );
        }
        let h = [Rev("r", 1, Uninstalled)];
        let err = upgrade_base("r", &h).unwrap_err();
        assert_eq!(err.to_string(), "\"r\" has no deployed releases");
        assert!(upgrade_base::<Rev>("r", &[]).is_err());
    }

    #[test]
    fn install_name_check_follows_helm() {
        use Status::*;
        assert!(check_install_name_free::<Rev>(&[], false).is_ok());
        let failed = [Rev("r", 1, Failed)];
        assert_eq!(
            check_install_name_free(&failed, false),
            Err(HistoryError::NameInUse)
        );
        assert!(check_install_name_free(&failed, true).is_ok());
        let uninstalled = [Rev("r", 1, Deployed), Rev("r", 2, Uninstalled)];
        assert!(check_install_name_free(&uninstalled, true).is_ok());
        let deployed = [Rev("r", 1, Deployed)];
        assert!(check_install_name_free(&deployed, true).is_err());
    }

    #[test]
    fn list_shows_the_latest_revision_of_each_release() {
        use Status::*;
        let all = [
            Rev("b", 9, Superseded),
            Rev("b", 10, Uninstalled),
            Rev("a", 1, Deployed),
            Rev("b", 2, Superseded),
        ];
        let rows: Vec<(&str, u32)> = latest_per_release(&all)
            .iter()
            .map(|r| (r.0, r.1))
            .collect();
        assert_eq!(rows, [("a", 1), ("b", 10)]);
    }

    #[test]
    fn pruning_keeps_max_minus_one_and_never_the_deployed() {
        use Status::*;
        // The traced `--history-max 3` runs: revisions 1..4, 4 deployed,
        // before revision 5 is stored: 1 and 2 go, 3 4 (and then 5) stay.
        let h: Vec<Rev> = (1..=4)
            .map(|n| Rev("r", n, if n == 4 { Deployed } else { Superseded }))
            .collect();
        assert_eq!(revisions_to_prune(&h, 3), [1, 2]);
        assert_eq!(
            revisions_to_prune(&h, DEFAULT_MAX_HISTORY),
            Vec::<u32>::new()
        );
        assert_eq!(revisions_to_prune(&h, 0), Vec::<u32>::new());
        assert_eq!(revisions_to_prune(&h, 1), [1, 2, 3]);

        // The deployed revision is skipped even when it is the oldest.
        let h = [
            Rev("r", 1, Deployed),
            Rev("r", 2, Failed),
            Rev("r", 3, Failed),
            Rev("r", 4, Failed),
            Rev("r", 5, Failed),
        ];
        assert_eq!(revisions_to_prune(&h, 3), [2, 3, 4]);

        // Twelve revisions in API order with the default cap keep 4..=12.
        let h = twelve_in_api_order(Deployed);
        assert_eq!(revisions_to_prune(&h, DEFAULT_MAX_HISTORY), [1, 2, 3]);
    }

    #[test]
    fn deployed_revisions_are_all_that_a_rollback_supersedes() {
        use Status::*;
        let h = [
            Rev("r", 3, Deployed),
            Rev("r", 1, Deployed),
            Rev("r", 2, Failed),
        ];
        assert_eq!(deployed_revisions(&h), [1, 3]);
    }
}
