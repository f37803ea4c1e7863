//! Plugins built against the previous contract (`k0rdent:chart@0.1`) keep
//! working: third-party validators must not break when the host moves on.

use super::{cli, copy_plugin, test_plugin_dir};

fn legacy_plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_plugin(
        &test_plugin_dir(),
        dir.path(),
        "legacy-renderer",
        "legacy_renderer.wasm",
    );
    copy_plugin(
        &test_plugin_dir(),
        dir.path(),
        "legacy-validator",
        "legacy_validator.wasm",
    );
    dir
}

#[test]
fn plugins_built_against_0_1_load_list_their_contract_and_run() {
    let plugins = legacy_plugin_dir();
    let plugin_dir = plugins.path().to_str().unwrap();
    let listed: serde_json::Value = serde_json::from_str(&cli::ok(cli::run(
        &["plugins", "list", "--plugin-dir", plugin_dir],
        &[],
    )))
    .unwrap();
    let contract_of = |name: &str| {
        listed["plugins"]
            .as_array()
            .expect("a plugin list")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} not listed: {listed}"))["contract"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(contract_of("legacy-renderer"), "k0rdent:chart/render@0.1.0");
    assert_eq!(
        contract_of("legacy-validator"),
        "k0rdent:chart/validate@0.1.0"
    );
    assert_eq!(contract_of("helm-renderer"), "k0rdent:chart/render@0.4.0");

    let charts = tempfile::tempdir().unwrap();
    let chart = cli::chart(charts.path(), "legacy", "1.2.0", "unused: {{ .Values }}\n");
    let chart = chart.to_str().unwrap();
    let rendered = cli::ok(cli::run(
        &["template", "old", chart, "--plugin-dir", plugin_dir],
        &[],
    ));
    assert!(
        rendered.contains("name: old") && rendered.contains("renderer: legacy-renderer"),
        "{rendered}"
    );

    let refused = cli::run(
        &[
            "template",
            "old",
            chart,
            "--plugin-dir",
            plugin_dir,
            "--set",
            "word=forbidden",
        ],
        &[],
    );
    assert!(!refused.status.success());
    let stderr = cli::stderr(&refused);
    assert!(
        stderr.contains("legacy-validator refuses legacy 1.2.0"),
        "{stderr}"
    );
}

/// 0.4 added the renderer's `keys` import; a 0.3 renderer, which imports
/// nothing of the kind, still loads and gets its entropy.
#[test]
fn a_renderer_built_against_0_3_loads_and_renders_with_its_entropy() {
    let plugins = tempfile::tempdir().unwrap();
    copy_plugin(
        &test_plugin_dir(),
        plugins.path(),
        "legacy-renderer-v0-3",
        "legacy_renderer_v0_3.wasm",
    );
    let plugin_dir = plugins.path().to_str().unwrap();
    let listed = cli::ok(cli::run(
        &["plugins", "list", "--plugin-dir", plugin_dir],
        &[],
    ));
    assert!(
        listed.contains("k0rdent:chart/render@0.3.0"),
        "the 0.3 renderer is not listed with its contract: {listed}"
    );
    let charts = tempfile::tempdir().unwrap();
    let chart = cli::chart(charts.path(), "legacy3", "1.0.0", "unused: {{ .Values }}\n");
    let rendered = cli::ok(cli::run(
        &[
            "template",
            "three",
            chart.to_str().unwrap(),
            "--plugin-dir",
            plugin_dir,
        ],
        &[],
    ));
    assert!(
        rendered.contains("renderer: legacy-renderer-v0-3") && rendered.contains("entropy: \"32\""),
        "{rendered}"
    );
}
