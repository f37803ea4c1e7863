//! The client half of `Cluster`: a kube client plus what discovery found (which resource serves each
//! apiVersion + kind, and the server's `.Capabilities` facts), cached and shared between the clients of
//! different callers. The object operations are in `objects.rs`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::discovery::Scope;

use super::discovery_disk::{DiskDiscovery, Snapshot, StoredResource, StoredServed, now_unix};
use super::error::ClusterError;
use super::objects::ObjectKey;

#[derive(Clone)]
pub(super) struct Resolved {
    pub(super) resource: ApiResource,
    pub(super) namespaced: bool,
    /// When the server said so (Unix seconds), kept with the entry on disk.
    fetched_unix: u64,
}

/// Server version and API versions, as read at one moment.
#[derive(Clone)]
struct Served {
    at: Instant,
    fetched_unix: u64,
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
    inner: Arc<Known>,
}

#[derive(Default)]
struct Known {
    resources: Mutex<HashMap<(String, String), Resolved>>,
    served: Mutex<Option<Served>>,
    /// For one-shot processes: what earlier ones discovered, and where to keep what this one
    /// learns; written once, when the last client using this cache is dropped.
    disk: Option<DiskDiscovery>,
    learnt: AtomicBool,
}

impl Drop for Known {
    fn drop(&mut self) {
        if self.learnt.load(Ordering::Relaxed) {
            self.persist();
        }
    }
}

impl DiscoveryCache {
    /// A cache that starts from `disk`'s fresh entries and writes back what it learns.
    pub fn on_disk(disk: DiskDiscovery) -> Self {
        let snapshot = disk.load();
        let resources = snapshot
            .resources
            .into_iter()
            .map(|r| {
                let (group, version) = split_api_version(&r.api_version);
                let key = (r.api_version.clone(), r.kind.clone());
                let resource = ApiResource {
                    group: group.to_string(),
                    version: version.to_string(),
                    api_version: r.api_version,
                    kind: r.kind,
                    plural: r.plural,
                };
                let resolved = Resolved {
                    resource,
                    namespaced: r.namespaced,
                    fetched_unix: r.fetched_unix,
                };
                (key, resolved)
            })
            .collect();
        // Fresh on disk means fresh for this (short) process as well.
        let served = snapshot.served.map(|s| Served {
            at: Instant::now(),
            fetched_unix: s.fetched_unix,
            kube_version: s.kube_version,
            api_versions: s.api_versions,
        });
        DiscoveryCache {
            inner: Arc::new(Known {
                resources: Mutex::new(resources),
                served: Mutex::new(served),
                disk: Some(disk),
                learnt: AtomicBool::new(false),
            }),
        }
    }
}

impl Known {
    /// Writes everything known to disk, when this cache has a file.
    fn persist(&self) {
        let Some(disk) = &self.disk else {
            return;
        };
        let served = self.served.lock().unwrap().as_ref().map(|s| StoredServed {
            fetched_unix: s.fetched_unix,
            kube_version: s.kube_version.clone(),
            api_versions: s.api_versions.clone(),
        });
        let resources = self
            .resources
            .lock()
            .unwrap()
            .values()
            .map(|r| StoredResource {
                fetched_unix: r.fetched_unix,
                api_version: r.resource.api_version.clone(),
                kind: r.resource.kind.clone(),
                plural: r.resource.plural.clone(),
                namespaced: r.namespaced,
            })
            .collect();
        disk.save(Snapshot {
            served,
            resources,
            ..Snapshot::default()
        });
    }
}

/// `group/version` as (group, version); the core group is `""`.
fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
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

    /// Opens the connection (TCP, TLS, authentication) with one cheap request, `GET /version`, so
    /// a one-shot process pays the handshake while it loads plugins and pulls the chart instead of
    /// on its first real request. A failure is left for that request to report.
    pub async fn warm_connection(&self) {
        let _phase = crate::timings::phase(|| "kube: open the connection (GET /version)");
        if let Err(e) = self.client.apiserver_version().await {
            tracing::debug!(error = %e, "warming the API server connection failed");
        }
    }

    pub(super) async fn resolve(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Resolved, ClusterError> {
        let cache_key = (api_version.to_string(), kind.to_string());
        if let Some(found) = self.cache.inner.resources.lock().unwrap().get(&cache_key) {
            return Ok(found.clone());
        }
        let (group, version) = split_api_version(api_version);
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
            fetched_unix: now_unix(),
        };
        self.cache
            .inner
            .resources
            .lock()
            .unwrap()
            .insert(cache_key, resolved.clone());
        self.cache.inner.learnt.store(true, Ordering::Relaxed);
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
        if let Some(s) = self.cache.inner.served.lock().unwrap().as_ref()
            && s.at.elapsed() < SERVED_TTL
        {
            return Ok((s.kube_version.clone(), s.api_versions.clone()));
        }
        let kube_version = self.kube_version().await?;
        let api_versions = self.api_versions().await?;
        *self.cache.inner.served.lock().unwrap() = Some(Served {
            at: Instant::now(),
            fetched_unix: now_unix(),
            kube_version: kube_version.clone(),
            api_versions: api_versions.clone(),
        });
        self.cache.inner.learnt.store(true, Ordering::Relaxed);
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
