//! Template conformance against real `helm template` (v4.1.4): the small
//! charts in `tests/conformance/charts`, one case per line of
//! `tests/conformance/cases.tsv`, expected outputs in
//! `tests/conformance/expected/<case>/{stdout,stderr,rc}` as produced by
//! `scripts/regen-template-conformance`.
//!
//! Successes must match helm's stdout byte for byte (as the host prints it:
//! `---\n# Source: <source>\n<content>\n` per manifest); failures must return
//! the text after `Error: ` in helm's stderr, up to the blank line before
//! "Use --debug flag". Cases helm rejects before rendering (release name
//! checks) are not the renderer's job and are skipped.

mod conformance {
    pub mod args;
}

use std::fs;
use std::path::{Path, PathBuf};

use conformance::args;
use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderRequest, RenderedChart, render,
};

/// Cases where the renderer knowingly differs from helm, with the reason.
const KNOWN_GAPS: &[(&str, &str)] = &[
    (
        "strings",
        "camelcase follows xstrings only for `_`; Go keeps `ß` in upper; byte-split UTF-8 (`substr`/`trunc`) can't be held in a Rust String",
    ),
    (
        "math",
        "addf/subf use float64, not shopspring decimal (0.1+0.2)",
    ),
    (
        "regex",
        "regex-lite lacks Unicode classes (\\p{L}); empty-pattern regexSplit differs from Go",
    ),
    (
        "semver",
        "semver results are maps: Version methods (Compare, IncMinor, LessThan) are not callable",
    ),
    (
        "yamljson",
        "encoding/json error texts differ; fromToml unsupported",
    ),
    (
        "parse-unclosed-action",
        "Go's \"unclosed action started at <file>:<line>\" suffix is missing",
    ),
    (
        "parse-multiline",
        "unclosed left paren across lines is reported as an unexpected token",
    ),
    (
        "err-must-from-json",
        "serde_json accepts/rejects differently and words errors unlike encoding/json",
    ),
    (
        "err-dict-on-list-field",
        "Go positions a field on a parenthesised pipeline at its last argument",
    ),
];

/// Recorded from helm v4.1.4 by scripts/regen-template-conformance; the host sends the same set.
const HELM_DEFAULT_API_VERSIONS: &str =
    include_str!("../../../host/src/helm-default-api-versions.txt");

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// The files of `charts/<chart>` as the host passes them (`<chart>/<path>`):
/// loaded the way helm loads a folder, `.helmignore` applied and byte-order
/// marks dropped (the host uses the same crate).
fn chart_files(chart: &str) -> Vec<(String, Vec<u8>)> {
    fn walk(
        root: &Path,
        dir: &Path,
        rules: &helm_ignore::Rules,
        prefix: &str,
        out: &mut Vec<(String, Vec<u8>)>,
    ) {
        let mut entries: Vec<_> = fs::read_dir(dir)
            .expect("chart dir")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            let relative = p.strip_prefix(root).expect("under the chart");
            if rules.ignores(&relative.to_string_lossy(), p.is_dir()) {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, rules, prefix, out);
            } else {
                let data = fs::read(&p).expect("file");
                let name = format!("{prefix}/{}", relative.to_string_lossy());
                out.push((name, helm_ignore::strip_bom(&data).to_vec()));
            }
        }
    }
    let root = base().join("charts").join(chart);
    let rules = match fs::read_to_string(root.join(helm_ignore::HELMIGNORE)) {
        Ok(text) => helm_ignore::Rules::parse(&text).expect("valid .helmignore"),
        Err(_) => helm_ignore::Rules::default(),
    };
    let mut out = Vec::new();
    walk(&root, &root, &rules, chart, &mut out);
    out
}

fn host_output(out: &RenderedChart) -> String {
    out.manifests
        .iter()
        .map(|m| format!("---\n# Source: {}\n{}\n", m.source, m.content))
        .collect()
}

/// The message helm printed after `Error: `, without the "--debug" hint.
fn helm_error(stderr: &str) -> &str {
    let start = stderr.find("Error: ").map_or(0, |i| i + "Error: ".len());
    let msg = &stderr[start..];
    let msg = msg
        .find("\n\nUse --debug flag")
        .map_or(msg, |end| &msg[..end]);
    msg.trim_end_matches('\n')
}

enum Outcome {
    Identical,
    NotRenderer,
    Mismatch(String),
}

