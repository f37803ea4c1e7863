//! Defaults defined once for the whole host: the Kubernetes and Helm versions templates are told about
//! without a cluster, the `.Release.Service` Helm writes, the kgst chart installs go through, the
//! k0rdent management namespace, and where caches live. Flags (`crate::cli::flags`) and the MCP server
//! take their defaults from here.

use std::path::PathBuf;

/// `.Capabilities.KubeVersion` unless told otherwise (what helm v4.1.4 assumes without a cluster).
pub const DEFAULT_KUBE_VERSION: &str = "v1.35.0";

/// `.Capabilities.HelmVersion`: the Helm release whose behaviour the renderer reproduces.
pub const HELM_VERSION: &str = "v4.1.4";

/// `.Release.Service`, and the `app.kubernetes.io/managed-by` value Helm's ownership checks expect.
pub const RELEASE_SERVICE: &str = "Helm";

/// Where kgst is published; the catalog documents installing every app through it.
pub const DEFAULT_KGST_CHART: &str = "oci://ghcr.io/k0rdent/catalog/charts/kgst";

/// The kgst version (tag) installs use unless told otherwise.
pub const DEFAULT_KGST_VERSION: &str = "2.0.2";

/// k0rdent's management namespace: where ServiceTemplates live unless a call names another, and the
/// only namespace the server may touch unless `--namespace-filter` widens it.
pub const MANAGEMENT_NAMESPACE: &str = "kcm-system";

/// `$XDG_CACHE_HOME/k0rdent-mcp`, else `~/.cache/k0rdent-mcp`, else under the
/// system temporary folder: where plugin, chart and catalog caches live by default.
pub fn cache_base() -> PathBuf {
    user_cache_base().unwrap_or_else(|| std::env::temp_dir().join("k0rdent-mcp"))
}

/// `$XDG_CACHE_HOME/k0rdent-mcp`, else `~/.cache/k0rdent-mcp`; `None` when
/// neither variable is set (empty counts as unset).
pub fn user_cache_base() -> Option<PathBuf> {
    let set = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("k0rdent-mcp"))
}
