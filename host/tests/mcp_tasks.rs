//! Long tool calls as MCP tasks (the `io.modelcontextprotocol/tasks`
//! extension, SEP-2663), spoken in raw JSON-RPC: the MCP Python SDK in
//! `$K0RDENT_MCP_PYTHON` (2.x) has no client for this extension, only types
//! for the experimental tasks of 2025-11-25, which rmcp does not serve.
//!
//! Over stateless HTTP (2026-07-28, OIDC_REQUIRED, a real kube-apiserver and
//! registry): an install into three namespaces created as a task answers at
//! once, polls show `working` with the namespace in the status message, then
//! `completed` with the result a synchronous call gives, and the cluster
//! holds the releases; another caller gets "unknown task" for it on get and
//! cancel; an install whose verify Job never finishes, cancelled with
//! `tasks/cancel`, stops promptly as a failed first install with its
//! objects removed. Over stdio (handshake era, no cluster): the capability
//! and per-tool support are advertised, read-only tools and clients without
//! the extension still get plain results, and the per-caller bound refuses
//! a task clearly until a finished one is fetched.

use std::path::Path;
use std::time::{Duration, Instant};

use k0rdent_test_harness::charts;
use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};
use serde_json::{Value, json};

mod support;
use support::{McpFixture, RawStdio, Server, kgst_dir, push};

const INSTALL: &str = "k0rdent.mgmt.serviceTemplates.install_from_catalog";
const TASKS: &str = "io.modelcontextprotocol/tasks";
/// The per-caller bound the server runs with (`task_store::LIMITS`).
const PER_CALLER: usize = 16;

/// A caller of the stateless HTTP endpoint, speaking 2026-07-28.
struct Caller<'a> {
    http: reqwest::Client,
    url: String,
    token: &'a str,
}

