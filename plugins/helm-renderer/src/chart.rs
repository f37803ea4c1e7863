//! Builds the chart tree (chart, subcharts, templates, files, metadata) from
//! the flat file list the host passes, as Helm's chart loader would.

use std::collections::BTreeMap;

use crate::files::Files;
use crate::value::{Map, Value};
use crate::yaml;

/// One input file, path relative to the chart's parent directory.
pub struct ChartFile<'a> {
    pub path: &'a str,
    pub data: &'a [u8],
}

#[derive(Debug)]
pub struct Chart {
    /// `name` from Chart.yaml.
    pub name: String,
    /// Helm's `ChartFullPath`: `top`, `top/charts/sub`, …
    pub full_path: String,
    /// Chart.yaml as parsed (lower-case YAML keys).
    pub raw_metadata: Value,
    pub values: Map,
    /// `templates/…` path (relative to the chart) → source.
    pub templates: Vec<(String, String)>,
    pub files: Files,
    pub dependencies: Vec<Chart>,
}

impl Chart {
    pub fn is_library(&self) -> bool {
        self.meta_str("type") == "library"
    }

    pub fn meta_str(&self, key: &str) -> String {
        match self.raw_metadata.map_get(key) {
            Some(Value::Nil) | None => String::new(),
            Some(v) => crate::funcs::to_string(&v),
        }
    }

    /// `.Chart`: Helm v4's map of Metadata with Go field names, plus `IsRoot`.
    pub fn metadata_value(&self, is_root: bool) -> Value {
        let mut m = Map::new();
        let strings = [
            ("Name", "name"),
            ("Home", "home"),
            ("Version", "version"),
            ("Description", "description"),
            ("Icon", "icon"),
            ("APIVersion", "apiVersion"),
            ("Condition", "condition"),
            ("Tags", "tags"),
            ("AppVersion", "appVersion"),
            ("KubeVersion", "kubeVersion"),
            ("Type", "type"),
        ];
        for (go, yaml_key) in strings {
            m.insert(go.into(), Value::string(self.meta_str(yaml_key)));
        }
        let list = |key: &str| match self.raw_metadata.map_get(key) {
            Some(Value::List(l)) => Value::List(l),
            _ => Value::list(Vec::new()),
        };
        m.insert("Sources".into(), list("sources"));
        m.insert("Keywords".into(), list("keywords"));
        let maintainers = match list("maintainers") {
            Value::List(l) => Value::list(
                l.iter()
                    .map(|x| go_fields(x, &[("Name", "name"), ("Email", "email"), ("URL", "url")]))
                    .collect(),
            ),
            other => other,
        };
        m.insert("Maintainers".into(), maintainers);
        let deps = match list("dependencies") {
            Value::List(l) => Value::list(
                l.iter()
                    .map(|x| {
                        go_fields(
                            x,
                            &[
                                ("Name", "name"),
                                ("Version", "version"),
                                ("Repository", "repository"),
                                ("Condition", "condition"),
                                ("Tags", "tags"),
                                ("Enabled", "enabled"),
                                ("ImportValues", "import-values"),
                                ("Alias", "alias"),
                            ],
                        )
                    })
                    .collect(),
            ),
            other => other,
        };
        m.insert("Dependencies".into(), deps);
        m.insert(
            "Deprecated".into(),
            Value::Bool(matches!(
                self.raw_metadata.map_get("deprecated"),
                Some(Value::Bool(true))
            )),
        );
        let annotations = match self.raw_metadata.map_get("annotations") {
            Some(a @ Value::Map(_)) => Value::StringMap(std::rc::Rc::new(
                a.map_entries()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, Value::string(crate::funcs::to_string(&v))))
                    .collect(),
            )),
            _ => Value::StringMap(std::rc::Rc::new(Map::new())),
        };
        m.insert("Annotations".into(), annotations);
        m.insert("IsRoot".into(), Value::Bool(is_root));
        Value::map(m)
    }
}

fn go_fields(v: &Value, fields: &[(&str, &str)]) -> Value {
    let mut m = Map::new();
    for (go, key) in fields {
        let x = v.map_get(key).unwrap_or_default();
        let x = match (*go, x) {
            ("Enabled", Value::Nil) => Value::Bool(false),
            ("Tags" | "ImportValues", Value::Nil) => Value::list(Vec::new()),
            (_, Value::Nil) => Value::str(""),
            (_, other) => other,
        };
        m.insert(go.to_string(), x);
    }
    Value::map(m)
}

/// Loads the top-level chart from files whose first path segment is the chart directory.
pub fn load(files: &[ChartFile]) -> Result<Chart, String> {
    let root = files
        .first()
        .and_then(|f| f.path.split('/').next())
        .ok_or("chart has no files")?
        .to_string();
    let rel: Vec<(String, Vec<u8>)> = files
        .iter()
        .filter_map(|f| {
            f.path
                .strip_prefix(&format!("{root}/"))
                .map(|r| (r.to_string(), f.data.to_vec()))
        })
        .collect();
    load_dir(rel, None)
}

