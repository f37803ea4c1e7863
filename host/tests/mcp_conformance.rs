//! The official MCP conformance suite (`@modelcontextprotocol/conformance`, on Node 22) against the
//! real binary: over streamable HTTP, and over stdio through `tests/e2e/clients/stdio_http_bridge.py`
//! (the suite speaks only HTTP; the bridge passes every message through unchanged, one stdio server
//! per session). Every server scenario runs; those that need the suite's own test tools, prompts and
//! resources are listed in `mcp_conformance/expected-failures-*.yaml`. The suite itself fails the run
//! on any other failure and on a listed scenario that passes, so the lists cannot go stale.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use k0rdent_test_harness::free_port;

mod support;
use support::{BIN, RawStdio, Server, in_ci, python_with_mcp, write_index};

/// The suite's launcher: `$K0RDENT_MCP_CONFORMANCE` (scripts/test installs it with Node 22).
fn conformance() -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache/npm-conformance/conformance"));
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "the MCP conformance suite is not at {}; scripts/test installs it (ensure_mcp_conformance in scripts/lib.sh)",
        path.display()
    );
    eprintln!(
        "SKIPPED: the MCP conformance suite is not at {}",
        path.display()
    );
    None
}

fn baseline(transport: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/mcp_conformance/expected-failures-{transport}.yaml"
    ))
}

/// Every server scenario against `url`; panics with the suite's report unless it passed.
fn run_suite(suite: &Path, url: &str, transport: &str, results: &Path) {
    let mut child = Command::new(suite)
        .args(["server", "--url", url, "--expected-failures"])
        .arg(baseline(transport))
        .arg("-o")
        .arg(results)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting the conformance suite");
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the conformance suite ran for 10 minutes against {url}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&stdout);
    let summary = stdout
        .find("=== SUMMARY ===")
        .map_or(stdout.as_ref(), |i| &stdout[i..]);
    println!("MCP conformance over {transport}:\n{summary}");
    assert!(
        status.success(),
        "the conformance suite failed over {transport} ({status}):\n{stdout}\n{}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(
        summary.contains("server-initialize") && summary.contains("tools-list"),
        "the suite ran no scenarios:\n{stdout}"
    );
}

#[test]
fn the_conformance_suite_passes_over_http() {
    let Some(suite) = conformance() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    // A catalog the server can read, so the resource scenarios see real resources.
    let index = write_index(work.path(), "oci://registry.invalid/charts");
    let server = Server::start(
        work.path(),
        &[],
        &[("K0RDENT_MCP_CATALOG_URL", index.display().to_string())],
    );
    run_suite(
        &suite,
        &server.url("/mcp"),
        "http",
        &work.path().join("results"),
    );
}

/// `stdio_http_bridge.py PORT -- k0rdent-mcp serve`, killed when dropped.
struct Bridge(Child);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_conformance_suite_passes_over_stdio() {
    let (Some(suite), Some(python)) = (conformance(), python_with_mcp()) else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let index = write_index(work.path(), "oci://registry.invalid/charts");
    let port = free_port();
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/clients/stdio_http_bridge.py");
    let mut bridge = Bridge(
        Command::new(python)
            .arg(script)
            .arg(port.to_string())
            .args(["--", BIN, "serve"])
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
            .env("K0RDENT_MCP_CHART_CACHE_DIR", work.path().join("charts"))
            .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.path().join("catalog"))
            .env("K0RDENT_MCP_CATALOG_URL", &index)
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the stdio bridge"),
    );
    let mut ready = String::new();
    BufReader::new(bridge.0.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "listening", "the bridge did not start");
    run_suite(
        &suite,
        &format!("http://127.0.0.1:{port}/mcp"),
        "stdio",
        &work.path().join("results"),
    );
}

/// Sends `message` and returns every line the server writes up to and including the reply to it.
fn exchange(server: &mut RawStdio, message: serde_json::Value) -> Vec<serde_json::Value> {
    server.send(message.to_string().as_bytes());
    let Some(id) = message.get("id").cloned() else {
        return Vec::new();
    };
    let mut seen = Vec::new();
    loop {
        let value = server.reply();
        let done = value.get("id") == Some(&id) && value.get("method").is_none();
        seen.push(value);
        if done {
            return seen;
        }
    }
}

/// Logging (older protocol revisions): nothing before the client sets a level; after
/// `logging/setLevel info`, one `notifications/message` per tool call, below the level nothing.
#[test]
fn logging_messages_follow_the_level_the_client_set() {
    use serde_json::json;
    let work = tempfile::tempdir().unwrap();
    let mut server = RawStdio::start(work.path(), &[]);
    let init = exchange(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "1"}}}),
    );
    assert!(
        init[0]["result"]["capabilities"]["logging"].is_object(),
        "{init:?}"
    );
    exchange(
        &mut server,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    let call = |id: u32| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "k0rdent.plugins.list", "arguments": {}}})
    };
    let logs = |lines: &[serde_json::Value]| -> Vec<serde_json::Value> {
        lines
            .iter()
            .filter(|l| l["method"] == "notifications/message")
            .cloned()
            .collect()
    };
    let quiet = exchange(&mut server, call(2));
    assert!(
        logs(&quiet).is_empty(),
        "sent before any setLevel: {quiet:?}"
    );

    let set = exchange(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 3, "method": "logging/setLevel", "params": {"level": "info"}}),
    );
    assert_eq!(set.last().unwrap()["result"], json!({}));
    let told = logs(&exchange(&mut server, call(4)));
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["params"]["level"], "info");
    assert_eq!(told[0]["params"]["logger"], "k0rdent-mcp");
    assert_eq!(told[0]["params"]["data"]["tool"], "k0rdent.plugins.list");
    assert_eq!(told[0]["params"]["data"]["outcome"], "ok");

    exchange(
        &mut server,
        json!({"jsonrpc": "2.0", "id": 5, "method": "logging/setLevel", "params": {"level": "warning"}}),
    );
    let filtered = exchange(&mut server, call(6));
    assert!(
        logs(&filtered).is_empty(),
        "info sent at level warning: {filtered:?}"
    );
}
