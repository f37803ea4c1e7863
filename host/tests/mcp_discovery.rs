//! Resources, resource templates, the `install-app` prompt and completions, found by the official MCP
//! Python SDK over stdio against the real binary (`tests/e2e/clients/mcp_discovery.py`), with a catalog
//! index file and a namespace filter. (Reading installed ServiceTemplates against a real apiserver is in
//! `mcp_cluster`.)

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

mod support;
use support::{BIN, python_with_mcp, write_index};

#[test]
fn a_client_finds_apps_prompts_and_completions_without_calling_tools() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let index = write_index(work.path(), "oci://registry.invalid/charts");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/clients/mcp_discovery.py");
    let output = Command::new(python)
        .arg(script)
        .arg(BIN)
        .arg("legacy")
        .env("K0RDENT_MCP_CATALOG_URL", &index)
        .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.path().join("catalog"))
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
        .env("K0RDENT_MCP_NAMESPACE_FILTER", "kcm-system|tenant-.*")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "client failed:\n{stderr}");
    let seen: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));

    for capability in ["resources", "prompts", "completions", "logging", "tools"] {
        assert!(
            seen["capabilities"][capability].is_object(),
            "{capability}: {seen}"
        );
    }
    let uris: Vec<&str> = seen["resources"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        ["k0rdent://catalog/minio", "k0rdent://catalog/valkey"]
    );
    let templates: Vec<&str> = seen["templates"]["resourceTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["uriTemplate"].as_str().unwrap())
        .collect();
    assert_eq!(
        templates,
        [
            "k0rdent://catalog/{app}",
            "k0rdent://servicetemplates/{namespace}/{name}"
        ]
    );

    // The app's resource is the catalog tool's view of it.
    let content = &seen["read_app"]["ok"]["contents"][0];
    assert_eq!(content["mimeType"], "application/json");
    let app: Value = serde_json::from_str(content["text"].as_str().unwrap()).unwrap();
    assert_eq!(app["charts"][0]["versions"], json!(["17.0.21", "14.1.2"]));
    assert_eq!(seen["read_missing_app"]["error"]["code"], -32002);
    assert_eq!(seen["read_bad_uri"]["error"]["code"], -32002);
    assert!(
        seen["read_bad_uri"]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("k0rdent://servicetemplates/{namespace}/{name}")
    );
    // Outside the namespace filter: refused before any cluster is asked (none is configured here).
    let filtered = seen["read_filtered_ns"]["error"]["message"]
        .as_str()
        .unwrap();
    assert!(
        filtered.contains("outside the server's namespace filter")
            && filtered.contains("kube-system"),
        "{filtered}"
    );

    assert_eq!(seen["prompts"]["prompts"][0]["name"], "install-app");
    let text = seen["prompt"]["ok"]["messages"][0]["content"]["text"]
        .as_str()
        .unwrap();
    for expected in [
        "`minio`",
        "17.0.21, 14.1.2",
        "`14.1.2`",
        "dry_run",
        "install_from_catalog",
    ] {
        assert!(text.contains(expected), "{expected} not in prompt:\n{text}");
    }
    assert_eq!(seen["prompt_no_app"]["error"]["code"], -32602);
    assert_eq!(seen["prompt_unknown_app"]["error"]["code"], -32602);

    assert_eq!(
        seen["complete_app"]["ok"]["completion"]["values"],
        json!(["minio"])
    );
    assert_eq!(
        seen["complete_version"]["ok"]["completion"]["values"],
        json!(["17.0.21", "14.1.2"])
    );
    assert_eq!(
        seen["complete_template_all"]["ok"]["completion"]["values"],
        json!(["minio", "valkey"])
    );
    assert_eq!(
        seen["complete_resource_app"]["ok"]["completion"]["values"],
        json!(["valkey"])
    );
    assert_eq!(seen["complete_unknown"]["error"]["code"], -32602);
    for oversized in ["complete_long_value", "complete_long_context"] {
        assert_eq!(
            seen[oversized]["error"]["code"], -32602,
            "{oversized}: {seen}"
        );
        let message = seen[oversized]["error"]["message"]
            .as_str()
            .unwrap_or_default();
        assert!(
            message.contains("513 bytes") || message.contains("at most 512 bytes"),
            "{oversized} names the size and the limit: {message}"
        );
    }
    // At the limit the value is still completed (nothing matches it).
    assert_eq!(
        seen["complete_edge_value"]["ok"]["completion"]["values"],
        serde_json::json!([])
    );
}
