//! On-disk cache of precompiled components, so a restart deserializes native
//! code (sub-millisecond) instead of compiling (around a second per plugin).
//!
//! Deserializing a `.cwasm` runs whatever native code it holds, so an entry is
//! trusted only when all of these hold:
//! * the directory, and every directory above it, is closed to other users
//!   (see [`super::cache_dir`]);
//! * the entry file belongs to this user and no one else can write it;
//! * its header carries an HMAC-SHA256, under a key this host generated and
//!   keeps in the directory (`cache.key`, mode 0600), over the digest of the
//!   verified component it was compiled from, the engine's configuration and
//!   the compiled bytes. A file planted under a victim's name, or a real entry
//!   of another component renamed, fails the check and is recompiled.

use std::hash::{Hash, Hasher};
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;
use super::cache_dir::{self, CacheRefusal};

/// Version of the wasmtime crate this host is pinned to (see Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";

/// First bytes of an entry; a file without them (an older layout, or
/// anything planted) is never deserialized.
const MAGIC: &[u8; 8] = b"K0CWASM1";
const MAC_BYTES: usize = 32;
const HEADER_BYTES: usize = MAGIC.len() + MAC_BYTES;
/// Native code is several times the size of the component it came from.
const MAX_ENTRY_BYTES: u64 = 16 * super::manifest::MAX_COMPONENT_BYTES;
/// Names the purpose of the MAC so the key can never vouch for anything else.
const MAC_DOMAIN: &[u8] = b"k0rdent-mcp precompiled component v1\0";

#[derive(Clone)]
pub struct CompiledCache {
    dir: PathBuf,
    key: [u8; 32],
    /// sha256 over the wasmtime version and every setting that affects code.
    engine_fingerprint: [u8; 32],
}

impl std::fmt::Debug for CompiledCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key stays out of logs.
        f.debug_struct("CompiledCache")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// How a component was obtained, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Deserialized from the cache.
    Hit,
    /// Compiled, then written to the cache.
    Compiled,
    /// Compiled with no cache configured, or the configured one refused.
    Uncached,
}

impl CompiledCache {
    /// Opens (creating it if needed) a cache directory that passes the
    /// ownership checks, with this host's key.
    pub fn open(dir: &Path, engine: &Engine) -> Result<Self, CacheRefusal> {
        let dir = cache_dir::prepare(dir)?;
        let key = cache_dir::load_or_create_key(&dir)?;
        Ok(CompiledCache {
            dir,
            key,
            engine_fingerprint: engine_fingerprint(engine),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for a component digest under this engine's settings.
    pub fn entry_path(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!(
            "{sha256}-wasmtime{WASMTIME_VERSION}-{}.cwasm",
            hex::encode(&self.engine_fingerprint[..8])
        ))
    }

    /// Loads the precompiled component for `sha256` (the digest the caller
    /// verified `bytes` against), compiling and storing it when there is no
    /// trustworthy entry.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        plugin: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginError> {
        let path = self.entry_path(sha256);
        match self.read_verified(&path, sha256) {
            Ok(Some(precompiled)) => {
                // SAFETY: the bytes carry a MAC under this host's key binding
                // them to `sha256` and this engine's configuration, so this
                // process (or an earlier one with the same key) compiled them
                // from the verified component.
                match unsafe { Component::deserialize(engine, &precompiled) } {
                    Ok(component) => return Ok((component, CacheOutcome::Hit)),
                    Err(e) => tracing::warn!(
                        plugin,
                        path = %path.display(),
                        error = %e,
                        "discarding unreadable precompiled plugin; recompiling"
                    ),
                }
            }
            Ok(None) => {}
            Err(reason) => tracing::warn!(
                plugin,
                path = %path.display(),
                %reason,
                "not trusting precompiled plugin; recompiling"
            ),
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| load_error(plugin, e))?;
        if let Err(e) = self.store(&path, sha256, &compiled) {
            tracing::warn!(plugin, path = %path.display(), error = %e, "cannot cache precompiled plugin");
        }
        // SAFETY: `compiled` was produced by this engine a moment ago.
        let component = unsafe { Component::deserialize(engine, &compiled) }
            .map_err(|e| load_error(plugin, e))?;
        Ok((component, CacheOutcome::Compiled))
    }

    fn mac(&self, sha256: &str, compiled: &[u8]) -> [u8; MAC_BYTES] {
        // Every part but the last has a fixed length (manifest digests are 64
        // hex digits), so the concatenation is unambiguous.
        hmac_sha256(
            &self.key,
            &[
                MAC_DOMAIN,
                sha256.as_bytes(),
                &self.engine_fingerprint,
                compiled,
            ],
        )
    }

    /// The compiled bytes of a trustworthy entry; `Ok(None)` when there is
    /// none; `Err` naming why an existing file is not trusted.
    fn read_verified(&self, path: &Path, sha256: &str) -> Result<Option<Vec<u8>>, String> {
        let file = match cache_dir::open_private_file(path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot open: {e}")),
        };
        cache_dir::check_private_file(&file, path)?;
        let mut data = Vec::new();
        (&file)
            .take(MAX_ENTRY_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| format!("cannot read: {e}"))?;
        if data.len() as u64 > MAX_ENTRY_BYTES {
            return Err(format!("larger than {MAX_ENTRY_BYTES} bytes"));
        }
        if data.len() < HEADER_BYTES || &data[..MAGIC.len()] != MAGIC {
            return Err("no integrity header (not written by this host)".into());
        }
        let compiled = data.split_off(HEADER_BYTES);
        let expected = self.mac(sha256, &compiled);
        if !constant_time_eq(&data[MAGIC.len()..], &expected) {
            return Err(
                "integrity check failed: not compiled by this host from this component".into(),
            );
        }
        Ok(Some(compiled))
    }

    fn store(&self, path: &Path, sha256: &str, compiled: &[u8]) -> std::io::Result<()> {
        let mac = self.mac(sha256, compiled);
        cache_dir::write_private_file_atomically(path, &[MAGIC, &mac, compiled])
    }
}

pub fn load_error(plugin: &str, e: wasmtime::Error) -> PluginError {
    PluginError::Load {
        plugin: plugin.to_string(),
        message: format!("{e:#}"),
    }
}

/// Feeds `Hash` output into sha256, for a fingerprint that is stable across
/// runs (std's `DefaultHasher` makes no such promise).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
    }
}

fn engine_fingerprint(engine: &Engine) -> [u8; 32] {
    let mut hasher = Sha256Hasher(Sha256::new());
    WASMTIME_VERSION.hash(&mut hasher);
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

/// HMAC-SHA256 (RFC 2104) over the concatenation of `parts`.
fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut inner_pad = [0x36u8; BLOCK];
    let mut outer_pad = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        inner_pad[i] ^= k;
        outer_pad[i] ^= k;
    }
    let mut inner = Sha256::new();
    inner.update(inner_pad);
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(outer_pad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit, so timing does not reveal a MAC prefix.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_test_case_1() {
        // RFC 4231 case 1 uses a 20-byte key; padded to 32 bytes with zeros it
        // is the same HMAC key (keys are zero-padded to the block size).
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        let mac = hmac_sha256(&key, &[b"Hi ", b"There"]);
        assert_eq!(
            hex::encode(mac),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn equal_only_when_every_byte_is() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
