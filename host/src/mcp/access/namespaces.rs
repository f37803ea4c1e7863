//! Which namespaces a call acts in: the one it names (checked against the namespace filter), every
//! namespace the filter allows that the caller can see (`all_namespaces`), or the server's default one
//! (refused under OIDC_REQUIRED, where a caller must say). Beside the filter and the auth mode it
//! applies, so the rules live in one place.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ListParams};

use super::{Access, AuthMode, Caller};
use crate::cluster::{Cluster, ClusterError};

/// Namespaces the filter allows that the caller can see, by name.
pub async fn visible_namespaces(access: &Access, cluster: &Cluster) -> Result<Vec<String>, String> {
    let api: Api<Namespace> = Api::all(cluster.client().clone());
    let list = api
        .list(&ListParams::default())
        .await
        .map_err(|e| ClusterError::api("list", "namespaces", e).to_string())?;
    let mut names: Vec<String> = list
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .filter(|n| access.filter.allows(n))
        .collect();
    names.sort();
    Ok(names)
}

/// The namespaces a call acts in.
pub async fn target_namespaces(
    access: &Access,
    caller: &Caller,
    cluster: &Cluster,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> Result<Vec<String>, String> {
    match (namespace, all_namespaces) {
        (Some(_), true) => {
            Err("give either `namespace` or `all_namespaces: true`, not both".to_string())
        }
        (Some(ns), false) => {
            access.check_namespace(ns)?;
            Ok(vec![ns.to_string()])
        }
        (None, true) => {
            let names = visible_namespaces(access, cluster).await?;
            if names.is_empty() {
                return Err(format!(
                    "no namespace in the cluster matches this server's namespace filter `{}`; \
                     fix: create one, or name a namespace the filter allows",
                    access.filter.pattern()
                ));
            }
            Ok(names)
        }
        (None, false) => {
            if access.mode == AuthMode::OidcRequired && matches!(caller, Caller::Token(_)) {
                return Err(
                    "OIDC_REQUIRED: name the `namespace` to act in, or set `all_namespaces: true`"
                        .to_string(),
                );
            }
            access.check_namespace(&access.default_namespace)?;
            Ok(vec![access.default_namespace.clone()])
        }
    }
}

/// The caller's cluster client and the namespaces a call acts in.
pub async fn scope(
    access: &Access,
    caller: &Caller,
    namespace: Option<&str>,
    all_namespaces: bool,
) -> Result<(Cluster, Vec<String>), String> {
    let cluster = access.cluster_for(caller).await?;
    let namespaces = target_namespaces(access, caller, &cluster, namespace, all_namespaces).await?;
    Ok((cluster, namespaces))
}

/// The caller's cluster client and the one namespace a call names (or the
/// default one).
pub async fn single_namespace(
    access: &Access,
    caller: &Caller,
    namespace: Option<&str>,
) -> Result<(Cluster, String), String> {
    let (cluster, namespaces) = scope(access, caller, namespace, false).await?;
    Ok((cluster, namespaces[0].clone()))
}
