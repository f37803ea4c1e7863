//! Who a tool call acts as and where it may act: the auth mode, the
//! caller's bearer token, and the namespace filter every tool enforces.
//!
//! `OIDC_REQUIRED`: every call must carry `Authorization: Bearer <token>`
//! (HTTP only) and every Kubernetes request made for it — release Secrets,
//! hooks, status reads — uses that token, so the cluster's RBAC decides.
//! `DEV_ALLOW_ANY`: calls act as the server's own identity (kubeconfig or
//! in-cluster service account).

use std::sync::Arc;

use clap::{Args, ValueEnum};
use regex::Regex;
use rmcp::RoleServer;
use rmcp::service::RequestContext;
use tokio::sync::OnceCell;

use crate::cluster::{Cluster, DiscoveryCache, connect};
use crate::flags::{ClusterArgs, EngineArgs};

mod apiserver_authn;
pub mod namespaces;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthMode {
    /// A bearer token on every call; Kubernetes requests act as the caller.
    OidcRequired,
    /// No caller identity: the server's kubeconfig or service account.
    DevAllowAny,
}

pub const DEFAULT_NAMESPACE_FILTER: &str = crate::defaults::MANAGEMENT_NAMESPACE;

#[derive(Debug, Clone, Args)]
pub struct AccessArgs {
    /// OIDC_REQUIRED (bearer token per call, acting as the caller; HTTP only) or
    /// DEV_ALLOW_ANY (the server's own identity).
    #[arg(
        long = "auth-mode",
        env = "K0RDENT_MCP_AUTH_MODE",
        value_enum,
        default_value_t = AuthMode::DevAllowAny
    )]
    pub auth_mode: AuthMode,
    /// Regular expression a namespace must match, whole, for any tool to act in it.
    #[arg(
        long = "namespace-filter",
        env = "K0RDENT_MCP_NAMESPACE_FILTER",
        default_value = DEFAULT_NAMESPACE_FILTER,
        value_name = "REGEX"
    )]
    pub namespace_filter: String,
    /// Namespace used when a tool call names none.
    #[arg(
        long = "default-namespace",
        env = "K0RDENT_MCP_DEFAULT_NAMESPACE",
        default_value = crate::defaults::MANAGEMENT_NAMESPACE
    )]
    pub default_namespace: String,
    /// How many namespaces an `all_namespaces` install works on at once.
    #[arg(
        long = "max-parallel-installs",
        env = "K0RDENT_MCP_MAX_PARALLEL_INSTALLS",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub max_parallel_installs: u16,
    #[command(flatten)]
    pub oidc: super::jwt::OidcArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// The namespace filter, matched against the whole name.
#[derive(Debug, Clone)]
pub struct NamespaceFilter {
    pattern: String,
    regex: Regex,
}

impl NamespaceFilter {
    pub fn new(pattern: &str) -> anyhow::Result<Self> {
        // A regex with a length cap: the filter comes from configuration but
        // is still compiled into memory once per process.
        if pattern.len() > 1024 {
            anyhow::bail!("--namespace-filter is longer than 1024 characters");
        }
        // Parsed alone first: a pattern that is not a whole regex, like
        // `x)|(.*`, would close the anchoring group early and match anything.
        let regex = Regex::new(pattern)
            .and_then(|_| Regex::new(&format!("^(?:{pattern})$")))
            .map_err(|e| {
                anyhow::anyhow!(
                    "--namespace-filter {pattern:?} is not a regular expression on its own: {e}; \
                     fix: give one complete pattern, matched against the whole namespace name, \
                     for example `kcm-system|team-.*`"
                )
            })?;
        Ok(NamespaceFilter {
            pattern: pattern.to_string(),
            regex,
        })
    }

    pub fn allows(&self, namespace: &str) -> bool {
        self.regex.is_match(namespace)
    }

    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

pub struct Access {
    pub mode: AuthMode,
    pub filter: NamespaceFilter,
    /// Where a call that names no namespace acts (`--default-namespace`).
    pub default_namespace: String,
    pub max_parallel: usize,
    /// Token checks before any cluster call (OIDC_REQUIRED with --oidc-issuer).
    pub jwt: Option<super::jwt::JwtCheck>,
    /// OIDC_REQUIRED without --oidc-issuer: tokens the API server accepted lately.
    accepted: apiserver_authn::AcceptedTokens,
    cluster_args: ClusterArgs,
    /// Shared by every caller's client: discovery is the same for all.
    discovery: DiscoveryCache,
    /// The server's own client, made on first use (a server that only
    /// lists the catalog needs no cluster).
    server_cluster: OnceCell<Cluster>,
}

impl Access {
    pub fn from_args(args: &AccessArgs) -> anyhow::Result<Self> {
        let jwt = super::jwt::JwtCheck::from_args(&args.oidc)?;
        if jwt.is_some() && args.auth_mode != AuthMode::OidcRequired {
            anyhow::bail!(
                "--oidc-issuer checks callers' tokens, which only OIDC_REQUIRED uses; \
                 set --auth-mode OIDC_REQUIRED or drop --oidc-issuer"
            );
        }
        if jwt.is_none() && args.auth_mode == AuthMode::OidcRequired {
            tracing::info!(
                "OIDC_REQUIRED without --oidc-issuer: the Kubernetes API server authenticates every \
                 call's bearer token (a SelfSubjectAccessReview made with it) before any tool runs"
            );
        }
        Ok(Access {
            jwt,
            accepted: apiserver_authn::AcceptedTokens::default(),
            mode: args.auth_mode,
            filter: NamespaceFilter::new(&args.namespace_filter)?,
            default_namespace: args.default_namespace.clone(),
            max_parallel: usize::from(args.max_parallel_installs),
            cluster_args: args.cluster.clone(),
            discovery: DiscoveryCache::default(),
            server_cluster: OnceCell::new(),
        })
    }

