//! Turns a case's `helm template` arguments into a release name, a namespace
//! and the user values JSON, following Helm's precedence: `-f` files (merged
//! in order), then `--set`, `--set-string` and `--set-json` in Helm's order
//! (`--set-json` first, then `--set`, `--set-string`). `--set` parsing is a
//! small subset of Helm's `strvals`: `a.b[1].c=v`, `\.` escapes, comma-
//! separated assignments and `{a,b}` lists.

use std::fs;
use std::path::Path;

use helm_renderer::value::{Map, Value};
use helm_renderer::yaml;

pub struct Args {
    pub release: String,
    pub namespace: String,
    pub values_json: String,
    /// `--kube-version`, as given.
    pub kube_version: Option<String>,
    /// `-a`/`--api-versions`, comma-split, in order.
    pub api_versions: Vec<String>,
}

/// Shell-like splitting with single quotes (all `cases.tsv` uses).
pub use kgst_oracle::shell_words;

pub fn parse(args: &str, base: &Path) -> Args {
    parse_words(shell_words(args), base)
}

/// The same from split words (after `helm template`); `-f` paths are relative to `base`.
pub fn parse_words(words: Vec<String>, base: &Path) -> Args {
    let mut namespace = "default".to_string();
    let (mut kube_version, mut api_versions) = (None, Vec::new());
    let (mut files, mut sets, mut strings, mut jsons) = (vec![], vec![], vec![], vec![]);
    let mut positional = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        let mut next = || it.next().expect("flag value");
        match w.as_str() {
            "-n" | "--namespace" => namespace = next(),
            "-f" | "--values" => files.push(next()),
            "--set" => sets.push(next()),
            "--set-string" => strings.push(next()),
            "--set-json" => jsons.push(next()),
            "--kube-version" => kube_version = Some(next()),
            "-a" | "--api-versions" => api_versions.extend(next().split(',').map(String::from)),
            _ => positional.push(w),
        }
    }
    let mut values = Map::new();
    for f in files {
        let text = fs::read_to_string(base.join(&f)).expect("values file");
        // Helm reads values files through JSON: every number is a float64.
        if let Value::Map(m) = floats(yaml::parse_document(&text).expect("values yaml")) {
            merge_maps(&mut values, &m.borrow());
        }
    }
    for j in jsons {
        let (key, json) = j.split_once('=').expect("key=json");
        let parsed: serde_json::Value = serde_json::from_str(json).expect("json value");
        set_path(
            &mut values,
            &key_segments(key),
            helm_renderer::value::from_json_go(&parsed),
        );
    }
    for s in sets {
        for (key, v) in assignments(&s) {
            set_path(&mut values, &key_segments(&key), typed_or_list(&v, false));
        }
    }
    for s in strings {
        for (key, v) in assignments(&s) {
            set_path(&mut values, &key_segments(&key), typed_or_list(&v, true));
        }
    }
    Args {
        release: positional.first().cloned().expect("release name"),
        namespace,
        values_json: to_json(&Value::map(values)),
        kube_version,
        api_versions,
    }
}

fn floats(v: Value) -> Value {
    match v {
        Value::Int(i) => Value::Float(i as f64),
        Value::List(l) => Value::list(l.iter().cloned().map(floats).collect()),
        Value::Map(m) => Value::map(
            m.borrow()
                .iter()
                .map(|(k, v)| (k.clone(), floats(v.clone())))
                .collect(),
        ),
        other => other,
    }
}

/// Values JSON that keeps float64 apart from int64: floats always carry a
/// fraction or exponent (`10.0`), which the renderer reads back as float64.
fn to_json(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("{f:?}"),
        Value::List(l) => format!("[{}]", l.iter().map(to_json).collect::<Vec<_>>().join(",")),
        Value::Map(m) => {
            let entries: Vec<String> = m
                .borrow()
                .iter()
                .map(|(k, v)| format!("{}:{}", serde_json::Value::from(k.as_str()), to_json(v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        other => helm_renderer::json::encode(other, false, None).expect("values are JSON"),
    }
}

/// Splits `a=1,b={x,y}` at top-level commas.
fn assignments(s: &str) -> Vec<(String, String)> {
    let (mut out, mut cur, mut depth, mut escaped) = (Vec::new(), String::new(), 0, false);
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.iter()
        .map(|a| {
            let (k, v) = a.split_once('=').expect("key=value");
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// `a\.b.c[2]` → [("a.b", None), ("c", Some(2))].
fn key_segments(key: &str) -> Vec<(String, Option<usize>)> {
    let mut parts = vec![String::new()];
    let mut chars = key.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => parts.last_mut().unwrap().extend(chars.next()),
            '.' => parts.push(String::new()),
            c => parts.last_mut().unwrap().push(c),
        }
    }
    parts
        .into_iter()
        .map(|p| match p.split_once('[') {
            Some((name, idx)) => (name.into(), idx.trim_end_matches(']').parse().ok()),
            None => (p, None),
        })
        .collect()
}

fn typed_or_list(v: &str, string: bool) -> Value {
    match v.strip_prefix('{').and_then(|r| r.strip_suffix('}')) {
        Some(inner) => Value::list(inner.split(',').map(|x| typed(x, string)).collect()),
        None => typed(v, string),
    }
}

/// Helm strvals typing: bools/null (any case), int64 without a leading
/// zero, otherwise a string (`--set-string` always a string).
fn typed(v: &str, string: bool) -> Value {
    if string {
        return Value::str(v);
    }
    match v.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Nil,
        _ => {}
    }
    if (v == "0" || !v.starts_with('0'))
        && let Ok(i) = v.parse::<i64>()
    {
        return Value::Int(i);
    }
    Value::str(v)
}

fn set_path(m: &mut Map, segs: &[(String, Option<usize>)], value: Value) {
    let (name, idx) = &segs[0];
    let rest = &segs[1..];
    let child_map = |v: Option<&Value>| match v {
        Some(Value::Map(c)) => c.borrow().clone(),
        _ => Map::new(),
    };
    match idx {
        None if rest.is_empty() => {
            m.insert(name.clone(), value);
        }
        None => {
            let mut child = child_map(m.get(name));
            set_path(&mut child, rest, value);
            m.insert(name.clone(), Value::map(child));
        }
        Some(i) => {
            let mut list = match m.get(name) {
                Some(Value::List(l)) => l.to_vec(),
                _ => Vec::new(),
            };
            list.resize(list.len().max(i + 1), Value::Nil);
            if rest.is_empty() {
                list[*i] = value;
            } else {
                let mut child = child_map(Some(&list[*i]));
                set_path(&mut child, rest, value);
                list[*i] = Value::map(child);
            }
            m.insert(name.clone(), Value::list(list));
        }
    }
}

/// Helm's `mergeMaps` for `-f` files.
fn merge_maps(dst: &mut Map, src: &Map) {
    for (k, v) in src {
        match (dst.get(k), v) {
            (Some(Value::Map(d)), Value::Map(s)) => {
                let mut inner = d.borrow().clone();
                merge_maps(&mut inner, &s.borrow());
                dst.insert(k.clone(), Value::map(inner));
            }
            _ => {
                dst.insert(k.clone(), v.clone());
            }
        }
    }
}
