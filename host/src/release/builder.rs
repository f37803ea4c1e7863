//! Building a new revision's record from what the engine has: the loaded
//! chart, the user's values, the rendered manifest, hooks and notes, and the
//! time (passed in; nothing here reads a clock).
//!
//! Unset times are left out (v4's form), which both v3 and v4 read. The
//! v4-only file mtimes are not written: our chart files carry none, and
//! Helm only uses them for `helm pull`/packaging, never for releases.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value};

use super::record::{
    ApplyMethod, ChartDependency, ChartFileRecord, ChartLock, ChartMaintainer, ChartMetadataRecord,
    ChartRecord, HookRecord, ReleaseInfo, ReleaseRecord,
};
use super::status::Status;
use super::time::{HelmTime, RecordTime};
use crate::chart::Chart;

/// Helm's release name rule (and `helm template`'s).
const RELEASE_NAME_MAX: usize = 53;
const RELEASE_NAME_REGEX: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error(
        "release name {}: invalid release name, must match regex {RELEASE_NAME_REGEX} and the length must not be longer than {RELEASE_NAME_MAX}",
        crate::quote::quote(.0)
    )]
    ReleaseName(String),
    #[error("release {release}: {problem}")]
    Release { release: String, problem: String },
    #[error("chart {chart}: {file}: {problem}")]
    ChartFile {
        chart: String,
        file: &'static str,
        problem: String,
    },
}

/// Everything a new revision records. `chart` comes from
/// [`chart_record_from_chart`] (or the previous revision's chart, for a
/// rollback; with `--reuse-values` Helm replaces `chart.values` by the
/// previous release's coalesced values).
#[derive(Debug, Clone)]
pub struct NewRelease {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    pub status: Status,
    /// Helm's log line: `Initial install underway`, `Install complete`,
    /// `Preparing upgrade`, `Upgrade complete`, `Rollback to 3`…
    pub description: String,
    pub chart: ChartRecord,
    /// Only the values the user supplied.
    pub config: Map<String, Value>,
    /// Normal documents, `---\n# Source: <path>\n<doc>\n` each.
    pub manifest: String,
    /// In Helm's stored order (kind-sorted); `last_run` untouched until run.
    pub hooks: Vec<HookRecord>,
    /// Rendered NOTES.txt of the top chart (empty when none).
    pub notes: String,
    /// Install: now. Upgrade/rollback: copied from the current revision.
    pub first_deployed: HelmTime,
    pub last_deployed: HelmTime,
    /// `Some(ClientSide)` for merge-patch/create updates, `Some(ServerSide)`
    /// when applying server-side; v4 repeats it on `--server-side=auto`.
    pub apply_method: Option<ApplyMethod>,
}

impl NewRelease {
    pub fn into_record(self) -> Result<ReleaseRecord, BuildError> {
        validate_release_name(&self.name)?;
        let problem = |problem: String| BuildError::Release {
            release: self.name.clone(),
            problem,
        };
        if self.namespace.is_empty() {
            return Err(problem("namespace is empty".into()));
        }
        if self.revision == 0 {
            return Err(problem("revisions start at 1".into()));
        }
        // `helm list/history/status/get metadata` read chart metadata of
        // every revision; Helm would crash or print MISSING without it.
        match &self.chart.metadata {
            Some(m) if !m.name.is_empty() && !m.version.is_empty() && !m.api_version.is_empty() => {
            }
            _ => {
                return Err(problem(
                    "chart metadata needs name, version and apiVersion".into(),
                ));
            }
        }
        for hook in &self.hooks {
            if hook.name.is_empty() || hook.kind.is_empty() || hook.path.is_empty() {
                return Err(problem(format!(
                    "hook {:?} from {:?} needs a name, kind and path",
                    hook.name, hook.path
                )));
            }
            if hook.events.is_empty() {
                return Err(problem(format!("hook {:?} has no events", hook.name)));
            }
        }
        Ok(ReleaseRecord {
            name: self.name,
            info: ReleaseInfo {
                first_deployed: RecordTime::At(self.first_deployed),
                last_deployed: RecordTime::At(self.last_deployed),
                deleted: RecordTime::Absent,
                description: self.description,
                status: Some(self.status),
                notes: self.notes,
                ..Default::default()
            },
            chart: self.chart,
            config: self.config,
            manifest: self.manifest,
            hooks: self.hooks,
            version: self.revision,
            namespace: self.namespace,
            apply_method: self.apply_method,
            extra: Map::new(),
        })
    }
}