    /// Refuses a namespace the filter does not allow, naming the filter.
    pub fn check_namespace(&self, namespace: &str) -> Result<(), String> {
        if !crate::names::is_dns_label(namespace) {
            return Err(format!(
                "namespace {namespace:?} is not a valid namespace name (lower-case letters, digits and '-', at most 63); for example \"kcm-system\""
            ));
        }
        if self.filter.allows(namespace) {
            Ok(())
        } else {
            Err(format!(
                "namespace {namespace:?} is outside this server's namespace filter `{}`; \
                 fix: use a namespace the filter allows (k0rdent.mgmt.namespaces.list shows them) \
                 or ask the operator to widen --namespace-filter",
                self.filter.pattern()
            ))
        }
    }

    /// OIDC_REQUIRED: whether `token` may make a call at all, decided before
    /// any tool work. With --oidc-issuer the JWT checks decide; without, the
    /// API server does.
    pub async fn authenticate(&self, token: &str) -> Result<(), AuthnError> {
        if let Some(check) = &self.jwt {
            return check.verify(token).await;
        }
        if self.accepted.contains(token) {
            return Ok(());
        }
        let cluster = self
            .cluster_for(&Caller::Token(token.to_string()))
            .await
            .map_err(AuthnError::Unavailable)?;
        apiserver_authn::review(cluster.client().clone()).await?;
        self.accepted.insert(token);
        Ok(())
    }

    /// The cluster client this call acts through.
    pub async fn cluster_for(&self, caller: &Caller) -> Result<Cluster, String> {
        match caller {
            Caller::Token(token) => connect(&self.cluster_args.source(), Some(token))
                .await
                .map(|client| Cluster::with_cache(client, &self.discovery))
                .map_err(|e| e.to_string()),
            Caller::Server => self
                .server_cluster
                .get_or_try_init(|| async {
                    connect(
                        &self.cluster_args.source(),
                        self.cluster_args.token.as_deref(),
                    )
                    .await
                    .map(|client| Cluster::with_cache(client, &self.discovery))
                })
                .await
                .cloned()
                .map_err(|e| e.to_string()),
        }
    }

    /// Who the call acts as: the bearer token of its HTTP request in
    /// OIDC_REQUIRED mode, else the server.
    pub fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, String> {
        if self.mode == AuthMode::DevAllowAny {
            return Ok(Caller::Server);
        }
        let parts = context.extensions.get::<http::request::Parts>();
        match parts.and_then(|p| bearer_token(&p.headers)) {
            Some(token) => Ok(Caller::Token(token)),
            None => Err(
                "OIDC_REQUIRED: this call carries no bearer token; fix: send `Authorization: Bearer <token>` \
                 with a token the cluster accepts"
                    .to_string(),
            ),
        }
    }
}

/// Why a bearer token may not make a call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthnError {
    /// The token is not acceptable: answered with 401.
    #[error("{0}")]
    Rejected(String),
    /// Nobody could say (the API server or the issuer's key set is out of
    /// reach): answered with 503, and the call is not made.
    #[error("{0}")]
    Unavailable(String),
}

/// The caller's identity for Kubernetes requests. The token is never
/// printed: `Debug` hides it.
#[derive(Clone)]
pub enum Caller {
    Token(String),
    Server,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Caller::Token(_) => f.write_str("Caller::Token(<redacted>)"),
            Caller::Server => f.write_str("Caller::Server"),
        }
    }
}

/// `Authorization: Bearer <token>`, scheme case-insensitive, bounded.
pub fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= 16 * 1024)
        .then(|| token.to_string())
}

pub type SharedAccess = Arc<Access>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_matches_whole_names() {
        let f = NamespaceFilter::new("kcm-system|team-.*").unwrap();
        assert!(f.allows("kcm-system"));
        assert!(f.allows("team-a"));
        assert!(!f.allows("kcm-system-2"));
        assert!(!f.allows("my-team-a"));
        let err = NamespaceFilter::new("team-(").unwrap_err().to_string();
        assert!(err.contains("not a regular expression"), "{err}");
    }

    #[test]
    fn a_filter_cannot_escape_its_anchors() {
        let err = NamespaceFilter::new("x)|(.*").unwrap_err().to_string();
        assert!(
            err.starts_with("--namespace-filter \"x)|(.*\" is not a regular expression on its own"),
            "{err}"
        );
        assert!(err.contains("kcm-system|team-.*"), "{err}");
        let anchored = NamespaceFilter::new("^kcm-system$").unwrap();
        assert!(anchored.allows("kcm-system"));
        assert!(!anchored.allows("kube-system"));
    }

    #[test]
    fn bearer_tokens_are_read_strictly() {
        let mut h = http::HeaderMap::new();
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", "Bearer abc".parse().unwrap());
        assert_eq!(bearer_token(&h).as_deref(), Some("abc"));
        h.insert("authorization", "bearer  abc ".parse().unwrap());
        assert_eq!(bearer_token(&h).as_deref(), Some("abc"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        h.insert("authorization", "Bearer ".parse().unwrap());
        assert_eq!(bearer_token(&h), None);
        assert_eq!(
            format!("{:?}", Caller::Token("secret".into())),
            "Caller::Token(<redacted>)"
        );
    }
}