fn load_dir(files: Vec<(String, Vec<u8>)>, parent_path: Option<&str>) -> Result<Chart, String> {
    let text = |name: &str| {
        files
            .iter()
            .find(|(p, _)| p == name)
            .map(|(_, d)| String::from_utf8_lossy(d).into_owned())
    };
    let chart_yaml = text("Chart.yaml").ok_or("Chart.yaml file is missing")?;
    let raw_metadata =
        yaml::parse_document(&chart_yaml).map_err(|e| format!("cannot load Chart.yaml: {e}"))?;
    let name = match raw_metadata.map_get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.to_string(),
        _ => return Err("validation: chart.metadata.name is required".into()),
    };
    let values = match text("values.yaml") {
        Some(src) => match yaml::parse_document(&src).map_err(|e| format!("cannot load values.yaml: {e}"))? {
            Value::Map(m) => m.borrow().clone(),
            Value::Nil => Map::new(),
            _ => return Err("cannot load values.yaml: error unmarshaling JSON: json: cannot unmarshal into Go value of type map[string]interface {}".into()),
        },
        None => Map::new(),
    };
    let full_path = match parent_path {
        Some(p) => format!("{p}/charts/{name}"),
        None => name.clone(),
    };
    let mut templates = Vec::new();
    let mut other = BTreeMap::new();
    let mut sub_dirs: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
    for (path, data) in files {
        if let Some(rest) = path.strip_prefix("charts/") {
            if let Some((dir, inner)) = rest.split_once('/') {
                sub_dirs
                    .entry(dir.to_string())
                    .or_default()
                    .push((inner.to_string(), data));
            } else if rest.ends_with(".tgz") || rest.ends_with(".tar.gz") {
                // A packaged subchart: its archive holds `<chart-name>/…`.
                let entries = crate::archive::untgz(&data)
                    .map_err(|e| format!("cannot load charts/{rest}: {e}"))?;
                for (inner_path, inner_data) in entries {
                    if let Some((dir, inner)) = inner_path.split_once('/') {
                        sub_dirs
                            .entry(format!("{rest}/{dir}"))
                            .or_default()
                            .push((inner.to_string(), inner_data));
                    }
                }
            }
            continue;
        }
        if path.starts_with("templates/") {
            templates.push((path.clone(), String::from_utf8_lossy(&data).into_owned()));
            continue;
        }
        if matches!(
            path.as_str(),
            "Chart.yaml"
                | "values.yaml"
                | "values.schema.json"
                | "Chart.lock"
                | "requirements.yaml"
                | "requirements.lock"
        ) {
            continue;
        }
        other.insert(path, data);
    }
    templates.sort();
    let mut loaded = Vec::new();
    for (_, sub_files) in sub_dirs {
        if sub_files.iter().any(|(p, _)| p == "Chart.yaml") {
            loaded.push(load_dir(sub_files, Some(&full_path))?);
        }
    }
    let dependencies = resolve_aliases(&raw_metadata, loaded, &full_path);
    Ok(Chart {
        name,
        full_path,
        raw_metadata,
        values,
        templates,
        files: Files::new(other),
        dependencies,
    })
}

/// Helm's alias handling: subcharts not named in Chart.yaml `dependencies`
/// stay as they are; each listed dependency (in Chart.yaml order) uses the
/// loaded chart of that name, renamed to its `alias` if it has one.
fn resolve_aliases(metadata: &Value, loaded: Vec<Chart>, parent_full_path: &str) -> Vec<Chart> {
    let Some(Value::List(deps)) = metadata.map_get("dependencies") else {
        return loaded;
    };
    let dep_name = |d: &Value| {
        d.map_get("name")
            .and_then(|n| n.as_str().map(String::from))
            .unwrap_or_default()
    };
    let listed: Vec<String> = deps.iter().map(dep_name).collect();
    let mut out: Vec<Chart> = Vec::new();
    let mut pool: Vec<Chart> = Vec::new();
    for c in loaded {
        if listed.contains(&c.name) {
            pool.push(c);
        } else {
            out.push(c);
        }
    }
    for d in deps.iter() {
        let name = dep_name(d);
        let Some(found) = pool.iter().find(|c| c.name == name) else {
            continue;
        };
        let alias = d
            .map_get("alias")
            .and_then(|a| a.as_str().map(String::from))
            .filter(|a| !a.is_empty());
        out.push(found.renamed(alias.as_deref().unwrap_or(&name), parent_full_path));
    }
    out
}

impl Chart {
    /// A copy under another name (for aliases), with template paths rebased.
    fn renamed(&self, name: &str, parent_full_path: &str) -> Chart {
        let full_path = format!("{parent_full_path}/charts/{name}");
        let dependencies = self
            .dependencies
            .iter()
            .map(|d| d.renamed(&d.name, &full_path))
            .collect();
        let mut raw = self.raw_metadata.deep_copy();
        if let Value::Map(m) = &mut raw {
            m.borrow_mut().insert("name".into(), Value::str(name));
        }
        Chart {
            name: name.to_string(),
            full_path,
            raw_metadata: raw,
            values: self
                .values
                .iter()
                .map(|(k, v)| (k.clone(), v.deep_copy()))
                .collect(),
            templates: self.templates.clone(),
            files: self.files.clone(),
            dependencies,
        }
    }
}
