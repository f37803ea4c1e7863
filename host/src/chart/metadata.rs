//! The few Chart.yaml facts the host needs: identity and version, to pick
//! plugins and to name things. Rendering reads Chart.yaml again in the sandbox.

use serde_json::Value;

use super::ChartError;
use crate::quote::quote;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChartMetadata {
    /// `v1` or `v2`.
    pub api_version: String,
    pub name: String,
    pub version: String,
    pub app_version: Option<String>,
    pub description: Option<String>,
}

/// Largest Chart.yaml the host parses.
const MAX_CHART_YAML_BYTES: usize = 1024 * 1024;

impl ChartMetadata {
    pub fn parse(text: &[u8]) -> Result<Self, ChartError> {
        let err = |m: String| ChartError::Metadata(m);
        if text.len() > MAX_CHART_YAML_BYTES {
            return Err(err(format!(
                "Chart.yaml is larger than {MAX_CHART_YAML_BYTES} bytes"
            )));
        }
        let text = std::str::from_utf8(text).map_err(|_| err("Chart.yaml is not UTF-8".into()))?;
        let doc = helm_yaml::parse_values(text).map_err(|e| {
            if e.contains("mapping") || e.contains("object") {
                err(format!("Chart.yaml must be a mapping: {e}"))
            } else {
                err(format!("Chart.yaml is not valid YAML: {e}"))
            }
        })?;
        let field = |key: &str| -> Option<String> {
            match doc.get(key) {
                Some(Value::String(s)) => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            }
        };
        let name = field("name")
            .filter(|n| !n.is_empty())
            .ok_or_else(|| err("Chart.yaml has no `name`".into()))?;
        let version = field("version").ok_or_else(|| {
            err(format!(
                "chart {}: Chart.yaml has no `version`",
                quote(&name)
            ))
        })?;
        if semver::Version::parse(version.strip_prefix('v').unwrap_or(&version)).is_err() {
            return Err(err(format!(
                "chart {}: version {} is not a SemVer 2 version (for example 1.2.3)",
                quote(&name),
                quote(&version)
            )));
        }
        let api_version = field("apiVersion").unwrap_or_else(|| "v1".into());
        if api_version != "v1" && api_version != "v2" {
            return Err(err(format!(
                "chart {}: apiVersion {} is not v1 or v2",
                quote(&name),
                quote(&api_version)
            )));
        }
        if name.contains('/') || name.contains('\\') || name == "." || name == ".." {
            return Err(err(format!(
                "chart name {} is not a valid chart name",
                quote(&name)
            )));
        }
        Ok(ChartMetadata {
            api_version,
            name,
            version,
            app_version: field("appVersion"),
            description: field("description"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_identity_fields() {
        let m = ChartMetadata::parse(
            b"apiVersion: v2\nname: kgst\nversion: 2.0.2\nappVersion: 1.0\ndescription: x\n",
        )
        .unwrap();
        assert_eq!(m.name, "kgst");
        assert_eq!(m.version, "2.0.2");
        assert_eq!(m.app_version.as_deref(), Some("1.0"));
        assert_eq!(m.api_version, "v2");
    }

    #[test]
    fn names_what_is_missing_or_wrong() {
        let e = ChartMetadata::parse(b"version: 1.0.0\n").unwrap_err();
        assert!(e.to_string().contains("no `name`"), "{e}");
        let e = ChartMetadata::parse(b"name: a\nversion: one\n").unwrap_err();
        assert!(e.to_string().contains("not a SemVer"), "{e}");
        let e = ChartMetadata::parse(b"- a\n").unwrap_err();
        assert!(e.to_string().contains("mapping"), "{e}");
        let e = ChartMetadata::parse(b"name: ../x\nversion: 1.0.0\n").unwrap_err();
        assert!(e.to_string().contains("not a valid chart name"), "{e}");
    }
}
