//! Pulling charts: tag → digest, bounded and verified downloads, the cache,
//! one download per chart however many callers ask at once, and the cache as
//! a fallback when the registry is down. A chart is served only from bytes
//! whose digests were checked: the manifest against the digest asked for (or
//! the one the registry claims), the layer against the manifest.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::cache::now;
use super::reference::valid_digest;
use super::registry::{Manifest, RegistryClient};
use super::{
    ChartCache, ChartRef, CredentialStore, Credentials, HELM_CHART_MEDIA_TYPE,
    HELM_CONFIG_MEDIA_TYPE, OciError,
};
use crate::chart::{ArchiveLimits, Chart};
use crate::quote::quote;

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
    pub(super) registry: RegistryClient,
    pub(super) cache: ChartCache,
    pub(super) credentials: CredentialStore,
    max_chart_bytes: u64,
    /// One lock per chart reference, so concurrent pulls download once.
    inflight: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The parts of a manifest a Helm chart has.
#[derive(serde::Deserialize)]
struct ManifestDoc {
    #[serde(rename = "mediaType")]
    media_type: Option<String>,
    manifests: Option<serde_json::Value>,
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
}

#[derive(serde::Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: i64,
}

impl ChartSource {
    pub fn new(options: ChartSourceOptions, credentials: CredentialStore) -> Self {
        ChartSource {
            registry: RegistryClient::new(&options),
            cache: ChartCache::new(options.cache_dir).with_max_blob_bytes(options.max_chart_bytes),
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
        let wanted = chart
            .digest
            .as_deref()
            .or(chart.tag.as_deref())
            .expect("a reference has a tag or a digest");
        let manifest = match self.registry.manifest(chart, &credentials, wanted).await {
            Ok(m) => m,
            Err(e) => {
                if let (OciError::Unreachable { .. }, None, Some(tag)) =
                    (&e, &chart.digest, &chart.tag)
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
                return Err(self.with_suggestions(chart, e).await);
            }
        };
        let pulled = match self.cached(chart, &manifest.digest, PullOrigin::Cache) {
            Some(hit) => hit,
            None => self.download(chart, &credentials, manifest).await?,
        };
        // Recorded only once the digest is backed by verified content.
        if let Some(tag) = &chart.tag {
            self.cache.write_tag(chart, tag, &pulled.manifest_digest)?;
        }
        Ok(pulled)
    }

    /// Fails with [`OciError::NotFound`] (and the closest available versions)
    /// unless `chart` exists in its registry. Makes no download.
    pub async fn check_exists(&self, chart: &ChartRef) -> Result<String, OciError> {
        let credentials = self.credentials.for_registry(&chart.registry)?;
        let wanted = chart
            .digest
            .as_deref()
            .or(chart.tag.as_deref())
            .expect("a reference has a tag or a digest");
        match self.registry.manifest(chart, &credentials, wanted).await {
            Ok(manifest) => Ok(manifest.digest),
            Err(e) => Err(self.with_suggestions(chart, e).await),
        }
    }

    /// Every tag of the chart's repository.
    pub async fn list_versions(&self, chart: &ChartRef) -> Result<Vec<String>, OciError> {
        let credentials = self.credentials.for_registry(&chart.registry)?;
        let mut tags = Vec::new();
        let mut last: Option<String> = None;
        // Registries page tag lists; bound the walk so a hostile one cannot loop us.
        for _ in 0..100 {
            let page = self
                .registry
                .tags(chart, &credentials, 1000, last.as_deref())
                .await?;
            let count = page.len();
            last = page.last().cloned();
            tags.extend(page);
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

    /// The chart a cached manifest names, if manifest and layer are both
    /// cached and intact.
    fn cached(
        &self,
        chart: &ChartRef,
        manifest_digest: &str,
        origin: PullOrigin,
    ) -> Option<PulledChart> {
        let manifest = self.cache.read_manifest(manifest_digest)?;
        let layer = match self.chart_layer(chart, &manifest) {
            Ok(layer) => layer,
            Err(e) => {
                tracing::warn!(chart = %chart, error = %e, "cached manifest is not a chart; it will be fetched again");
                return None;
            }
        };
        let bytes = self.cache.read_blob(&layer.digest)?;
        Some(PulledChart {
            reference: chart.clone(),
            manifest_digest: manifest_digest.to_string(),
            cache_path: self.cache.blob_path(&layer.digest)?,
            layer_digest: layer.digest,
            bytes,
            origin,
        })
    }

    /// The one Helm chart layer of a manifest, its digest well-formed and
    /// its size within the limit.
    fn chart_layer(&self, chart: &ChartRef, manifest: &[u8]) -> Result<Descriptor, OciError> {
        let not_a_chart = |why: String| OciError::NotAChart {
            reference: chart.to_string(),
            why,
        };
        let doc: ManifestDoc = serde_json::from_slice(manifest)
            .map_err(|e| not_a_chart(format!("its manifest cannot be read: {e}")))?;
        let index = doc.manifests.is_some()
            || doc
                .media_type
                .as_deref()
                .is_some_and(|t| t.contains("index") || t.contains("list"));
        if index {
            return Err(not_a_chart(
                "the reference is an image index, not a chart manifest".into(),
            ));
        }
        let config = doc
            .config
            .ok_or_else(|| not_a_chart("its manifest has no config".into()))?;
        if config.media_type != HELM_CONFIG_MEDIA_TYPE {
            return Err(not_a_chart(format!(
                "config media type is {}, expected {HELM_CONFIG_MEDIA_TYPE}",
                quote(&config.media_type)
            )));
        }
        let mut layers: Vec<Descriptor> = doc
            .layers
            .into_iter()
            .filter(|l| l.media_type == HELM_CHART_MEDIA_TYPE)
            .collect();
        if layers.len() != 1 {
            return Err(not_a_chart(format!(
                "expected exactly one {HELM_CHART_MEDIA_TYPE} layer, found {}",
                layers.len()
            )));
        }
        let layer = layers.remove(0);
        if !valid_digest(&layer.digest) {
            return Err(not_a_chart(format!(
                "its chart layer digest {} is not sha256: and 64 lower-case hex digits",
                quote(&layer.digest)
            )));
        }
        let size = u64::try_from(layer.size).unwrap_or(u64::MAX);
        if size > self.max_chart_bytes {
            return Err(OciError::TooLarge {
                reference: chart.to_string(),
                size,
                limit: self.max_chart_bytes,
            });
        }
        Ok(layer)
    }

    async fn download(
        &self,
        chart: &ChartRef,
        credentials: &Credentials,
        manifest: Manifest,
    ) -> Result<PulledChart, OciError> {
        let layer = self.chart_layer(chart, &manifest.bytes)?;
        let limit = u64::try_from(layer.size)
            .unwrap_or(u64::MAX)
            .min(self.max_chart_bytes);
        let bytes = self
            .registry
            .blob(chart, credentials, &layer.digest, limit)
            .await?;
        // Only a chart the loader accepts enters the cache, so a hostile
        // archive fails here, named, and is never served from the cache later.
        let limits = ArchiveLimits {
            compressed_bytes: self.max_chart_bytes,
            ..ArchiveLimits::default()
        };
        Chart::from_archive(&bytes, &limits).map_err(|error| OciError::BadChart {
            reference: chart.to_string(),
            error,
        })?;
        let cache_path = self.cache.write_blob(&layer.digest, &bytes)?;
        self.cache
            .write_manifest(&manifest.digest, &manifest.bytes)?;
        Ok(PulledChart {
            reference: chart.clone(),
            manifest_digest: manifest.digest,
            layer_digest: layer.digest,
            bytes,
            origin: PullOrigin::Registry,
            cache_path,
        })
    }

    /// For a missing tag or digest, [`OciError::NotFound`] with the closest
    /// versions the repository does have; other errors unchanged.
    async fn with_suggestions(&self, chart: &ChartRef, e: OciError) -> OciError {
        if !matches!(&e, OciError::Registry { message, .. } if message.starts_with("not found")) {
            return e;
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
