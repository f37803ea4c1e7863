//! The renderer behind `k0rdent-mcp template` (the sandboxed plugin, as the server runs it)
//! against real helm v4.1.4's recorded output for the charts of issue #16: a nested `tpl` of an
//! empty string (which exhausted the plugin's stack), `toToml`, Go number literals and the
//! default `.Capabilities.APIVersions` (which made charts emit HPAs current clusters reject).

use std::path::{Path, PathBuf};

use super::cli::{ok, run};

fn conformance_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/helm-renderer/tests/conformance")
}

/// `k0rdent-mcp template` with the case's helm arguments must print what helm printed.
fn assert_like_helm(case: &str) {
    let dir = conformance_dir();
    let cases = std::fs::read_to_string(dir.join("cases.tsv")).unwrap();
    let line = cases
        .lines()
        .find(|l| l.split('\t').next() == Some(case))
        .unwrap_or_else(|| panic!("{case} is not in cases.tsv"));
    let cols: Vec<&str> = line.split('\t').collect();
    let mut words = cols[2].split_whitespace();
    let release = words.next().unwrap();
    let chart = dir.join("charts").join(cols[1]);
    let mut args = vec![
        "template",
        release,
        chart.to_str().unwrap(),
        "--deterministic",
    ];
    args.extend(words);
    let want = std::fs::read_to_string(dir.join("expected").join(case).join("stdout")).unwrap();
    assert_eq!(
        ok(run(&args, &[])),
        want,
        "{case}: output differs from helm's"
    );
}

#[test]
fn nested_tpl_of_an_empty_string_renders_instead_of_exhausting_the_stack() {
    assert_like_helm("tpl-empty");
}

#[test]
fn to_toml_lays_out_nested_tables_like_helm() {
    assert_like_helm("toml");
}

#[test]
fn go_number_literals_parse_and_print_like_helm() {
    assert_like_helm("numbers");
}

#[test]
fn default_api_versions_are_helms_so_charts_choose_autoscaling_v2() {
    assert_like_helm("capabilities");
    assert_like_helm("capabilities-extra");
}
