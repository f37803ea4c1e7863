//! Building a kube client. The process uses rustls with the aws-lc-rs
//! provider (the one reqwest/oci-client already link); it is installed as the
//! process default once, since kube's TLS setup asks rustls for the default
//! and rustls refuses to guess when more than one provider is compiled in.

use std::path::PathBuf;
use std::sync::Once;

use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};

use super::error::ClusterError;

/// `User-Agent` of every Kubernetes request.
pub const USER_AGENT: &str = concat!("k0rdent-mcp/", env!("CARGO_PKG_VERSION"));

/// Where the cluster address and credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterSource {
    /// `$KUBECONFIG`, `~/.kube/config`, else the pod's service account.
    Infer,
    /// This kubeconfig file (its current context).
    Kubeconfig(PathBuf),
    /// The pod's service account (`KUBERNETES_SERVICE_HOST` and the token file).
    InCluster,
}

fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means some other part of the process installed one first: fine.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

/// A client for `source`. `bearer_token` replaces the source's credentials
/// (client certificates, exec plugins, tokens) so a call acts as exactly that
/// identity, e.g. the MCP caller's.
pub async fn connect(
    source: &ClusterSource,
    bearer_token: Option<&str>,
) -> Result<kube::Client, ClusterError> {
    Ok(connect_to(source, bearer_token).await?.0)
}

/// Where a client connects: the server's URL and the CA certificates (DER) it trusts for it, which
/// together name the cluster for the discovery kept on disk.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub server_url: String,
    pub ca_certs: Vec<Vec<u8>>,
}

/// [`connect`], also saying where the client connects.
pub async fn connect_to(
    source: &ClusterSource,
    bearer_token: Option<&str>,
) -> Result<(kube::Client, Endpoint), ClusterError> {
    install_crypto_provider();
    let describe = || match source {
        ClusterSource::Infer => {
            "the environment (KUBECONFIG, ~/.kube/config or in-cluster)".to_string()
        }
        ClusterSource::Kubeconfig(path) => format!("kubeconfig {}", path.display()),
        ClusterSource::InCluster => "the pod's service account".to_string(),
    };
    let fail = |message: String, fix: &str| ClusterError::Config {
        source_desc: describe(),
        message,
        fix: fix.to_string(),
    };
    let mut config = match source {
        ClusterSource::Infer => kube::Config::infer().await.map_err(|e| {
            fail(
                e.to_string(),
                "set KUBECONFIG to a readable kubeconfig, or run inside a pod with a service account",
            )
        })?,
        ClusterSource::Kubeconfig(path) => {
            let file = Kubeconfig::read_from(path).map_err(|e| {
                fail(e.to_string(), "point to a readable, valid kubeconfig file")
            })?;
            kube::Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                .await
                .map_err(|e| {
                    fail(
                        e.to_string(),
                        "make sure the kubeconfig has a current-context whose cluster and user exist",
                    )
                })?
        }
        ClusterSource::InCluster => kube::Config::incluster().map_err(|e| {
            fail(
                e.to_string(),
                "run inside a pod with a mounted service-account token, or give a kubeconfig",
            )
        })?,
    };
    if let Some(token) = bearer_token {
        config.auth_info = AuthInfo {
            token: Some(token.to_string().into()),
            ..AuthInfo::default()
        };
    }
    // Names us in the API server's audit log and metrics.
    config.headers.push((
        http::header::USER_AGENT,
        http::HeaderValue::from_static(USER_AGENT),
    ));
    let endpoint = Endpoint {
        server_url: config.cluster_url.to_string(),
        ca_certs: config.root_cert.clone().unwrap_or_default(),
    };
    let client =
        super::http_stack::build(config, crate::timings::count_api_request).map_err(|e| {
            fail(
                e.to_string(),
                "check the kubeconfig's certificate-authority and client certificate data",
            )
        })?;
    Ok((client, endpoint))
}
