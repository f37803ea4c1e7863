//! Release records in Secrets, through the API: Helm's Secret driver
//! (create a revision, update it, list a release's history, delete).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::cluster::{Cluster, ClusterError};
use crate::release::{
    ALL_RELEASES_SELECTOR, ReleaseRecord, SecretError, SecretWrite, Status, StoredRelease,
    history_selector, latest_per_release, release_from_secret, release_secret, secret_name,
    sort_by_revision, validate_release_name,
};

use super::error::EngineError;

pub struct ReleaseStore<'a> {
    cluster: &'a Cluster,
}

impl<'a> ReleaseStore<'a> {
    pub fn new(cluster: &'a Cluster) -> Self {
        ReleaseStore { cluster }
    }

    fn api(&self, namespace: &str) -> Api<Secret> {
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

    pub async fn create(
        &self,
        record: &ReleaseRecord,
        labels: &BTreeMap<String, String>,
    ) -> Result<(), EngineError> {
        let secret = Self::secret(record, labels, SecretWrite::Create)?;
        match self
            .api(&record.namespace)
            .create(&PostParams::default(), &secret)
            .await
        {
            Ok(_) => Ok(()),
            // The revision's Secret is the lock: whoever creates it first
            // runs; the other lost the race to a concurrent operation.
            Err(kube::Error::Api(status)) if status.code == 409 => {
                Err(EngineError::in_progress(&record.name, &record.namespace))
            }
            Err(e) => Err(ClusterError::api("create", describe(record), e).into()),
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
