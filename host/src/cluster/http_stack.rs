//! The kube client's HTTP stack, assembled here instead of by kube's `ClientBuilder` for one reason:
//! kube 5 builds its TCP connector without `TCP_NODELAY`, so a small request written right behind
//! another unacknowledged write can wait for the server's delayed ACK. Go's net package (kubectl,
//! helm) sets `TCP_NODELAY` on every TCP connection; so do we. (The large first-request delay once
//! blamed on this was aws-lc's jitter-entropy seeding, see `.cargo/config.toml`.)
//!
//! Everything else is kube's own pieces, in kube's order: its rustls connector (CA, client identity,
//! exec identities, `tls-server-name`), its connect/read/write timeouts, base URI, server-error retry,
//! authentication (tokens, refreshing exec/OIDC tokens) and extra headers (impersonation,
//! `User-Agent`). A proxied config keeps kube's builder, which owns proxy support.

use hyper_timeout::TimeoutConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt;
use kube::client::retry::RetryPolicy;
use tower::retry::RetryLayer;
use tower::util::MapRequestLayer;
use tower::{BoxError, ServiceBuilder};

/// A client for `config` whose every request first passes through `on_request` (the `--timings`
/// request count).
pub fn build(config: kube::Config, on_request: fn()) -> Result<kube::Client, kube::Error> {
    let counted = MapRequestLayer::new(move |request: http::Request<kube::client::Body>| {
        on_request();
        request
    });
    if config.proxy_url.is_some() {
        return Ok(kube::client::ClientBuilder::try_from(config)?
            .with_layer(&counted)
            .build());
    }
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    let mut connector = TimeoutConnector::new(config.rustls_https_connector_with_connector(tcp)?);
    connector.set_connect_timeout(config.connect_timeout);
    connector.set_read_timeout(config.read_timeout);
    connector.set_write_timeout(config.write_timeout);
    connector.set_reset_reader_on_write(config.reset_reader_on_write);
    let http: hyper_util::client::legacy::Client<_, kube::client::Body> =
        hyper_util::client::legacy::Builder::new(TokioExecutor::new()).build(connector);
    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(
            config
                .default_retry
                .then(|| RetryLayer::new(RetryPolicy::server_retry())),
        )
        .option_layer(config.auth_layer()?)
        .layer(config.extra_headers_layer()?)
        .layer(counted)
        .map_err(BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace))
}
