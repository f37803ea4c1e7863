//! Golden cases a plugin ships: the answers its author vouches for, run by the
//! host before the plugin is activated (hot swap) and by `plugins test`.
//!
//! In a plugin folder they live in `selftest/<plugin name>/<case>.json`, one
//! case a file; in an OCI artifact they are one layer of
//! [`SELFTEST_MEDIA_TYPE`] holding a [`GoldenBundle`]. Both come from the
//! plugin's author, so both are bounded before they are parsed.

use std::collections::BTreeMap;
use std::path::Path;

use crate::plugin::bounded_read::read_bounded;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Media type of the golden-case layer of a plugin artifact.
pub const SELFTEST_MEDIA_TYPE: &str = "application/vnd.k0rdent.mcp.plugin.selftest.v1+json";
/// Folder beside the manifests of a plugin folder that holds golden cases.
pub const SELFTEST_DIR: &str = "selftest";
/// Most golden cases one plugin may ship.
pub const MAX_CASES: usize = 64;
/// Largest golden case file.
pub const MAX_CASE_BYTES: u64 = 256 * 1024;
/// Largest golden-case layer (all cases of one plugin).
pub const MAX_BUNDLE_BYTES: u64 = 1024 * 1024;

/// What a golden case asks of the plugin, and the answer it expects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum GoldenCall {
    /// A validator's `values-for-intent`.
    ValuesForIntent {
        intent: IntentSpec,
        chart: ChartSpec,
        expect: ExpectValues,
    },
    /// A validator's `validate`.
    Validate {
        chart: ChartSpec,
        values: Map<String, Value>,
        #[serde(default, rename = "default-values-yaml")]
        default_values_yaml: Option<String>,
        #[serde(default, rename = "values-schema-json")]
        values_schema_json: Option<String>,
        expect: ExpectValues,
    },
    /// A renderer's `render` of a small chart given file by file (text only).
    Render {
        /// Chart files by path relative to the chart's parent, e.g. `demo/Chart.yaml`.
        files: BTreeMap<String, String>,
        #[serde(default)]
        values: Map<String, Value>,
        #[serde(default)]
        release: ReleaseSpec,
        expect: ExpectRender,
    },
}

impl GoldenCall {
    /// The plugin call this case makes, for the pass table.
    pub fn call_name(&self) -> &'static str {
        match self {
            GoldenCall::ValuesForIntent { .. } => "values-for-intent",
            GoldenCall::Validate { .. } => "validate",
            GoldenCall::Render { .. } => "render",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntentSpec {
    pub app: String,
    pub chart: String,
    pub version: String,
    pub repository: String,
    #[serde(default = "default_namespace")]
    pub namespace: String,
}

fn default_namespace() -> String {
    "kcm-system".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChartSpec {
    pub name: String,
    pub version: String,
    #[serde(default, rename = "app-version")]
    pub app_version: Option<String>,
    #[serde(default = "default_api_version", rename = "api-version")]
    pub api_version: String,
}

fn default_api_version() -> String {
    "v2".into()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSpec {
    pub name: String,
    pub namespace: String,
}

impl Default for ReleaseSpec {
    fn default() -> Self {
        ReleaseSpec {
            name: "selftest".into(),
            namespace: "default".into(),
        }
    }
}

/// A validator's expected answer: the values object, or the paths of the
/// violations it reports (messages are the author's to reword).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ExpectValues {
    Values(Map<String, Value>),
    Violations(Vec<String>),
}

/// A renderer's expected answer: every manifest (source and content, compared
/// without trailing whitespace), or a template error containing a text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub enum ExpectRender {
    Manifests(Vec<ExpectedManifest>),
    ErrorContains(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedManifest {
    pub source: String,
    pub content: String,
}

/// One named golden case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenCase {
    pub name: String,
    #[serde(flatten)]
    pub call: GoldenCall,
}

/// The golden-case layer of a plugin artifact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoldenBundle {
    pub cases: Vec<GoldenCase>,
}

impl GoldenBundle {
    pub fn is_empty(&self) -> bool {
        self.cases.is_empty()
    }

    /// Parses a golden-case layer, refusing one over the limits.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        if bytes.len() as u64 > MAX_BUNDLE_BYTES {
            return Err(format!(
                "its golden cases are {} bytes, over the limit of {MAX_BUNDLE_BYTES}",
                bytes.len()
            ));
        }
        let bundle: GoldenBundle = serde_json::from_slice(bytes)
            .map_err(|e| format!("its golden cases are not valid: {e}"))?;
        bundle.check()?;
        Ok(bundle)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("golden cases serialize")
    }

    fn check(&self) -> Result<(), String> {
        if self.cases.len() > MAX_CASES {
            return Err(format!(
                "it ships {} golden cases, over the limit of {MAX_CASES}",
                self.cases.len()
            ));
        }
        for case in &self.cases {
            check_name(&case.name)?;
        }
        Ok(())
    }

