//! The client half of `Cluster`: a kube client plus what discovery found (which resource serves each
//! apiVersion + kind, and the server's `.Capabilities` facts), cached and shared between the clients of
//! different callers. The object operations are in `objects.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::Scope;

use super::error::ClusterError;
use super::objects::ObjectKey;

#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) resource: ApiResource,
    pub(super) namespaced: bool,
}

/// Server version and API versions, as read at one moment.
#[derive(Clone)]
struct Served {
    at: Instant,
    kube_version: String,
    api_versions: Vec<String>,
}

/// How long `.Capabilities` facts are reused: long enough that a burst of
/// installs does not rediscover, short enough to see a new CRD soon.
const SERVED_TTL: Duration = Duration::from_secs(30);

/// What discovery found: the same for every identity (discovery is open to
/// all authenticated users), so per-caller clients share one copy.
#[derive(Clone, Default)]
pub struct DiscoveryCache {
    resources: Arc<Mutex<HashMap<(String, String), Resolved>>>,
    served: Arc<Mutex<Option<Served>>>,
}

/// A kube client plus a discovery cache.
#[derive(Clone)]
pub struct Cluster {
    pub(super) client: kube::Client,
    cache: DiscoveryCache,
}

impl Cluster {
    pub fn new(client: kube::Client) -> Self {
        Self::with_cache(client, &DiscoveryCache::default())
    }

    /// A client that reads and fills `cache` (shared with other clients).
    pub fn with_cache(client: kube::Client, cache: &DiscoveryCache) -> Self {
        Cluster {
            client,
            cache: cache.clone(),
        }
    }

    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    pub(super) async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolved, ClusterError> {
        let cache_key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self.cache.resources.lock().unwrap().get(&cache_key) {
            return Ok(found.clone());
        }
        let (group, version) = match api_version.split_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        let (resource, caps) = kube::discovery::pinned_kind(&self.client, &gvk)
            .await
            .map_err(|e| {
                let mut err = ClusterError::api("discover", format!("kind {kind} ({api_version})"), e);
                if let ClusterError::Api { fix, code: 404, .. } = &mut err {
                    *fix = format!(
                        "install the CRD or API that serves {kind} in {api_version} (kubectl api-resources lists what the cluster serves)"
                    );
                }
                err
            })?;
        let resolved = Resolved {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        self.cache
            .resources
            .lock()
            .unwrap()
            .insert(cache_key, resolved.clone());
        Ok(resolved)
    }

    pub(super) async fn api(&self, key: &ObjectKey) -> Result<Api<DynamicObject>, ClusterError> {
        let resolved = self.resolve(&key.api_version, &key.kind).await?;
        Ok(match (&key.namespace, resolved.namespaced) {
            (Some(ns), true) => Api::namespaced_with(self.client.clone(), ns, &resolved.resource),
            _ => Api::all_with(self.client.clone(), &resolved.resource),
        })
    }

    /// The server's `gitVersion` and every served API version (Helm's
    /// `.Capabilities`), reused for a few seconds.
    pub async fn served(&self) -> Result<(String, Vec<String>), ClusterError> {
        if let Some(s) = self.cache.served.lock().unwrap().as_ref()
            && s.at.elapsed() < SERVED_TTL
        {
            return Ok((s.kube_version.clone(), s.api_versions.clone()));
        }
        let kube_version = self.kube_version().await?;
        let api_versions = self.api_versions().await?;
        *self.cache.served.lock().unwrap() = Some(Served {
            at: Instant::now(),
            kube_version: kube_version.clone(),
            api_versions: api_versions.clone(),
        });
        Ok((kube_version, api_versions))
    }

    /// `v1`, `group/version` for every served API version (Helm's
    /// `.Capabilities.APIVersions` without the per-kind entries).
    pub async fn api_versions(&self) -> Result<Vec<String>, ClusterError> {
        let core = self
            .client
            .list_core_api_versions()
            .await
            .map_err(|e| ClusterError::api("discover", "core API versions", e))?;
        let groups = self
            .client
            .list_api_groups()
            .await
            .map_err(|e| ClusterError::api("discover", "API groups", e))?;
        let mut out = core.versions;
        for group in groups.groups {
            out.extend(group.versions.into_iter().map(|v| v.group_version));
        }
        Ok(out)
    }

    /// The server's `gitVersion`, e.g. `v1.20.2`.
    pub async fn kube_version(&self) -> Result<String, ClusterError> {
        self.client
            .apiserver_version()
            .await
            .map(|info| info.git_version)
            .map_err(|e| ClusterError::api("read", "the server version", e))
    }
}
