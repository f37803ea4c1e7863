//! On-disk cache of precompiled components, so a restart deserializes native
//! code (sub-millisecond) instead of compiling (around a second per plugin).
//!
//! Entries are keyed by the component's sha256 and the engine's compatibility
//! hash (wasmtime version plus every setting that affects code generation), so
//! an upgraded host never loads code compiled for another configuration.
//! Deserializing runs native code the file describes, so the directory must
//! not be writable by anyone else: [`CompiledCache::open`] refuses it otherwise.

use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::PluginError;

/// Version of the wasmtime crate this host is pinned to (see Cargo.toml).
pub const WASMTIME_VERSION: &str = "48.0.8";

#[derive(Debug, Clone)]
pub struct CompiledCache {
    dir: PathBuf,
}

/// How a component was obtained, for logs and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheOutcome {
    /// Deserialized from the cache.
    Hit,
    /// Compiled, then written to the cache.
    Compiled,
    /// Compiled with no cache configured.
    Uncached,
}

impl CompiledCache {
    pub fn open(dir: &Path) -> Result<Self, PluginError> {
        let err =
            |what: String| PluginError::Runtime(format!("plugin cache {}: {what}", dir.display()));
        std::fs::create_dir_all(dir).map_err(|e| err(format!("cannot create: {e}")))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir).map_err(|e| err(format!("cannot stat: {e}")))?;
            if meta.permissions().mode() & 0o022 != 0 {
                return Err(err(format!(
                    "is writable by group or others (mode {:o}); run `chmod go-w {}` or choose another --plugin-cache-dir",
                    meta.permissions().mode() & 0o777,
                    dir.display()
                )));
            }
        }
        Ok(CompiledCache {
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Path of the entry for a component digest under this engine's settings.
    pub fn entry_path(&self, engine: &Engine, sha256: &str) -> PathBuf {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        self.dir.join(format!(
            "{sha256}-wasmtime{WASMTIME_VERSION}-{:016x}.cwasm",
            hasher.finish()
        ))
    }

    /// Loads the precompiled component for `sha256`, compiling and storing it
    /// on a miss. A corrupt or incompatible entry is replaced, not trusted.
    pub fn load_or_compile(
        &self,
        engine: &Engine,
        plugin: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginError> {
        let path = self.entry_path(engine, sha256);
        // Read into memory rather than `deserialize_file`: that maps the file,
        // and a later in-place truncation by anyone would crash the process.
        if let Ok(precompiled) = std::fs::read(&path) {
            // SAFETY: the entry was written by `store_atomically` below into a
            // directory that `open` checked no one else can write to, under a
            // name that includes the engine's compatibility hash.
            match unsafe { Component::deserialize(engine, &precompiled) } {
                Ok(component) => return Ok((component, CacheOutcome::Hit)),
                Err(e) => tracing::warn!(
                    plugin,
                    path = %path.display(),
                    error = %e,
                    "discarding unreadable precompiled plugin"
                ),
            }
        }
        let compiled = engine
            .precompile_component(bytes)
            .map_err(|e| load_error(plugin, e))?;
        if let Err(e) = store_atomically(&path, &compiled) {
            tracing::warn!(plugin, path = %path.display(), error = %e, "cannot cache precompiled plugin");
        }
        // SAFETY: `compiled` was produced by this engine a moment ago.
        let component = unsafe { Component::deserialize(engine, &compiled) }
            .map_err(|e| load_error(plugin, e))?;
        Ok((component, CacheOutcome::Compiled))
    }
}

pub fn load_error(plugin: &str, e: wasmtime::Error) -> PluginError {
    PluginError::Load {
        plugin: plugin.to_string(),
        message: format!("{e:#}"),
    }
}

/// Writes to a private temporary file in the same directory, then renames, so
/// a reader never sees a partial entry and concurrent writers do not collide.
fn store_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.{}.{:?}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        std::thread::current().id()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
