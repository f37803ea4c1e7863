//! Artifacts other than charts (plugins and their signatures) through the
//! chart source's registry client, credentials, size caps and cache. The
//! caller judges what it fetched; only then does [`ChartSource::keep`] put it
//! in the cache, so the cache holds nothing its caller refused.

use super::cache::now;
use super::{ChartRef, ChartSource, OciError, PullOrigin};

/// A manifest, digest-checked, and where its bytes came from.
#[derive(Debug, Clone)]
pub struct FetchedManifest {
    pub digest: String,
    pub bytes: Vec<u8>,
    pub origin: PullOrigin,
}

impl ChartSource {
    /// The manifest `reference` names. A digest already in the cache makes no
    /// request; a tag is resolved by the registry, or, when it is unreachable,
    /// by the tag's last cached resolution.
    pub async fn artifact_manifest(
        &self,
        reference: &ChartRef,
    ) -> Result<FetchedManifest, OciError> {
        if let Some(digest) = &reference.digest
            && let Some(bytes) = self.cache.read_manifest(digest)
        {
            return Ok(FetchedManifest {
                digest: digest.clone(),
                bytes,
                origin: PullOrigin::Cache,
            });
        }
        let credentials = self.credentials.for_registry(&reference.registry)?;
        let wanted = reference
            .digest
            .as_deref()
            .or(reference.tag.as_deref())
            .expect("a reference has a tag or a digest");
        match self
            .registry
            .manifest(reference, &credentials, wanted)
            .await
        {
            Ok(m) => Ok(FetchedManifest {
                digest: m.digest,
                bytes: m.bytes,
                origin: PullOrigin::Registry,
            }),
            Err(e @ OciError::Unreachable { .. }) => {
                let cached = reference
                    .tag
                    .as_deref()
                    .filter(|_| reference.digest.is_none())
                    .and_then(|tag| self.cache.read_tag(reference, tag))
                    .and_then(|entry| {
                        let bytes = self.cache.read_manifest(&entry.manifest_digest)?;
                        Some((entry, bytes))
                    });
                let Some((entry, bytes)) = cached else {
                    return Err(e);
                };
                let age_seconds = now().saturating_sub(entry.resolved_at);
                tracing::warn!(reference = %reference, age_seconds, error = %e, "registry unreachable; using the cached resolution of the tag");
                Ok(FetchedManifest {
                    digest: entry.manifest_digest,
                    bytes,
                    origin: PullOrigin::CacheOffline {
                        resolved_at: entry.resolved_at,
                        age_seconds,
                    },
                })
            }
            Err(e) => Err(e),
        }
    }

    /// The manifest tagged `tag` in `reference`'s repository, or `None` when
    /// the registry (or, offline, the cache) has no such tag.
    pub async fn artifact_manifest_at_tag(
        &self,
        reference: &ChartRef,
        tag: &str,
    ) -> Result<Option<FetchedManifest>, OciError> {
        let tagged = ChartRef {
            tag: Some(tag.to_string()),
            digest: None,
            ..reference.clone()
        };
        match self.artifact_manifest(&tagged).await {
            Ok(m) => Ok(Some(m)),
            Err(OciError::Registry { message, .. }) if message.starts_with("not found") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A blob of at most `limit` bytes that hashes to `digest`, from the
    /// cache or else the registry. `digest` must be well-formed (the caller
    /// checked it).
    pub async fn artifact_blob(
        &self,
        reference: &ChartRef,
        digest: &str,
        limit: u64,
    ) -> Result<Vec<u8>, OciError> {
        if let Some(bytes) = self.cache.read_blob_within(digest, limit) {
            return Ok(bytes);
        }
        let credentials = self.credentials.for_registry(&reference.registry)?;
        self.registry
            .blob(reference, &credentials, digest, limit)
            .await
    }

    /// Caches an accepted artifact: its blobs, its manifest, and, for a tag
    /// reference, the tag's resolution (for offline use).
    pub fn keep(
        &self,
        reference: &ChartRef,
        manifest: &FetchedManifest,
        blobs: &[(&str, &[u8])],
    ) -> Result<(), OciError> {
        for (digest, bytes) in blobs {
            self.cache.write_blob(digest, bytes)?;
        }
        self.cache
            .write_manifest(&manifest.digest, &manifest.bytes)?;
        // A reference with both names the digest; its tag was never resolved.
        if let (Some(tag), None) = (&reference.tag, &reference.digest) {
            self.cache.write_tag(reference, tag, &manifest.digest)?;
        }
        Ok(())
    }
}
