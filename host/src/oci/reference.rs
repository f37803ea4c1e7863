//! `oci://registry[:port]/path/chart[:tag|@sha256:…]` plus Helm's `--version`.

use std::fmt;

use super::OciError;
use crate::quote::quote;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChartRef {
    /// `host` or `host:port`.
    pub registry: String,
    /// Repository path including the chart name, e.g. `k0rdent/catalog/charts/kgst`.
    pub repository: String,
    /// OCI tag (Helm stores version `1.0.0+build` as tag `1.0.0_build`).
    pub tag: Option<String>,
    /// `sha256:<hex>` manifest digest; wins over the tag when both are given.
    pub digest: Option<String>,
}

impl ChartRef {
    /// Parses an `oci://` reference. `version` (Helm's `--version`) sets the
    /// tag and must agree with a tag written in the reference itself.
    pub fn parse(reference: &str, version: Option<&str>) -> Result<Self, OciError> {
        let bad = |why: String| OciError::InvalidReference {
            reference: reference.to_string(),
            why,
        };
        let rest = reference.strip_prefix("oci://").ok_or_else(|| {
            bad(
                "must start with oci://, for example oci://ghcr.io/k0rdent/catalog/charts/kgst"
                    .into(),
            )
        })?;
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("has no repository path after the registry host".into()))?;
        if !valid_registry(registry) {
            return Err(bad(format!(
                "registry host {} is not a valid host[:port]",
                quote(registry)
            )));
        }
        let (path, digest) = match path.split_once('@') {
            Some((p, d)) => (p, Some(d.to_string())),
            None => (path, None),
        };
        let (repository, tag) = match path.rsplit_once(':') {
            Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag.to_string())),
            _ => (path, None),
        };
        if !valid_repository(repository) {
            return Err(bad(format!(
                "repository {} must be lower-case path segments of letters, digits, '.', '_' or '-'",
                quote(repository)
            )));
        }
        if let Some(d) = &digest
            && !valid_digest(d)
        {
            return Err(bad(format!(
                "digest {} must be sha256: followed by 64 hex digits, lower-case",
                quote(d)
            )));
        }
        let version_tag = version.map(|v| v.replace('+', "_"));
        let tag = match (tag, version_tag) {
            (Some(t), Some(v)) if t != v => {
                return Err(bad(format!(
                    "names tag {} but --version asks for {}; give one of them",
                    quote(&t),
                    quote(&v)
                )));
            }
            (t, v) => t.or(v),
        };
        if let Some(t) = &tag
            && !valid_tag(t)
        {
            return Err(bad(format!(
                "version/tag {} is not a valid OCI tag (letters, digits, '.', '_', '-'; at most 128)",
                quote(t)
            )));
        }
        if tag.is_none() && digest.is_none() {
            return Err(bad("names no version: add --version or :<tag>".into()));
        }
        Ok(ChartRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// The chart's name: the last repository segment.
    pub fn chart_name(&self) -> &str {
        self.repository
            .rsplit('/')
            .next()
            .unwrap_or(&self.repository)
    }

    /// The repository a catalog names, e.g. `oci://ghcr.io/k0rdent/catalog/charts`.
    pub fn parent(&self) -> String {
        match self.repository.rsplit_once('/') {
            Some((parent, _)) => format!("oci://{}/{parent}", self.registry),
            None => format!("oci://{}", self.registry),
        }
    }

    /// The same chart at another tag.
    pub fn with_tag(&self, tag: &str) -> Self {
        ChartRef {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        }
    }
}

impl fmt::Display for ChartRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "oci://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

fn valid_registry(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (host, None),
    };
    !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

fn valid_repository(repo: &str) -> bool {
    !repo.is_empty()
        && repo.len() <= 255
        && repo.split('/').all(|seg| {
            !seg.is_empty()
                && seg.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
                })
                && seg.as_bytes()[0].is_ascii_alphanumeric()
        })
}

fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && (tag.as_bytes()[0].is_ascii_alphanumeric() || tag.starts_with('_'))
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(crate) fn valid_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_versions_and_digests() {
        let r =
            ChartRef::parse("oci://ghcr.io/k0rdent/catalog/charts/kgst", Some("2.0.2")).unwrap();
        assert_eq!(r.registry, "ghcr.io");
        assert_eq!(r.repository, "k0rdent/catalog/charts/kgst");
        assert_eq!(r.tag.as_deref(), Some("2.0.2"));
        assert_eq!(r.chart_name(), "kgst");
        assert_eq!(r.parent(), "oci://ghcr.io/k0rdent/catalog/charts");
        let r = ChartRef::parse("oci://127.0.0.1:5000/charts/kgst:1.0.0", None).unwrap();
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.tag.as_deref(), Some("1.0.0"));
        let d = format!("sha256:{}", "a".repeat(64));
        let r = ChartRef::parse(&format!("oci://localhost:5000/c/kgst@{d}"), None).unwrap();
        assert_eq!(r.digest.as_deref(), Some(d.as_str()));
        let r = ChartRef::parse("oci://r.io/c/x", Some("1.0.0+build.1")).unwrap();
        assert_eq!(r.tag.as_deref(), Some("1.0.0_build.1"));
    }

    #[test]
    fn bad_references_say_why() {
        let why = |r: &str, v: Option<&str>| ChartRef::parse(r, v).unwrap_err().to_string();
        assert!(why("ghcr.io/x/kgst", Some("1")).contains("must start with oci://"));
        assert!(why("oci://ghcr.io", Some("1")).contains("no repository path"));
        assert!(why("oci://ghcr.io/X/kgst", Some("1")).contains("lower-case"));
        assert!(why("oci://ghcr.io/x/kgst", None).contains("names no version"));
        assert!(why("oci://ghcr.io/x/kgst:1.0.0", Some("2.0.0")).contains("--version asks for"));
        assert!(why("oci://ghcr.io/x/kgst@sha256:12", None).contains("64 hex"));
        assert!(why("oci://ghcr.io/x/kgst", Some("1 0")).contains("not a valid OCI tag"));
        assert!(why("oci://bad host/x/kgst", Some("1")).contains("registry host"));
    }
}
