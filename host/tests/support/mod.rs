//! Shared by the MCP suites: the real clients (Python SDK, Inspector CLI),
//! the kgst fixture, and a registry plus catalog index holding kgst and minio.

// Each suite uses a different subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use k0rdent_test_harness::charts;
use k0rdent_test_harness::registry::Registry;
use oci_client::secrets::RegistryAuth;
use serde_json::json;

pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Python with the `mcp` package: `$K0RDENT_MCP_PYTHON` (scripts/test makes a venv).
pub fn python_with_mcp() -> Option<PathBuf> {
    let python = std::env::var_os("K0RDENT_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache/venv-mcp/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import mcp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !in_ci(),
        "{} has no `mcp` package; scripts/test installs it",
        python.display()
    );
    eprintln!(
        "SKIPPED: no Python with the mcp SDK at {} (run scripts/test)",
        python.display()
    );
    None
}

/// The MCP Inspector CLI: `$K0RDENT_MCP_INSPECTOR` (scripts/test installs 0.15.0).
pub fn inspector() -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_INSPECTOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                "/var/tmp/k0rdent-mcp-cache/npm-inspector/node_modules/.bin/mcp-inspector",
            )
        });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "the MCP Inspector CLI is not at {}; scripts/test installs it (ensure_mcp_inspector in scripts/lib.sh)",
        path.display()
    );
    eprintln!(
        "SKIPPED: the MCP Inspector CLI is not at {} (run scripts/test)",
        path.display()
    );
    None
}

pub fn kgst_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/kgst/charts/2.0.2");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "{} is missing, and CI=true requires it",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found", dir.display());
    None
}

pub async fn push(registry: &Registry, repo: &str, version: &str, tgz: &[u8], name: &str) {
    let config = format!(r#"{{"apiVersion":"v2","name":"{name}","version":"{version}"}}"#);
    charts::push_chart(
        &registry.host(),
        repo,
        version,
        tgz,
        &config,
        &RegistryAuth::Anonymous,
        true,
    )
    .await
    .expect("push");
}

pub fn write_index(work: &Path, repository: &str) -> PathBuf {
    let index = json!({
        "metadata": {"generated": "2026-11-26T00:00:00Z", "version": "test"},
        "addons": [
            {"name": "minio", "description": "Object storage", "supportType": "community",
             "charts": [{"name": "minio", "versions": ["17.0.21", "14.1.2"], "repository": repository}],
             "metadata": {"tags": ["Storage"]}},
            {"name": "valkey", "description": "Key-value store", "supportType": "community",
             "charts": [{"name": "valkey", "versions": ["0.1.0"], "repository": repository}]}
        ]
    });
    let path = work.join("index.json");
    std::fs::write(&path, index.to_string()).unwrap();
    path
}

/// A plain registry with kgst 2.0.2 (from ../shared) and minio 14.1.2 under
/// `charts/`, and a catalog index listing minio 17.0.21 and 14.1.2 there.
pub struct McpFixture {
    pub registry: Registry,
    pub work: tempfile::TempDir,
    /// `oci://<registry>/charts`
    pub repository: String,
    pub index: PathBuf,
}

impl McpFixture {
    pub async fn start(kgst: &Path) -> Option<Self> {
        let registry = Registry::plain()?;
        push(
            &registry,
            "charts/kgst",
            "2.0.2",
            &charts::tgz_from_dir(kgst, "kgst"),
            "kgst",
        )
        .await;
        push(
            &registry,
            "charts/minio",
            "14.1.2",
            &charts::simple_chart("minio", "14.1.2"),
            "minio",
        )
        .await;
        let work = tempfile::tempdir().unwrap();
        let repository = format!("oci://{}/charts", registry.host());
        let index = write_index(work.path(), &repository);
        Some(McpFixture {
            registry,
            work,
            repository,
            index,
        })
    }
}
