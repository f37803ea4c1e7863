//! The real binary with `serve --http`, driven by clients nobody here wrote:
//! the official MCP Python SDK and the MCP Inspector CLI over streamable HTTP,
//! a plain HTTP client for /healthz, /readyz and /metrics, and reqwest over
//! TLS with a throwaway CA. Also the golden file of `tools/list`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use k0rdent_test_harness::free_port;
use k0rdent_test_harness::tls::TestCa;
use serde_json::{Value, json};

mod support;
use support::{BIN, McpFixture, Server, inspector, kgst_dir, python_with_mcp, write_index};

/// `name{labels} value` lines of the /metrics text, for one metric name.
fn sample(metrics: &str, name_and_labels: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no `{name_and_labels}` in /metrics:\n{metrics}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_and_inspector_over_http_show_up_in_metrics() {
    let (Some(python), Some(kgst)) = (python_with_mcp(), kgst_dir()) else {
        return;
    };
    let Some(McpFixture {
        registry,
        work,
        repository,
        index,
    }) = McpFixture::start(&kgst).await
    else {
        return;
    };
    let server = Server::start(
        work.path(),
        &[],
        &[
            ("K0RDENT_MCP_CATALOG_URL", index.display().to_string()),
            ("K0RDENT_MCP_KGST_CHART", format!("{repository}/kgst")),
            ("K0RDENT_MCP_PLAIN_HTTP", registry.host()),
            (
                "K0RDENT_MCP_NAMESPACE_FILTER",
                "kcm-system|tenant-.*".into(),
            ),
        ],
    );
    let http = reqwest::Client::new();

    // Before any call: alive, ready (the catalog file is readable), no tool calls counted.
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");
    assert_eq!(ready["plugins"], 4, "{ready}");

    // (a) The Python SDK, modern protocol (server/discover, stateless HTTP).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/clients/mcp_session.py");
    let output = Command::new(&python)
        .arg(&script)
        .arg(server.url("/mcp"))
        .arg("auto")
        .output()
        .expect("running the Python MCP client");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed:\n{stderr}\nserver log:\n{}",
        server.log_text()
    );
    let seen: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert_eq!(seen["protocol"], "2026-07-28");
    assert_eq!(seen["tools"], json!(support::ALL_TOOLS));
    assert_eq!(seen["catalog"]["is_error"], false);
    let render = &seen["render"];
    assert_eq!(render["is_error"], false, "{render}");
    assert_eq!(render["structured"]["chart"], "minio:14.1.2");
    assert_eq!(
        render["structured"]["manifests"][0]["kind"],
        "ServiceTemplate"
    );
    assert_eq!(
        seen["render_missing_version"]["text"],
        "chart minio:99 is not in the catalog; available: 17.0.21, 14.1.2"
    );
    assert_eq!(
        seen["render_wrong_app"]["text"],
        "app \"mini0\" is not in the catalog; did you mean minio?"
    );
    assert_eq!(
        seen["plugins"]["structured"]["plugins"]
            .as_array()
            .unwrap()
            .len(),
        4
    );

    // (b) The MCP Inspector CLI (its own SDK, protocol 2025-11-25) over the same endpoint.
    let mut inspector_calls = 0;
    if let Some(inspector) = inspector() {
        let run = |args: &[&str]| -> Value {
            let out = Command::new(&inspector)
                .arg("--cli")
                .arg(server.url("/mcp"))
                .args(args)
                .output()
                .expect("running the MCP Inspector CLI");
            assert!(
                out.status.success(),
                "inspector {args:?} failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
                panic!(
                    "inspector printed no JSON ({e}):\n{}",
                    String::from_utf8_lossy(&out.stdout)
                )
            })
        };
        let tools = run(&["--method", "tools/list"]);
        let mut names: Vec<&str> = tools["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, support::ALL_TOOLS);
        let listed = run(&[
            "--method",
            "tools/call",
            "--tool-name",
            "k0rdent.catalog.serviceTemplates.list",
            "--tool-arg",
            "app=valk",
        ]);
        assert_eq!(listed["isError"], false, "{listed}");
        assert_eq!(listed["structuredContent"]["apps"][0]["name"], "valkey");
        inspector_calls = 1;
    }

    // (c) /metrics counts exactly the calls the clients made.
    let metrics = http.get(server.url("/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text")
    );
    let metrics = metrics.text().await.unwrap();
    let calls = |tool: &str, outcome: &str| {
        let key = format!("k0rdent_mcp_tool_calls_total{{tool=\"{tool}\",outcome=\"{outcome}\"}}");
        if metrics.contains(&key) {
            sample(&metrics, &key)
        } else {
            0.0
        }
    };
    let catalog = "k0rdent.catalog.serviceTemplates.list";
    let render = "k0rdent.mgmt.serviceTemplates.render";
    assert_eq!(
        calls(catalog, "ok"),
        1.0 + inspector_calls as f64,
        "{metrics}"
    );
    assert_eq!(calls("k0rdent.plugins.list", "ok"), 1.0, "{metrics}");
    assert_eq!(calls(render, "ok"), 1.0, "{metrics}");
    // Missing version, unpublished version, wrong app, and malformed arguments
    // (a tool error or a protocol error, depending on where rmcp rejects them).
    assert_eq!(
        calls(render, "tool_error") + calls(render, "protocol_error"),
        4.0,
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("k0rdent_mcp_tool_call_duration_seconds_count{{tool=\"{render}\"}}")
        ),
        5.0
    );
    let started = sample(&metrics, "process_start_time_seconds");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(
        started > now - 600.0 && started <= now,
        "{started} vs {now}"
    );
}

