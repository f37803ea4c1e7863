//! The OCI distribution API as the chart source needs it (manifests, blobs,
//! tag lists and the bearer-token exchange), over reqwest. A registry is not
//! trusted: every response body is read through a size cap, a
//! `Docker-Content-Digest` header must be a well-formed digest and must match
//! the bytes actually received, and error bodies are quoted short.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::{ACCEPT, WWW_AUTHENTICATE};
use reqwest::{Response, StatusCode};
use sha2::{Digest, Sha256};

use super::reference::valid_digest;
use super::{ChartRef, ChartSourceOptions, Credentials, OciError};
use crate::error_chain::error_chain;
use crate::quote::{quote, quote_bytes};

/// Largest manifest accepted (CNCF distribution refuses to store bigger ones).
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;
/// Largest page of a tag list.
pub const MAX_TAG_LIST_BYTES: u64 = 8 << 20;
/// Largest token-service answer.
pub const MAX_TOKEN_BYTES: u64 = 64 << 10;
/// How much of an error answer is read to explain it.
const MAX_ERROR_BODY_BYTES: u64 = 16 << 10;

const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// A manifest's bytes and the digest they hash to.
pub struct Manifest {
    pub digest: String,
    pub bytes: Vec<u8>,
}

#[derive(Clone)]
enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

