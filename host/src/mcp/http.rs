//! `serve --http`: MCP over streamable HTTP at `/mcp`, plus the endpoints an
//! orchestrator needs (`/healthz`, `/readyz`, `/metrics`), optionally over TLS.

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use clap::Args;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use super::access::{AuthMode, AuthnError};
use super::metrics::CONTENT_TYPE;
use super::server::K0rdentMcp;

mod conn_limit;
pub mod exposure;
mod jsonrpc_body;
mod readiness;

use conn_limit::ConnectionLimit;
use exposure::Origins;
use readiness::{CatalogState, Readiness};

/// Largest request body. Tool arguments are small; this only stops a client
/// from making the server buffer arbitrary amounts of memory.
pub const MAX_REQUEST_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How long in-flight requests get to finish after SIGTERM/SIGINT.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Serve MCP over streamable HTTP at http://ADDR/mcp instead of stdio. ADDR is HOST:PORT
    /// (127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080) or a port alone, which listens on 127.0.0.1.
    #[arg(long = "http", env = "K0RDENT_MCP_HTTP", value_name = "ADDR")]
    pub listen: Option<String>,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key and --http).
    #[arg(
        long = "tls-cert",
        env = "K0RDENT_MCP_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long = "tls-key",
        env = "K0RDENT_MCP_TLS_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Host names (or host:port) clients may send in the Host header of /mcp requests, comma-separated.
    /// Guards against DNS rebinding; the default accepts only localhost, 127.0.0.1 and ::1. `*` accepts any.
    #[arg(
        long = "http-allowed-hosts",
        env = "K0RDENT_MCP_HTTP_ALLOWED_HOSTS",
        value_name = "HOSTS",
        value_delimiter = ','
    )]
    pub allowed_hosts: Vec<String>,
    /// Longest time one HTTP request may take, in seconds (a render pulls charts, so be generous).
    #[arg(
        long = "http-timeout-seconds",
        env = "K0RDENT_MCP_HTTP_TIMEOUT_SECONDS",
        value_name = "N",
        default_value_t = 300
    )]
    pub timeout_seconds: u64,
    /// Browser origins allowed to call /mcp, comma-separated (`http://app.example:8443`, `https://ui.example`,
    /// a `:*` port for any port). A request with any other `Origin` header gets 403; requests without one
    /// (non-browser clients) pass. Default: the http and https origins of --http-allowed-hosts. `*` accepts any.
    #[arg(
        long = "http-allowed-origins",
        env = "K0RDENT_MCP_HTTP_ALLOWED_ORIGINS",
        value_name = "ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// How long a client may take to send a request's headers, in seconds; slower connections are closed.
    #[arg(
        long = "http-header-timeout-seconds",
        env = "K0RDENT_MCP_HTTP_HEADER_TIMEOUT_SECONDS",
        value_name = "N",
        default_value_t = 10
    )]
    pub header_timeout_seconds: u64,
    /// Most connections open at once; more are closed as soon as they arrive.
    #[arg(
        long = "http-max-connections",
        env = "K0RDENT_MCP_HTTP_MAX_CONNECTIONS",
        value_name = "N",
        default_value_t = 256
    )]
    pub max_connections: usize,
    /// INSECURE: serve DEV_ALLOW_ANY on a non-loopback address. Every client that reaches the port then
    /// acts with the server's own cluster identity and registry credentials.
    #[arg(
        long = "insecure-allow-any-on-network",
        env = "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub insecure_allow_any_on_network: bool,
    /// A proxy or service mesh in front of this server terminates TLS, so OIDC_REQUIRED may serve plain
    /// HTTP on a non-loopback address (bearer tokens cross only the pod's own hop in plaintext).
    #[arg(
        long = "tls-terminated-upstream",
        env = "K0RDENT_MCP_TLS_TERMINATED_UPSTREAM",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub tls_terminated_upstream: bool,
}

/// `8080` and `:8080` mean 127.0.0.1:8080: listening on every interface has
/// to be asked for by name.
pub fn parse_listen(text: &str) -> anyhow::Result<SocketAddr> {
    let fix = "use HOST:PORT (127.0.0.1:8080, 0.0.0.0:8080, [::1]:8080) or a port alone (8080 listens on 127.0.0.1)";
    let port_only = text.strip_prefix(':').unwrap_or(text);
    if let Ok(port) = port_only.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok(addr);
    }
    match text.to_socket_addrs() {
        Ok(mut addrs) => addrs
            .next()
            .with_context(|| format!("--http {text}: the name resolves to no address; {fix}")),
        Err(e) => bail!("--http {text}: not a listen address ({e}); {fix}"),
    }
}

impl HttpArgs {
    fn tls(&self) -> Option<(&PathBuf, &PathBuf)> {
        self.tls_cert.as_ref().zip(self.tls_key.as_ref())
    }

