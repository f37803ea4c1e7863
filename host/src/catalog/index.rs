//! The index's shape, read field by field so a malformed index is reported
//! by the exact field at fault (`addons[3].charts[0].versions[1]`).

use serde::Serialize;
use serde_json::{Map, Value};

use super::DEFAULT_REPOSITORY;

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CatalogIndex {
    /// When the catalog site generated the index.
    pub generated: String,
    /// Catalog release, e.g. `1.10.0`.
    pub version: String,
    pub addons: Vec<Addon>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Addon {
    pub name: String,
    pub description: String,
    pub logo: Option<String>,
    pub docs_url: Option<String>,
    /// `community`, `partner`, `enterprise`, …
    pub support_type: String,
    pub deprecated: bool,
    pub charts: Vec<CatalogChart>,
    pub owner: Option<String>,
    pub last_updated: Option<String>,
    pub tags: Vec<String>,
    pub tested: Option<bool>,
    pub security_scanned: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CatalogChart {
    pub name: String,
    /// Newest first, as the catalog lists them.
    pub versions: Vec<String>,
    pub app_versions: Vec<String>,
    /// OCI repository holding the chart, e.g. `oci://ghcr.io/k0rdent/catalog/charts`.
    pub repository: String,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IndexError {
    #[error("catalog index is not JSON: {0}")]
    NotJson(String),
    #[error("catalog index field {field}: {problem}")]
    Field { field: String, problem: String },
}

struct Reader<'a> {
    path: String,
    object: &'a Map<String, Value>,
}

impl<'a> Reader<'a> {
    fn of(path: &str, value: &'a Value) -> Result<Self, IndexError> {
        match value {
            Value::Object(object) => Ok(Reader {
                path: path.to_string(),
                object,
            }),
            other => Err(field(
                path,
                format!("must be an object, found {}", kind(other)),
            )),
        }
    }

    fn at(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn required(&self, key: &str) -> Result<&'a Value, IndexError> {
        self.object
            .get(key)
            .filter(|v| !v.is_null())
            .ok_or_else(|| field(&self.at(key), "is missing".into()))
    }

    fn string(&self, key: &str) -> Result<String, IndexError> {
        as_string(&self.at(key), self.required(key)?)
    }

    fn optional_string(&self, key: &str) -> Result<Option<String>, IndexError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => as_string(&self.at(key), v).map(Some),
        }
    }

    fn optional_bool(&self, key: &str) -> Result<Option<bool>, IndexError> {
        match self.object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(field(
                &self.at(key),
                format!("must be true or false, found {}", kind(other)),
            )),
        }
    }

    fn array(&self, key: &str, required: bool) -> Result<&'a [Value], IndexError> {
        match self.object.get(key) {
            None | Some(Value::Null) if !required => Ok(&[]),
            None | Some(Value::Null) => Err(field(&self.at(key), "is missing".into())),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(field(
                &self.at(key),
                format!("must be a list, found {}", kind(other)),
            )),
        }
    }

    fn strings(&self, key: &str, required: bool) -> Result<Vec<String>, IndexError> {
        self.array(key, required)?
            .iter()
            .enumerate()
            .map(|(i, v)| as_string(&format!("{}[{i}]", self.at(key)), v))
            .collect()
    }
}

fn field(path: &str, problem: String) -> IndexError {
    IndexError::Field {
        field: path.to_string(),
        problem,
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn as_string(path: &str, v: &Value) -> Result<String, IndexError> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.clone()),
        Value::String(_) => Err(field(path, "must not be empty".into())),
        other => Err(field(
            path,
            format!("must be a string, found {}", kind(other)),
        )),
    }
}

impl CatalogIndex {
    pub fn parse(text: &[u8]) -> Result<Self, IndexError> {
        let value: Value =
            serde_json::from_slice(text).map_err(|e| IndexError::NotJson(e.to_string()))?;
        let root = Reader::of("", &value)?;
        let metadata = Reader::of("metadata", root.required("metadata")?)?;
        let addons = root
            .array("addons", true)?
            .iter()
            .enumerate()
            .map(|(i, v)| parse_addon(&format!("addons[{i}]"), v))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CatalogIndex {
            generated: metadata.string("generated")?,
            version: metadata.string("version")?,
            addons,
        })
    }
}

