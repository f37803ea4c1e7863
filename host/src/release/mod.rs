//! Helm release storage records: the JSON Helm keeps for every revision of a
//! release, and the Kubernetes Secret that holds it (Helm's default `secret`
//! storage driver), written so that real `helm list/history/get/upgrade/
//! rollback/uninstall` (v3.17 and v4.1) accept our releases and we can read
//! theirs.
//!
//! Pure logic: no I/O and no clock. Callers pass the time in. The cluster
//! I/O that reads and writes these records is `crate::engine`.
//!
//! Layers, outermost first (see `codec.rs` and `secret.rs`):
//! Secret JSON `data.release` = Kubernetes base64 of the *payload*;
//! payload = Helm's own base64 (standard, padded) of gzip of the *release JSON*;
//! release JSON = [`ReleaseRecord`] as Go's `json.Marshal` writes it.

mod builder;
mod codec;
mod go_json;
mod history;
mod record;
mod rendered_by;
mod secret;
mod status;
mod time;

pub use builder::{BuildError, NewRelease, chart_record_from_chart, validate_release_name};
pub use codec::{
    CodecError, MAX_RELEASE_JSON_BYTES, decode_release_json, decode_release_payload,
    encode_release_json, encode_release_payload,
};
pub use history::{
    DEFAULT_MAX_HISTORY, HistoryError, Revision, UpgradeBase, check_install_name_free,
    deployed_revisions, latest, latest_deployed, latest_per_release, next_revision,
    recovery_target, revisions_to_prune, sort_by_revision, upgrade_base, upgrade_should_install,
};
pub use record::{
    ApplyMethod, ChartDependency, ChartFileRecord, ChartLock, ChartMaintainer, ChartMetadataRecord,
    ChartRecord, HookEvent, HookPhase, HookRecord, HookRun, ReleaseInfo, ReleaseRecord,
    delete_policy, output_log_policy,
};
pub use rendered_by::{
    LABEL_PREFIX as RENDERED_BY_LABEL_PREFIX, RenderComponent, RenderedBy,
    clear_labels as clear_rendered_by_labels,
};
pub use secret::{
    ALL_RELEASES_SELECTOR, MAX_SECRET_DATA_BYTES, OWNER, RELEASE_DATA_KEY, SECRET_TYPE,
    SYSTEM_LABELS, SecretError, SecretWrite, StoredRelease, deployed_selector, history_selector,
    release_from_secret, release_secret, secret_name, validate_user_labels,
};
pub use status::{HelmMajor, Status};
pub use time::{HelmTime, RecordTime, TimeError};
