//! On-disk chart cache, content-addressed by digest.
//!
//! ```text
//! <root>/blobs/sha256/<hex>                      chart archives
//! <root>/manifests/sha256/<hex>                  manifests, as the registry sent them
//! <root>/tags/<registry>/<repository>/<tag>.json tag → manifest digest, and when it was resolved
//! ```
//!
//! Every write goes to a temporary file and is renamed into place, so a
//! reader never sees half an entry. Nothing read back is trusted: blobs and
//! manifests must hash to their names and a tag entry must name a
//! well-formed digest and a time that is not in the future; a bad entry is
//! logged, removed and treated as a miss, so it is fetched again.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::reference::valid_digest;
use super::registry::{MAX_MANIFEST_BYTES, sha256_digest};
use super::{ChartRef, OciError};

#[derive(Debug, Clone)]
pub struct ChartCache {
    root: PathBuf,
    max_blob_bytes: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TagEntry {
    pub manifest_digest: String,
    /// Seconds since the Unix epoch.
    pub resolved_at: u64,
}

impl ChartCache {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ChartCache {
            root: root.into(),
            max_blob_bytes: 16 * 1024 * 1024,
        }
    }

    /// Cached blobs larger than this are treated as corrupt.
    pub fn with_max_blob_bytes(mut self, limit: u64) -> Self {
        self.max_blob_bytes = limit;
        self
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where a blob lives; `None` for anything but a well-formed digest, so
    /// no name from outside can steer a path.
    pub fn blob_path(&self, digest: &str) -> Option<PathBuf> {
        self.content_path("blobs", digest)
    }

    fn content_path(&self, kind: &str, digest: &str) -> Option<PathBuf> {
        let hex = digest
            .strip_prefix("sha256:")
            .filter(|_| valid_digest(digest))?;
        Some(self.root.join(kind).join("sha256").join(hex))
    }

    fn tag_path(&self, chart: &ChartRef, tag: &str) -> PathBuf {
        // Registry, repository and tag were validated to safe characters; ':'
        // in a port is replaced so the path is portable.
        self.root
            .join("tags")
            .join(chart.registry.replace(':', "_"))
            .join(&chart.repository)
            .join(format!("{tag}.json"))
    }

    /// The blob's bytes if present and intact.
    pub fn read_blob(&self, digest: &str) -> Option<Vec<u8>> {
        self.read_content("blobs", digest, self.max_blob_bytes)
    }

    /// [`Self::read_blob`] with a limit of the caller's (a plugin component
    /// may be larger than any chart).
    pub fn read_blob_within(&self, digest: &str, limit: u64) -> Option<Vec<u8>> {
        self.read_content("blobs", digest, limit)
    }

    pub fn write_blob(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, OciError> {
        self.write_content("blobs", digest, bytes)
    }

    /// The manifest's bytes if present and intact.
    pub fn read_manifest(&self, digest: &str) -> Option<Vec<u8>> {
        self.read_content("manifests", digest, MAX_MANIFEST_BYTES)
    }

    pub fn write_manifest(&self, digest: &str, bytes: &[u8]) -> Result<PathBuf, OciError> {
        self.write_content("manifests", digest, bytes)
    }

    fn read_content(&self, kind: &str, digest: &str, limit: u64) -> Option<Vec<u8>> {
        let path = self.content_path(kind, digest)?;
        let file = std::fs::File::open(&path).ok()?;
        let mut bytes = Vec::new();
        if let Err(e) = file.take(limit + 1).read_to_end(&mut bytes) {
            discard(&path, &format!("cannot be read: {e}"));
            return None;
        }
        if bytes.len() as u64 > limit {
            discard(&path, &format!("is larger than {limit} bytes"));
            return None;
        }
        if sha256_digest(&bytes) != digest {
            discard(&path, "does not hash to its name");
            return None;
        }
        Some(bytes)
    }

    fn write_content(&self, kind: &str, digest: &str, bytes: &[u8]) -> Result<PathBuf, OciError> {
        let refuse = |message: &str| OciError::Cache {
            path: self.root.display().to_string(),
            message: message.to_string(),
        };
        let path = self
            .content_path(kind, digest)
            .ok_or_else(|| refuse("refusing to store content under a malformed digest"))?;
        if sha256_digest(bytes) != digest {
            return Err(refuse(
                "refusing to store content under a digest it does not hash to",
            ));
        }
        self.write_atomically(&path, bytes)?;
        Ok(path)
    }

    /// The manifest digest `tag` resolved to last, if the entry is sound.
    pub fn read_tag(&self, chart: &ChartRef, tag: &str) -> Option<TagEntry> {
        let path = self.tag_path(chart, tag);
        let file = std::fs::File::open(&path).ok()?;
        let mut bytes = Vec::new();
        file.take(64 * 1024).read_to_end(&mut bytes).ok()?;
        let entry: TagEntry = match serde_json::from_slice(&bytes) {
            Ok(entry) => entry,
            Err(e) => {
                discard(&path, &format!("is not a tag entry: {e}"));
                return None;
            }
        };
        if !valid_digest(&entry.manifest_digest) {
            discard(&path, "names a malformed manifest digest");
            return None;
        }
        if entry.resolved_at > now() {
            discard(&path, "was resolved at a time in the future");
            return None;
        }
        Some(entry)
    }

    pub fn write_tag(
        &self,
        chart: &ChartRef,
        tag: &str,
        manifest_digest: &str,
    ) -> Result<(), OciError> {
        if !valid_digest(manifest_digest) {
            return Err(OciError::Cache {
                path: self.root.display().to_string(),
                message: "refusing to record a tag under a malformed digest".into(),
            });
        }
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

/// A cache entry that cannot be trusted: logged, removed, and so a miss.
fn discard(path: &Path, why: &str) {
    tracing::warn!(path = %path.display(), "chart cache entry {why}; it is removed and will be fetched again");
    let _ = std::fs::remove_file(path);
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

    type Write = fn(&ChartCache, &str, &[u8]) -> Result<PathBuf, OciError>;
    type Read = fn(&ChartCache, &str) -> Option<Vec<u8>>;

    #[test]
    fn tampered_blobs_and_manifests_read_as_absent_and_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let kinds: [(Write, Read); 2] = [
            (ChartCache::write_blob, ChartCache::read_blob),
            (ChartCache::write_manifest, ChartCache::read_manifest),
        ];
        for (write, read) in kinds {
            let bytes = br#"{"layers":[]}"#;
            let d = sha256_digest(bytes);
            let path = write(&cache, &d, bytes).unwrap();
            assert_eq!(read(&cache, &d).unwrap(), bytes);
            std::fs::write(&path, br#"{"layers":["evil"]}"#).unwrap();
            assert!(read(&cache, &d).is_none());
            assert!(!path.exists());
        }
    }

    #[test]
    fn malformed_digests_never_become_paths() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        for bad in ["sha256:../../x", "sha256:ABC", "md5:00", ""] {
            assert!(cache.blob_path(bad).is_none(), "{bad}");
            assert!(cache.write_blob(bad, b"x").is_err(), "{bad}");
            assert!(cache.read_manifest(bad).is_none(), "{bad}");
        }
        assert!(cache.write_blob(&sha256_digest(b"a"), b"b").is_err());
    }

    #[test]
    fn tag_entries_are_checked_when_read() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ChartCache::new(dir.path());
        let chart = ChartRef::parse("oci://127.0.0.1:5000/charts/kgst", Some("1.0.0")).unwrap();
        let d = format!("sha256:{}", "b".repeat(64));
        cache.write_tag(&chart, "1.0.0", &d).unwrap();
        assert_eq!(cache.read_tag(&chart, "1.0.0").unwrap().manifest_digest, d);
        assert!(cache.write_tag(&chart, "1.0.0", "sha256:../../x").is_err());

        let path = cache.tag_path(&chart, "1.0.0");
        for bad in [
            r#"{"manifest_digest":"sha256:../../../x","resolved_at":1}"#.to_string(),
            format!(
                r#"{{"manifest_digest":"{d}","resolved_at":{}}}"#,
                now() + 86400
            ),
            "not json".to_string(),
        ] {
            std::fs::write(&path, &bad).unwrap();
            assert!(cache.read_tag(&chart, "1.0.0").is_none(), "{bad}");
            assert!(!path.exists(), "{bad}");
        }
    }
}
