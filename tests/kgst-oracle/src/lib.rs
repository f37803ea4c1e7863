//! The kgst oracle beside the repository (`../shared/fixtures/kgst`): every
//! published kgst chart, and for each one `helm template`'s stdout, stderr and
//! exit code over a matrix of value cases. The validator, renderer and
//! end-to-end conformance tests all read it through this crate.
//!
//! When the folder is absent a test prints a notice and skips; under `CI=true`
//! its absence is a failure, so the tier never silently disappears from CI.

use std::path::{Path, PathBuf};

/// The `fixtures/kgst` folder (`KGST_FIXTURES` overrides its location), or
/// `None` after printing why the calling test skips.
pub fn fixtures() -> Option<PathBuf> {
    let dir = match std::env::var_os("KGST_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => shared_beside_checkout().join("fixtures/kgst"),
    };
    if dir.is_dir() {
        return Some(dir.canonicalize().expect("fixtures path resolves"));
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing, and CI=true requires the kgst oracle",
            dir.display()
        );
    }
    eprintln!("SKIPPED: kgst oracle not found at {}", dir.display());
    None
}

/// `shared/` beside the checkout that is running the tests. Found from the
/// running test's package folder (cargo sets `CARGO_MANIFEST_DIR` at run time),
/// not from this crate's build-time path: build caches are shared between
/// clones, and a path baked in at build time can name another clone.
pub fn shared_beside_checkout() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    start
        .ancestors()
        .map(|dir| dir.join("shared"))
        .find(|shared| shared.join("fixtures").is_dir())
        .unwrap_or_else(|| start.join("../../../shared"))
}

/// One oracle case: helm's arguments and what helm v4.1.4 printed.
#[derive(Debug, Clone)]
pub struct OracleCase {
    /// kgst version folder, e.g. `2.0.2` or `1.0.0-initial`.
    pub version: String,
    pub name: String,
    /// The whole command line, split: `helm template <release> . …`.
    pub args: Vec<String>,
    pub rc: i32,
    pub stdout: String,
    pub stderr: String,
}

impl OracleCase {
    /// `<version>/<case>`, for messages.
    pub fn label(&self) -> String {
        format!("{}/{}", self.version, self.name)
    }

    /// Helm's error message: from `Error: ` to the end of that paragraph
    /// (the CLI's "Use --debug flag …" hint follows a blank line).
    pub fn helm_error(&self) -> String {
        helm_error(&self.stderr)
    }
}

/// kgst chart versions that have oracle cases, sorted.
pub fn versions(fixtures: &Path) -> Vec<String> {
    let mut versions: Vec<String> = std::fs::read_dir(fixtures.join("oracle"))
        .expect("oracle folder")
        .map(|e| e.expect("oracle entry").path())
        .filter(|p| p.join("cases.tsv").is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    versions.sort();
    versions
}

/// The chart folder of a kgst version.
pub fn chart_dir(fixtures: &Path, version: &str) -> PathBuf {
    fixtures.join("charts").join(version)
}

/// Value files some cases pass as `-f ../_values/<file>`.
pub fn values_dir(fixtures: &Path) -> PathBuf {
    fixtures.join("oracle/_values")
}

/// Every case of one version, in `cases.tsv` order.
pub fn cases(fixtures: &Path, version: &str) -> Vec<OracleCase> {
    let dir = fixtures.join("oracle").join(version);
    let table = std::fs::read_to_string(dir.join("cases.tsv")).expect("cases.tsv");
    table
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let case_dir = dir.join(cols[0]);
            let read = |f: &str| std::fs::read_to_string(case_dir.join(f)).unwrap_or_default();
            OracleCase {
                version: version.to_string(),
                name: cols[0].to_string(),
                args: shell_words(cols[1]),
                rc: read("v4.rc").trim().parse().expect("v4.rc is a number"),
                stdout: read("v4.stdout"),
                stderr: read("v4.stderr"),
            }
        })
        .collect()
}

/// Every case of every version.
pub fn all_cases(fixtures: &Path) -> Vec<OracleCase> {
    versions(fixtures)
        .iter()
        .flat_map(|v| cases(fixtures, v))
        .collect()
}

/// Splits a command line on spaces, honouring single quotes (all the oracle uses).
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut current));
                    started = false;
                }
            }
            c => {
                current.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(current);
    }
    words
}

/// Helm's message in `stderr`: from `Error: ` to the end of that paragraph.
pub fn helm_error(stderr: &str) -> String {
    let start = stderr
        .find("Error: ")
        .map(|i| i + "Error: ".len())
        .unwrap_or(0);
    let rest = &stderr[start..];
    rest.split("\n\n")
        .next()
        .unwrap_or(rest)
        .trim_end()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell_with_single_quotes() {
        assert_eq!(
            shell_words("helm template r . --set 'chart= a : b ' --set x=''"),
            [
                "helm",
                "template",
                "r",
                ".",
                "--set",
                "chart= a : b ",
                "--set",
                "x="
            ]
        );
    }

    #[test]
    fn finds_helms_message() {
        let stderr = "level=ERROR msg=x\nError: boom\nsecond line\n\nUse --debug flag\n";
        assert_eq!(helm_error(stderr), "boom\nsecond line");
    }
}
