//! Getting the index: over HTTP(S) or from a file, validated, kept in memory
//! for a TTL and on disk as the last good copy, which is served (and labelled
//! with its age) when the catalog cannot be reached.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{CatalogIndex, DEFAULT_INDEX_URL, IndexError};
use crate::error_chain::error_chain;
use crate::oci::cache::now;

#[derive(Debug, Clone)]
pub struct CatalogSourceOptions {
    /// `https://…/index.json`, `http://…` or a local file path.
    pub location: String,
    pub cache_dir: PathBuf,
    /// How long a fetched index is used before it is fetched again.
    pub ttl: Duration,
    pub timeout: Duration,
    /// Largest index accepted.
    pub max_bytes: u64,
}

impl CatalogSourceOptions {
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        CatalogSourceOptions {
            location: DEFAULT_INDEX_URL.into(),
            cache_dir: cache_dir.into(),
            ttl: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(20),
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CatalogOrigin {
    /// Fetched just now.
    Fetched,
    /// The in-memory copy, younger than the TTL.
    Memory,
    /// The on-disk copy, younger than the TTL.
    DiskCache,
    /// The last good copy, served because the catalog could not be reached.
    Stale,
}

#[derive(Debug, Clone)]
pub struct CatalogSnapshot {
    pub index: Arc<CatalogIndex>,
    pub location: String,
    /// Seconds since the epoch when this copy was fetched.
    pub fetched_at: u64,
    pub age_seconds: u64,
    pub origin: CatalogOrigin,
    /// Why a stale copy was served.
    pub warning: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalog index {location} cannot be read: {cause} (and no earlier copy is cached)")]
    Unavailable { location: String, cause: String },
    #[error("catalog index {location}: {source}")]
    Invalid {
        location: String,
        #[source]
        source: IndexError,
    },
}

#[derive(Serialize, Deserialize)]
struct DiskEntry {
    location: String,
    fetched_at: u64,
    body: String,
}

pub struct CatalogSource {
    options: CatalogSourceOptions,
    http: reqwest::Client,
    memory: tokio::sync::Mutex<Option<(Arc<CatalogIndex>, u64)>>,
}

impl CatalogSource {
    pub fn new(options: CatalogSourceOptions) -> Self {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .user_agent(concat!("k0rdent-mcp/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("building the HTTP client");
        CatalogSource {
            options,
            http,
            memory: tokio::sync::Mutex::new(None),
        }
    }

    pub fn location(&self) -> &str {
        &self.options.location
    }

    /// The index, fetched again when older than the TTL or when `refresh`.
    pub async fn get(&self, refresh: bool) -> Result<CatalogSnapshot, CatalogError> {
        let mut memory = self.memory.lock().await;
        let ttl = self.options.ttl.as_secs();
        if !refresh {
            if let Some((index, at)) = memory.as_ref()
                && fresh(*at, ttl)
            {
                return Ok(self.snapshot(index.clone(), *at, CatalogOrigin::Memory, None));
            }
            if let Some((index, at)) = self.read_disk()
                && fresh(at, ttl)
            {
                *memory = Some((index.clone(), at));
                return Ok(self.snapshot(index, at, CatalogOrigin::DiskCache, None));
            }
        }
        match self.fetch().await {
            Ok(body) => {
                let index = Arc::new(CatalogIndex::parse(body.as_bytes()).map_err(|source| {
                    CatalogError::Invalid {
                        location: self.options.location.clone(),
                        source,
                    }
                })?);
                let at = now();
                self.write_disk(&body, at);
                *memory = Some((index.clone(), at));
                Ok(self.snapshot(index, at, CatalogOrigin::Fetched, None))
            }
            Err(cause) => {
                let last = memory.clone().or_else(|| self.read_disk());
                match last {
                    Some((index, at)) => {
                        let when = match now().checked_sub(at) {
                            Some(age) => format!("fetched {} ago", human_age(age)),
                            None => "whose fetch time is in the future".to_string(),
                        };
                        let warning = format!(
                            "catalog index {} cannot be read ({cause}); serving the copy {when}",
                            self.options.location,
                        );
                        tracing::warn!("{warning}");
                        Ok(self.snapshot(index, at, CatalogOrigin::Stale, Some(warning)))
                    }
                    None => Err(CatalogError::Unavailable {
                        location: self.options.location.clone(),
                        cause,
                    }),
                }
            }
        }
    }

    fn snapshot(
        &self,
        index: Arc<CatalogIndex>,
        at: u64,
        origin: CatalogOrigin,
        warning: Option<String>,
    ) -> CatalogSnapshot {
        CatalogSnapshot {
            index,
            location: self.options.location.clone(),
            fetched_at: at,
            age_seconds: now().saturating_sub(at),
            origin,
            warning,
        }
    }

    async fn fetch(&self) -> Result<String, String> {
        let location = &self.options.location;
        let limit = self.options.max_bytes;
        if !(location.starts_with("http://") || location.starts_with("https://")) {
            let path = location.strip_prefix("file://").unwrap_or(location);
            let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
            let mut body = Vec::new();
            // The file may grow after any size check; read through the cap.
            std::io::Read::read_to_end(&mut std::io::Read::take(file, limit + 1), &mut body)
                .map_err(|e| e.to_string())?;
            if body.len() as u64 > limit {
                return Err(format!(
                    "the file is larger than the limit of {limit} bytes"
                ));
            }
            return String::from_utf8(body).map_err(|_| "the index is not UTF-8".to_string());
        }
        let mut response = self
            .http
            .get(location)
            .send()
            .await
            .map_err(|e| error_chain(&e))?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status()));
        }
        let too_large =
            || format!("the answer is larger than the limit of {limit} bytes; stopped reading it");
        if response.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| error_chain(&e))? {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| "the index is not UTF-8".to_string())
    }

