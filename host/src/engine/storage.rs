//! Release records in Secrets, through the API: Helm's Secret driver
//! (create a revision, update it, list a release's history, delete).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, Preconditions};
use serde_json::json;

use crate::cluster::{Cluster, ClusterError};
use crate::release::{
    ALL_RELEASES_SELECTOR, ReleaseRecord, SecretError, SecretWrite, Status, StoredRelease,
    history_selector, latest_per_release, release_from_secret, release_secret, secret_name,
    sort_by_revision, validate_release_name,
};

use super::error::EngineError;
use super::lease::{Lease, RENEWED_ANNOTATION, rfc3339};

/// A conditional write found the Secret changed (or gone) since it was read.
#[derive(Debug)]
pub(super) struct Changed;

pub struct ReleaseStore<'a> {
    cluster: &'a Cluster,
}

impl<'a> ReleaseStore<'a> {
    pub fn new(cluster: &'a Cluster) -> Self {
        ReleaseStore { cluster }
    }

    pub(super) fn api(&self, namespace: &str) -> Api<Secret> {
        Api::namespaced(self.cluster.client().clone(), namespace)
    }

    /// Every revision of `release`, oldest first.
    pub async fn history(
        &self,
        release: &str,
        namespace: &str,
    ) -> Result<Vec<StoredRelease>, EngineError> {
        // The name goes into a label selector: an unchecked one could widen it.
        validate_release_name(release)?;
        let list = self
            .api(namespace)
            .list(&ListParams::default().labels(&history_selector(release)))
            .await
            .map_err(|e| {
                ClusterError::api(
                    "list",
                    format!("release Secrets of {release:?} in namespace {namespace:?}"),
                    e,
                )
            })?;
        decode_sorted(list.items)
    }

    /// Every revision of every release in `namespace` (all namespaces when
    /// `None`), oldest first per release.
    pub async fn all(&self, namespace: Option<&str>) -> Result<Vec<StoredRelease>, EngineError> {
        let api: Api<Secret> = match namespace {
            Some(ns) => self.api(ns),
            None => Api::all(self.cluster.client().clone()),
        };
        let list = api
            .list(&ListParams::default().labels(ALL_RELEASES_SELECTOR))
            .await
            .map_err(|e| {
                let scope = namespace
                    .map(|ns| format!("in namespace {ns:?}"))
                    .unwrap_or_else(|| "in all namespaces".into());
                ClusterError::api("list", format!("release Secrets {scope}"), e)
            })?;
        decode_sorted(list.items)
    }

    /// `helm list`: the latest revision of each release in `namespace` (all
    /// namespaces when `None`), by namespace and name. Releases whose latest
    /// revision is superseded or uninstalled (kept history) only with `all`.
    pub async fn latest_releases(
        &self,
        namespace: Option<&str>,
        all: bool,
    ) -> Result<Vec<StoredRelease>, EngineError> {
        let every = self.all(namespace).await?;
        let mut out: Vec<StoredRelease> = latest_per_release(&every)
            .into_iter()
            .filter(|r| {
                all || !matches!(
                    r.record.status(),
                    Some(Status::Uninstalled | Status::Superseded)
                )
            })
            .cloned()
            .collect();
        out.sort_by(|a, b| {
            (a.record.namespace.as_str(), a.record.name.as_str())
                .cmp(&(b.record.namespace.as_str(), b.record.name.as_str()))
        });
        Ok(out)
    }

    fn secret(
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
        write: SecretWrite,
    ) -> Result<Secret, EngineError> {
        let value = release_secret(record, labels, write, super::clock::unix_now())?;
        serde_json::from_value(value).map_err(|e| EngineError::Internal(e.to_string()))
    }

    /// Creates a revision's Secret without a lease, as Helm's driver does
    /// (such a pending record counts as held by helm: see `lease.rs`).
    pub async fn create(
        &self,
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let secret = Self::secret(record, labels, SecretWrite::Create)?;
        self.api(&record.namespace)
            .create(&PostParams::default(), &secret)
            .await
            .map_err(|e| ClusterError::api("create", describe(record), e))?;
        Ok(())
    }

    /// Creates the revision's Secret carrying `lease`: the create is the
    /// lock, so of two operations that read the same history exactly one
    /// succeeds; `Ok(None)` for the other (the name exists). Returns the new
    /// Secret's resourceVersion.
    pub(super) async fn create_leased(
        &self,
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
        lease: &Lease,
    ) -> Result<Option<String>, EngineError> {
        let mut secret = Self::secret(record, labels, SecretWrite::Create)?;
        secret.metadata.annotations = Some(lease.annotations());
        match self
            .api(&record.namespace)
            .create(&PostParams::default(), &secret)
            .await
        {
            Ok(created) => Ok(Some(created.metadata.resource_version.unwrap_or_default())),
            Err(kube::Error::Api(status)) if status.code == 409 => Ok(None),
            Err(e) => Err(ClusterError::api("create", describe(record), e).into()),
        }
    }

