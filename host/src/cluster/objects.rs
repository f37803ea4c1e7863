//! Objects addressed by apiVersion + kind, resolved through the client's discovery (`client.rs`, so
//! CRDs work like built-in kinds), and the writes a release needs: server-side apply, delete, and
//! delete-then-wait-until-gone.

use std::fmt;

use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use serde_json::Value;

use super::client::Cluster;
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

impl Cluster {
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
}
