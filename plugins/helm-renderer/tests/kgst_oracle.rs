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
use std::path::Path;

use helm_renderer::value::{Value, deep_equal};
use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderRequest, render, yaml,
};

// The conformance suite's argument parser; this test uses only `parse_words`.
#[allow(dead_code)]
#[path = "conformance/args.rs"]
mod args;

const DEBUG_HINT: &str = "\n\nUse --debug flag to render out invalid YAML";

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
    let Some(fixtures) = kgst_oracle::fixtures() else {
        return;
    };
    let mut counts = Counts::default();
    for version in kgst_oracle::versions(&fixtures) {
        let files = chart_files(&kgst_oracle::chart_dir(&fixtures, &version));
        for oracle_case in kgst_oracle::cases(&fixtures, &version) {
            let id = oracle_case.label();
            let (rc, stdout, stderr) = (
                oracle_case.rc,
                oracle_case.stdout.clone(),
                oracle_case.stderr.clone(),
            );
            if stderr.contains("release name check failed")
                || stderr.contains("values don't meet the specifications")
            {
                counts.not_renderer.push(id);
                continue;
            }
            let case = args::parse_words(
                oracle_case.args[2..].to_vec(),
                &fixtures.join("oracle").join(&version),
            );
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
