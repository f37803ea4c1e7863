//! Pulling charts: tag → digest, bounded and verified downloads, the cache,
//! one download per chart however many callers ask at once, and the cache as
//! a fallback when the registry is down.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::manifest::OciManifest;

use super::cache::{ManifestEntry, now};
use super::{
    ChartCache, ChartRef, CredentialStore, Credentials, HELM_CHART_MEDIA_TYPE,
    HELM_CONFIG_MEDIA_TYPE, OciError,
};
use crate::error_chain::error_chain;

#[derive(Debug, Clone)]
pub struct ChartSourceOptions {
    pub cache_dir: PathBuf,
    /// Registries (`host[:port]`) that may be reached over plain HTTP.
    pub plain_http: Vec<String>,
    /// Extra CA certificates (PEM) to trust for registries.
    pub ca_pem: Vec<Vec<u8>>,
    /// Largest chart archive to download.
    pub max_chart_bytes: u64,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
}

impl ChartSourceOptions {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        ChartSourceOptions {
            cache_dir: cache_dir.into(),
            plain_http: Vec::new(),
            ca_pem: Vec::new(),
            max_chart_bytes: 16 * 1024 * 1024,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
        }
    }
}

/// Where a pulled chart's bytes came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum PullOrigin {
    /// Downloaded now.
    Registry,
    /// From the cache, after the registry confirmed the digest (or none was needed).
    Cache,
    /// From the cache because the registry could not be reached; `resolved_at`
    /// is when the tag was last resolved (seconds since the epoch).
    CacheOffline { resolved_at: u64, age_seconds: u64 },
}

#[derive(Debug, Clone)]
pub struct PulledChart {
    pub reference: ChartRef,
    pub manifest_digest: String,
    pub layer_digest: String,
    pub bytes: Vec<u8>,
    pub origin: PullOrigin,
    /// The cached archive on disk.
    pub cache_path: PathBuf,
}

