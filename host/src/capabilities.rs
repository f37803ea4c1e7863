//! What the host tells templates about Kubernetes and Helm when no cluster is asked (`template`,
//! the MCP render tool): Helm v4.1.4's own defaults, so charts choose the API versions they
//! choose under `helm template`. Installs use the cluster's served versions instead.

use crate::defaults::HELM_VERSION;
use crate::plugin::contract::{Capabilities, ReleaseInfo};

/// Helm v4.1.4's built-in `.Capabilities.APIVersions`, in Helm's order, recorded from the real
/// binary by `scripts/regen-template-conformance`. Helm compiles this set in: it does not change
/// with `--kube-version`.
const DEFAULT_API_VERSIONS: &str = include_str!("helm-default-api-versions.txt");

/// Helm's default API versions followed by `extra` (Helm's `--api-versions`, appended in order).
pub fn api_versions_with(extra: impl IntoIterator<Item = String>) -> Vec<String> {
    DEFAULT_API_VERSIONS
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .chain(extra)
        .collect()
}

/// Capabilities for a render without a cluster, as `helm template --kube-version K -a X` gives.
pub fn offline(kube_version: String, extra_api_versions: Vec<String>) -> Capabilities {
    Capabilities {
        kube_version,
        api_versions: api_versions_with(extra_api_versions),
        helm_version: HELM_VERSION.into(),
    }
}

/// What templates see as `.Release` (Helm's `Service` included) for revision `revision`.
pub fn release(name: String, namespace: String, revision: u32, is_install: bool) -> ReleaseInfo {
    ReleaseInfo {
        name,
        namespace,
        revision,
        is_install,
        is_upgrade: !is_install,
        service: crate::defaults::RELEASE_SERVICE.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_set_is_helms_and_extras_follow_it() {
        let set = api_versions_with(["example.com/v1".to_string()]);
        assert_eq!(set.first().map(String::as_str), Some("v1"));
        assert!(set.iter().any(|v| v == "autoscaling/v2"));
        assert_eq!(set.last().map(String::as_str), Some("example.com/v1"));
        assert_eq!(set.len(), 58);
    }
}