    fn disk_path(&self) -> PathBuf {
        let key = hex::encode(Sha256::digest(self.options.location.as_bytes()));
        self.options
            .cache_dir
            .join(format!("catalog-{}.json", &key[..16]))
    }

    fn read_disk(&self) -> Option<(Arc<CatalogIndex>, u64)> {
        let bytes = std::fs::read(self.disk_path()).ok()?;
        let entry: DiskEntry = serde_json::from_slice(&bytes).ok()?;
        if entry.location != self.options.location {
            return None;
        }
        let index = CatalogIndex::parse(entry.body.as_bytes()).ok()?;
        Some((Arc::new(index), entry.fetched_at))
    }

    fn write_disk(&self, body: &str, at: u64) {
        let entry = DiskEntry {
            location: self.options.location.clone(),
            fetched_at: at,
            body: body.to_string(),
        };
        let path = self.disk_path();
        let result = std::fs::create_dir_all(&self.options.cache_dir).and_then(|_| {
            let mut tmp = tempfile::NamedTempFile::new_in(&self.options.cache_dir)?;
            std::io::Write::write_all(&mut tmp, &serde_json::to_vec(&entry).unwrap_or_default())?;
            tmp.persist(&path).map(|_| ()).map_err(|e| e.error)
        });
        if let Err(e) = result {
            tracing::warn!(path = %path.display(), error = %e, "cannot cache the catalog index");
        }
    }
}

/// Younger than the TTL. A copy stamped in the future is never fresh: a
/// wrong clock or a forged cache entry must not pin an index forever.
fn fresh(fetched_at: u64, ttl: u64) -> bool {
    now().checked_sub(fetched_at).is_some_and(|age| age < ttl)
}

fn human_age(seconds: u64) -> String {
    match seconds {
        s if s < 120 => format!("{s} seconds"),
        s if s < 2 * 3600 => format!("{} minutes", s / 60),
        s if s < 2 * 86400 => format!("{} hours", s / 3600),
        s => format!("{} days", s / 86400),
    }
}