/// Helm's `ValidateReleaseName`.
pub fn validate_release_name(name: &str) -> Result<(), BuildError> {
    if name.len() <= RELEASE_NAME_MAX && name.split('.').all(crate::names::is_dns_label) {
        Ok(())
    } else {
        Err(BuildError::ReleaseName(name.to_string()))
    }
}

/// The `chart` of a release, as Helm's loader fills `chart.Chart` from the
/// top-level chart's files (subcharts are not stored in releases):
/// Chart.yaml → metadata, Chart.lock → lock, values.yaml → values,
/// values.schema.json → schema, `templates/*` → templates (file order kept),
/// `charts/*` dropped except `.prov` files, everything else → files.
pub fn chart_record_from_chart(chart: &Chart) -> Result<ChartRecord, BuildError> {
    let chart_name = chart.metadata.name.as_str();
    let fail = |file: &'static str, problem: String| BuildError::ChartFile {
        chart: chart_name.to_string(),
        file,
        problem,
    };
    let prefix = format!("{chart_name}/");
    let own_files: Vec<(&str, &[u8])> = chart
        .files
        .iter()
        .filter_map(|f| Some((f.path.strip_prefix(&prefix)?, f.data.as_slice())))
        .collect();
    let text = |file: &'static str, data: &[u8]| {
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(|_| fail(file, "is not UTF-8".into()))
    };

    let chart_yaml = own_files
        .iter()
        .find(|(path, _)| *path == "Chart.yaml")
        .ok_or_else(|| fail("Chart.yaml", "is missing".into()))?;
    let mut metadata = metadata_from_yaml(&text("Chart.yaml", chart_yaml.1)?)
        .map_err(|e| fail("Chart.yaml", e))?;
    let is_v1_chart = metadata.api_version == "v1";

    let mut record = ChartRecord::default();
    let mut templates = Vec::new();
    let mut files = Vec::new();
    for (path, data) in own_files {
        match path {
            "Chart.yaml" => {}
            "Chart.lock" => {
                record.lock = Some(
                    lock_from_yaml(&text("Chart.lock", data)?)
                        .map_err(|e| fail("Chart.lock", e))?,
                );
            }
            "values.yaml" => {
                let values = helm_yaml::parse_values(&text("values.yaml", data)?)
                    .map_err(|e| fail("values.yaml", e))?;
                record.values = Some(values);
            }
            "values.schema.json" => record.schema = Some(BASE64.encode(data)),
            // Helm 2 era files of apiVersion v1 charts: read, and kept as
            // files only for v1 charts.
            "requirements.yaml" => {
                let doc = helm_yaml::parse_values(&text("requirements.yaml", data)?)
                    .map_err(|e| fail("requirements.yaml", e))?;
                if let Some(deps) = doc.get("dependencies") {
                    metadata.dependencies =
                        dependencies(deps).map_err(|e| fail("requirements.yaml", e))?;
                }
                if is_v1_chart {
                    files.push(ChartFileRecord::new(path, data));
                }
            }
            "requirements.lock" => {
                record.lock = Some(
                    lock_from_yaml(&text("requirements.lock", data)?)
                        .map_err(|e| fail("requirements.lock", e))?,
                );
                if is_v1_chart {
                    files.push(ChartFileRecord::new(path, data));
                }
            }
            _ if path.starts_with("templates/") => {
                templates.push(ChartFileRecord::new(path, data));
            }
            _ if path.starts_with("charts/") => {
                if path.ends_with(".prov") {
                    files.push(ChartFileRecord::new(path, data));
                }
            }
            _ => files.push(ChartFileRecord::new(path, data)),
        }
    }
    record.metadata = Some(metadata);
    // Go leaves empty slices nil, which it writes as `null`.
    record.templates = (!templates.is_empty()).then_some(templates);
    record.files = (!files.is_empty()).then_some(files);
    Ok(record)
}

