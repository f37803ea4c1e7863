//! Drift: the objects of a release's last deployed revision against the live
//! ones. An object deleted outside the release is `missing`; one whose
//! fields *the release set* now differ is `changed` (fields others added,
//! and those the server manages, do not count). `ignore` rules hide fields.
//! Reads only; repairing is an upgrade with `force_conflicts`.

use schemars::JsonSchema;
use serde::Serialize;

use crate::cluster::add_ownership;
use crate::release::{Revision, latest_deployed, validate_release_name};

use super::ReleaseEngine;
use super::diff::{Compare, MAX_OBJECTS, ObjectAction, ObjectChange, changes, normalise};
use super::documents::parse_manifest_text;
use super::error::EngineError;
use super::plan::live_value;
use super::pointer::{IgnoreRule, Pointer};

/// A release's drift from its last deployed revision.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DriftReport {
    pub release: String,
    pub namespace: String,
    /// The deployed revision compared.
    pub revision: u32,
    /// Some object is `missing` or `changed`.
    pub drifted: bool,
    /// Every object of the revision's manifest, in stored order.
    pub objects: Vec<ObjectChange>,
    /// Objects left out of `objects` beyond the first [`MAX_OBJECTS`].
    pub omitted: usize,
}

impl ReleaseEngine<'_> {
    /// Compares the last deployed revision of `release` with the cluster.
    pub async fn drift(
        &self,
        release: &str,
        namespace: &str,
        ignore: &[IgnoreRule],
    ) -> Result<DriftReport, EngineError> {
        validate_release_name(release)?;
        let history = self.managed_history(release, namespace).await?;
        if history.is_empty() {
            return Err(EngineError::NotFound {
                release: release.to_string(),
                namespace: namespace.to_string(),
            });
        }
        let deployed = latest_deployed(&history).ok_or_else(|| {
            EngineError::history(
                release,
                namespace,
                crate::release::HistoryError::NoDeployedReleases(release.to_string()),
            )
        })?;
        let mut objects = Vec::new();
        for doc in parse_manifest_text(&deployed.record.manifest)? {
            let mut desired = doc.object;
            let key = self.cluster.key_for(&mut desired, namespace).await?;
            // The engine (and helm) add these on apply; removing them is drift too.
            add_ownership(&mut desired, release, namespace);
            let hidden = |pointer: &Pointer| {
                ignore
                    .iter()
                    .any(|rule| rule.hides(&key.kind, &key.name, pointer))
            };
            let change = match self.cluster.get(&key).await? {
                None if hidden(&Pointer::root()) => {
                    ObjectChange::new(key.path(), ObjectAction::Unchanged)
                }
                None => ObjectChange::new(key.path(), ObjectAction::Missing),
                Some(live) => {
                    let mut live = live_value(&live)?;
                    normalise(&mut live);
                    normalise(&mut desired);
                    let (fields, truncated) = changes(
                        &desired,
                        &live,
                        Compare::DesiredFields,
                        ignore,
                        &key.kind,
                        &key.name,
                    );
                    let action = if fields.is_empty() {
                        ObjectAction::Unchanged
                    } else {
                        ObjectAction::Changed
                    };
                    let mut change = ObjectChange::new(key.path(), action);
                    change.changes = fields;
                    change.changes_truncated = truncated;
                    change
                }
            };
            objects.push(change);
        }
        let drifted = objects
            .iter()
            .any(|o| matches!(o.action, ObjectAction::Missing | ObjectAction::Changed));
        let omitted = objects.len().saturating_sub(MAX_OBJECTS);
        objects.truncate(MAX_OBJECTS);
        Ok(DriftReport {
            release: release.to_string(),
            namespace: namespace.to_string(),
            revision: deployed.revision(),
            drifted,
            objects,
            omitted,
        })
    }
}