fn run_case(name: &str, chart: &str, arg_line: &str) -> Outcome {
    let dir = base().join("expected").join(name);
    let read =
        |f: &str| fs::read_to_string(dir.join(f)).unwrap_or_else(|e| panic!("{name}/{f}: {e}"));
    let rc: i32 = read("rc").trim().parse().expect("rc");
    let (stdout, stderr) = (read("stdout"), read("stderr"));
    if stderr.contains("release name check failed") {
        return Outcome::NotRenderer;
    }
    let a = args::parse(arg_line, &base());
    let files = chart_files(chart);
    let request = RenderRequest {
        files: files
            .iter()
            .map(|(p, d)| ChartFile { path: p, data: d })
            .collect(),
        values_json: &a.values_json,
        release: ReleaseInfo {
            name: a.release,
            namespace: a.namespace,
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: CapabilitiesInfo {
            // `helm template`'s default without --kube-version; Helm adds the `v`.
            kube_version: a.kube_version.map_or("v1.35.0".into(), |v| {
                if v.starts_with('v') {
                    v
                } else {
                    format!("v{v}")
                }
            }),
            // Helm's built-in set (the host's default too), then `--api-versions`.
            api_versions: HELM_DEFAULT_API_VERSIONS
                .lines()
                .map(String::from)
                .chain(a.api_versions)
                .collect(),
            helm_version: "v4.1.4".into(),
        },
        limits: Limits::default(),
    };
    match (rc, render(&request)) {
        (0, Ok(out)) => {
            let got = host_output(&out);
            if got == stdout {
                Outcome::Identical
            } else {
                Outcome::Mismatch(format!("output differs\n{}", diff(&stdout, &got)))
            }
        }
        (0, Err(e)) => Outcome::Mismatch(format!("helm succeeded, renderer failed: {}", e.message)),
        (_, Ok(_)) => Outcome::Mismatch(format!(
            "helm failed, renderer succeeded; want error {:?}",
            helm_error(&stderr)
        )),
        (_, Err(e)) => {
            let want = helm_error(&stderr);
            if e.message == want {
                Outcome::Identical
            } else {
                Outcome::Mismatch(format!(
                    "error differs\n  want: {want:?}\n  got:  {:?}",
                    e.message
                ))
            }
        }
    }
}

/// The differing lines, with their line numbers.
fn diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut out = String::new();
    for i in 0..w.len().max(g.len()) {
        let (a, b) = (w.get(i).copied(), g.get(i).copied());
        if a != b {
            out.push_str(&format!(
                "  {:>3} want: {:?}\n      got:  {:?}\n",
                i + 1,
                a,
                b
            ));
        }
    }
    out
}

#[test]
fn template_conformance() {
    let cases = fs::read_to_string(base().join("cases.tsv")).expect("cases.tsv");
    let (mut identical, mut not_renderer) = (0, 0);
    let (mut mismatched, mut gaps) = (Vec::new(), Vec::new());
    let mut names = Vec::new();
    for line in cases.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.splitn(3, '\t').collect();
        let (name, chart, arg_line) = (cols[0], cols[1], cols.get(2).copied().unwrap_or(""));
        names.push(name);
        let gap = KNOWN_GAPS.iter().find(|(n, _)| *n == name);
        match (run_case(name, chart, arg_line), gap) {
            (Outcome::Identical, None) => identical += 1,
            (Outcome::Identical, Some(_)) => {
                mismatched.push(format!("{name}: listed in KNOWN_GAPS but now matches"))
            }
            (Outcome::NotRenderer, _) => not_renderer += 1,
            (Outcome::Mismatch(_), Some((_, reason))) => gaps.push(format!("{name}: {reason}")),
            (Outcome::Mismatch(m), None) => mismatched.push(format!("{name}: {m}")),
        }
    }
    for (gap, _) in KNOWN_GAPS {
        assert!(names.contains(gap), "KNOWN_GAPS names unknown case {gap}");
    }
    println!(
        "template conformance: {} cases: byte-identical {identical} / mismatched {} / known gaps {} / not-renderer's-job {not_renderer}",
        names.len(),
        mismatched.len(),
        gaps.len()
    );
    for g in &gaps {
        println!("KNOWN GAP {g}");
    }
    for m in &mismatched {
        println!("MISMATCH {m}");
    }
    assert!(
        mismatched.is_empty(),
        "{} cases mismatched",
        mismatched.len()
    );
}