/// Chart.yaml read as Helm reads it into `chart.Metadata`: unknown keys
/// dropped, scalars taken as strings where Helm wants strings, apiVersion
/// defaulting to v1, and free-text fields sanitised as `Metadata.Validate`
/// does (whitespace to spaces, non-printable characters removed).
fn metadata_from_yaml(text: &str) -> Result<ChartMetadataRecord, String> {
    let doc = helm_yaml::parse_values(text)?;
    let string = |key: &str| scalar_text(doc.get(key), key);
    let strings = |key: &str| string_list(doc.get(key), key);
    let mut metadata = ChartMetadataRecord {
        name: sanitize(&string("name")?),
        home: sanitize(&string("home")?),
        sources: strings("sources")?.iter().map(|s| sanitize(s)).collect(),
        version: string("version")?,
        description: sanitize(&string("description")?),
        keywords: strings("keywords")?.iter().map(|s| sanitize(s)).collect(),
        icon: sanitize(&string("icon")?),
        api_version: string("apiVersion")?,
        condition: sanitize(&string("condition")?),
        tags: sanitize(&string("tags")?),
        app_version: sanitize(&string("appVersion")?),
        deprecated: matches!(doc.get("deprecated"), Some(Value::Bool(true))),
        kube_version: sanitize(&string("kubeVersion")?),
        chart_type: string("type")?,
        ..Default::default()
    };
    if metadata.api_version.is_empty() {
        metadata.api_version = "v1".into();
    }
    if let Some(list) = doc.get("maintainers").filter(|v| !v.is_null()) {
        let list = list.as_array().ok_or("maintainers is not a list")?;
        for entry in list {
            let field = |key: &str| scalar_text(entry.get(key), key);
            metadata.maintainers.push(ChartMaintainer {
                name: field("name")?,
                email: field("email")?,
                url: field("url")?,
                ..Default::default()
            });
        }
    }
    if let Some(map) = doc.get("annotations").filter(|v| !v.is_null()) {
        let map = map.as_object().ok_or("annotations is not a mapping")?;
        for (key, value) in map {
            metadata
                .annotations
                .insert(key.clone(), scalar_text(Some(value), key)?);
        }
    }
    if let Some(deps) = doc.get("dependencies") {
        metadata.dependencies = dependencies(deps)?;
    }
    Ok(metadata)
}

fn lock_from_yaml(text: &str) -> Result<ChartLock, String> {
    let doc = helm_yaml::parse_values(text)?;
    let generated = match scalar_text(doc.get("generated"), "generated")?.as_str() {
        "" => RecordTime::At(
            HelmTime::parse_rfc3339("0001-01-01T00:00:00Z").expect("Go's zero time parses"),
        ),
        text => RecordTime::At(HelmTime::parse_rfc3339(text).map_err(|e| e.to_string())?),
    };
    Ok(ChartLock {
        generated,
        digest: scalar_text(doc.get("digest"), "digest")?,
        dependencies: match doc.get("dependencies") {
            None | Some(Value::Null) => None,
            Some(deps) => Some(dependencies(deps)?),
        },
        extra: Map::new(),
    })
}

fn dependencies(value: &Value) -> Result<Vec<ChartDependency>, String> {
    let Some(list) = value.as_array() else {
        return if value.is_null() {
            Ok(Vec::new())
        } else {
            Err("dependencies is not a list".into())
        };
    };
    list.iter()
        .map(|entry| {
            let field = |key: &str| scalar_text(entry.get(key), key);
            Ok(ChartDependency {
                name: field("name")?,
                version: field("version")?,
                repository: field("repository")?,
                condition: field("condition")?,
                tags: string_list(entry.get("tags"), "tags")?,
                enabled: matches!(entry.get("enabled"), Some(Value::Bool(true))),
                import_values: match entry.get("import-values") {
                    Some(Value::Array(items)) => items.clone(),
                    None | Some(Value::Null) => Vec::new(),
                    Some(_) => return Err("import-values is not a list".into()),
                },
                alias: field("alias")?,
                extra: Map::new(),
            })
        })
        .collect()
}

