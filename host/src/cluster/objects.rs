//! Objects addressed by apiVersion + kind, resolved through discovery (so
//! CRDs work like built-in kinds), and the three writes a release needs:
//! server-side apply, delete, and delete-then-wait-until-gone.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, Patch, PatchParams,
};
use kube::discovery::Scope;
use serde_json::Value;

use super::discovery_disk::{DiskDiscovery, Snapshot, StoredResource, StoredServed, now_unix};
use super::error::ClusterError;
use super::wait::{WaitEnd, WaitLimits, await_condition};

/// Helm's CLI applies as `helm`; using the same manager lets real `helm
/// upgrade` take over our releases (and us theirs) without apply conflicts.
pub const FIELD_MANAGER: &str = "helm";

/// Which object: what Helm prints as `Kind "name" in namespace "ns"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey {
    pub api_version: String,
    pub kind: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// `namespace/Kind/name` (`Kind/name` when cluster-scoped).
    pub fn path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }

    /// What kubectl takes for it: `job.batch/name`, `configmap/name`.
    pub fn kubectl_resource(&self) -> String {
        let kind = self.kind.to_lowercase();
        match self.api_version.split_once('/') {
            Some((group, _)) => format!("{kind}.{group}/{}", self.name),
            None => format!("{kind}/{}", self.name),
        }
    }

    /// ` -n namespace`, empty when cluster-scoped.
    pub fn kubectl_namespace_flag(&self) -> String {
        self.namespace
            .as_ref()
            .map(|ns| format!(" -n {ns}"))
            .unwrap_or_default()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {:?} in namespace {:?}", self.kind, self.name, ns),
            None => write!(f, "{} {:?}", self.kind, self.name),
        }
    }
}

/// How [`Cluster::apply_with`] applies.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApplyMode {
    /// Take fields other managers own (`--force-conflicts`).
    pub force_conflicts: bool,
    /// Persist nothing (`?dryRun=All`).
    pub dry_run: bool,
}

#[derive(Clone)]
struct Resolved {
    resource: ApiResource,
    namespaced: bool,
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
    client: kube::Client,
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

    async fn resolve(&self, api_version: &str, kind: &str) -> Result<Resolved, ClusterError> {
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

    /// The key of a manifest object; namespaced objects without
    /// `metadata.namespace` land in `default_namespace` (and the object is
    /// given that namespace, as Helm does).
    pub async fn key_for(
        &self,
        object: &mut Value,
        default_namespace: &str,
    ) -> Result<ObjectKey, ClusterError> {
        let text = |pointer: &str| {
            object
                .pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let name = text("/metadata/name");
        let described = format!(
            "{} {:?}",
            text("/kind").unwrap_or_else(|| "object".into()),
            name.clone().unwrap_or_default()
        );
        let bad = |problem: &str| ClusterError::BadObject {
            object: described.clone(),
            problem: problem.to_string(),
        };
        let api_version = text("/apiVersion").ok_or_else(|| bad("apiVersion is missing"))?;
        let kind = text("/kind").ok_or_else(|| bad("kind is missing"))?;
        let name = name.ok_or_else(|| bad("metadata.name is missing"))?;
        let resolved = self.resolve(&api_version, &kind).await?;
        let namespace = if resolved.namespaced {
            let ns = text("/metadata/namespace").unwrap_or_else(|| default_namespace.to_string());
            if let Some(meta) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                meta.insert("namespace".into(), Value::String(ns.clone()));
            }
            Some(ns)
        } else {
            None
        };
        Ok(ObjectKey {
            api_version,
            kind,
            namespace,
            name,
        })
    }

    async fn api(&self, key: &ObjectKey) -> Result<Api<DynamicObject>, ClusterError> {
        let resolved = self.resolve(&key.api_version, &key.kind).await?;
        Ok(match (&key.namespace, resolved.namespaced) {
            (Some(ns), true) => Api::namespaced_with(self.client.clone(), ns, &resolved.resource),
            _ => Api::all_with(self.client.clone(), &resolved.resource),
        })
    }

    /// The live object, `None` when it does not exist.
    pub async fn get(&self, key: &ObjectKey) -> Result<Option<DynamicObject>, ClusterError> {
        self.api(key)
            .await?
            .get_opt(&key.name)
            .await
            .map_err(|e| ClusterError::api("get", key, e))
    }

    /// Server-side apply as field manager `helm`, without forcing: fields
    /// another manager owns make this fail instead of silently taking them.
    pub async fn apply(
        &self,
        key: &ObjectKey,
        object: &Value,
    ) -> Result<DynamicObject, ClusterError> {
        self.apply_with(key, object, ApplyMode::default()).await
    }

    /// Server-side apply as `helm`, forcing conflicts or only asking the
    /// server what it would store (`dryRun=All`: admission and defaulting
    /// run, nothing is persisted).
    pub async fn apply_with(
        &self,
        key: &ObjectKey,
        object: &Value,
        mode: ApplyMode,
    ) -> Result<DynamicObject, ClusterError> {
        let mut params = PatchParams::apply(FIELD_MANAGER);
        params.force = mode.force_conflicts;
        params.dry_run = mode.dry_run;
        self.api(key)
            .await?
            .patch(&key.name, &params, &Patch::Apply(object))
            .await
            .map_err(|e| ClusterError::api("apply", key, e))
    }

    /// Replaces the object's `managedFields`, conditional on
    /// `resource_version` (a write in between fails with 409 rather than
    /// losing its ownership record).
    pub async fn replace_managed_fields(
        &self,
        key: &ObjectKey,
        resource_version: &str,
        managed_fields: Vec<Value>,
    ) -> Result<(), ClusterError> {
        let patch = serde_json::json!({"metadata": {
            "resourceVersion": resource_version,
            "managedFields": managed_fields,
        }});
        self.api(key)
            .await?
            .patch(&key.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .map(drop)
            .map_err(|e| ClusterError::api("update the field managers of", key, e))
    }

    /// Deletes with background propagation (as Helm). `false` when it was
    /// already gone.
    pub async fn delete(&self, key: &ObjectKey) -> Result<bool, ClusterError> {
        match self
            .api(key)
            .await?
            .delete(&key.name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
            Err(e) => Err(ClusterError::api("delete", key, e)),
        }
    }

    /// Deletes and waits until a GET no longer finds it, so a re-create
    /// (hooks' before-hook-creation) does not race the old object's removal.
    /// Ends early when `limits` is cancelled; an object still there at the
    /// deadline is reported with the finalizers that hold it.
    pub async fn delete_and_wait(
        &self,
        key: &ObjectKey,
        limits: &WaitLimits,
    ) -> Result<bool, ClusterError> {
        if !self.delete(key).await? {
            return Ok(false);
        }
        let gone = || async { Ok::<_, ClusterError>(self.get(key).await?.is_none().then_some(())) };
        match await_condition(limits, gone).await? {
            WaitEnd::Met(()) => Ok(true),
            WaitEnd::Cancelled => Err(ClusterError::Cancelled {
                during: format!("the wait for the deletion of {}", key.path()),
            }),
            WaitEnd::TimedOut => {
                let Some(live) = self.get(key).await? else {
                    return Ok(true);
                };
                Err(ClusterError::StuckDeleting {
                    object: Box::new(key.clone()),
                    finalizers: live.metadata.finalizers.unwrap_or_default(),
                    seconds: limits.timeout.as_secs(),
                })
            }
        }
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
