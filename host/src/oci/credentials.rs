//! Registry credentials: explicit ones, then the registry config files Helm
//! and Docker write (`helm registry login`, `docker login`), else anonymous.
//! Anonymous still works with registries such as ghcr.io that hand out
//! anonymous bearer tokens: the registry client performs that token exchange.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;

use super::OciError;

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    Basic { username: String, password: String },
    Bearer(String),
}

// Secrets never reach logs or results.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Anonymous => f.write_str("Anonymous"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::Bearer(_) => f.write_str("Bearer(<redacted>)"),
        }
    }
}

/// Where credentials come from, most specific first.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    /// Credentials given for one registry host (flags, Kubernetes Secrets).
    explicit: HashMap<String, Credentials>,
    /// Registry config files, in the order they are consulted.
    config_files: Vec<PathBuf>,
}

/// The `auths` entry of a Docker/Helm registry `config.json`.
#[derive(Debug, serde::Deserialize)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    registrytoken: Option<String>,
    identitytoken: Option<String>,
}

#[derive(Debug, serde::Deserialize)]
struct RegistryConfig {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

impl CredentialStore {
    /// Helm's registry config (`$HELM_REGISTRY_CONFIG`, else
    /// `$XDG_CONFIG_HOME/helm/registry/config.json`), then Docker's
    /// (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`).
    pub fn from_environment() -> Self {
        let env = |k: &str| std::env::var_os(k).map(PathBuf::from);
        let home = env("HOME");
        let mut files = Vec::new();
        match env("HELM_REGISTRY_CONFIG") {
            Some(p) => files.push(p),
            None => {
                if let Some(base) =
                    env("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")))
                {
                    files.push(base.join("helm/registry/config.json"));
                }
            }
        }
        match env("DOCKER_CONFIG") {
            Some(dir) => files.push(dir.join("config.json")),
            None => {
                if let Some(h) = &home {
                    files.push(h.join(".docker/config.json"));
                }
            }
        }
        CredentialStore {
            explicit: HashMap::new(),
            config_files: files,
        }
    }

    /// Only the given config files (tests, or `--registry-config`).
    pub fn with_config_files(files: Vec<PathBuf>) -> Self {
        CredentialStore {
            explicit: HashMap::new(),
            config_files: files,
        }
    }

    pub fn set(&mut self, registry: &str, credentials: Credentials) {
        self.explicit.insert(registry.to_string(), credentials);
    }

    /// Credentials for `registry` (`host[:port]`).
    pub fn for_registry(&self, registry: &str) -> Result<Credentials, OciError> {
        if let Some(c) = self.explicit.get(registry) {
            return Ok(c.clone());
        }
        for file in &self.config_files {
            if let Some(c) = from_config_file(file, registry)? {
                return Ok(c);
            }
        }
        Ok(Credentials::Anonymous)
    }
}

fn from_config_file(path: &Path, registry: &str) -> Result<Option<Credentials>, OciError> {
    use std::io::Read;
    let bad = |why: String| OciError::Credentials {
        registry: registry.to_string(),
        why: format!("{}: {why}", path.display()),
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(format!("cannot read: {e}"))),
    };
    let mut text = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut text)
        .map_err(|e| bad(format!("cannot read: {e}")))?;
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(bad(format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    let config: RegistryConfig =
        serde_json::from_slice(&text).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    let entry = config
        .auths
        .iter()
        .find(|(key, _)| auth_key_host(key) == registry)
        .map(|(_, e)| e);
    let Some(entry) = entry else {
        if config.cred_helpers.contains_key(registry) || config.creds_store.is_some() {
            tracing::warn!(
                registry,
                file = %path.display(),
                "registry credentials are in a credential helper, which k0rdent-mcp does not run; \
                 give them explicitly or with an `auths` entry"
            );
        }
        return Ok(None);
    };
    if let Some(token) = &entry.registrytoken {
        return Ok(Some(Credentials::Bearer(token.clone())));
    }
    if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
        return Ok(Some(Credentials::Basic {
            username: u.clone(),
            password: p.clone(),
        }));
    }
    if let Some(auth) = &entry.auth {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .map_err(|_| bad(format!("auths.{registry}.auth is not base64")))?;
        let decoded = String::from_utf8(decoded)
            .map_err(|_| bad(format!("auths.{registry}.auth is not UTF-8")))?;
        let (u, p) = decoded.split_once(':').ok_or_else(|| {
            bad(format!(
                "auths.{registry}.auth is not base64(user:password)"
            ))
        })?;
        return Ok(Some(Credentials::Basic {
            username: u.to_string(),
            password: p.to_string(),
        }));
    }
    if entry.identitytoken.is_some() {
        tracing::warn!(
            registry,
            "identity tokens (OAuth refresh tokens) are not supported; using no credentials"
        );
    }
    Ok(None)
}

/// `https://host:port/v1/` → `host:port`: Docker writes keys in several forms.
fn auth_key_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(json: &str) -> (tempfile::TempDir, CredentialStore) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config.json");
        std::fs::write(&file, json).unwrap();
        let store = CredentialStore::with_config_files(vec![file]);
        (dir, store)
    }

    #[test]
    fn reads_helm_and_docker_style_entries() {
        let auth = base64::engine::general_purpose::STANDARD.encode("user:pa:ss");
        let (_d, store) = store_with(&format!(
            r#"{{"auths":{{"https://reg.example:5000/v1/":{{"auth":"{auth}"}},"tok.example":{{"registrytoken":"t0k"}}}}}}"#
        ));
        assert_eq!(
            store.for_registry("reg.example:5000").unwrap(),
            Credentials::Basic {
                username: "user".into(),
                password: "pa:ss".into()
            }
        );
        assert_eq!(
            store.for_registry("tok.example").unwrap(),
            Credentials::Bearer("t0k".into())
        );
        assert_eq!(
            store.for_registry("other.example").unwrap(),
            Credentials::Anonymous
        );
    }

    #[test]
    fn explicit_credentials_win_and_never_print() {
        let (_d, mut store) = store_with(r#"{"auths":{}}"#);
        store.set(
            "r.example",
            Credentials::Basic {
                username: "u".into(),
                password: "hunter2".into(),
            },
        );
        let c = store.for_registry("r.example").unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_broken_config_is_named() {
        let (_d, store) = store_with("{not json");
        let err = store.for_registry("r.example").unwrap_err().to_string();
        assert!(
            err.contains("config.json") && err.contains("invalid JSON"),
            "{err}"
        );
    }
}
