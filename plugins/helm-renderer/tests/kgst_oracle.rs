//! Conformance against real `helm template` (v4.1.4) output for every kgst
//! chart version × value case in `../shared/fixtures/kgst/oracle`.
//!
//! Successes must match helm's stdout byte for byte (as the host prints it:
//! `---\n# Source: <source>\n<content>\n` per manifest); failures must return
//! the text after `Error: ` in helm's stderr (minus `helm template`'s
//! "Use --debug flag" hint, which the host CLI adds). Release-name and
//! schema failures come from helm itself, not from rendering: they are
//! counted as "not the renderer's job" and skipped.
//!
//! The oracle's `--set`/`-f` arguments are turned into values JSON by the
//! minimal parser below (the host owns real `--set` parsing).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use helm_renderer::value::{Map, Value, deep_equal};
use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderRequest, render, yaml,
};

const DEBUG_HINT: &str = "\n\nUse --debug flag to render out invalid YAML";

fn shared_dir() -> PathBuf {
    // The repository root is two levels above this crate; the fixtures live beside it.
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join("../shared")
}

/// Shell-like splitting with single quotes (all the oracle uses).
fn shell_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_quote = false;
    let mut has_word = false;
    for c in s.chars() {
        match c {
            '\'' => {
                in_quote = !in_quote;
                has_word = true;
            }
            ' ' if !in_quote => {
                if has_word {
                    words.push(std::mem::take(&mut cur));
                    has_word = false;
                }
            }
            c => {
                cur.push(c);
                has_word = true;
            }
        }
    }
    if has_word {
        words.push(cur);
    }
    words
}

/// Helm strvals typing for `--set`: bools/null (any case), int64 without a
/// leading zero, otherwise a string.
fn typed(v: &str) -> Value {
    match v.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Nil,
        _ => {}
    }
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && let Ok(i) = v.parse::<i64>()
    {
        return Value::Int(i);
    }
    Value::str(v)
}

/// Sets `a.b[1].c` in `root`.
fn set_path(root: &mut Map, path: &str, value: Value) {
    let mut segments: Vec<(String, Option<usize>)> = Vec::new();
    for part in path.split('.') {
        match part.split_once('[') {
            Some((name, idx)) => {
                segments.push((name.to_string(), idx.trim_end_matches(']').parse().ok()))
            }
            None => segments.push((part.to_string(), None)),
        }
    }
    set_segments(root, &segments, value);
}