impl Caller<'_> {
    /// One request; `tasks` declares the extension in the request's capabilities.
    async fn request(&self, method: &str, mut params: Value, tasks: bool) -> Value {
        let capabilities = if tasks {
            json!({"extensions": {TASKS: {}}})
        } else {
            json!({})
        };
        params.as_object_mut().unwrap().insert(
            "_meta".into(),
            json!({
                "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                "io.modelcontextprotocol/clientInfo": {"name": "mcp-tasks-test", "version": "1"},
                "io.modelcontextprotocol/clientCapabilities": capabilities,
            }),
        );
        // SEP-2243: 2026-07-28 requests name their method (and tool or task) in headers too.
        let name = params
            .get("name")
            .or_else(|| params.get("taskId"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut post = self
            .http
            .post(&self.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", "2026-07-28")
            .header("mcp-method", method)
            .bearer_auth(self.token);
        if let Some(name) = name {
            post = post.header("mcp-name", name);
        }
        let response = post
            .body(
                json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string(),
            )
            .send()
            .await
            .unwrap();
        let text = response.text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method}: not JSON ({e}): {text}"))
    }

    async fn call(&self, tool: &str, arguments: Value, tasks: bool) -> Value {
        self.request(
            "tools/call",
            json!({"name": tool, "arguments": arguments}),
            tasks,
        )
        .await
    }

    async fn get(&self, id: &str) -> Value {
        self.request("tasks/get", json!({"taskId": id}), true).await
    }

    /// Polls every 50 ms until the task ends; the statuses and messages seen.
    async fn wait(&self, id: &str, limit: Duration) -> (Value, Vec<(String, String)>) {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let reply = self.get(id).await;
            let task = reply["result"].clone();
            let status = task["status"].as_str().unwrap_or_else(|| panic!("{reply}"));
            seen.push((
                status.to_string(),
                task["statusMessage"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            ));
            if status != "working" {
                return (task, seen);
            }
            assert!(
                Instant::now() < deadline,
                "still working after {limit:?}: {seen:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Caller<'_> {
    /// Polls until the task waits for its verify Job (which never finishes).
    async fn wait_for_verify_job(&self, id: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let task = self.get(id).await["result"].clone();
            assert_eq!(task["status"], "working", "{task}");
            if task["statusMessage"]
                .as_str()
                .unwrap_or_default()
                .starts_with("verify-job")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "never reached the verify Job: {task}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn task_id(created: &Value) -> String {
    let result = &created["result"];
    assert_eq!(result["resultType"], "task", "{created}");
    assert_eq!(result["status"], "working", "{created}");
    assert!(result["pollIntervalMs"].as_u64().is_some(), "{created}");
    result["taskId"].as_str().unwrap().to_string()
}

fn kubectl_json(plane: &ControlPlane, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    plane
        .kubectl_as(&plane.kubeconfig, &all)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
}

fn server_env(
    plane: &ControlPlane,
    fixture: &McpFixture,
    index: &Path,
    work: &Path,
) -> Vec<(&'static str, String)> {
    vec![
        ("K0RDENT_MCP_CATALOG_URL", index.display().to_string()),
        (
            "K0RDENT_MCP_KGST_CHART",
            format!("{}/kgst", fixture.repository),
        ),
        ("K0RDENT_MCP_KGST_VERSION", "2.0.2".into()),
        ("K0RDENT_MCP_PLAIN_HTTP", fixture.registry.host()),
        ("K0RDENT_MCP_NAMESPACE_FILTER", "team-.*".into()),
        ("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s".into()),
        ("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".into()),
        // Where the API server is; each call replaces the credentials with its token.
        (
            "K0RDENT_MCP_KUBECONFIG",
            plane.kubeconfig.display().to_string(),
        ),
        (
            "K0RDENT_MCP_CHART_CACHE_DIR",
            work.join("charts").display().to_string(),
        ),
        (
            "K0RDENT_MCP_CATALOG_CACHE_DIR",
            work.join("catalog").display().to_string(),
        ),
        (
            "K0RDENT_MCP_PLUGIN_CACHE_DIR",
            work.join("plugins").display().to_string(),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installs_run_as_tasks_for_their_caller_only_and_stop_when_cancelled() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let namespaces = ["team-a", "team-b", "team-c"];
    for ns in namespaces {
        plane.kubectl(&["create", "namespace", ns]);
    }
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    push(
        &fixture.registry,
        "charts/hang",
        "1.0.0",
        &charts::simple_chart("hang", "1.0.0"),
        "hang",
    )
    .await;
    let index = fixture.work.path().join("tasks-index.json");
    std::fs::write(
        &index,
        json!({
            "metadata": {"generated": "2026-11-26T00:00:00Z", "version": "test"},
            "addons": [
                {"name": "minio", "description": "Object storage", "supportType": "community",
                 "charts": [{"name": "minio", "versions": ["14.1.2"], "repository": fixture.repository}]},
                {"name": "hang", "description": "Its verify Job never finishes", "supportType": "community",
                 "charts": [{"name": "hang", "versions": ["1.0.0"], "repository": fixture.repository}]}
            ]
        })
        .to_string(),
    )
    .unwrap();
    let _controllers = plane.play_controllers("missing");
    let (alice_token, alice, _) = TEST_IDENTITIES[0];
    let (bob_token, bob, _) = TEST_IDENTITIES[1];
    for user in [alice, bob] {
        plane.kubectl(&[
            "create",
            "clusterrolebinding",
            &format!("{user}-admin"),
            "--clusterrole=cluster-admin",
            &format!("--user={user}"),
        ]);
    }
    let work = tempfile::tempdir().unwrap();
    let mut server = Server::start(
        work.path(),
        &[],
        &server_env(&plane, &fixture, &index, work.path()),
    );
    let http = reqwest::Client::new();
    let alice = Caller {
        http: http.clone(),
        url: server.url("/mcp"),
        token: alice_token,
    };
    let bob = Caller {
        http,
        url: server.url("/mcp"),
        token: bob_token,
    };
    let minio =
        json!({"app": "minio", "template": "minio", "version": "14.1.2", "all_namespaces": true});

    // Created at once: the answer comes before the pull.
    let asked = Instant::now();
    let created = alice.call(INSTALL, minio.clone(), true).await;
    let create_took = asked.elapsed();
    let id = task_id(&created);
    eprintln!("TASK-TIMING: tools/call answered the task handle in {create_took:?}");
    assert!(create_took < Duration::from_secs(2), "{create_took:?}");

    // Another caller: not found, on get and on cancel, with nothing of the task in the error.
    for reply in [
        bob.get(&id).await,
        bob.request("tasks/cancel", json!({"taskId": id}), true)
            .await,
    ] {
        assert_eq!(reply["error"]["code"], -32602, "{reply}");
        let text = reply["error"]["message"].as_str().unwrap();
        assert!(text.contains("unknown task"), "{text}");
        assert!(!text.contains("minio"), "{text}");
    }

    let (task, seen) = alice.wait(&id, Duration::from_secs(240)).await;
    let took = asked.elapsed();
    eprintln!("TASK-TIMING: the 3-namespace install task completed after {took:?}");
    assert_eq!(task["status"], "completed", "{task} {seen:?}");
    assert_eq!(seen[0].0, "working", "{seen:?}");
    assert!(
        seen.iter()
            .any(|(_, message)| message.contains("namespace team-") && message.contains("/3)")),
        "no status message named the namespace i/N: {seen:?}"
    );
    let result = &task["result"];
    assert_eq!(result["isError"], false, "{result}");
    let structured = &result["structuredContent"];
    assert_eq!(structured["status"], "created", "{structured}");
    let listed: Vec<&str> = structured["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(listed, namespaces);
    for ns in namespaces {
        let record = kubectl_json(&plane, &["secret", "sh.helm.release.v1.minio.v1", "-n", ns])
            .unwrap_or_else(|| panic!("no release record in {ns}"));
        assert_eq!(record["metadata"]["labels"]["status"], "deployed", "{ns}");
    }
    // The result stays for its owner (fetching again works), never for bob.
    assert_eq!(alice.get(&id).await["result"]["status"], "completed");
    assert_eq!(bob.get(&id).await["error"]["code"], -32602);

    // The same call without the extension: a plain result of the same shape.
    let sync = alice.call(INSTALL, minio, false).await;
    let sync = &sync["result"];
    assert!(sync.get("taskId").is_none(), "{sync}");
    assert_eq!(sync["isError"], false, "{sync}");
    let again = &sync["structuredContent"];
    assert_eq!(again["status"], "unchanged", "{again}");
    for key in ["chart", "dry_run"] {
        assert_eq!(again[key], structured[key], "{key}");
    }
    // Each namespace: the same release at the same revision, which the task made.
    let per_namespace = |result: &Value| -> Vec<Value> {
        result["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                json!([
                    n["namespace"],
                    n["release"],
                    n["revision"],
                    n["release_status"]
                ])
            })
            .collect()
    };
    assert_eq!(per_namespace(again), per_namespace(structured));
    assert_eq!(structured["namespaces"][0]["revision"], 1);
    // The same kgst (the second call finds it in the cache).
    for key in ["reference", "digest"] {
        assert_eq!(again["kgst"][key], structured["kgst"][key], "kgst {key}");
    }

    // Cancelled while it waits for a verify Job that never finishes.
    let created = alice
        .call(
            INSTALL,
            json!({"app": "hang", "template": "hang", "version": "1.0.0", "namespace": "team-a"}),
            true,
        )
        .await;
    let id = task_id(&created);
    alice.wait_for_verify_job(&id).await;
    // Bob cannot cancel it either.
    assert_eq!(
        bob.request("tasks/cancel", json!({"taskId": id}), true)
            .await["error"]["code"],
        -32602
    );
    let cancelled_at = Instant::now();
    let ack = alice
        .request("tasks/cancel", json!({"taskId": id}), true)
        .await;
    assert!(ack.get("error").is_none(), "{ack}");
    let (task, _) = alice.wait(&id, Duration::from_secs(30)).await;
    let stop = cancelled_at.elapsed();
    eprintln!("TASK-TIMING: the cancelled install task ended {stop:?} after tasks/cancel");
    assert_eq!(task["status"], "cancelled", "{task}");
    let message = task["statusMessage"].as_str().unwrap();
    assert!(message.contains("cancelled by the caller"), "{message}");
    // The goal of issue #15: stopped within a second of the cancel.
    assert!(stop < Duration::from_secs(1), "{stop:?}");
    // As docs/release-engine.md says: a first install cancelled after its first
    // write is recorded failed and its objects removed.
    let record = kubectl_json(
        &plane,
        &["secret", "sh.helm.release.v1.hang.v1", "-n", "team-a"],
    )
    .expect("the failed revision is recorded");
    assert_eq!(record["metadata"]["labels"]["status"], "failed");
    assert!(
        kubectl_json(&plane, &["servicetemplate", "hang-1-0-0", "-n", "team-a"]).is_none(),
        "the ServiceTemplate of the cancelled install exists"
    );

    // A server stopped while a task waits cancels it and lets it finish
    // cleanly: the release is not left pending-install.
    let created = alice
        .call(
            INSTALL,
            json!({"app": "hang", "template": "hang", "version": "1.0.0", "namespace": "team-b"}),
            true,
        )
        .await;
    alice.wait_for_verify_job(&task_id(&created)).await;
    let stopping = Instant::now();
    server.terminate();
    eprintln!(
        "TASK-TIMING: the server stopped {:?} after SIGTERM with a task waiting",
        stopping.elapsed()
    );
    let record = kubectl_json(
        &plane,
        &["secret", "sh.helm.release.v1.hang.v1", "-n", "team-b"],
    )
    .expect("the revision is recorded");
    let labels = &record["metadata"]["labels"];
    assert_eq!(labels["status"], "failed", "{labels}");
}

fn initialize(capabilities: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": capabilities,
        "clientInfo": {"name": "mcp-tasks-test", "version": "1"}}})
    .to_string()
    .into_bytes()
}

fn line(id: u64, method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

/// Sends a request and waits for the reply with its id.
fn ask(stdio: &mut RawStdio, id: u64, method: &str, params: Value) -> Value {
    stdio.send(&line(id, method, params));
    loop {
        let reply = stdio.reply();
        if reply["id"] == id {
            return reply;
        }
    }
}

/// An install that fails at once: the offline server has no kubeconfig.
fn quick_install() -> Value {
    json!({"name": INSTALL, "arguments":
        {"app": "minio", "template": "minio", "version": "14.1.2", "namespace": "default"}})
}

fn wait_ended(stdio: &mut RawStdio, next_id: &mut u64, task: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        *next_id += 1;
        let reply = ask(stdio, *next_id, "tasks/get", json!({"taskId": task}));
        if reply["result"]["status"] != "working" {
            return reply["result"].clone();
        }
        assert!(Instant::now() < deadline, "{reply}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn stdio_advertises_tasks_and_bounds_them_per_caller() {
    let work = tempfile::tempdir().unwrap();
    let mut stdio = RawStdio::start(work.path(), &["--namespace-filter", "default"]);
    let init = stdio.ask(&initialize(json!({"extensions": {TASKS: {}}})));
    assert_eq!(
        init["result"]["capabilities"]["extensions"][TASKS],
        json!({}),
        "{init}"
    );
    stdio.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    let tools = ask(&mut stdio, 1, "tools/list", json!({}));
    for tool in tools["result"]["tools"].as_array().unwrap() {
        let support = &tool["_meta"]["k0rdent.io/taskSupport"];
        let read_only = tool["annotations"]["readOnlyHint"] == true;
        assert_eq!(
            support,
            if read_only { "forbidden" } else { "optional" },
            "{tool}"
        );
    }

    // A read-only tool answers in the request even for a tasks client.
    let plugins = ask(
        &mut stdio,
        2,
        "tools/call",
        json!({"name": "k0rdent.plugins.list", "arguments": {}}),
    );
    assert!(
        plugins["result"]["structuredContent"]["plugins"].is_array(),
        "{plugins}"
    );

    // Up to the bound, each install is a task; none is fetched.
    let mut next_id = 10;
    let mut ids = Vec::new();
    for _ in 0..PER_CALLER {
        next_id += 1;
        ids.push(task_id(&ask(
            &mut stdio,
            next_id,
            "tools/call",
            quick_install(),
        )));
    }
    // Running or finished, none fetched: all still held.
    next_id += 1;
    let refused = ask(&mut stdio, next_id, "tools/call", quick_install());
    assert_eq!(refused["result"]["isError"], true, "{refused}");
    let text = refused["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("too many tasks")
            && text.contains(&PER_CALLER.to_string())
            && text.contains("fix:"),
        "{text}"
    );

    // Fetching a finished result frees its place.
    let first = wait_ended(&mut stdio, &mut next_id, &ids[0]);
    assert_eq!(first["status"], "completed", "{first}");
    assert_eq!(first["result"]["isError"], true, "{first}");
    next_id += 1;
    task_id(&ask(&mut stdio, next_id, "tools/call", quick_install()));

    next_id += 1;
    let unknown = ask(&mut stdio, next_id, "tasks/get", json!({"taskId": "nope"}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
}

#[test]
fn a_client_without_the_extension_gets_plain_results() {
    let work = tempfile::tempdir().unwrap();
    let mut stdio = RawStdio::start(work.path(), &["--namespace-filter", "default"]);
    stdio.ask(&initialize(json!({})));
    stdio.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    let reply = ask(&mut stdio, 1, "tools/call", quick_install());
    let result = &reply["result"];
    assert!(result.get("taskId").is_none(), "{reply}");
    assert_eq!(result["isError"], true, "{reply}");
    assert!(result["content"][0]["text"].is_string(), "{reply}");
}

#[test]
fn a_read_only_server_offers_no_tasks() {
    let work = tempfile::tempdir().unwrap();
    let mut stdio = RawStdio::start(work.path(), &["--read-only"]);
    let init = stdio.ask(&initialize(json!({"extensions": {TASKS: {}}})));
    let capabilities = &init["result"]["capabilities"];
    assert!(capabilities["tools"].is_object(), "{init}");
    assert!(capabilities["extensions"][TASKS].is_null(), "{init}");
}
