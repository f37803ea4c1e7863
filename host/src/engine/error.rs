//! Engine errors: every one names the release or object and says what to do.

use crate::cluster::ClusterError;
use crate::release::{BuildError, HistoryError};
use crate::render::RenderFailure;

use super::documents::DocumentError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Render(#[from] RenderFailure),
    #[error(transparent)]
    Documents(#[from] DocumentError),
    /// Built through `From`, which turns the cluster layer's cancellation
    /// into [`EngineError::Cancelled`].
    #[error(transparent)]
    Cluster(ClusterError),
    #[error("release {release:?} in namespace {namespace:?}: {source}; fix: {fix}")]
    History {
        release: String,
        namespace: String,
        source: HistoryError,
        fix: String,
    },
    #[error("release record: {0}")]
    Build(#[from] BuildError),
    #[error("release storage: {0}")]
    Storage(String),
    /// A hook could not be created or did not succeed.
    #[error("warning: Hook {event} {path} failed: {message}")]
    Hook {
        event: &'static str,
        path: String,
        message: String,
    },
    /// The operation failed after its revision was recorded; the revision is
    /// now `failed` (Helm's `INSTALLATION FAILED`/`UPGRADE FAILED`).
    #[error("{operation} FAILED: release {release:?} revision {revision} is now failed: {source}")]
    Failed {
        operation: &'static str,
        release: String,
        revision: u32,
        #[source]
        source: Box<EngineError>,
    },
    /// The upgrade failed and the release was rolled back (rollback on
    /// failure); the cluster is as the previous revision left it.
    #[error(
        "{operation} FAILED: release {release:?} revision {revision} failed and was rolled back to revision \
         {rolled_back_to} (recorded as revision {rollback_revision}): {source}"
    )]
    RolledBack {
        operation: &'static str,
        release: String,
        revision: u32,
        rolled_back_to: u32,
        rollback_revision: u32,
        #[source]
        source: Box<EngineError>,
    },
    /// The upgrade failed and so did the rollback after it.
    #[error(
        "{operation} FAILED: release {release:?} revision {revision} failed: {source}; the rollback to revision \
         {rolled_back_to} failed too: {rollback}; fix: inspect with `k0rdent-mcp history {release}` and roll back by hand"
    )]
    RollbackFailed {
        operation: &'static str,
        release: String,
        revision: u32,
        rolled_back_to: u32,
        #[source]
        source: Box<EngineError>,
        rollback: Box<EngineError>,
    },
    #[error(
        "release {release:?} in namespace {namespace:?} has no revision {revision}; fix: pick one of {available}"
    )]
    NoSuchRevision {
        release: String,
        namespace: String,
        revision: u32,
        available: String,
    },
    /// The caller cancelled while the engine was waiting.
    #[error("cancelled by the caller during {during}")]
    Cancelled { during: String },
    #[error(
        "release {release:?} in namespace {namespace:?} not found; fix: check the name and namespace (helm list -n {namespace})"
    )]
    NotFound { release: String, namespace: String },
    /// The release is not one this operation may act on (see `managed.rs`).
    #[error("release {release:?} in namespace {namespace:?} is refused: {reason}; fix: {fix}")]
    OutOfScope {
        release: String,
        namespace: String,
        reason: String,
        fix: String,
    },
    /// Another operation holds the release's lock (see `lock.rs`).
    #[error(
        "release {release:?} in namespace {namespace:?}: another operation is in progress since {}, by {} \
         (revision {}{}); fix: {}",
        .held.since, .held.holder, .held.revision, .held.detail, .held.fix
    )]
    InProgress {
        release: String,
        namespace: String,
        held: Box<HeldBy>,
    },
    /// This operation's lease was taken over (it had expired, or someone
    /// unlocked the release with force) while it ran; it stopped writing.
    #[error(
        "release {release:?} in namespace {namespace:?}: this operation lost its lock on revision {revision}: \
         {what}; it stopped without writing the release record again; fix: inspect with \
         `k0rdent-mcp history {release} -n {namespace}` and run the operation again (raise --lock-lease if \
         the cluster is slow to answer)"
    )]
    LockLost {
        release: String,
        namespace: String,
        revision: u32,
        what: String,
    },
    /// `unlock` on a release no operation holds.
    #[error(
        "release {release:?} in namespace {namespace:?} is not locked: its latest revision {revision} is {status} \
         with no lease; nothing to unlock"
    )]
    NotLocked {
        release: String,
        namespace: String,
        revision: u32,
        status: String,
    },
    /// `unlock` without force on a lock that may still be in use.
    #[error(
        "release {release:?} in namespace {namespace:?}: unlock refused: revision {} is held by {} \
         since {}{}; fix: {}",
        .held.revision, .held.holder, .held.since, .held.detail, .held.fix
    )]
    UnlockRefused {
        release: String,
        namespace: String,
        held: Box<HeldBy>,
    },
    /// Applying would take fields another field manager owns, and the
    /// caller did not ask to force (server-side apply conflict).
    #[error(
        "release {release:?} in namespace {namespace:?}: applying {object} conflicts with another field \
         manager: {message}; fix: if the release should own these fields again (drift \
         repair), run the upgrade again with --force-conflicts (MCP: force_conflicts: true), which takes \
         them; otherwise stop the other writer or leave its fields out of the values"
    )]
    Conflict {
        release: String,
        namespace: String,
        object: String,
        /// The API server's words: the fields and the managers that own them.
        message: String,
    },
    /// A bad `ignore` rule of a drift check.
    #[error(transparent)]
    Ignore(#[from] super::pointer::IgnoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// Who holds a release's lock, and what the caller can do about it.
#[derive(Debug)]
pub struct HeldBy {
    pub revision: u32,
    pub holder: String,
    pub since: String,
    /// `, pending-upgrade, lease renewed …` (starts with a separator).
    pub detail: String,
    pub fix: String,
}

impl From<ClusterError> for EngineError {
    fn from(err: ClusterError) -> Self {
        match err {
            ClusterError::Cancelled { during } => EngineError::Cancelled { during },
            other => EngineError::Cluster(other),
        }
    }
}

impl EngineError {
    /// `another operation (install/upgrade/rollback) is in progress`.
    pub fn in_progress(release: &str, namespace: &str) -> Self {
        Self::history(release, namespace, HistoryError::OperationInProgress)
    }

    /// The error at the root of a failed operation (what went wrong, without
    /// the "FAILED, rolled back" wrapping).
    pub fn root(&self) -> &EngineError {
        match self {
            EngineError::Failed { source, .. }
            | EngineError::RolledBack { source, .. }
            | EngineError::RollbackFailed { source, .. } => source.root(),
            other => other,
        }
    }

    pub(crate) fn history(release: &str, namespace: &str, source: HistoryError) -> Self {
        let fix = match source {
            HistoryError::OperationInProgress => format!(
                "wait for the running operation to finish; if none is running (a crashed client), \
                 run `k0rdent-mcp unlock {release} -n {namespace}` (`--force` for a record without \
                 a lease), which marks it failed and rolls back"
            ),
            HistoryError::NoDeployedReleases(_) => {
                format!("uninstall it (helm uninstall {release} -n {namespace}) and install again")
            }
            HistoryError::NameInUse => {
                "choose another release name or upgrade this one".to_string()
            }
        };
        EngineError::History {
            release: release.to_string(),
            namespace: namespace.to_string(),
            source,
            fix,
        }
    }
}