    /// TLS flags without --http would silently serve plaintext stdio: refuse.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.listen.is_none() && self.tls_cert.is_some() {
            bail!("--tls-cert/--tls-key need --http ADDR: stdio has no TLS");
        }
        if self.timeout_seconds == 0 {
            bail!(
                "--http-timeout-seconds 0 would fail every request; give a number of seconds, e.g. 300"
            );
        }
        if self.header_timeout_seconds == 0 {
            bail!(
                "--http-header-timeout-seconds 0 would close every connection; give a number of seconds, e.g. 10"
            );
        }
        if self.max_connections == 0 {
            bail!(
                "--http-max-connections 0 would refuse every connection; give a number, e.g. 256"
            );
        }
        exposure::origins(&self.allowed_hosts, &self.allowed_origins)?;
        Ok(())
    }

    /// With --http: the listen address, refused when `mode` must not be
    /// served there (see [`exposure::check`]).
    pub fn check_exposure(&self, mode: AuthMode) -> anyhow::Result<()> {
        if let Some(listen) = self.listen.as_deref() {
            exposure::check(self, listen, parse_listen(listen)?, mode)?;
        }
        Ok(())
    }

    fn header_timeout(&self) -> Duration {
        Duration::from_secs(self.header_timeout_seconds)
    }
}

/// Serves until SIGTERM/SIGINT, then lets in-flight requests finish.
pub async fn serve(server: K0rdentMcp, args: &HttpArgs) -> anyhow::Result<()> {
    args.check()?;
    let Some(listen) = args.listen.as_deref() else {
        bail!("serving over HTTP needs --http ADDR");
    };
    let addr = parse_listen(listen)?;
    exposure::check(args, listen, addr, server.context().access.mode)?;
    let cancel = CancellationToken::new();
    let readiness = Readiness::new();
    // Read the catalog now, so the first probe has an answer.
    readiness.refresh(server.context().clone());
    let app = router(server.clone(), readiness, args, cancel.clone())?;

    // Bind here rather than inside axum-server so a busy port is reported
    // with the address and before "listening" is logged.
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!("--http {listen}: cannot listen on {addr}; pick a free port or another address")
    })?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    note_host_allowlist(bound, args);

    let handle = axum_server::Handle::new();
    tokio::spawn({
        let handle = handle.clone();
        let cancel = cancel.clone();
        async move {
            super::shutdown_signal().await;
            tracing::info!("shutting down on signal");
            // Ends open SSE streams so the grace period is not spent waiting on them.
            cancel.cancel();
            handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        }
    });

    let limit = ConnectionLimit::new(args.max_connections);
    let metrics = server.metrics().clone();
    let service = app.into_make_service();
    match args.tls() {
        Some((cert, key)) => {
            // One provider for the whole process (aws-lc-rs, as reqwest and
            // kube use); explicit, so a second provider compiled in by some
            // dependency cannot make rustls refuse to pick one.
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .with_context(|| {
                    format!(
                        "--tls-cert {} / --tls-key {}: cannot load them; give a PEM certificate chain and its PEM private key",
                        cert.display(),
                        key.display()
                    )
                })?;
            // The limit first: a connection stuck in its handshake holds a slot too.
            let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(tls)
                .handshake_timeout(args.header_timeout())
                .acceptor(limit);
            tracing::info!("serving MCP at https://{bound}/mcp");
            http_server(listener, args, metrics)?
                .acceptor(acceptor)
                .handle(handle)
                .serve(service)
                .await?;
        }
        None => {
            tracing::info!("serving MCP at http://{bound}/mcp");
            http_server(listener, args, metrics)?
                .acceptor(limit)
                .handle(handle)
                .serve(service)
                .await?;
        }
    }
    server.stop_tasks(SHUTDOWN_GRACE).await;
    Ok(())
}

/// A listener's server with the slow-client bounds: a client gets
/// --http-header-timeout-seconds to send each request's headers, and for the
/// first request that clock also covers protocol detection, which hyper's own
/// header timeout does not. Connections over the limit are counted.
fn http_server(
    listener: std::net::TcpListener,
    args: &HttpArgs,
    metrics: Arc<super::metrics::Metrics>,
) -> std::io::Result<axum_server::Server<SocketAddr>> {
    let mut server = axum_server::from_tcp(listener)?
        .first_request_timeout(args.header_timeout())
        .accept_error_handler(move |peer, error| {
            if conn_limit::is_refusal(error) {
                metrics.connection_refused();
            }
            tracing::debug!(?peer, %error, "connection not served");
        });
    server
        .http_builder()
        .http1()
        .header_read_timeout(args.header_timeout());
    Ok(server)
}