pub struct ChartSource {
    client: oci_client::Client,
    cache: ChartCache,
    credentials: CredentialStore,
    max_chart_bytes: u64,
    /// One lock per chart reference, so concurrent pulls download once.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl ChartSource {
    pub fn new(options: ChartSourceOptions, credentials: CredentialStore) -> Self {
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(options.plain_http.clone()),
            extra_root_certificates: options
                .ca_pem
                .iter()
                .map(|pem| Certificate {
                    encoding: CertificateEncoding::Pem,
                    data: pem.clone(),
                })
                .collect(),
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.read_timeout),
            user_agent: concat!("k0rdent-mcp/", env!("CARGO_PKG_VERSION")),
            // A chart reference resolves to one manifest; an index is not a chart.
            platform_resolver: None,
            ..ClientConfig::default()
        };
        ChartSource {
            client: oci_client::Client::new(config),
            cache: ChartCache::new(options.cache_dir),
            credentials,
            max_chart_bytes: options.max_chart_bytes,
            inflight: Mutex::new(HashMap::new()),
        }
    }

    pub fn cache(&self) -> &ChartCache {
        &self.cache
    }

    /// Pulls a chart. A digest reference already in the cache makes no
    /// network request at all.
    pub async fn pull(&self, chart: &ChartRef) -> Result<PulledChart, OciError> {
        let lock = self.lock_for(&chart.to_string());
        let _guard = lock.lock().await;

        if let Some(digest) = &chart.digest
            && let Some(hit) = self.cached(chart, digest, PullOrigin::Cache)
        {
            return Ok(hit);
        }
        let credentials = self.credentials.for_registry(&chart.registry)?;
        let auth = credentials.to_oci();
        let manifest_digest = match &chart.digest {
            Some(d) => d.clone(),
            None => {
                let tag = chart
                    .tag
                    .as_deref()
                    .expect("a reference has a tag or a digest");
                match self
                    .client
                    .fetch_manifest_digest(&chart.to_oci(), &auth)
                    .await
                {
                    Ok(d) => d,
                    Err(e) => {
                        let e = self.classify(chart, &credentials, e).await;
                        if let OciError::Unreachable { .. } = e
                            && let Some(entry) = self.cache.read_tag(chart, tag)
                        {
                            let age = now().saturating_sub(entry.resolved_at);
                            let origin = PullOrigin::CacheOffline {
                                resolved_at: entry.resolved_at,
                                age_seconds: age,
                            };
                            if let Some(hit) = self.cached(chart, &entry.manifest_digest, origin) {
                                tracing::warn!(chart = %chart, age_seconds = age, error = %e, "registry unreachable; serving the cached chart");
                                return Ok(hit);
                            }
                        }
                        return Err(e);
                    }
                }
            }
        };
        if let Some(tag) = &chart.tag {
            self.cache.write_tag(chart, tag, &manifest_digest)?;
        }
        if let Some(hit) = self.cached(chart, &manifest_digest, PullOrigin::Cache) {
            return Ok(hit);
        }
        self.download(chart, &credentials, &manifest_digest).await
    }

    /// Fails with [`OciError::NotFound`] (and the closest available versions)
    /// unless `chart` exists in its registry. Makes no download.
    pub async fn check_exists(&self, chart: &ChartRef) -> Result<String, OciError> {
        let credentials = self.credentials.for_registry(&chart.registry)?;
        match self
            .client
            .fetch_manifest_digest(&chart.to_oci(), &credentials.to_oci())
            .await
        {
            Ok(digest) => Ok(digest),
            Err(e) => Err(self.classify(chart, &credentials, e).await),
        }
    }

    /// Every tag of the chart's repository.
    pub async fn list_versions(&self, chart: &ChartRef) -> Result<Vec<String>, OciError> {
        let credentials = self.credentials.for_registry(&chart.registry)?;
        let auth = credentials.to_oci();
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        // Registries page tag lists; bound the walk so a hostile one cannot loop us.
        for _ in 0..100 {
            let page = self
                .client
                .list_tags(&chart.to_oci(), &auth, Some(1000), last.as_deref())
                .await
                .map_err(|e| classify_plain(&chart.registry, &credentials, e))?;
            let count = page.tags.len();
            last = page.tags.last().cloned();
            tags.extend(page.tags);
            if count < 1000 || tags.len() > 100_000 {
                break;
            }
        }
        Ok(tags)
    }

    fn lock_for(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.inflight.lock().expect("inflight map lock");
        // Drop locks nobody holds any more, so the map stays small.
        map.retain(|_, l| Arc::strong_count(l) > 1);
        map.entry(key.to_string()).or_default().clone()
    }

    fn cached(
        &self,
        chart: &ChartRef,
        manifest_digest: &str,
        origin: PullOrigin,
    ) -> Option<PulledChart> {
        let entry = self.cache.read_manifest(manifest_digest)?;
        let bytes = self.cache.read_blob(&entry.layer_digest)?;
        Some(PulledChart {
            reference: chart.clone(),
            manifest_digest: manifest_digest.to_string(),
            cache_path: self.cache.blob_path(&entry.layer_digest),
            layer_digest: entry.layer_digest,
            bytes,
            origin,
        })
    }

    async fn download(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        manifest_digest: &str,
    ) -> Result<PulledChart, OciError> {
        let pinned = ChartRef {
            digest: Some(manifest_digest.to_string()),
            ..chart.clone()
        };
        let reference = pinned.to_oci();
        let auth = credentials.to_oci();
        let (manifest, _) = self
            .client
            .pull_manifest(&reference, &auth)
            .await
            .map_err(|e| classify_plain(&chart.registry, credentials, e))?;
        let not_a_chart = |why: String| OciError::NotAChart {
            reference: chart.to_string(),
            why,
        };
        let OciManifest::Image(manifest) = manifest else {
            return Err(not_a_chart(
                "the reference is an image index, not a chart manifest".into(),
            ));
        };
        if manifest.config.media_type != HELM_CONFIG_MEDIA_TYPE {
            return Err(not_a_chart(format!(
                "config media type is {:?}, expected {HELM_CONFIG_MEDIA_TYPE}",
                manifest.config.media_type
            )));
        }
        let layers: Vec<_> = manifest
            .layers
            .iter()
            .filter(|l| l.media_type == HELM_CHART_MEDIA_TYPE)
            .collect();
        let [layer] = layers.as_slice() else {
            return Err(not_a_chart(format!(
                "expected exactly one {HELM_CHART_MEDIA_TYPE} layer, found {}",
                layers.len()
            )));
        };
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if size > self.max_chart_bytes {
            return Err(OciError::TooLarge {
                reference: chart.to_string(),
                size,
                limit: self.max_chart_bytes,
            });
        }
        let mut sink = BoundedSink::new(self.max_chart_bytes);
        self.client
            .pull_blob(&reference, *layer, &mut sink)
            .await
            .map_err(|e| match sink.overflowed {
                true => OciError::TooLarge {
                    reference: chart.to_string(),
                    size: sink.received,
                    limit: self.max_chart_bytes,
                },
                false => classify_plain(&chart.registry, credentials, e),
            })?;
        // pull_blob verified the bytes against the layer digest.
        let bytes = sink.bytes;
        let cache_path = self.cache.write_blob(&layer.digest, &bytes)?;
        self.cache.write_manifest(
            manifest_digest,
            &ManifestEntry {
                layer_digest: layer.digest.clone(),
                layer_size: bytes.len() as u64,
            },
        )?;
        Ok(PulledChart {
            reference: chart.clone(),
            manifest_digest: manifest_digest.to_string(),
            layer_digest: layer.digest.clone(),
            bytes,
            origin: PullOrigin::Registry,
            cache_path,
        })
    }

    /// Like [`classify_plain`], and for a missing tag, looks up the closest
    /// versions the repository does have.
    async fn classify(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        e: OciDistributionError,
    ) -> OciError {
        let err = classify_plain(&chart.registry, credentials, e);
        let OciError::Registry { .. } = err else {
            return err;
        };
        if !is_not_found(&err) {
            return err;
        }
        let wanted = chart
            .tag
            .clone()
            .or(chart.digest.clone())
            .unwrap_or_default();
        let available = self.list_versions(chart).await.unwrap_or_default();
        OciError::NotFound {
            chart: chart.chart_name().to_string(),
            version: wanted.clone(),
            repository: chart.parent(),
            available: crate::versions::closest_versions(&wanted, &available, 5),
        }
    }
}

