//! Protocol attacks on the real binary: malformed JSON, values that are not
//! messages, JSON-RPC batches, oversize messages, made-up cursors and
//! requests before `initialize`, sent raw over stdio and HTTP (no SDK would
//! send them); `--read-only`; and confirmations of destructive tools driven
//! by the official MCP Python SDK as a user who accepts, declines, cancels,
//! or has no elicitation at all.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{Value, json};

mod support;
use support::{ALL_TOOLS, BIN, RawStdio, Server, offline_env, python_with_mcp};

const UNINSTALL: &str = "k0rdent.mgmt.serviceTemplates.uninstall";
const ROLLBACK: &str = "k0rdent.mgmt.releases.rollback";
const READ_TOOLS: [&str; 7] = [
    "k0rdent.catalog.serviceTemplates.list",
    "k0rdent.mgmt.namespaces.list",
    "k0rdent.mgmt.releases.diff",
    "k0rdent.mgmt.releases.history",
    "k0rdent.mgmt.serviceTemplates.list",
    "k0rdent.mgmt.serviceTemplates.render",
    "k0rdent.plugins.list",
];

fn error_of(reply: &Value) -> (i64, String) {
    (
        reply["error"]["code"]
            .as_i64()
            .unwrap_or_else(|| panic!("not an error: {reply}")),
        reply["error"]["message"].as_str().unwrap().to_string(),
    )
}

fn initialize(version: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"}}})
    .to_string()
    .into_bytes()
}