    /// PUT of `record` only if its Secret is still at `resource_version`,
    /// with `lease` as its annotations (none: the lock is released).
    /// Returns the new resourceVersion.
    pub(super) async fn replace_if_unchanged(
        &self,
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
        lease: Option<&Lease>,
        resource_version: &str,
    ) -> Result<Result<String, Changed>, EngineError> {
        let mut secret = Self::secret(record, labels, SecretWrite::Update)?;
        secret.metadata.annotations = lease.map(Lease::annotations);
        secret.metadata.resource_version = Some(resource_version.to_string());
        match self
            .api(&record.namespace)
            .replace(
                &secret_name(&record.name, record.version),
                &PostParams::default(),
                &secret,
            )
            .await
        {
            Ok(written) => Ok(Ok(written.metadata.resource_version.unwrap_or_default())),
            Err(kube::Error::Api(status)) if matches!(status.code, 409 | 404) => Ok(Err(Changed)),
            Err(e) => Err(ClusterError::api("update", describe(record), e).into()),
        }
    }

    /// One revision, if its Secret exists.
    pub(super) async fn get(
        &self,
        release: &str,
        namespace: &str,
        revision: u32,
    ) -> Result<Option<StoredRelease>, EngineError> {
        let name = secret_name(release, revision);
        let secret = self.api(namespace).get_opt(&name).await.map_err(|e| {
            ClusterError::api(
                "get",
                format!("Secret {name:?} in namespace {namespace:?}"),
                e,
            )
        })?;
        match secret {
            None => Ok(None),
            Some(secret) => Ok(decode_sorted(vec![secret])?.pop()),
        }
    }

    /// Deletes a revision's Secret only if it is still at `resource_version`
    /// (a lock this operation holds and nobody took over).
    pub(super) async fn delete_if_unchanged(
        &self,
        release: &str,
        namespace: &str,
        revision: u32,
        resource_version: &str,
    ) -> Result<Result<(), Changed>, EngineError> {
        let name = secret_name(release, revision);
        let params = DeleteParams {
            preconditions: Some(Preconditions {
                resource_version: Some(resource_version.to_string()),
                uid: None,
            }),
            ..DeleteParams::default()
        };
        match self.api(namespace).delete(&name, &params).await {
            Ok(_) => Ok(Ok(())),
            Err(kube::Error::Api(status)) if matches!(status.code, 409 | 404) => Ok(Err(Changed)),
            Err(e) => Err(ClusterError::api(
                "delete",
                format!("Secret {name:?} in namespace {namespace:?}"),
                e,
            )
            .into()),
        }
    }

    /// Unconditional PUT, as Helm's driver does.
    pub async fn update(
        &self,
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let secret = Self::secret(record, labels, SecretWrite::Update)?;
        self.api(&record.namespace)
            .replace(
                &secret_name(&record.name, record.version),
                &PostParams::default(),
                &secret,
            )
            .await
            .map_err(|e| ClusterError::api("update", describe(record), e))?;
        Ok(())
    }

    pub async fn delete(
        &self,
        release: &str,
        namespace: &str,
        revision: u32,
    ) -> Result<(), EngineError> {
        let name = secret_name(release, revision);
        match self
            .api(namespace)
            .delete(&name, &DeleteParams::default())
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
            Err(e) => Err(ClusterError::api(
                "delete",
                format!("Secret {name:?} in namespace {namespace:?}"),
                e,
            )
            .into()),
        }
    }
}

/// Release records from listed Secrets, by revision number.
fn decode_sorted(secrets: Vec<Secret>) -> Result<Vec<StoredRelease>, EngineError> {
    let mut out = Vec::new();
    for secret in secrets {
        let value =
            serde_json::to_value(&secret).map_err(|e| EngineError::Internal(e.to_string()))?;
        out.push(release_from_secret(&value)?);
    }
    sort_by_revision(&mut out);
    Ok(out)
}

/// Moves the lease's renewal time to `now` if the Secret is still at
/// `resource_version`; a plain function over an owned `Api` so the renewal
/// task needs no borrow of the engine.
pub(super) async fn renew(
    api: &Api<Secret>,
    name: &str,
    resource_version: &str,
    now: i64,
) -> Result<Result<String, Changed>, kube::Error> {
    let patch = json!({"metadata": {
        "resourceVersion": resource_version,
        "annotations": {RENEWED_ANNOTATION: rfc3339(now)},
    }});
    match api
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(written) => Ok(Ok(written.metadata.resource_version.unwrap_or_default())),
        Err(kube::Error::Api(status)) if matches!(status.code, 409 | 404) => Ok(Err(Changed)),
        Err(e) => Err(e),
    }
}

fn describe(record: &ReleaseRecord) -> String {
    format!(
        "release Secret {:?} in namespace {:?}",
        secret_name(&record.name, record.version),
        record.namespace
    )
}

impl From<SecretError> for EngineError {
    fn from(e: SecretError) -> Self {
        EngineError::Storage(e.to_string())
    }
}
