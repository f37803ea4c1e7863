//! On-disk chart cache, content-addressed by digest.
//!
//! ```text
//! <root>/blobs/sha256/<hex>                      chart archives, verified on every read
//! <root>/manifests/sha256/<hex>.json             manifest digest → chart layer digest
//! <root>/tags/<registry>/<repository>/<tag>.json tag → manifest digest, and when it was resolved
//! ```
//!
//! Every write goes to a temporary file and is renamed into place, so a
//! reader never sees half an entry; a blob whose bytes no longer hash to its
//! name is treated as absent and fetched again.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::reference::valid_digest;
use super::{ChartRef, OciError};

#[derive(Debug, Clone)]
pub struct ChartCache {
    root: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub layer_digest: String,
    pub layer_size: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagEntry {
    pub manifest_digest: String,
    /// Seconds since the Unix epoch.
    pub resolved_at: u64,
}

impl ChartCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ChartCache { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.root
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:"))
    }

    fn manifest_path(&self, digest: &str) -> PathBuf {
        self.root
            .join("manifests/sha256")
            .join(format!("{}.json", digest.trim_start_matches("sha256:")))
    }

    fn tag_path(&self, chart: &ChartRef, tag: &str) -> PathBuf {
        // Registry and repository were validated to safe characters; ':' in a
        // port is replaced so the path is portable.
        self.root
            .join("tags")
            .join(chart.registry.replace(':', "_"))
            .join(&chart.repository)
            .join(format!("{tag}.json"))
    }

    /// The blob's bytes if present and intact. A corrupt entry is removed.
    pub fn read_blob(&self, digest: &str) -> Option<Vec<u8>> {
        if !valid_digest(digest) {
            return None;
        }
        let path = self.blob_path(digest);
        let bytes = std::fs::read(&path).ok()?;
        let actual = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
        if actual != digest {
            tracing::warn!(path = %path.display(), "cached chart is corrupt; it will be fetched again");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(bytes)
    }

    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, OciError> {
        let path = self.blob_path(digest);
        self.write_atomically(&path, bytes)?;
        Ok(path)
    }

    pub fn read_manifest(&self, digest: &str) -> Option<ManifestEntry> {
        read_json(&self.manifest_path(digest))
    }

    pub fn write_manifest(&self, digest: &str, entry: &ManifestEntry) -> Result<(), OciError> {
        self.write_atomically(
            &self.manifest_path(digest),
            &serde_json::to_vec(entry).unwrap(),
        )
    }

    pub fn read_tag(&self, chart: &ChartRef, tag: &str) -> Option<TagEntry> {
        read_json(&self.tag_path(chart, tag))
    }

    pub fn write_tag(
        &self,
        chart: &ChartRef,
        tag: &str,
        manifest_digest: &str,
    ) -> Result<(), OciError> {
        let entry = TagEntry {
            manifest_digest: manifest_digest.to_string(),
            resolved_at: now(),
        };
        self.write_atomically(
            &self.tag_path(chart, tag),
            &serde_json::to_vec(&entry).unwrap(),
        )
    }

    fn write_atomically(&self, path: &Path, bytes: &[u8]) -> Result<(), OciError> {
        let err = |e: std::io::Error| OciError::Cache {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let dir = path.parent().expect("cache paths have a parent");
        std::fs::create_dir_all(dir).map_err(err)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
        std::io::Write::write_all(&mut tmp, bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        tmp.persist(path).map_err(|e| err(e.error))?;
        Ok(())
    }
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_corrupt_blob_reads_as_absent_and_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let bytes = b"chart bytes";
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        let path = cache.write_blob(&digest, bytes).unwrap();
        assert_eq!(cache.read_blob(&digest).unwrap(), bytes);
        std::fs::write(&path, b"tampered").unwrap();
        assert!(cache.read_blob(&digest).is_none());
        assert!(!path.exists());
    }

    #[test]
    fn tags_and_manifests_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let chart = ChartRef::parse("oci://127.0.0.1:5000/charts/kgst", Some("1.0.0")).unwrap();
        let d = format!("sha256:{}", "b".repeat(64));
        cache.write_tag(&chart, "1.0.0", &d).unwrap();
        assert_eq!(cache.read_tag(&chart, "1.0.0").unwrap().manifest_digest, d);
        cache
            .write_manifest(
                &d,
                &ManifestEntry {
                    layer_digest: d.clone(),
                    layer_size: 3,
                },
            )
            .unwrap();
        assert_eq!(cache.read_manifest(&d).unwrap().layer_size, 3);
    }
}