#[test]
fn stdio_answers_every_malformed_message_with_a_jsonrpc_error() {
    let work = tempfile::tempdir().unwrap();
    let mut server = RawStdio::start(work.path(), &[]);

    // Before initialize: a clear error, and the server lives on.
    let reply = server.ask(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#);
    let (code, message) = error_of(&reply);
    assert_eq!((code, &reply["id"]), (-32600, &json!(1)), "{reply}");
    assert!(message.contains("before initialize"), "{message}");
    // A notification before initialize used to end the server.
    server.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    for (line, code, says) in [
        (&b"{oops"[..], -32700, "not valid JSON"),
        (b"42", -32600, "not a number"),
        (b"\"x\"", -32600, "not a string"),
        (
            br#"{"id":2,"method":"ping"}"#,
            -32600,
            "\"jsonrpc\" must be \"2.0\"",
        ),
        (b"[]", -32600, "batches are not supported"),
    ] {
        let reply = server.ask(line);
        let (got, message) = error_of(&reply);
        assert_eq!(got, code, "{reply}");
        assert!(
            message.contains(says) && message.contains("fix:"),
            "{reply}"
        );
    }
    // The missing "jsonrpc" did not hide the id.
    let reply = server.ask(br#"{"id":3,"method":"ping"}"#);
    assert_eq!(reply["id"], 3, "{reply}");

    // A batch: every request in it gets its own error.
    let reply = server.ask(
        br#"[{"jsonrpc":"2.0","id":4,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":5,"method":"ping"}]"#,
    );
    let ids: Vec<&Value> = reply
        .as_array()
        .unwrap_or_else(|| panic!("{reply}"))
        .iter()
        .map(|e| &e["id"])
        .collect();
    assert_eq!(ids, [&json!(4), &json!(5)]);

    // A line past the limit is not buffered, and is answered.
    let mut huge =
        b"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"ping\",\"params\":{\"x\":\"".to_vec();
    huge.resize(5 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"}}");
    let reply = server.ask(&huge);
    let (code, message) = error_of(&reply);
    assert_eq!(code, -32600);
    assert!(message.contains("longer than"), "{message}");

    // 2025-03-26, the revision with batches, is not offered.
    let reply = server.ask(&initialize("2025-03-26"));
    let version = reply["result"]["protocolVersion"].as_str().unwrap();
    assert_ne!(version, "2025-03-26", "{reply}");
    server.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);

    let reply = server.ask(
        br#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"bm90IG91cnM="}}"#,
    );
    let (code, message) = error_of(&reply);
    assert_eq!((code, &reply["id"]), (-32602, &json!(7)), "{reply}");
    assert!(
        message.contains("invalid cursor \"bm90IG91cnM=\""),
        "{message}"
    );

    // Good messages still pass after all that.
    let reply = server.ask(br#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#);
    assert_eq!(
        reply["result"]["tools"].as_array().unwrap().len(),
        ALL_TOOLS.len(),
        "{reply}"
    );
}

async fn post(http: &reqwest::Client, url: &str, body: impl Into<reqwest::Body>) -> (u16, Value) {
    post_as(http, url, "2025-11-25", body).await
}

/// POSTs `body` with `MCP-Protocol-Version: version`.
async fn post_as(
    http: &reqwest::Client,
    url: &str,
    version: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    {
        let response = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", version)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{status} with a body that is not JSON ({e}): {text}"));
        (status, value)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_answers_malformed_bodies_with_400_and_a_jsonrpc_error() {
    let work = tempfile::tempdir().unwrap();
    let server = Server::start(work.path(), &[], &offline_env(work.path()));
    let url = server.url("/mcp");
    let http = reqwest::Client::new();

    for (body, code, says) in [
        ("", -32700, "empty"),
        ("{oops", -32700, "not valid JSON"),
        ("42", -32600, "not a number"),
        ("\"x\"", -32600, "not a string"),
        (
            r#"{"id":1,"method":"tools/list"}"#,
            -32600,
            "\"jsonrpc\" must be \"2.0\"",
        ),
        ("[]", -32600, "batches are not supported"),
    ] {
        let (status, reply) = post(&http, &url, body).await;
        assert_eq!(status, 400, "{body}: {reply}");
        let (got, message) = error_of(&reply);
        assert_eq!(got, code, "{body}: {reply}");
        assert!(message.contains(says), "{body}: {message}");
    }
    let (status, reply) = post(
        &http,
        &url,
        r#"[{"jsonrpc":"2.0","id":4,"method":"ping"},{"jsonrpc":"2.0","id":5,"method":"ping"}]"#,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(reply.as_array().map(Vec::len), Some(2), "{reply}");

    // (The 4 MiB body limit stays: mcp_http.rs sends one over raw TCP.)

    let (status, reply) = post(
        &http,
        &url,
        r#"{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{"cursor":"x"}}"#,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(error_of(&reply).0, -32602, "{reply}");

    let (status, reply) = post_as(
        &http,
        &url,
        "2025-03-26",
        String::from_utf8(initialize("2025-03-26")).unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_ne!(reply["result"]["protocolVersion"], "2025-03-26", "{reply}");

    let (status, reply) = post(
        &http,
        &url,
        r#"{"jsonrpc":"2.0","id":8,"method":"tools/list"}"#,
    )
    .await;
    assert_eq!(status, 200, "{reply}");
    assert_eq!(
        reply["result"]["tools"].as_array().unwrap().len(),
        ALL_TOOLS.len()
    );
}

fn assert_read_only_tools(listed: &Value) {
    let tools = listed["result"]["tools"].as_array().unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort_unstable();
    assert_eq!(names, READ_TOOLS);
    for tool in tools {
        assert_eq!(tool["annotations"]["readOnlyHint"], true, "{tool}");
    }
}

fn assert_refused_for_read_only(reply: &Value) {
    let (code, message) = error_of(reply);
    assert_eq!(code, -32602, "{reply}");
    assert!(
        message.contains("--read-only") && message.contains("K0RDENT_MCP_READ_ONLY"),
        "{message}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_serves_only_tools_that_write_nothing_over_stdio_and_http() {
    let work = tempfile::tempdir().unwrap();
    let mut stdio = RawStdio::start(work.path(), &["--read-only"]);
    stdio.ask(&initialize("2025-11-25"));
    stdio.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    assert_read_only_tools(&stdio.ask(br#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#));
    for tool in [
        UNINSTALL,
        ROLLBACK,
        "k0rdent.mgmt.serviceTemplates.install_from_catalog",
    ] {
        let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": tool, "arguments": {"template": "minio", "confirm": true}}});
        assert_refused_for_read_only(&stdio.ask(call.to_string().as_bytes()));
    }

    let mut env = offline_env(work.path());
    env.push(("K0RDENT_MCP_READ_ONLY", "true".to_string()));
    let server = Server::start(work.path(), &[], &env);
    let http = reqwest::Client::new();
    let url = server.url("/mcp");
    let (_, listed) = post(
        &http,
        &url,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#,
    )
    .await;
    assert_read_only_tools(&listed);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": UNINSTALL, "arguments": {"template": "minio"}}});
    let (_, reply) = post(&http, &url, call.to_string()).await;
    assert_refused_for_read_only(&reply);
}

/// `mcp_confirm.py`: calls as a user who answers `answer`; the server is
/// `target` (the binary over stdio, or an /mcp URL).
fn confirm_client(
    python: &Path,
    target: &str,
    mode: &str,
    answer: &str,
    env: &[(&str, String)],
    calls: &[(&str, &str, Value)],
) -> Value {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(key, tool, arguments)| json!({"key": key, "tool": tool, "arguments": arguments}))
        .collect();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/e2e/clients/mcp_confirm.py");
    let mut child = Command::new(python)
        .arg(script)
        .args([target, mode, answer])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env_remove("K0RDENT_MCP_HTTP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    serde_json::to_writer(child.stdin.take().unwrap(), &calls).unwrap();
    support::client_json(&child.wait_with_output().unwrap())
}

fn text(out: &Value, key: &str) -> String {
    let call = &out[key];
    assert_eq!(call["is_error"], true, "{key}: {call}");
    call["text"].as_str().unwrap().to_string()
}

fn uninstall_minio() -> Value {
    json!({"template": "minio", "namespace": "kcm-system"})
}

/// Past the gate, the tool runs and fails on the kubeconfig that does not
/// exist: proof it ran, without a cluster to change.
fn reached_the_cluster(text: &str) -> bool {
    text.contains("no-kubeconfig")
        && !text.contains("was not run")
        && !text.contains("needs confirmation")
}

#[test]
fn python_sdk_user_confirms_declines_or_cancels_destructive_calls() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let env = offline_env(work.path());

    // Over stdio, in the handshake era (a server-to-client elicitation
    // request) and in 2026-07-28 (the question comes back as input_required).
    for mode in ["legacy", "2026-07-28"] {
        let calls = [
            ("uninstall", UNINSTALL, uninstall_minio()),
            (
                "rollback",
                ROLLBACK,
                json!({"release": "minio", "namespace": "kcm-system", "revision": 1}),
            ),
        ];
        for answer in ["decline", "cancel", "untick"] {
            let out = confirm_client(&python, BIN, mode, answer, &env, &calls);
            if mode != "legacy" {
                assert_eq!(out["protocol"], mode, "{out}");
            }
            for key in ["uninstall", "rollback"] {
                let said = text(&out, key);
                assert!(
                    said.contains("was not run") && said.contains("nothing was changed"),
                    "{mode} {answer} {key}: {said}"
                );
                let asked = out[key]["asked"].as_array().unwrap();
                assert_eq!(asked.len(), 1, "{mode} {answer} {key}: {out}");
                assert!(
                    asked[0]["message"].as_str().unwrap().contains("minio"),
                    "{asked:?}"
                );
            }
            let wanted = match answer {
                "decline" => "the user declined",
                "cancel" => "the user cancelled",
                _ => "without ticking confirm",
            };
            assert!(text(&out, "uninstall").contains(wanted), "{out}");
        }
        // The model cannot confirm in the user's place: with elicitation,
        // `confirm: true` does not skip the question.
        let out = confirm_client(
            &python,
            BIN,
            mode,
            "decline",
            &env,
            &[(
                "uninstall",
                UNINSTALL,
                json!({"template": "minio", "namespace": "kcm-system", "confirm": true}),
            )],
        );
        assert!(
            text(&out, "uninstall").contains("the user declined"),
            "{out}"
        );

        let out = confirm_client(
            &python,
            BIN,
            mode,
            "accept",
            &env,
            &[("uninstall", UNINSTALL, uninstall_minio())],
        );
        assert_eq!(
            out["uninstall"]["asked"].as_array().unwrap().len(),
            1,
            "{out}"
        );
        assert!(
            reached_the_cluster(&text(&out, "uninstall")),
            "{mode}: {out}"
        );
    }

    // A client without elicitation must say confirm: true.
    let out = confirm_client(
        &python,
        BIN,
        "legacy",
        "none",
        &env,
        &[
            ("bare", UNINSTALL, uninstall_minio()),
            (
                "confirmed",
                UNINSTALL,
                json!({"template": "minio", "namespace": "kcm-system", "confirm": true}),
            ),
            (
                "not_bool",
                UNINSTALL,
                json!({"template": "minio", "namespace": "kcm-system", "confirm": "yes"}),
            ),
            ("read_tool", "k0rdent.plugins.list", json!({})),
        ],
    );
    let bare = text(&out, "bare");
    assert!(
        bare.contains("needs confirmation")
            && bare.contains("\"confirm\": true")
            && bare.contains("nothing was changed"),
        "{bare}"
    );
    assert!(reached_the_cluster(&text(&out, "confirmed")), "{out}");
    assert!(
        text(&out, "not_bool").contains("must be true or false"),
        "{out}"
    );
    assert_eq!(
        out["read_tool"]["is_error"], false,
        "read tools are never gated: {out}"
    );

    // --confirm-destructive require: no elicitation, no destructive tools.
    let out = confirm_client(
        &python,
        BIN,
        "legacy",
        "none",
        &[
            env.clone(),
            vec![("K0RDENT_MCP_CONFIRM_DESTRUCTIVE", "require".to_string())],
        ]
        .concat(),
        &[(
            "confirmed",
            UNINSTALL,
            json!({"template": "minio", "namespace": "kcm-system", "confirm": true}),
        )],
    );
    let said = text(&out, "confirmed");
    assert!(
        said.contains("--confirm-destructive require") && said.contains("nothing was changed"),
        "{said}"
    );

    // --confirm-destructive never: nobody is asked.
    let out = confirm_client(
        &python,
        BIN,
        "legacy",
        "decline",
        &[
            env.clone(),
            vec![("K0RDENT_MCP_CONFIRM_DESTRUCTIVE", "never".to_string())],
        ]
        .concat(),
        &[("uninstall", UNINSTALL, uninstall_minio())],
    );
    assert_eq!(out["uninstall"]["asked"], json!([]), "{out}");
    assert!(reached_the_cluster(&text(&out, "uninstall")), "{out}");
}

#[test]
fn python_sdk_over_stateless_http_confirms_inline_or_with_the_argument() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let env = offline_env(work.path());
    let server = Server::start(work.path(), &[], &env);
    let url = server.url("/mcp");

    // A handshake-era session over stateless HTTP cannot receive a server
    // request, so the server does not ask: the argument is the way.
    let out = confirm_client(
        &python,
        &url,
        "legacy",
        "accept",
        &env,
        &[("uninstall", UNINSTALL, uninstall_minio())],
    );
    assert_eq!(out["uninstall"]["asked"], json!([]), "{out}");
    assert!(
        text(&out, "uninstall").contains("\"confirm\": true"),
        "{out}"
    );

    // 2026-07-28 carries the question in the result (input_required), which
    // stateless HTTP can do.
    let out = confirm_client(
        &python,
        &url,
        "2026-07-28",
        "decline",
        &env,
        &[("uninstall", UNINSTALL, uninstall_minio())],
    );
    assert_eq!(out["protocol"], "2026-07-28");
    assert_eq!(
        out["uninstall"]["asked"].as_array().unwrap().len(),
        1,
        "{out}"
    );
    assert!(
        text(&out, "uninstall").contains("the user declined"),
        "{out}"
    );
}

/// Switching confirmations off is an insecure mode: it is said loudly at start-up, and only then.
#[test]
fn confirm_destructive_never_is_logged_as_insecure() {
    let work = tempfile::tempdir().unwrap();
    let start = |mode: &str| {
        let out = Command::new(BIN)
            .arg("serve")
            .envs(offline_env(work.path()))
            .env_remove("K0RDENT_MCP_HTTP")
            .env("K0RDENT_MCP_CONFIRM_DESTRUCTIVE", mode)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let never = start("never");
    assert!(
        never.contains("INSECURE: --confirm-destructive never"),
        "{never}"
    );
    let default = start("when-supported");
    assert!(!default.contains("INSECURE"), "{default}");
}
