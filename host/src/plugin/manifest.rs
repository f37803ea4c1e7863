//! Plugin manifests: who a component claims to be, and the digest that proves it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::bounded_read::read_bounded;
use super::{PluginError, World};

/// Suffix of manifest files in a plugin directory.
pub const MANIFEST_SUFFIX: &str = ".plugin.json";
/// Largest component file the host will read.
pub const MAX_COMPONENT_BYTES: u64 = 64 * 1024 * 1024;
const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// `<name>.plugin.json` beside a component in a plugin directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginManifest {
    pub name: String,
    pub version: String,
    pub world: World,
    /// Lower-case hex sha256 of the component bytes.
    pub sha256: String,
    /// Component file name, relative to the manifest's directory.
    pub component: String,
}

impl PluginManifest {
    /// Checks the fields a manifest author controls, naming the first bad one.
    pub fn validate(&self) -> Result<(), String> {
        if !crate::names::is_dns_label(&self.name) {
            return Err(format!(
                "name {:?} must be 1-63 lower-case letters, digits or '-' (for example \"helm-renderer\")",
                self.name
            ));
        }
        if self.version.is_empty()
            || self.version.len() > 64
            || !self.version.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(format!(
                "version {:?} must be a non-empty version string such as \"0.1.0\"",
                self.version
            ));
        }
        if self.sha256.len() != 64
            || !self
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(format!(
                "sha256 {:?} must be 64 lower-case hex digits (the output of `sha256sum <component>`)",
                self.sha256
            ));
        }
        let component = Path::new(&self.component);
        if self.component.is_empty()
            || component.is_absolute()
            || component.components().count() != 1
            || self.component.starts_with('.')
        {
            return Err(format!(
                "component {:?} must be a plain file name in the manifest's directory",
                self.component
            ));
        }
        Ok(())
    }

    /// Fails unless `bytes` hash to this manifest's digest.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), PluginError> {
        let actual = sha256_hex(bytes);
        if actual == self.sha256 {
            Ok(())
        } else {
            Err(PluginError::DigestMismatch {
                plugin: self.name.clone(),
                expected: self.sha256.clone(),
                actual,
            })
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A manifest read from disk together with its component's bytes, digest verified.
#[derive(Debug, Clone)]
pub struct PluginSource {
    pub manifest: PluginManifest,
    pub bytes: Vec<u8>,
    /// Where it came from, for messages: a manifest path or `embedded`.
    pub origin: String,
}

/// Reads every `*.plugin.json` in `dir` (sorted by file name) and its component.
pub fn read_plugin_dir(dir: &Path) -> Result<Vec<PluginSource>, PluginError> {
    let runtime_err = |message: String| PluginError::Manifest {
        path: dir.display().to_string(),
        message,
    };
    let entries = std::fs::read_dir(dir).map_err(|e| runtime_err(format!("cannot list: {e}")))?;
    let mut manifests: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| runtime_err(format!("cannot list: {e}")))?
            .path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.ends_with(MANIFEST_SUFFIX))
        {
            manifests.push(path);
        }
    }
    manifests.sort();
    if manifests.is_empty() {
        return Err(runtime_err(format!(
            "no *{MANIFEST_SUFFIX} manifests found; each plugin needs one beside its component"
        )));
    }
    manifests.iter().map(|p| read_plugin(p)).collect()
}

/// Reads one manifest and the component it names, verifying the digest.
pub fn read_plugin(manifest_path: &Path) -> Result<PluginSource, PluginError> {
    let err = |message: String| PluginError::Manifest {
        path: manifest_path.display().to_string(),
        message,
    };
    let text =
        read_bounded(manifest_path, MAX_MANIFEST_BYTES, manifest_path.display()).map_err(err)?;
    let manifest: PluginManifest =
        serde_json::from_slice(&text).map_err(|e| err(format!("invalid manifest JSON: {e}")))?;
    manifest.validate().map_err(err)?;
    let dir = manifest_path.parent().unwrap_or(Path::new("."));
    let bytes = read_bounded(
        &dir.join(&manifest.component),
        MAX_COMPONENT_BYTES,
        dir.join(&manifest.component).display(),
    )
    .map_err(err)?;
    manifest.verify(&bytes)?;
    Ok(PluginSource {
        manifest,
        bytes,
        origin: manifest_path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> PluginManifest {
        PluginManifest {
            name: "helm-renderer".into(),
            version: "0.1.0".into(),
            world: World::Renderer,
            sha256: sha256_hex(b"component"),
            component: "helm_renderer.wasm".into(),
        }
    }

    #[test]
    fn a_well_formed_manifest_validates_and_verifies() {
        let m = manifest();
        m.validate().unwrap();
        m.verify(b"component").unwrap();
    }

    #[test]
    fn a_changed_byte_is_a_digest_mismatch() {
        let err = manifest().verify(b"componenT").unwrap_err();
        assert!(matches!(err, PluginError::DigestMismatch { .. }));
        assert!(err.to_string().contains("does not match its manifest"));
    }

    #[test]
    fn bad_fields_are_named() {
        let mut m = manifest();
        m.name = "Helm_Renderer".into();
        assert!(m.validate().unwrap_err().contains("name"));
        let mut m = manifest();
        m.sha256 = "ABC".into();
        assert!(m.validate().unwrap_err().contains("sha256"));
        let mut m = manifest();
        m.component = "../evil.wasm".into();
        assert!(m.validate().unwrap_err().contains("component"));
        let mut m = manifest();
        m.component = "/abs.wasm".into();
        assert!(m.validate().unwrap_err().contains("component"));
    }

    #[test]
    fn unknown_manifest_fields_are_rejected() {
        let text = r#"{"name":"a","version":"1","world":"renderer","sha256":"x","component":"a.wasm","extra":1}"#;
        assert!(serde_json::from_str::<PluginManifest>(text).is_err());
    }
}
