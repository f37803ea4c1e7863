//! What can go wrong fetching a chart, in terms a user can act on.

use crate::quote::quote;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("invalid chart reference {}: {why}", quote(reference))]
    InvalidReference { reference: String, why: String },

    #[error(
        "chart {chart}:{version} not found in {repository}{}",
        suggestion(available)
    )]
    NotFound {
        chart: String,
        version: String,
        repository: String,
        /// Closest available versions, best first.
        available: Vec<String>,
    },

    #[error(
        "registry {registry} refused the credentials{}: log in with `helm registry login {registry}` \
         or give --registry-username/--registry-password",
        if *anonymous { " (none were given; the chart may be private)" } else { "" }
    )]
    Unauthorized { registry: String, anonymous: bool },

    #[error("registry {registry}: TLS failure: {cause}; for a private CA give --registry-ca-file")]
    Tls { registry: String, cause: String },

    #[error("registry {registry} is unreachable: {cause}")]
    Unreachable { registry: String, cause: String },

    #[error("registry credentials for {registry}: {why}")]
    Credentials { registry: String, why: String },

    #[error("{reference} is not a Helm chart: {why}")]
    NotAChart { reference: String, why: String },

    #[error("{reference}: chart layer is {size} bytes, over the limit of {limit} bytes")]
    TooLarge {
        reference: String,
        size: u64,
        limit: u64,
    },

    #[error("registry {registry}: {message}")]
    Registry { registry: String, message: String },

    /// Not a `#[source]`: the text already holds it, and `{:#}` would repeat it.
    #[error("{reference}: {error}")]
    BadChart {
        reference: String,
        error: crate::chart::ChartError,
    },

    #[error(
        "registry {registry}: the response from {url} is larger than {limit} bytes; \
         stopped reading it (a registry answer is never this large)"
    )]
    ResponseTooLarge {
        registry: String,
        url: String,
        limit: u64,
    },

    #[error(
        "registry {registry} answered an invalid Docker-Content-Digest {} for {reference}: \
         expected sha256: and 64 lower-case hex digits; the registry is broken or hostile",
        quote(value)
    )]
    InvalidDigest {
        registry: String,
        reference: String,
        value: String,
    },

    #[error(
        "registry {registry}: {what} for {reference} should have digest {expected} but the \
         bytes received hash to {actual}; the registry is broken or hostile"
    )]
    DigestMismatch {
        registry: String,
        reference: String,
        what: &'static str,
        expected: String,
        actual: String,
    },

    #[error("chart cache {path}: {message}")]
    Cache { path: String, message: String },
}

fn suggestion(available: &[String]) -> String {
    if available.is_empty() {
        String::new()
    } else {
        format!("; available: {}", available.join(", "))
    }
}
