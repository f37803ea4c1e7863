//! The renderer behind `k0rdent-mcp template` (the sandboxed plugin, as the server runs it)
//! against real helm v4.1.4's recorded output for the charts of issue #16: a nested `tpl` of an
//! empty string (which exhausted the plugin's stack), `toToml`, Go number literals and the
//! default `.Capabilities.APIVersions` (which made charts emit HPAs current clusters reject), and
//! chart folders loaded as helm loads them (`.helmignore`, byte-order marks).

use std::path::{Path, PathBuf};

use super::cli::{ok, run, stderr};

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

/// openstack-manila-csi's `]` closing a flow at the key's column, flows and quoted scalars
/// continued at column 0 (yaml-rust2 refused them; go-yaml does not check indentation there),
/// and go-yaml's words for 32 texts it refuses, through `fromYaml`.
#[test]
fn flows_and_quoted_scalars_indent_freely_as_in_go_yaml() {
    assert_like_helm("yaml-flow-indent");
}

/// The folder's `.helmignore` and Helm's default rule leave files out (a README under
/// templates/ was rendered as a manifest before), and byte-order marks are dropped.
#[test]
fn chart_folders_load_like_helm_with_helmignore() {
    assert_like_helm("helmignore");
    assert_like_helm("files");
}

/// Copies a chart folder (regular files only) so a test may change it.
fn copy_chart(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_chart(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Rules helm refuses are refused naming the file, line and rule; an ignored link is left
/// out unread, a link that is not ignored is still refused.
#[test]
fn helmignore_errors_name_the_rule_and_ignored_links_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let chart = dir.path().join("helmignore");
    copy_chart(&conformance_dir().join("charts/helmignore"), &chart);
    let template = |chart: &Path| run(&["template", "rel", chart.to_str().unwrap()], &[]);

    std::fs::write(chart.join(".helmignore"), "tests/\n**/secret\n").unwrap();
    let out = template(&chart);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains(".helmignore")
            && err.contains("line 2")
            && err.contains("double-star (**) syntax is not supported"),
        "{err}"
    );
    std::fs::write(chart.join(".helmignore"), "tests/\n[z-a\n").unwrap();
    let err = stderr(&template(&chart));
    assert!(
        err.contains("line 2") && err.contains("syntax error in pattern"),
        "{err}"
    );

    std::fs::write(chart.join(".helmignore"), "outside-link\n").unwrap();
    std::os::unix::fs::symlink("/etc/passwd", chart.join("outside-link")).unwrap();
    let out = ok(template(&chart));
    assert!(
        !out.contains("outside-link") && !out.contains("root:"),
        "{out}"
    );
    std::fs::write(chart.join(".helmignore"), "# links are not ignored now\n").unwrap();
    let out = template(&chart);
    let err = stderr(&out);
    assert!(!out.status.success());
    assert!(
        err.contains("outside-link") && err.contains("link"),
        "{err}"
    );
}
