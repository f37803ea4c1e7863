//! The plugin set file (`serve --plugin-set FILE`): which plugins the server
//! runs on top of its start-up set, and optionally what they must prove.
//! The server watches it and hot-swaps (see [`super::hot_swap`]).
//!
//! ```yaml
//! plugins:                      # oci://…@sha256:… references or plugin folders
//!   - oci://registry.example/k0rdent/kgst-validator@sha256:…
//!   - ./local-plugins           # relative to this file's folder
//! trusted-keys:                 # optional: PEM public keys; default --plugin-trusted-key
//!   - keys/release.pub
//! signature-policy: require-signature   # optional; default --plugin-signature-policy
//! ```
//!
//! JSON is YAML, so a JSON file works too. The file is whoever can write a
//! ConfigMap's: it is bounded and refused whole at the first bad entry.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::bounded_read::read_bounded;
use super::trust_policy::SignaturePolicy;

/// Largest set file read.
pub const MAX_SET_FILE_BYTES: u64 = 64 * 1024;
/// Most plugins one set may list.
pub const MAX_PLUGINS: usize = 32;
/// Most trusted keys one set may list.
pub const MAX_KEYS: usize = 16;
/// Largest public key file read.
const MAX_KEY_BYTES: u64 = 16 * 1024;

/// One entry of `plugins`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetEntry {
    /// `oci://…`, pulled and verified as `--plugin` is.
    Oci(String),
    /// A plugin folder (the `--plugin-dir` layout), resolved against the file's folder.
    Dir(PathBuf),
}

