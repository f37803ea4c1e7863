//! kgst's values layout belongs to the validator plugin: the render tool's
//! values come from the validator's `values-for-intent`, never from the host,
//! and a validator built before that export existed (`k0rdent:chart@0.2.0`)
//! still loads and validates but is refused for catalog installs, naming the
//! plugin, its contract and the fix. Real registry, real binary over stdio.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};

mod support;
use support::{BIN, McpFixture, RawStdio, kgst_dir};

const RENDER: &str = "k0rdent.mgmt.serviceTemplates.render";
const INSTALL: &str = "k0rdent.mgmt.serviceTemplates.install_from_catalog";

/// An apiserver address where nothing listens.
const UNREACHABLE_KUBECONFIG: &str = "apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
users:
- name: nobody
  user:
    token: not-a-real-token
contexts:
- name: nowhere
  context:
    cluster: nowhere
    user: nobody
current-context: nowhere
";

fn test_plugin_dir() -> PathBuf {
    PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"))
}

/// A `--plugin-dir` holding the test plugin `name` alone.
fn plugin_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = test_plugin_dir();
    let manifest = format!("{name}.plugin.json");
    let wasm = format!("{}.wasm", name.replace('-', "_"));
    std::fs::copy(from.join(&manifest), dir.path().join(&manifest)).unwrap();
    std::fs::copy(from.join(&wasm), dir.path().join(&wasm)).unwrap();
    dir
}

/// The server over stdio against the fixture's registry and catalog, with
/// `extra` flags; initialized and ready for tool calls.
fn serve(fixture: &McpFixture, extra: &[&str]) -> RawStdio {
    let index = fixture.index.display().to_string();
    let kgst = format!("{}/kgst", fixture.repository);
    let host = fixture.registry.host();
    let mut args = vec![
        "--catalog-url",
        index.as_str(),
        "--kgst-chart",
        kgst.as_str(),
        "--plain-http",
        host.as_str(),
    ];
    args.extend_from_slice(extra);
    let mut server = RawStdio::start(fixture.work.path(), &args);
    let init = json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}});
    server.ask(init.to_string().as_bytes());
    server.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    server
}

fn call(server: &mut RawStdio, tool: &str, arguments: Value) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    server.ask(call.to_string().as_bytes())["result"].clone()
}

fn render_minio(server: &mut RawStdio) -> Value {
    call(
        server,
        RENDER,
        json!({"app": "minio", "template": "minio", "version": "14.1.2"}),
    )
}

fn service_template_name(result: &Value) -> String {
    result["structuredContent"]["manifests"]
        .as_array()
        .unwrap_or_else(|| panic!("no manifests: {result}"))
        .iter()
        .find(|m| m["kind"] == "ServiceTemplate")
        .unwrap_or_else(|| panic!("no ServiceTemplate: {result}"))["name"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_render_tool_takes_kgst_values_from_the_validator_plugin() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };

    // The embedded kgst 2.x validator: the plain 2.x layout.
    let mut server = serve(&fixture, &[]);
    let plain = render_minio(&mut server);
    assert_eq!(plain["isError"], false, "{plain}");
    assert_eq!(service_template_name(&plain), "minio-14-1-2");
    let values = &plain["structuredContent"]["values"];
    assert_eq!(values["chart"], "minio:14.1.2", "{values}");
    assert_eq!(
        values["repo"]["spec"]["url"],
        fixture.repository.as_str(),
        "{values}"
    );
    assert_eq!(values["prefix"], "", "kgst's default: {values}");
    drop(server);

    // A validator whose layout adds a prefix: the rendered objects follow it.
    let probe = plugin_dir("kgst-layout-probe");
    let mut server = serve(&fixture, &["--plugin-dir", probe.path().to_str().unwrap()]);
    let probed = render_minio(&mut server);
    assert_eq!(probed["isError"], false, "{probed}");
    assert_eq!(service_template_name(&probed), "probe-minio-14-1-2");
    let result = &probed["structuredContent"];
    assert_eq!(result["values"]["prefix"], "probe-", "{result}");
    assert_eq!(result["values"]["chart"], "minio:14.1.2", "{result}");
    assert!(
        result["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().starts_with("kgst-layout-probe@")),
        "{result}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_validator_built_against_0_2_loads_but_catalog_installs_are_refused() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    let legacy = plugin_dir("legacy-kgst-validator");
    let legacy_dir = legacy.path().to_str().unwrap();
    // A cluster nobody listens at: the refusal must come before any request to it.
    let kubeconfig = fixture.work.path().join("unreachable-kubeconfig");
    std::fs::write(&kubeconfig, UNREACHABLE_KUBECONFIG).unwrap();
    let mut server = serve(
        &fixture,
        &[
            "--plugin-dir",
            legacy_dir,
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ],
    );

    let listed = call(&mut server, "k0rdent.plugins.list", json!({}));
    let entry = listed["structuredContent"]["plugins"]
        .as_array()
        .unwrap_or_else(|| panic!("no plugins: {listed}"))
        .iter()
        .find(|p| p["name"] == "legacy-kgst-validator")
        .unwrap_or_else(|| panic!("legacy-kgst-validator not loaded: {listed}"))
        .clone();
    assert_eq!(entry["contract"], "k0rdent:chart/validate@0.2.0", "{entry}");

    // It is the validator for kgst 2.x now, and it cannot build values: the
    // host refuses rather than falling back to a layout of its own.
    let install = call(
        &mut server,
        INSTALL,
        json!({"app": "minio", "template": "minio", "version": "14.1.2", "namespace": "kcm-system"}),
    );
    for refused in [render_minio(&mut server), install] {
        assert_eq!(refused["isError"], true, "{refused}");
        let text = refused["content"][0]["text"].as_str().unwrap();
        for needed in [
            "validator legacy-kgst-validator was built against k0rdent:chart@0.2.0",
            "no values-for-intent",
            "fix: rebuild legacy-kgst-validator against k0rdent:chart@0.4.0",
            "Migrating from 0.2",
        ] {
            assert!(text.contains(needed), "{needed:?} missing from: {text}");
        }
    }
    drop(server);

    // Its `validate` still runs for charts given with explicit values.
    let template = |extra: &[&str]| {
        Command::new(BIN)
            .args(["template", "minio"])
            .arg(&kgst)
            .args(["--set", "chart=minio:14.1.2", "--plugin-dir", legacy_dir])
            .args(extra)
            .env(
                "K0RDENT_MCP_PLUGIN_CACHE_DIR",
                fixture.work.path().join("plugins"),
            )
            .output()
            .unwrap()
    };
    let ok = template(&[]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("kind: ServiceTemplate"));
    let bad = template(&["--set", "prefix=forbidden-"]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("legacy-kgst-validator refuses kgst 2.0.2"),
        "{stderr}"
    );
}