fn router(
    server: K0rdentMcp,
    readiness: Arc<Readiness>,
    args: &HttpArgs,
    cancel: CancellationToken,
) -> anyhow::Result<Router> {
    let mut config = StreamableHttpServerConfig::default()
        // Stateless: any replica can answer any request, and a request's
        // tool call finishes inside its own HTTP response, so the request
        // timeout below bounds it.
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_cancellation_token(cancel)
        .with_max_request_body_bytes(MAX_REQUEST_BODY_BYTES);
    if args.allowed_hosts.iter().any(|h| h == "*") {
        config = config.disable_allowed_hosts();
    } else if !args.allowed_hosts.is_empty() {
        config = config.with_allowed_hosts(args.allowed_hosts.clone());
    }
    // The MCP transport spec: a present, unexpected Origin gets 403, so a
    // web page cannot drive a server on the user's machine or network.
    config = match exposure::origins(&args.allowed_hosts, &args.allowed_origins)? {
        Origins::Any => config.disable_allowed_origins(),
        Origins::Only(origins) => config
            .with_allowed_origins(origins)
            .enforce_origin_validation(),
    };
    let mcp = StreamableHttpService::new(
        {
            let server = server.clone();
            move || Ok(server.for_session())
        },
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let oidc_required = server.context().access.mode == AuthMode::OidcRequired;
    let mcp_routes = Router::new()
        .route_service("/mcp", mcp)
        .layer(axum::middleware::from_fn(jsonrpc_body::check));
    let mcp_routes = if oidc_required {
        mcp_routes.layer(axum::middleware::from_fn_with_state(
            server.clone(),
            require_bearer,
        ))
    } else {
        mcp_routes
    };
    Ok(Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(AppState { server, readiness })
        .merge(mcp_routes)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        // 503 rather than 408: the server, not the client, was too slow.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(args.timeout_seconds),
        )))
}

#[derive(Clone)]
struct AppState {
    server: K0rdentMcp,
    readiness: Arc<Readiness>,
}

/// The Host allowlist stops DNS rebinding in browsers; it is no access
/// control (any client can send `Host: localhost`), so do not call it one.
fn note_host_allowlist(bound: SocketAddr, args: &HttpArgs) {
    if !bound.ip().is_loopback() && args.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on {bound} with the default Host allowlist (localhost, 127.0.0.1, ::1): clients that \
             reach this address by another name get 403; set --http-allowed-hosts to the names clients use. \
             The allowlist guards browsers against DNS rebinding and does not restrict who can call"
        );
    }
}

/// OIDC_REQUIRED: no authenticated bearer token, no MCP. Answered before
/// any tool runs, with the challenge clients expect.
async fn require_bearer(
    State(server): State<K0rdentMcp>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let refuse = |status: StatusCode, error: String| {
        (
            status,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({ "error": error })),
        )
            .into_response()
    };
    let Some(token) = super::access::bearer_token(request.headers()) else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "this server runs in OIDC_REQUIRED mode: send `Authorization: Bearer <token>` \
             with a token the Kubernetes API server accepts"
                .to_string(),
        );
    };
    match server.context().access.authenticate(&token).await {
        Ok(()) => next.run(request).await,
        Err(AuthnError::Rejected(reason)) => {
            tracing::info!(%reason, "refused a bearer token");
            refuse(StatusCode::UNAUTHORIZED, reason)
        }
        // Fail closed, but not with 401: the token may well be good.
        Err(AuthnError::Unavailable(reason)) => {
            tracing::warn!(%reason, "cannot authenticate a bearer token");
            refuse(StatusCode::SERVICE_UNAVAILABLE, reason)
        }
    }
}

/// The process is up and serving HTTP.
async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the plugins are loaded and the catalog index can be served
/// (from memory, the disk cache or a fetch); answers from the last catalog
/// read rather than waiting on a slow one.
async fn readyz(State(state): State<AppState>) -> Response {
    let context = state.server.context();
    let plugins = context.plugins.current().iter().count();
    let plugin_set = context.plugins.status();
    if plugins == 0 {
        return not_ready(
            "no plugins are loaded; check --plugin-dir and the server log".to_string(),
        );
    }
    match state.readiness.current(context.clone()).await {
        CatalogState::Ready {
            location,
            fetched_at,
            warning,
        } => (
            StatusCode::OK,
            axum::Json(json!({
                "status": "ready",
                "plugins": plugins,
                // Ready stays true while a good set serves; a refused reload
                // shows here (and in k0rdent.plugins.list) without failing the probe.
                "plugin_set": plugin_set,
                "catalog": {
                    "location": location,
                    "age_seconds": crate::oci::cache::now().saturating_sub(fetched_at),
                    "warning": warning,
                },
            })),
        )
            .into_response(),
        CatalogState::Failed(reason) => not_ready(reason),
        CatalogState::Unknown => not_ready(format!(
            "catalog index {} is still being read",
            context.catalog.location()
        )),
    }
}

fn not_ready(reason: String) -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(json!({"status": "not ready", "reason": reason})),
    )
        .into_response()
}

async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        state.server.metrics().encode(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_alone_listens_on_loopback() {
        assert_eq!(parse_listen("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(parse_listen(":9").unwrap().to_string(), "127.0.0.1:9");
        assert_eq!(
            parse_listen("0.0.0.0:8080").unwrap().to_string(),
            "0.0.0.0:8080"
        );
        assert_eq!(parse_listen("[::1]:80").unwrap().to_string(), "[::1]:80");
    }

    #[test]
    fn a_bad_address_names_itself_and_the_fix() {
        let e = parse_listen("127.0.0.1").unwrap_err().to_string();
        assert!(e.starts_with("--http 127.0.0.1:"), "{e}");
        assert!(e.contains("HOST:PORT"), "{e}");
    }
}