impl SetEntry {
    /// How the entry is named in reports.
    pub fn reference(&self) -> String {
        match self {
            SetEntry::Oci(reference) => reference.clone(),
            SetEntry::Dir(dir) => dir.display().to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PluginSetFile {
    pub plugins: Vec<SetEntry>,
    /// Key files, resolved against the file's folder; empty: the server's keys.
    pub trusted_keys: Vec<PathBuf>,
    pub policy: Option<SignaturePolicy>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    #[serde(default)]
    plugins: Vec<String>,
    #[serde(default)]
    trusted_keys: Vec<String>,
    #[serde(default)]
    signature_policy: Option<String>,
}

impl PluginSetFile {
    /// Parses the text of the set file at `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, String> {
        let map = helm_yaml::parse_values(text)
            .map_err(|e| format!("{} is not YAML or JSON: {e}", path.display()))?;
        let raw: Raw = serde_json::from_value(serde_json::Value::Object(map)).map_err(|e| {
            format!(
                "{}: {e}; expected `plugins:` (a list of oci://…@sha256:… references or folders), \
                 and optionally `trusted-keys:` and `signature-policy:`",
                path.display()
            )
        })?;
        if raw.plugins.len() > MAX_PLUGINS {
            return Err(format!(
                "{} lists {} plugins, over the limit of {MAX_PLUGINS}",
                path.display(),
                raw.plugins.len()
            ));
        }
        if raw.trusted_keys.len() > MAX_KEYS {
            return Err(format!(
                "{} lists {} trusted keys, over the limit of {MAX_KEYS}",
                path.display(),
                raw.trusted_keys.len()
            ));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let plugins = raw
            .plugins
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                if entry.is_empty() {
                    Err(format!("{}: an empty plugin entry", path.display()))
                } else if entry.starts_with("oci://") {
                    Ok(SetEntry::Oci(entry.to_string()))
                } else if entry.contains("://") {
                    Err(format!(
                        "{}: plugin {} is neither oci://… nor a folder",
                        path.display(),
                        crate::quote::quote(entry)
                    ))
                } else {
                    Ok(SetEntry::Dir(base.join(entry)))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let policy = raw
            .signature_policy
            .as_deref()
            .map(|name| {
                <SignaturePolicy as clap::ValueEnum>::from_str(name, false).map_err(|_| {
                    format!(
                        "{}: signature-policy {} must be require-signature, digest-only or none",
                        path.display(),
                        crate::quote::quote(name)
                    )
                })
            })
            .transpose()?;
        Ok(PluginSetFile {
            plugins,
            trusted_keys: raw.trusted_keys.iter().map(|k| base.join(k)).collect(),
            policy,
        })
    }
}

/// What the watcher compares between polls: the file's bytes and those of
/// the key files it names, hashed. Content, not mtime: a kubelet-updated
/// ConfigMap volume swaps a symlink and may keep sizes and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint(String);

/// Reads the set file (bounded) and fingerprints it with its key files.
/// A missing or unreadable file has a fingerprint too, so that its
/// disappearance is reported once and its return noticed.
pub fn read(path: &Path) -> (Fingerprint, Result<(String, PluginSetFile), String>) {
    let mut hash = Sha256::new();
    let text = match read_bounded(path, MAX_SET_FILE_BYTES, path.display()) {
        Ok(bytes) => {
            hash.update(&bytes);
            String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
        }
        Err(e) => {
            hash.update(b"\0unreadable\0");
            hash.update(e.as_bytes());
            Err(e)
        }
    };
    let parsed = text.and_then(|text| {
        let file = PluginSetFile::parse(path, &text)?;
        for key in &file.trusted_keys {
            match read_bounded(key, MAX_KEY_BYTES, key.display()) {
                Ok(bytes) => hash.update(&bytes),
                Err(e) => hash.update(e.as_bytes()),
            }
        }
        Ok((text, file))
    });
    (Fingerprint(hex::encode(hash.finalize())), parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_sets_parse_with_paths_relative_to_the_file() {
        let path = Path::new("/etc/k0rdent/plugin-set.yaml");
        let yaml = "plugins:\n  - oci://r.example/p@sha256:abc\n  - ./local\ntrusted-keys: [keys/a.pub]\nsignature-policy: digest-only\n";
        let set = PluginSetFile::parse(path, yaml).unwrap();
        assert_eq!(
            set.plugins,
            [
                SetEntry::Oci("oci://r.example/p@sha256:abc".into()),
                SetEntry::Dir("/etc/k0rdent/./local".into())
            ]
        );
        assert_eq!(set.trusted_keys, [PathBuf::from("/etc/k0rdent/keys/a.pub")]);
        assert_eq!(set.policy, Some(SignaturePolicy::DigestOnly));
        let json = r#"{"plugins": ["oci://r.example/p@sha256:abc"]}"#;
        assert_eq!(PluginSetFile::parse(path, json).unwrap().policy, None);
    }

    #[test]
    fn bad_sets_are_refused_with_the_fix() {
        let path = Path::new("set.yaml");
        let unknown = PluginSetFile::parse(path, "plugin: [x]\n").unwrap_err();
        assert!(unknown.contains("expected `plugins:`"), "{unknown}");
        let scheme = PluginSetFile::parse(path, "plugins: [\"https://x/y\"]\n").unwrap_err();
        assert!(scheme.contains("neither oci://"), "{scheme}");
        let policy =
            PluginSetFile::parse(path, "plugins: []\nsignature-policy: trust-me\n").unwrap_err();
        assert!(policy.contains("require-signature"), "{policy}");
        let many = format!(
            "plugins: [{}]\n",
            vec!["oci://r/p:1"; MAX_PLUGINS + 1].join(", ")
        );
        assert!(
            PluginSetFile::parse(path, &many)
                .unwrap_err()
                .contains("over the limit")
        );
        assert!(PluginSetFile::parse(path, "plugins: [oops\n").is_err());
    }

    #[test]
    fn the_fingerprint_follows_content_and_absence() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("set.yaml");
        let (missing, result) = read(&path);
        assert!(result.unwrap_err().contains("cannot read"));
        std::fs::write(&path, "plugins: []\ntrusted-keys: [a.pub]\n").unwrap();
        let (first, result) = read(&path);
        assert!(result.is_ok());
        assert_ne!(first, missing);
        assert_eq!(read(&path).0, first);
        std::fs::write(dir.path().join("a.pub"), "key").unwrap();
        assert_ne!(read(&path).0, first, "a changed key file is a change");
    }
}
