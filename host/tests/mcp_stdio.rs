//! The real binary over stdio, driven by the official MCP Python SDK (a client
//! nobody here wrote), against a real OCI registry holding kgst and an app
//! chart, and a catalog index on disk. No cluster: these tools never touch one.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod support;
use support::{McpFixture, kgst_dir, python_with_mcp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_lists_renders_and_gets_clear_errors_over_stdio() {
    let (Some(python), Some(kgst)) = (python_with_mcp(), kgst_dir()) else {
        return;
    };
    let Some(McpFixture {
        registry,
        work,
        repository,
        index: index_path,
    }) = McpFixture::start(&kgst).await
    else {
        return;
    };

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/clients/mcp_session.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(env!("CARGO_BIN_EXE_k0rdent-mcp"))
        .arg("legacy")
        .env("K0RDENT_MCP_CATALOG_URL", &index_path)
        .env("K0RDENT_MCP_KGST_CHART", format!("{repository}/kgst"))
        .env("K0RDENT_MCP_PLAIN_HTTP", registry.host())
        .env("K0RDENT_MCP_NAMESPACE_FILTER", "kcm-system|tenant-.*")
        .env("K0RDENT_MCP_CHART_CACHE_DIR", work.path().join("charts"))
        .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.path().join("catalog"))
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
        .output()
        .expect("running the Python MCP client");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed:\n{stderr}");
    let seen: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));

    assert_eq!(seen["tools"], json!(support::ALL_TOOLS));
    assert_eq!(
        seen["annotations"]["k0rdent.mgmt.serviceTemplates.render"]["read_only"],
        true
    );

    let catalog = &seen["catalog"]["structured"];
    assert_eq!(seen["catalog"]["is_error"], false);
    assert_eq!(catalog["apps"].as_array().unwrap().len(), 1, "{catalog}");
    assert_eq!(
        catalog["apps"][0]["charts"][0]["versions"],
        json!(["17.0.21", "14.1.2"])
    );

    let render = &seen["render"];
    assert_eq!(render["is_error"], false, "{render}");
    let r = &render["structured"];
    assert_eq!(r["chart"], "minio:14.1.2");
    assert_eq!(r["namespace"], "tenant-a");
    assert_eq!(r["values"]["chart"], "minio:14.1.2");
    let objects: Vec<String> = r["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{}/{}/{}",
                m["namespace"].as_str().unwrap(),
                m["kind"].as_str().unwrap(),
                m["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        objects,
        [
            "tenant-a/ServiceTemplate/minio-14-1-2",
            "tenant-a/Job/verify-job-minio-14-1-2",
            &format!(
                "tenant-a/HelmRepository/{}",
                r["values"]["repo"]["name"].as_str().unwrap()
            ),
        ]
    );
    assert_eq!(r["manifests"][1]["hook"], "pre-install, pre-upgrade");
    assert!(
        r["manifests"][0]["content"]
            .as_str()
            .unwrap()
            .contains("chart: minio")
    );

    // Errors name the bad argument and the fix.
    let missing = &seen["render_missing_version"];
    assert_eq!(missing["is_error"], true);
    assert_eq!(
        missing["text"],
        "chart minio:99 is not in the catalog; available: 17.0.21, 14.1.2"
    );
    let unpublished = &seen["render_unpublished"];
    assert_eq!(unpublished["is_error"], true);
    assert_eq!(
        unpublished["text"],
        format!("chart minio:17.0.21 not found in {repository}; available: 14.1.2")
    );
    assert_eq!(
        seen["render_wrong_app"]["text"],
        "app \"mini0\" is not in the catalog; did you mean minio?"
    );
    // Malformed arguments are a protocol error, not a tool result.
    let malformed = &seen["malformed"];
    assert!(
        malformed["raised"]
            .as_str()
            .is_some_and(|e| e.contains("template") || e.contains("missing field"))
            || malformed["is_error"] == true,
        "{malformed}"
    );

    let plugins = seen["plugins"]["structured"]["plugins"].as_array().unwrap();
    let names: Vec<&str> = plugins
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "helm-renderer",
            "kgst-validator-v0",
            "kgst-validator-v1",
            "kgst-validator-v2"
        ]
    );
}