pub struct RegistryClient {
    http: reqwest::Client,
    plain_http: Vec<String>,
    /// What worked last for `registry/repository`: a token from the exchange,
    /// or basic credentials the registry asked for.
    known_auth: Mutex<HashMap<String, Auth>>,
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl RegistryClient {
    pub fn new(options: &ChartSourceOptions) -> Self {
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("k0rdent-mcp/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout);
        for pem in &options.ca_pem {
            match reqwest::Certificate::from_pem_bundle(pem) {
                Ok(certs) => builder = builder.tls_certs_merge(certs),
                Err(e) => tracing::error!(
                    error = %e,
                    "a registry CA certificate (--registry-ca-file) is not valid PEM; it is ignored"
                ),
            }
        }
        RegistryClient {
            http: builder.build().expect("building the registry HTTP client"),
            plain_http: options.plain_http.clone(),
            known_auth: Mutex::new(HashMap::new()),
        }
    }

    fn base(&self, chart: &ChartRef) -> String {
        format!(
            "{}://{}/v2/{}",
            self.scheme(&chart.registry),
            chart.registry,
            chart.repository
        )
    }

    fn scheme(&self, host: &str) -> &'static str {
        if self.plain_http.iter().any(|h| h == host) {
            "http"
        } else {
            "https"
        }
    }

    /// The manifest `reference` (a tag or a digest) names, verified: its
    /// digest is computed from the bytes received and must equal both the
    /// registry's `Docker-Content-Digest` and a digest reference.
    pub async fn manifest(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        reference: &str,
    ) -> Result<Manifest, OciError> {
        let url = format!("{}/manifests/{reference}", self.base(chart));
        let response = self
            .send(chart, credentials, &url, Some(MANIFEST_ACCEPT))
            .await?;
        let claimed = match response.headers().get("docker-content-digest") {
            Some(value) if !value.is_empty() => {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                if !valid_digest(&value) {
                    return Err(OciError::InvalidDigest {
                        registry: chart.registry.clone(),
                        reference: chart.to_string(),
                        value,
                    });
                }
                Some(value)
            }
            _ => None,
        };
        let bytes = read_capped(&chart.registry, &url, response, MAX_MANIFEST_BYTES).await?;
        let actual = sha256_digest(&bytes);
        let by_digest = valid_digest(reference).then(|| reference.to_string());
        for expected in [claimed, by_digest].into_iter().flatten() {
            if expected != actual {
                return Err(OciError::DigestMismatch {
                    registry: chart.registry.clone(),
                    reference: chart.to_string(),
                    what: "the manifest",
                    expected,
                    actual,
                });
            }
        }
        Ok(Manifest {
            digest: actual,
            bytes,
        })
    }

    /// A blob of at most `limit` bytes whose content hashes to `digest`
    /// (which the caller has checked is well-formed).
    pub async fn blob(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        digest: &str,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        let url = format!("{}/blobs/{digest}", self.base(chart));
        let mut response = self.send(chart, credentials, &url, None).await?;
        let too_large = |size: u64| OciError::TooLarge {
            reference: chart.to_string(),
            size,
            limit,
        };
        if let Some(size) = response.content_length()
            && size > limit
        {
            return Err(too_large(size));
        }
        let mut bytes = Vec::new();
        let mut hasher = Sha256::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport(&chart.registry, &e))?
        {
            let received = bytes.len() as u64 + chunk.len() as u64;
            if received > limit {
                return Err(too_large(received));
            }
            hasher.update(&chunk);
            bytes.extend_from_slice(&chunk);
        }
        let actual = format!("sha256:{}", hex::encode(hasher.finalize()));
        if actual != digest {
            return Err(OciError::DigestMismatch {
                registry: chart.registry.clone(),
                reference: chart.to_string(),
                what: "the chart layer",
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// One page of the repository's tags, after `last`.
    pub async fn tags(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        page_size: usize,
        last: Option<&str>,
    ) -> Result<Vec<String>, OciError> {
        let mut url = format!("{}/tags/list?n={page_size}", self.base(chart));
        if let Some(last) = last {
            url.push_str("&last=");
            url.push_str(&percent_encode(last));
        }
        let response = self.send(chart, credentials, &url, None).await?;
        let body = read_capped(&chart.registry, &url, response, MAX_TAG_LIST_BYTES).await?;
        #[derive(serde::Deserialize)]
        struct TagList {
            tags: Option<Vec<String>>,
        }
        let list: TagList = serde_json::from_slice(&body).map_err(|e| OciError::Registry {
            registry: chart.registry.clone(),
            message: format!("the tag list from {url} is not valid: {e}"),
        })?;
        Ok(list.tags.unwrap_or_default())
    }

    /// GETs `url` with what the registry wants: no credentials, the basic
    /// credentials it asks for, or a bearer token from its token service.
    async fn send(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, OciError> {
        let key = format!("{}/{}", chart.registry, chart.repository);
        let mut auth = match credentials {
            Credentials::Bearer(token) => Auth::Bearer(token.clone()),
            _ => self
                .known_auth
                .lock()
                .expect("auth map lock")
                .get(&key)
                .cloned()
                .unwrap_or(Auth::None),
        };
        let mut challenged = false;
        loop {
            let mut request = self.http.get(url);
            if let Some(accept) = accept {
                request = request.header(ACCEPT, accept);
            }
            request = match &auth {
                Auth::None => request,
                Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
                Auth::Bearer(token) => request.bearer_auth(token),
            };
            let response = request
                .send()
                .await
                .map_err(|e| transport(&chart.registry, &e))?;
            if response.status().is_success() {
                return Ok(response);
            }
            if response.status() == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                if let Some(next) = self.answer_challenge(chart, credentials, &response).await? {
                    self.known_auth
                        .lock()
                        .expect("auth map lock")
                        .insert(key.clone(), next.clone());
                    auth = next;
                    continue;
                }
            }
            return Err(status_error(chart, credentials, url, response).await);
        }
    }

    /// The credentials a 401's `WWW-Authenticate` asks for, if we have them.
    async fn answer_challenge(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        response: &Response,
    ) -> Result<Option<Auth>, OciError> {
        let Some(header) = response.headers().get(WWW_AUTHENTICATE) else {
            return Ok(None);
        };
        let header = String::from_utf8_lossy(header.as_bytes()).into_owned();
        let (scheme, params) = header.split_once(' ').unwrap_or((&header, ""));
        if scheme.eq_ignore_ascii_case("basic") {
            return Ok(match credentials {
                Credentials::Basic { username, password } => {
                    Some(Auth::Basic(username.clone(), password.clone()))
                }
                _ => None,
            });
        }
        // A token we were given and the registry refused is final.
        if !scheme.eq_ignore_ascii_case("bearer") || matches!(credentials, Credentials::Bearer(_)) {
            return Ok(None);
        }
        let params = challenge_params(params);
        let registry_error = |message: String| OciError::Registry {
            registry: chart.registry.clone(),
            message,
        };
        let realm = params
            .get("realm")
            .ok_or_else(|| registry_error("its token challenge names no realm".into()))?;
        let realm_url = reqwest::Url::parse(realm).map_err(|_| {
            registry_error(format!("its token service {} is not a URL", quote(realm)))
        })?;
        let realm_host = match realm_url.port() {
            Some(port) => format!("{}:{port}", realm_url.host_str().unwrap_or("")),
            None => realm_url.host_str().unwrap_or("").to_string(),
        };
        let plain_allowed =
            self.scheme(&realm_host) == "http" || self.scheme(&chart.registry) == "http";
        if realm_url.scheme() != "https" && !(realm_url.scheme() == "http" && plain_allowed) {
            return Err(registry_error(format!(
                "its token service {} is not https; credentials are only sent over plain HTTP \
                 to hosts named in --plain-http",
                quote(realm)
            )));
        }
        let mut request = self
            .http
            .get(realm_url)
            .query(&[("scope", format!("repository:{}:pull", chart.repository))]);
        if let Some(service) = params.get("service") {
            request = request.query(&[("service", service)]);
        }
        if let Credentials::Basic { username, password } = credentials {
            request = request.basic_auth(username, Some(password));
        }
        let token_response = request
            .send()
            .await
            .map_err(|e| transport(&chart.registry, &e))?;
        if !token_response.status().is_success() {
            return Err(status_error(chart, credentials, realm, token_response).await);
        }
        let body = read_capped(&chart.registry, realm, token_response, MAX_TOKEN_BYTES).await?;
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| {
            registry_error(format!("the token service {} answered: {e}", quote(realm)))
        })?;
        let token = answer
            .token
            .or(answer.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                registry_error(format!(
                    "the token service {} answered no token",
                    quote(realm)
                ))
            })?;
        Ok(Some(Auth::Bearer(token)))
    }
}

/// The body of a successful answer, refused as soon as it passes `limit`.
pub async fn read_capped(
    registry: &str,
    url: &str,
    mut response: Response,
    limit: u64,
) -> Result<Vec<u8>, OciError> {
    let too_large = || OciError::ResponseTooLarge {
        registry: registry.to_string(),
        url: url.to_string(),
        limit,
    };
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(registry, &e))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// What a failed answer means for the user: refused credentials, a missing
/// chart, or the registry's own words (capped).
async fn status_error(
    chart: &ChartRef,
    credentials: &Credentials,
    url: &str,
    mut response: Response,
) -> OciError {
    let registry = chart.registry.clone();
    let status = response.status();
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        return OciError::Unauthorized {
            registry,
            anonymous: *credentials == Credentials::Anonymous,
        };
    }
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() as u64 >= MAX_ERROR_BODY_BYTES {
            break;
        }
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        errors: Vec<EnvelopeError>,
    }
    #[derive(serde::Deserialize)]
    struct EnvelopeError {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    let (codes, detail) = match serde_json::from_slice::<Envelope>(&body) {
        Ok(envelope) => (
            envelope
                .errors
                .iter()
                .map(|e| e.code.clone())
                .collect::<Vec<_>>(),
            quote(
                &envelope
                    .errors
                    .iter()
                    .map(|e| e.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(_) => (Vec::new(), quote_bytes(&body)),
    };
    let missing = status == StatusCode::NOT_FOUND
        || codes.iter().any(|c| {
            matches!(
                c.as_str(),
                "MANIFEST_UNKNOWN" | "NAME_UNKNOWN" | "BLOB_UNKNOWN" | "TAG_UNKNOWN"
            )
        });
    if codes.iter().any(|c| c == "UNAUTHORIZED" || c == "DENIED") {
        return OciError::Unauthorized {
            registry,
            anonymous: *credentials == Credentials::Anonymous,
        };
    }
    OciError::Registry {
        registry,
        message: if missing {
            format!("not found: {} ({detail})", chart)
        } else {
            format!("HTTP {} from {url}: {detail}", status.as_u16())
        },
    }
}

/// A failure below HTTP: TLS, an unreachable host, a broken connection.
fn transport(registry: &str, e: &reqwest::Error) -> OciError {
    let registry = registry.to_string();
    let chain = error_chain(e);
    if chain.contains("certificate") || chain.contains("UnknownIssuer") || chain.contains("tls") {
        OciError::Tls {
            registry,
            cause: chain,
        }
    } else if e.is_connect() || e.is_timeout() || e.is_request() {
        // No answer came: refused, timed out, or a connection closed under
        // us (a pooled one, when the registry went away).
        OciError::Unreachable {
            registry,
            cause: chain,
        }
    } else {
        OciError::Registry {
            registry,
            message: chain,
        }
    }
}

/// `key="value", key=value` parameters of a `WWW-Authenticate` challenge.
fn challenge_params(text: &str) -> HashMap<String, String> {
    let mut params = HashMap::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let (value, after) = match after.strip_prefix('"') {
            Some(quoted) => match quoted.find('"') {
                Some(end) => (&quoted[..end], &quoted[end + 1..]),
                None => (quoted, ""),
            },
            None => match after.find(',') {
                Some(end) => (&after[..end], &after[end..]),
                None => (after, ""),
            },
        };
        params.insert(key, value.to_string());
        rest = after.trim_start_matches([',', ' ']).trim();
    }
    params
}

/// Tags are `[A-Za-z0-9_.-]`, but a registry's `last` cursor is its own.
fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_challenges_are_parsed() {
        let p = challenge_params(
            r#"realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push""#,
        );
        assert_eq!(p["realm"], "https://ghcr.io/token");
        assert_eq!(p["service"], "ghcr.io");
        assert_eq!(p["scope"], "repository:a/b:pull,push");
        let p = challenge_params("realm=https://r/t, service=reg");
        assert_eq!(p["realm"], "https://r/t");
        assert_eq!(p["service"], "reg");
    }
}