/// A YAML scalar as the string Go's YAML→struct decoding makes of it.
fn scalar_text(value: Option<&Value>, key: &str) -> Result<String, String> {
    match value {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        Some(Value::Bool(b)) => Ok(b.to_string()),
        Some(_) => Err(format!("{key} is not a scalar")),
    }
}

fn string_list(value: Option<&Value>, key: &str) -> Result<Vec<String>, String> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items.iter().map(|v| scalar_text(Some(v), key)).collect(),
        Some(_) => Err(format!("{key} is not a list")),
    }
}

/// Helm's `sanitizeString`: Unicode whitespace becomes a space and
/// non-printable characters go (control and the common format characters;
/// Go's `unicode.IsPrint` is approximated).
fn sanitize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control()
                || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
            {
                None
            } else {
                Some(c)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::contract::ChartFile;
    use crate::release::{HookEvent, HookPhase, encode_release_json};

    fn chart(files: &[(&str, &str)]) -> Chart {
        let files: Vec<ChartFile> = files
            .iter()
            .map(|(p, d)| ChartFile {
                path: format!("demo/{p}"),
                data: d.as_bytes().to_vec(),
            })
            .collect();
        let chart_yaml = &files
            .iter()
            .find(|f| f.path == "demo/Chart.yaml")
            .unwrap()
            .data;
        Chart {
            metadata: crate::chart::ChartMetadata::parse(chart_yaml).unwrap(),
            files,
        }
    }

    #[test]
    fn release_names_follow_helms_rule() {
        for ok in [
            "kgst-minio",
            "kgst-release",
            "a",
            "a.b-c",
            "a.b-c.d0",
            &"a".repeat(53),
        ] {
            assert!(validate_release_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "A",
            "Bad_Name",
            "-a",
            "a-",
            "a..b",
            "a_b",
            &"a".repeat(54),
        ] {
            let err = validate_release_name(bad).unwrap_err().to_string();
            assert!(err.contains("invalid release name"), "{bad}: {err}");
        }
    }

    #[test]
    fn chart_files_are_sorted_into_helms_fields() {
        let c = chart(&[
            (
                "Chart.yaml",
                "apiVersion: v2\nname: demo\nversion: 1.0.0\nappVersion: 1.10\nunknownKey: x\n\
                 description: \"two\\tlines\\n\"\nmaintainers:\n- name: me\nannotations:\n  a: 1\n",
            ),
            (
                "Chart.lock",
                "dependencies:\n- name: sub\n  repository: oci://x\n  version: 1.0.0\n\
                 digest: sha256:ab\ngenerated: \"2024-01-02T03:04:05.5+01:00\"\n",
            ),
            ("values.yaml", "a: yes\nbig: 1000000\n"),
            ("values.schema.json", "{}"),
            ("templates/b.yaml", "b"),
            ("templates/a.yaml", "a"),
            ("charts/sub/Chart.yaml", "name: sub"),
            ("charts/sub-1.0.0.tgz.prov", "sig"),
            ("README.md", "<hi>"),
        ]);
        let record = chart_record_from_chart(&c).unwrap();
        let m = record.metadata.as_ref().unwrap();
        assert_eq!(
            m.app_version, "1.1",
            "a YAML float, as Go's YAML decoding reads it"
        );
        assert_eq!(m.description, "two lines ");
        assert!(
            m.extra.is_empty(),
            "unknown Chart.yaml keys are dropped like Go"
        );
        assert_eq!(m.annotations["a"], "1");
        let names = |files: &Option<Vec<ChartFileRecord>>| -> Vec<String> {
            files.iter().flatten().map(|f| f.name.clone()).collect()
        };
        assert_eq!(
            names(&record.templates),
            ["templates/b.yaml", "templates/a.yaml"]
        );
        assert_eq!(
            names(&record.files),
            ["charts/sub-1.0.0.tgz.prov", "README.md"]
        );
        assert_eq!(record.values.as_ref().unwrap()["a"], Value::Bool(true));
        assert_eq!(record.schema_bytes().unwrap().unwrap(), b"{}");
        let json = String::from_utf8(
            encode_release_json(&ReleaseRecord {
                chart: record,
                ..Default::default()
            })
            .unwrap(),
        )
        .unwrap();
        assert!(json.contains(
            r#""lock":{"generated":"2024-01-02T03:04:05.5+01:00","digest":"sha256:ab","dependencies":[{"name":"sub","version":"1.0.0","repository":"oci://x"}]}"#
        ), "{json}");
        assert!(
            json.contains(r#""values":{"a":true,"big":1000000}"#),
            "{json}"
        );
    }

    #[test]
    fn a_chart_without_extras_stores_nulls_like_go() {
        let c = chart(&[("Chart.yaml", "name: demo\nversion: 1.0.0\n")]);
        let record = chart_record_from_chart(&c).unwrap();
        assert_eq!(record.metadata.as_ref().unwrap().api_version, "v1");
        let json = String::from_utf8(
            encode_release_json(&ReleaseRecord {
                chart: record,
                ..Default::default()
            })
            .unwrap(),
        )
        .unwrap();
        assert!(json.contains(
            r#""chart":{"metadata":{"name":"demo","version":"1.0.0","apiVersion":"v1"},"lock":null,"templates":null,"values":null,"schema":null,"files":null}"#
        ), "{json}");
    }

    fn new_release() -> NewRelease {
        let c = chart(&[("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 1.0.0\n")]);
        NewRelease {
            name: "demo".into(),
            namespace: "ns".into(),
            revision: 1,
            status: Status::PendingInstall,
            description: "Initial install underway".into(),
            chart: chart_record_from_chart(&c).unwrap(),
            config: Map::new(),
            manifest: String::new(),
            hooks: vec![HookRecord {
                name: "job".into(),
                kind: "Job".into(),
                path: "demo/templates/job.yaml".into(),
                manifest: "kind: Job".into(),
                events: vec![HookEvent::PreInstall],
                ..Default::default()
            }],
            notes: String::new(),
            first_deployed: HelmTime::from_unix(1_795_727_453, 64_605_114),
            last_deployed: HelmTime::from_unix(1_795_727_453, 64_605_114),
            apply_method: Some(ApplyMethod::ClientSide),
        }
    }

    #[test]
    fn builds_a_pending_install_as_v4_writes_it() {
        let record = new_release().into_record().unwrap();
        assert_eq!(record.hooks[0].last_run.phase, HookPhase::NotRun);
        let json = String::from_utf8(encode_release_json(&record).unwrap()).unwrap();
        assert!(json.starts_with(
            r#"{"name":"demo","info":{"first_deployed":"2026-11-26T21:10:53.064605114Z","last_deployed":"2026-11-26T21:10:53.064605114Z","description":"Initial install underway","status":"pending-install"},"chart":"#
        ), "{json}");
        assert!(json.contains(r#""hooks":[{"name":"job","kind":"Job","path":"demo/templates/job.yaml","manifest":"kind: Job","events":["pre-install"],"last_run":{"phase":""}}],"version":1,"namespace":"ns","apply_method":"csa"}"#), "{json}");
    }

    #[test]
    fn refuses_records_helm_could_not_use() {
        let mut r = new_release();
        r.name = "Bad".into();
        assert!(matches!(r.into_record(), Err(BuildError::ReleaseName(_))));
        let mut r = new_release();
        r.revision = 0;
        assert!(
            r.into_record()
                .unwrap_err()
                .to_string()
                .contains("revisions start at 1")
        );
        let mut r = new_release();
        r.chart.metadata = None;
        assert!(
            r.into_record()
                .unwrap_err()
                .to_string()
                .contains("chart metadata")
        );
        let mut r = new_release();
        r.hooks[0].events.clear();
        assert!(
            r.into_record()
                .unwrap_err()
                .to_string()
                .contains("no events")
        );
    }
}