/// Not ready while the catalog index can be read from nowhere; a clear reason;
/// SIGTERM ends the process with success.
#[tokio::test]
async fn readyz_says_why_it_is_not_ready_and_sigterm_stops_cleanly() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("no-such-index.json");
    let mut server = Server::start(
        work.path(),
        &[],
        &[("K0RDENT_MCP_CATALOG_URL", missing.display().to_string())],
    );
    let http = reqwest::Client::new();
    assert_eq!(
        http.get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let ready: Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(ready["status"], "not ready");
    let reason = ready["reason"].as_str().unwrap();
    assert!(
        reason.contains(&missing.display().to_string()),
        "the reason names the index: {reason}"
    );

    // A request body over the 4 MiB bound is refused on its Content-Length,
    // before the server reads (or buffers) any of it. Raw TCP, because an HTTP
    // client would race the early answer with writing the body.
    let mut tcp = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        tcp,
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n",
        5 * 1024 * 1024
    )
    .unwrap();
    let mut status_line = String::new();
    BufReader::new(&tcp).read_line(&mut status_line).unwrap();
    assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");

    let status = server.terminate();
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
    assert!(server.log_text().contains("shutting down on signal"));
}

/// (d) HTTPS with a throwaway CA: trusted through that CA only.
#[tokio::test]
async fn https_with_a_throwaway_ca() {
    let work = tempfile::tempdir().unwrap();
    let ca = TestCa::create(work.path());
    let index = write_index(work.path(), "oci://127.0.0.1:1/charts");
    let server = Server::start(
        work.path(),
        &[
            "--tls-cert",
            ca.server_cert.to_str().unwrap(),
            "--tls-key",
            ca.server_key.to_str().unwrap(),
        ],
        &[("K0RDENT_MCP_CATALOG_URL", index.display().to_string())],
    );
    let ca_pem = std::fs::read(&ca.ca_cert).unwrap();
    let https = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca_pem).unwrap()])
        .build()
        .unwrap();
    for host in ["127.0.0.1", "localhost"] {
        let url = format!("https://{host}:{}/healthz", server.port);
        let response = https
            .get(&url)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{url}: {e:?}"));
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    // MCP itself over TLS: a legacy initialize answered with JSON (stateless mode).
    let init = https
        .post(format!("https://127.0.0.1:{}/mcp", server.port))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-11-25", "capabilities": {},
                "clientInfo": {"name": "mcp_http.rs", "version": "0"}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(init.status(), 200);
    let init: Value = serde_json::from_str(&init.text().await.unwrap()).unwrap();
    assert_eq!(
        init["result"]["serverInfo"]["name"], "k0rdent-mcp",
        "{init}"
    );

    // Plain HTTP to the TLS port gets no MCP answer.
    let plain = reqwest::Client::new()
        .get(server.url("/healthz"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

#[test]
fn bad_http_flags_name_the_input_and_the_fix() {
    let out = Command::new(BIN)
        .args(["serve", "--http", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--http 127.0.0.1: not a listen address") && stderr.contains("HOST:PORT"),
        "{stderr}"
    );

    let out = Command::new(BIN)
        .args(["serve", "--tls-cert", "a.pem", "--tls-key", "k.pem"])
        .env_remove("K0RDENT_MCP_HTTP")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("need --http ADDR"), "{stderr}");

    let work = tempfile::tempdir().unwrap();
    let port = free_port().to_string();
    let out = Command::new(BIN)
        .args(["serve", "--http", &port, "--tls-cert"])
        .arg(work.path().join("missing.pem"))
        .arg("--tls-key")
        .arg(work.path().join("missing.key"))
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("missing.pem") && stderr.contains("PEM certificate chain"),
        "{stderr}"
    );
}

// ---- The golden file of tools/list ----

const GOLDEN: &str = "tests/golden/tools_list.json";

/// `tools/list` from the real binary over stdio (raw JSON-RPC, so the golden
/// is exactly what goes on the wire), tools sorted by name.
fn tools_list_from_server() -> Value {
    let work = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .arg("serve")
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
        .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.path().join("catalog"))
        .env_remove("K0RDENT_MCP_HTTP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |message: Value| {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
    };
    send(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "golden", "version": "0"}}}),
    );
    let mut wait_for = |id: u64| -> Value {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "server closed stdout"
            );
            let message: Value = serde_json::from_str(&line).unwrap();
            if message["id"] == id {
                return message;
            }
        }
    };
    wait_for(1);
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}));
    let listed = wait_for(2);
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    let mut tools = listed["result"]["tools"].as_array().unwrap().clone();
    tools.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    json!({"tools": tools})
}

/// Any change to a tool's name, description, schemas or annotations is an
/// API change for every MCP client: it must show up in review as a diff of
/// tests/golden/tools_list.json.
#[test]
fn tools_list_matches_the_golden_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    let actual = serde_json::to_string_pretty(&tools_list_from_server()).unwrap() + "\n";
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        eprintln!("updated {}", path.display());
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        let first_diff = expected
            .lines()
            .zip(actual.lines())
            .position(|(e, a)| e != a)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "tools/list differs from host/{GOLDEN} (first at line {}):\n  golden: {}\n  server: {}\n\
             If the change is intended, regenerate the file and commit it with the change:\n  \
             UPDATE_GOLDEN=1 cargo test -p k0rdent-mcp --test mcp_http tools_list_matches_the_golden_file",
            first_diff + 1,
            expected.lines().nth(first_diff).unwrap_or("<end of file>"),
            actual.lines().nth(first_diff).unwrap_or("<end of output>"),
        );
    }
}