    /// The golden cases of plugin `plugin` in the plugin folder `dir`
    /// (`dir/selftest/<plugin>/*.json`, sorted by name); empty when it has none.
    pub fn read_dir(dir: &Path, plugin: &str) -> Result<Self, String> {
        let folder = dir.join(SELFTEST_DIR).join(plugin);
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(GoldenBundle::default());
            }
            Err(e) => return Err(format!("cannot list {}: {e}", folder.display())),
        };
        let mut files = Vec::new();
        for entry in entries {
            let path = entry
                .map_err(|e| format!("cannot list {}: {e}", folder.display()))?
                .path();
            if path.extension().is_some_and(|x| x == "json") {
                files.push(path);
            }
        }
        files.sort();
        if files.len() > MAX_CASES {
            return Err(format!(
                "{} holds {} golden cases, over the limit of {MAX_CASES}",
                folder.display(),
                files.len()
            ));
        }
        let mut total = 0u64;
        let mut cases = Vec::new();
        for path in files {
            let bytes = read_bounded(
                &path,
                MAX_CASE_BYTES,
                format_args!("golden case {}", path.display()),
            )?;
            total += bytes.len() as u64;
            if total > MAX_BUNDLE_BYTES {
                return Err(format!(
                    "the golden cases in {} exceed {MAX_BUNDLE_BYTES} bytes together",
                    folder.display()
                ));
            }
            let call: GoldenCall = serde_json::from_slice(&bytes).map_err(|e| {
                format!(
                    "golden case {}: {e}; see docs/plugin-runtime.md, \"Self-test\"",
                    path.display()
                )
            })?;
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            check_name(&name).map_err(|e| format!("{}: {e}", path.display()))?;
            cases.push(GoldenCase { name, call });
        }
        Ok(GoldenBundle { cases })
    }
}

fn check_name(name: &str) -> Result<(), String> {
    let fine = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if fine {
        Ok(())
    } else {
        Err(format!(
            "golden case name {} must be 1-100 letters, digits, '-', '_' or '.'",
            crate::quote::quote(name)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_values_case_parses_and_round_trips_through_a_bundle() {
        let call: GoldenCall = serde_json::from_str(
            r#"{"kind": "values-for-intent",
                "intent": {"app": "minio", "chart": "minio", "version": "14.1.2", "repository": "oci://r/c"},
                "chart": {"name": "kgst", "version": "2.0.2"},
                "expect": {"values": {"chart": "minio:14.1.2"}}}"#,
        )
        .unwrap();
        assert_eq!(call.call_name(), "values-for-intent");
        let bundle = GoldenBundle {
            cases: vec![GoldenCase {
                name: "minio".into(),
                call,
            }],
        };
        assert_eq!(GoldenBundle::parse(&bundle.to_bytes()).unwrap(), bundle);
    }

    #[test]
    fn unknown_fields_and_kinds_are_refused() {
        let extra = r#"{"kind": "validate", "chart": {"name": "kgst", "version": "2.0.2"},
            "values": {}, "expect": {"values": {}}, "surprise": 1}"#;
        assert!(serde_json::from_str::<GoldenCall>(extra).is_err());
        let kind = r#"{"kind": "exec", "command": "rm"}"#;
        assert!(serde_json::from_str::<GoldenCall>(kind).is_err());
    }

    #[test]
    fn bundles_over_the_limits_are_refused() {
        let case = GoldenCase {
            name: "x".into(),
            call: GoldenCall::Render {
                files: BTreeMap::new(),
                values: Map::new(),
                release: ReleaseSpec::default(),
                expect: ExpectRender::ErrorContains("x".into()),
            },
        };
        let many = GoldenBundle {
            cases: vec![case; MAX_CASES + 1],
        };
        assert!(
            GoldenBundle::parse(&many.to_bytes())
                .unwrap_err()
                .contains("over the limit")
        );
        let huge = vec![b' '; MAX_BUNDLE_BYTES as usize + 1];
        assert!(GoldenBundle::parse(&huge).unwrap_err().contains("bytes"));
        let bad_name = r#"{"cases": [{"name": "../x", "kind": "render", "files": {}, "expect": {"error-contains": "x"}}]}"#;
        assert!(
            GoldenBundle::parse(bad_name.as_bytes())
                .unwrap_err()
                .contains("name")
        );
    }

    #[test]
    fn a_plugin_without_a_selftest_folder_has_no_cases() {
        let dir = tempfile::tempdir().unwrap();
        assert!(GoldenBundle::read_dir(dir.path(), "p").unwrap().is_empty());
        let folder = dir.path().join("selftest/p");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(
            folder.join("b.json"),
            r#"{"kind": "render", "files": {}, "expect": {"error-contains": "x"}}"#,
        )
        .unwrap();
        std::fs::write(
            folder.join("a.json"),
            r#"{"kind": "render", "files": {}, "expect": {"error-contains": "y"}}"#,
        )
        .unwrap();
        std::fs::write(folder.join("notes.txt"), "ignored").unwrap();
        let names: Vec<String> = GoldenBundle::read_dir(dir.path(), "p")
            .unwrap()
            .cases
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
