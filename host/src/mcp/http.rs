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

use super::metrics::CONTENT_TYPE;
use super::server::K0rdentMcp;

/// Largest request body. Tool arguments are small; this only stops a client
/// from making the server buffer arbitrary amounts of memory.
pub const MAX_REQUEST_BODY_BYTES: usize = 4 * 1024 * 1024;
/// How long `/readyz` waits for the catalog index before calling it unready.
const READY_CATALOG_TIMEOUT: Duration = Duration::from_secs(10);
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
        Ok(())
    }
}

/// Serves until SIGTERM/SIGINT, then lets in-flight requests finish.
pub async fn serve(server: K0rdentMcp, args: &HttpArgs) -> anyhow::Result<()> {
    args.check()?;
    let Some(listen) = args.listen.as_deref() else {
        bail!("serving over HTTP needs --http ADDR");
    };
    let addr = parse_listen(listen)?;
    let cancel = CancellationToken::new();
    let app = router(server, args, cancel.clone());

    // Bind here rather than inside axum-server so a busy port is reported
    // with the address and before "listening" is logged.
    let listener = std::net::TcpListener::bind(addr).with_context(|| {
        format!("--http {listen}: cannot listen on {addr}; pick a free port or another address")
    })?;
    listener.set_nonblocking(true)?;
    let bound = listener.local_addr()?;
    warn_if_hosts_unreachable(bound, args);

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
            tracing::info!("serving MCP at https://{bound}/mcp");
            axum_server::from_tcp_rustls(listener, tls)?
                .handle(handle)
                .serve(service)
                .await?;
        }
        None => {
            tracing::info!("serving MCP at http://{bound}/mcp");
            axum_server::from_tcp(listener)?
                .handle(handle)
                .serve(service)
                .await?;
        }
    }
    Ok(())
}

fn router(server: K0rdentMcp, args: &HttpArgs, cancel: CancellationToken) -> Router {
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
    let mcp = StreamableHttpService::new(
        {
            let server = server.clone();
            move || Ok(server.clone())
        },
        Arc::new(NeverSessionManager::default()),
        config,
    );
    let oidc_required = server.context().access.mode == super::access::AuthMode::OidcRequired;
    let mcp_routes = Router::new().route_service("/mcp", mcp);
    let mcp_routes = if oidc_required {
        mcp_routes.layer(axum::middleware::from_fn_with_state(
            server.clone(),
            require_bearer,
        ))
    } else {
        mcp_routes
    };
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(mcp_routes)
        .with_state(server)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY_BYTES))
        // 503 rather than 408: the server, not the client, was too slow.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(args.timeout_seconds),
        ))
}

/// Bound to a non-loopback address but still accepting only loopback Host
/// headers: every remote /mcp request would get 403, so say why up front.
fn warn_if_hosts_unreachable(bound: SocketAddr, args: &HttpArgs) {
    if !bound.ip().is_loopback() && args.allowed_hosts.is_empty() {
        tracing::warn!(
            "listening on {bound}, but /mcp accepts only the Host names localhost, 127.0.0.1 and ::1; \
             set --http-allowed-hosts to the names clients use (or `*`)"
        );
    }
}

/// The process is up and serving HTTP.
/// OIDC_REQUIRED: no bearer token, no MCP. Answered before any tool runs,
/// with the challenge clients expect.
async fn require_bearer(
    State(server): State<K0rdentMcp>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let unauthorized = |error: String| {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            axum::Json(json!({ "error": error })),
        )
            .into_response()
    };
    let Some(token) = super::access::bearer_token(request.headers()) else {
        return unauthorized(
            "this server runs in OIDC_REQUIRED mode: send `Authorization: Bearer <token>` \
             with a token the Kubernetes API server accepts"
                .to_string(),
        );
    };
    if let Some(check) = &server.context().access.jwt
        && let Err(reason) = check.verify(&token).await
    {
        tracing::info!(%reason, "refused a bearer token");
        return unauthorized(reason);
    }
    next.run(request).await
}

async fn healthz() -> &'static str {
    "ok"
}

/// Ready when the plugins are loaded and the catalog index can be served
/// (from memory, the disk cache or a fetch).
async fn readyz(State(server): State<K0rdentMcp>) -> Response {
    let context = server.context();
    let plugins = context.plugins.iter().count();
    if plugins == 0 {
        return not_ready(
            "no plugins are loaded; check --plugin-dir and the server log".to_string(),
        );
    }
    match tokio::time::timeout(READY_CATALOG_TIMEOUT, context.catalog.get(false)).await {
        Ok(Ok(snapshot)) => (
            StatusCode::OK,
            axum::Json(json!({
                "status": "ready",
                "plugins": plugins,
                "catalog": {
                    "location": snapshot.location,
                    "age_seconds": snapshot.age_seconds,
                    "warning": snapshot.warning,
                },
            })),
        )
            .into_response(),
        Ok(Err(e)) => not_ready(e.to_string()),
        Err(_) => not_ready(format!(
            "catalog index {} did not answer within {}s",
            context.catalog.location(),
            READY_CATALOG_TIMEOUT.as_secs()
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

async fn metrics(State(server): State<K0rdentMcp>) -> Response {
    (
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        server.metrics().encode(),
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