fn set_segments(m: &mut Map, segs: &[(String, Option<usize>)], value: Value) {
    let (name, idx) = &segs[0];
    let rest = &segs[1..];
    match idx {
        None if rest.is_empty() => {
            m.insert(name.clone(), value);
        }
        None => {
            let mut child = match m.get(name) {
                Some(Value::Map(c)) => c.borrow().clone(),
                _ => Map::new(),
            };
            set_segments(&mut child, rest, value);
            m.insert(name.clone(), Value::map(child));
        }
        Some(i) => {
            let mut list = match m.get(name) {
                Some(Value::List(l)) => l.to_vec(),
                _ => Vec::new(),
            };
            while list.len() <= *i {
                list.push(Value::Nil);
            }
            if rest.is_empty() {
                list[*i] = value;
            } else {
                let mut child = match &list[*i] {
                    Value::Map(c) => c.borrow().clone(),
                    _ => Map::new(),
                };
                set_segments(&mut child, rest, value);
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

struct Case {
    release: String,
    namespace: String,
    values_json: String,
}

fn parse_case(args: &str, values_dir: &Path) -> Case {
    let words = shell_words(args);
    let mut positional = Vec::new();
    let mut namespace = "default".to_string();
    let (mut files, mut sets, mut set_strings) = (Vec::new(), Vec::new(), Vec::new());
    let mut i = 2; // skip "helm template"
    while i < words.len() {
        match words[i].as_str() {
            "-n" => {
                namespace = words[i + 1].clone();
                i += 1;
            }
            "--set" => {
                sets.push(words[i + 1].clone());
                i += 1;
            }
            "--set-string" => {
                set_strings.push(words[i + 1].clone());
                i += 1;
            }
            "-f" => {
                files.push(words[i + 1].clone());
                i += 1;
            }
            w => positional.push(w.to_string()),
        }
        i += 1;
    }
    let mut values = Map::new();
    for f in files {
        let name = Path::new(&f).file_name().expect("values file name");
        let text = fs::read_to_string(values_dir.join(name)).expect("values file");
        if let Value::Map(m) = yaml::parse_document(&text).expect("values yaml") {
            merge_maps(&mut values, &m.borrow());
        }
    }
    // Helm applies every --set before every --set-string.
    for s in sets {
        for assignment in s.split(',') {
            let (k, v) = assignment.split_once('=').expect("key=value");
            set_path(&mut values, k, typed(v));
        }
    }
    for s in set_strings {
        let (k, v) = s.split_once('=').expect("key=value");
        set_path(&mut values, k, Value::str(v));
    }
    Case {
        release: positional[0].clone(),
        namespace,
        values_json: helm_renderer::json::encode(&Value::map(values), false, None),
    }
}

fn chart_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("chart dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                let rel = p
                    .strip_prefix(base)
                    .expect("relative")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.push((format!("kgst/{rel}"), fs::read(&p).expect("file")));
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

fn docs(text: &str) -> Vec<Value> {
    helm_renderer::output::split_documents(text)
        .iter()
        .map(|d| yaml::parse_document(d).unwrap_or(Value::str(d)))
        .collect()
}

#[derive(Default)]
struct Counts {
    identical: usize,
    semantic: usize,
    mismatched: Vec<String>,
    not_renderer: Vec<String>,
}

#[test]
fn kgst_oracle_conformance() {
    let shared = shared_dir();
    let oracle = shared.join("fixtures/kgst/oracle");
    if !oracle.is_dir() {
        let msg = format!("kgst oracle not found at {}", oracle.display());
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{msg} (CI=true requires it)");
        }
        eprintln!("SKIP: {msg}");
        return;
    }
    let mut versions: Vec<PathBuf> = fs::read_dir(&oracle)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("cases.tsv").is_file())
        .collect();
    versions.sort();
    let mut counts = Counts::default();
    for vdir in versions {
        let version = vdir.file_name().unwrap().to_string_lossy().to_string();
        let files = chart_files(&shared.join("fixtures/kgst/charts").join(&version));
        let tsv = fs::read_to_string(vdir.join("cases.tsv")).unwrap();
        for line in tsv.lines().skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let (name, args) = (cols[0], cols[1]);
            let id = format!("{version}/{name}");
            let cdir = vdir.join(name);
            let rc: i32 = fs::read_to_string(cdir.join("v4.rc"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let stdout = fs::read_to_string(cdir.join("v4.stdout")).unwrap();
            let stderr = fs::read_to_string(cdir.join("v4.stderr")).unwrap();
            if stderr.contains("release name check failed")
                || stderr.contains("values don't meet the specifications")
            {
                counts.not_renderer.push(id);
                continue;
            }
            let case = parse_case(args, &oracle.join("_values"));
            let request = RenderRequest {
                files: files
                    .iter()
                    .map(|(p, d)| ChartFile { path: p, data: d })
                    .collect(),
                values_json: &case.values_json,
                release: ReleaseInfo {
                    name: case.release.clone(),
                    namespace: case.namespace.clone(),
                    revision: 1,
                    is_install: true,
                    is_upgrade: false,
                    service: "Helm".into(),
                },
                capabilities: CapabilitiesInfo {
                    kube_version: "v1.20.0".into(),
                    api_versions: Vec::new(),
                    helm_version: "v4.1.4".into(),
                },
                limits: Limits::default(),
            };
            let result = render(&request);
            match (rc, result) {
                (0, Ok(out)) => {
                    let text: String = out
                        .manifests
                        .iter()
                        .map(|m| format!("---\n# Source: {}\n{}\n", m.source, m.content))
                        .collect();
                    if text == stdout {
                        counts.identical += 1;
                    } else {
                        let (a, b) = (docs(&text), docs(&stdout));
                        if a.len() == b.len()
                            && a.iter().zip(b.iter()).all(|(x, y)| deep_equal(x, y))
                        {
                            counts.semantic += 1;
                        } else {
                            counts.mismatched.push(format!(
                                "{id}: output differs\n--- want\n{stdout}\n--- got\n{text}"
                            ));
                        }
                    }
                }
                (0, Err(e)) => counts.mismatched.push(format!(
                    "{id}: helm succeeded, renderer failed: {}",
                    e.message
                )),
                (_, Ok(_)) => counts.mismatched.push(format!(
                    "{id}: helm failed, renderer succeeded; want error {stderr:?}"
                )),
                (_, Err(e)) => {
                    let want = stderr
                        .trim_end_matches('\n')
                        .strip_prefix("Error: ")
                        .unwrap_or(&stderr);
                    let want = want.strip_suffix(DEBUG_HINT).unwrap_or(want);
                    if e.message == want {
                        counts.identical += 1;
                    } else {
                        counts.mismatched.push(format!(
                            "{id}: error differs\n  want: {want:?}\n  got:  {:?}",
                            e.message
                        ));
                    }
                }
            }
        }
    }
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &counts.not_renderer {
        let reason = if id.contains("release-name") {
            "release name (host)"
        } else {
            "schema (validator)"
        };
        *by_reason.entry(reason).or_default() += 1;
    }
    println!(
        "kgst oracle: byte-identical {} / semantically-identical {} / mismatched {} / not-renderer's-job {} {:?}",
        counts.identical,
        counts.semantic,
        counts.mismatched.len(),
        counts.not_renderer.len(),
        by_reason
    );
    println!("not the renderer's job: {}", counts.not_renderer.join(", "));
    for m in &counts.mismatched {
        println!("MISMATCH {m}");
    }
    assert!(
        counts.mismatched.is_empty(),
        "{} oracle cases mismatched",
        counts.mismatched.len()
    );
}