fn parse_addon(path: &str, value: &Value) -> Result<Addon, IndexError> {
    let addon = Reader::of(path, value)?;
    let support_type = addon
        .optional_string("supportType")?
        .unwrap_or_else(|| "community".into());
    let default_repository = match support_type.as_str() {
        "enterprise" => "oci://registry.mirantis.com/k0rdent-enterprise-catalog",
        _ => DEFAULT_REPOSITORY,
    };
    let charts = addon
        .array("charts", true)?
        .iter()
        .enumerate()
        .map(|(i, v)| parse_chart(&format!("{path}.charts[{i}]"), v, default_repository))
        .collect::<Result<Vec<_>, _>>()?;
    let meta_value = addon.object.get("metadata").filter(|v| !v.is_null());
    let (owner, last_updated, tags, tested, security_scanned) = match meta_value {
        None => (None, None, Vec::new(), None, None),
        Some(v) => {
            let meta = Reader::of(&format!("{path}.metadata"), v)?;
            let (tested, scanned) = match meta.object.get("quality").filter(|q| !q.is_null()) {
                None => (None, None),
                Some(q) => {
                    let quality = Reader::of(&format!("{path}.metadata.quality"), q)?;
                    (
                        quality.optional_bool("tested")?,
                        quality.optional_bool("securityScanned")?,
                    )
                }
            };
            (
                meta.optional_string("owner")?,
                meta.optional_string("lastUpdated")?,
                meta.strings("tags", false)?,
                tested,
                scanned,
            )
        }
    };
    Ok(Addon {
        name: addon.string("name")?,
        description: addon.optional_string("description")?.unwrap_or_default(),
        logo: addon.optional_string("logo")?,
        docs_url: addon.optional_string("docsUrl")?,
        support_type,
        deprecated: addon.optional_bool("deprecated")?.unwrap_or(false),
        charts,
        owner,
        last_updated,
        tags,
        tested,
        security_scanned,
    })
}

fn parse_chart(
    path: &str,
    value: &Value,
    default_repository: &str,
) -> Result<CatalogChart, IndexError> {
    let chart = Reader::of(path, value)?;
    let versions = chart.strings("versions", true)?;
    if versions.is_empty() {
        return Err(field(
            &chart.at("versions"),
            "must list at least one version".into(),
        ));
    }
    let repository = chart
        .optional_string("repository")?
        .unwrap_or_else(|| default_repository.to_string());
    if !repository.starts_with("oci://") {
        return Err(field(
            &chart.at("repository"),
            format!("{repository:?} is not an oci:// repository"),
        ));
    }
    Ok(CatalogChart {
        name: chart.string("name")?,
        versions,
        app_versions: chart.strings("appVersions", false)?,
        repository: repository.trim_end_matches('/').to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"metadata":{"generated":"2026-07-03T00:00:00Z","version":"1.10.0"},
      "addons":[{"name":"minio","description":"Object storage","supportType":"community","deprecated":false,
        "charts":[{"name":"minio","versions":["17.0.21","14.1.2"],"appVersions":["2025","2024"]}],
        "metadata":{"owner":"k0rdent","tags":["Storage"],"quality":{"tested":true,"securityScanned":false}}}]}"#;

    #[test]
    fn reads_a_well_formed_index_and_defaults_the_repository() {
        let index = CatalogIndex::parse(GOOD.as_bytes()).unwrap();
        assert_eq!(index.version, "1.10.0");
        let minio = &index.addons[0];
        assert_eq!(minio.charts[0].repository, DEFAULT_REPOSITORY);
        assert_eq!(minio.charts[0].versions, ["17.0.21", "14.1.2"]);
        assert_eq!(minio.tags, ["Storage"]);
        assert_eq!(minio.tested, Some(true));
    }

    #[test]
    fn a_malformed_index_names_the_field() {
        let bad = GOOD.replace(
            r#""versions":["17.0.21","14.1.2"]"#,
            r#""versions":["17.0.21",14]"#,
        );
        let err = CatalogIndex::parse(bad.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "catalog index field addons[0].charts[0].versions[1]: must be a string, found a number"
        );
        let bad = GOOD.replace(r#""generated":"2026-07-03T00:00:00Z","#, "");
        assert_eq!(
            CatalogIndex::parse(bad.as_bytes()).unwrap_err().to_string(),
            "catalog index field metadata.generated: is missing"
        );
        let bad = GOOD.replace(
            r#""name":"minio","description""#,
            r#""name":"","description""#,
        );
        assert!(
            CatalogIndex::parse(bad.as_bytes())
                .unwrap_err()
                .to_string()
                .contains("addons[0].name: must not be empty")
        );
        assert!(matches!(
            CatalogIndex::parse(b"{"),
            Err(IndexError::NotJson(_))
        ));
    }
}