fn is_not_found(e: &OciError) -> bool {
    matches!(e, OciError::Registry { message, .. } if message.starts_with("not found"))
}

/// Maps oci-client's errors onto what a user can act on.
fn classify_plain(registry: &str, credentials: &Credentials, e: OciDistributionError) -> OciError {
    let registry = registry.to_string();
    match e {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => OciError::Unauthorized {
            registry,
            anonymous: *credentials == Credentials::Anonymous,
        },
        OciDistributionError::ImageManifestNotFoundError(what) => OciError::Registry {
            registry,
            message: format!("not found: {what}"),
        },
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<String> = envelope
                .errors
                .iter()
                .map(|e| format!("{:?}", e.code))
                .collect();
            let missing = codes
                .iter()
                .any(|c| c.contains("ManifestUnknown") || c.contains("NameUnknown"));
            let denied = codes
                .iter()
                .any(|c| c.contains("Unauthorized") || c.contains("Denied"));
            if denied {
                return OciError::Unauthorized {
                    registry,
                    anonymous: *credentials == Credentials::Anonymous,
                };
            }
            let detail: Vec<String> = envelope.errors.iter().map(|e| e.message.clone()).collect();
            OciError::Registry {
                registry,
                message: if missing {
                    format!("not found: {}", detail.join("; "))
                } else {
                    detail.join("; ")
                },
            }
        }
        OciDistributionError::ServerError { code, message, .. } => OciError::Registry {
            message: if code == 404 {
                format!("not found: {message}")
            } else {
                format!("HTTP {code}: {message}")
            },
            registry,
        },
        OciDistributionError::RequestError(req) => {
            let chain = error_chain(&req);
            if chain.contains("certificate")
                || chain.contains("UnknownIssuer")
                || chain.contains("tls")
            {
                OciError::Tls {
                    registry,
                    cause: chain,
                }
            } else if req.is_connect() || req.is_timeout() {
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
        other => OciError::Registry {
            registry,
            message: other.to_string(),
        },
    }
}

/// An `AsyncWrite` that keeps at most `limit` bytes and fails beyond that,
/// so a registry that lies about a layer's size cannot exhaust memory.
struct BoundedSink {
    bytes: Vec<u8>,
    limit: u64,
    received: u64,
    overflowed: bool,
}

impl BoundedSink {
    fn new(limit: u64) -> Self {
        BoundedSink {
            bytes: Vec::new(),
            limit,
            received: 0,
            overflowed: false,
        }
    }
}

impl tokio::io::AsyncWrite for BoundedSink {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        self.received += buf.len() as u64;
        if self.received > self.limit {
            self.overflowed = true;
            return std::task::Poll::Ready(Err(std::io::Error::other(
                "chart layer exceeds the size limit",
            )));
        }
        self.bytes.extend_from_slice(buf);
        std::task::Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}
