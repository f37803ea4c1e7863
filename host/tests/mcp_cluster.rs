//! The cluster tools through the real binary, driven by clients nobody here
//! wrote (the MCP Python SDK over stdio and streamable HTTP, the MCP
//! Inspector CLI), against a real registry and a real kube-apiserver:
//! install (one namespace, all namespaces, dry run), render, list,
//! history, uninstall, progress, cancellation, the namespace filter, and
//! OIDC_REQUIRED calls acting as the caller's own identity.

use std::path::Path;
use std::process::Command;

use k0rdent_test_harness::charts;
use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};
use serde_json::{Value, json};

mod support;
use support::{BIN, McpFixture, Server, client_json, inspector, kgst_dir, push, python_with_mcp};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/e2e/clients/mcp_cluster.py"
);

struct Env {
    plane: ControlPlane,
    fixture: McpFixture,
    index: std::path::PathBuf,
    _controllers: k0rdent_test_harness::controllers::PlayedControllers,
}

async fn start() -> Option<Env> {
    let kgst = kgst_dir()?;
    let plane = ControlPlane::start()?;
    for ns in ["kcm-system", "team-a", "team-b", "other"] {
        plane.kubectl(&["create", "namespace", ns]);
    }
    let fixture = McpFixture::start(&kgst).await?;
    push(
        &fixture.registry,
        "charts/hang",
        "1.0.0",
        &charts::simple_chart("hang", "1.0.0"),
        "hang",
    )
    .await;
    let index = json!({
        "metadata": {"generated": "2026-11-26T00:00:00Z", "version": "test"},
        "addons": [
            {"name": "minio", "description": "Object storage", "supportType": "community",
             "charts": [{"name": "minio", "versions": ["17.0.21", "14.1.2"], "repository": fixture.repository}]},
            {"name": "hang", "description": "Its verify Job never finishes", "supportType": "community",
             "charts": [{"name": "hang", "versions": ["1.0.0"], "repository": fixture.repository}]}
        ]
    });
    let index_path = fixture.work.path().join("cluster-index.json");
    std::fs::write(&index_path, index.to_string()).unwrap();
    let controllers = plane.play_controllers("missing");
    Some(Env {
        plane,
        fixture,
        index: index_path,
        _controllers: controllers,
    })
}

impl Env {
    /// Configuration every server here shares.
    fn server_env(&self, work: &Path) -> Vec<(&'static str, String)> {
        vec![
            ("K0RDENT_MCP_CATALOG_URL", self.index.display().to_string()),
            (
                "K0RDENT_MCP_KGST_CHART",
                format!("{}/kgst", self.fixture.repository),
            ),
            ("K0RDENT_MCP_KGST_VERSION", "2.0.2".into()),
            ("K0RDENT_MCP_PLAIN_HTTP", self.fixture.registry.host()),
            ("K0RDENT_MCP_NAMESPACE_FILTER", "kcm-system|team-.*".into()),
            ("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s".into()),
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

    fn kubectl_json(&self, args: &[&str]) -> Option<Value> {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        self.plane
            .kubectl_as(&self.plane.kubeconfig, &all)
            .ok()
            .map(|t| serde_json::from_str(&t).unwrap())
    }
}

fn run_client(python: &Path, args: &[&str], env: &[(&str, String)]) -> Value {
    let mut command = Command::new(python);
    command.arg(CLIENT).args(args);
    for (k, v) in env {
        command.env(k, v);
    }
    client_json(&command.output().expect("running the Python MCP client"))
}

fn structured<'a>(out: &'a Value, key: &str) -> &'a Value {
    let r = &out[key];
    assert_eq!(r["is_error"], false, "{key}: {r}");
    &r["structured"]
}

fn tool_error<'a>(out: &'a Value, key: &str) -> &'a str {
    let r = &out[key];
    assert_eq!(r["is_error"], true, "{key} should be a tool error: {r}");
    r["text"].as_str().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_over_stdio_installs_lists_uninstalls_and_cancels_consistently() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let Some(env) = start().await else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut server_env = env.server_env(work.path());
    server_env.push((
        "K0RDENT_MCP_KUBECONFIG",
        env.plane.kubeconfig.display().to_string(),
    ));
    let out = run_client(&python, &["dev", BIN], &server_env);

    assert_eq!(
        structured(&out, "namespaces")["namespaces"],
        json!(["kcm-system", "team-a", "team-b"])
    );

    let install = structured(&out, "install");
    assert_eq!(install["status"], "created", "{install}");
    // The HelmRepository is named after the test registry's repository.
    let repo_name = install["applied"][0]
        .as_str()
        .unwrap()
        .strip_prefix("kcm-system/HelmRepository/")
        .unwrap_or_else(|| panic!("HelmRepository first: {install}"))
        .to_string();
    assert_eq!(
        install["applied"],
        json!([
            format!("kcm-system/HelmRepository/{repo_name}"),
            "kcm-system/Job/verify-job-minio-14-1-2",
            "kcm-system/ServiceTemplate/minio-14-1-2"
        ]),
        "hooks included, in the order applied"
    );
    let ns = &install["namespaces"][0];
    assert_eq!(
        (&ns["release"], &ns["revision"]),
        (&json!("minio"), &json!(1))
    );
    assert_eq!(ns["service_template"]["valid"], true, "{ns}");
    assert!(!ns["notes"].as_str().unwrap().is_empty());

    // Discovery against the cluster: the ServiceTemplate as a resource, completions from it.
    let resource = &out["template_resource"];
    assert_eq!(resource["name"], "minio-14-1-2", "{resource}");
    assert_eq!(resource["chart"], "minio:14.1.2", "{resource}");
    assert_eq!(resource["valid"], true, "{resource}");
    assert_eq!(out["template_names"], json!(["minio-14-1-2"]));
    assert_eq!(out["namespace_completions"], json!(["team-a", "team-b"]));

    // Progress arrived in order, one step after another.
    let steps: Vec<String> = out["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["message"]
                .as_str()
                .unwrap()
                .split(':')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut expected = vec![
        "pull",
        "validate",
        "render",
        "hooks",
        "verify-job",
        "apply",
        "servicetemplate-validation",
        "done",
    ];
    expected.dedup();
    let mut seen = steps.clone();
    seen.dedup();
    assert_eq!(seen, expected, "{:?}", out["progress"]);
    let values: Vec<f64> = out["progress"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["progress"].as_f64().unwrap())
        .collect();
    assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");

    assert_eq!(structured(&out, "install_again")["status"], "unchanged");
    let all = structured(&out, "install_all");
    assert_eq!(all["status"], "mixed", "{all}");
    let per_ns: Vec<(&str, &str)> = all["namespaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["namespace"].as_str().unwrap(),
                r["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_ns,
        [
            ("kcm-system", "unchanged"),
            ("team-a", "created"),
            ("team-b", "created")
        ]
    );

    let dry = structured(&out, "dry_run");
    assert_eq!(
        (&dry["status"], &dry["dry_run"]),
        (&json!("dry-run"), &json!(true))
    );
    assert_eq!(dry["applied"].as_array().unwrap().len(), 3);

    let refused = tool_error(&out, "outside_filter");
    assert!(
        refused.contains("outside this server's namespace filter"),
        "{refused}"
    );
    assert!(
        env.kubectl_json(&["secrets", "-n", "other", "-l", "owner=helm"])
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    assert_eq!(structured(&out, "render")["namespace"], "team-b");
    let templates = structured(&out, "templates")["templates"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(templates.len(), 3, "{templates:?}");
    assert!(
        templates
            .iter()
            .all(|t| t["valid"] == true && t["release"] == "minio")
    );
    assert_eq!(
        structured(&out, "history")["revisions"][0]["description"],
        "Install complete"
    );

    // A declined confirmation changes nothing: the team-a release and its record stay.
    let declined = tool_error(&out, "uninstall_declined");
    assert!(declined.contains("declined"), "{declined}");
    let after_decline = structured(&out, "templates_after_decline")["templates"].clone();
    assert_eq!(
        after_decline.as_array().unwrap().len(),
        3,
        "{after_decline}"
    );
    assert!(
        after_decline
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["namespace"] == "team-a" && t["release"] == "minio"),
        "{after_decline}"
    );
    let history = structured(&out, "history_after_decline")["revisions"].clone();
    assert_eq!(history[0]["status"], "deployed", "{history}");

    // Uninstall everywhere: the release records go, the kept objects stay and are listed.
    let gone = structured(&out, "uninstall");
    assert_eq!(gone["namespaces"].as_array().unwrap().len(), 3, "{gone}");
    assert_eq!(
        gone["namespaces"][0]["kept"],
        json!(["kcm-system/ServiceTemplate/minio-14-1-2"])
    );
    assert!(
        env.kubectl_json(&[
            "helmrepository.source.toolkit.fluxcd.io",
            &repo_name,
            "-n",
            "team-a"
        ])
        .is_some(),
        "the shared HelmRepository survives uninstall"
    );
    assert_eq!(
        structured(&out, "templates_after")["templates"][0]["kept_on_uninstall"],
        true
    );

    // Cancelled mid-install (the verify Job never finishes): no half state.
    let cancel = &out["cancel"];
    assert_eq!(cancel["cancelled"], true, "{cancel}");
    assert!(
        cancel["progress"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().starts_with("verify-job")),
        "{cancel}"
    );
    let revisions = &cancel["history"]["structured"]["revisions"];
    assert_eq!(revisions.as_array().unwrap().len(), 1, "{cancel}");
    assert_eq!(revisions[0]["status"], "failed", "{cancel}");
    assert!(
        revisions[0]["description"]
            .as_str()
            .unwrap()
            .contains("cancelled by the caller"),
        "{cancel}"
    );
    let names: Vec<&str> = cancel["templates"]["structured"]["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        !names.contains(&"hang-1-0-0"),
        "the ServiceTemplate was never applied: {names:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oidc_required_acts_as_the_caller_and_never_logs_tokens() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let Some(env) = start().await else {
        return;
    };
    let (alice, _, _) = TEST_IDENTITIES[0];
    let (nobody, _, _) = TEST_IDENTITIES[2];
    // alice may do anything in team-a, nothing elsewhere; nobody has no rights.
    env.plane.kubectl(&[
        "create",
        "rolebinding",
        "alice-team-a",
        "-n",
        "team-a",
        "--clusterrole=cluster-admin",
        "--user=alice",
    ]);
    let work = tempfile::tempdir().unwrap();
    let mut server_env = env.server_env(work.path());
    server_env.push(("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".into()));
    // The server's own kubeconfig says where the API server is; calls replace its credentials.
    server_env.push((
        "K0RDENT_MCP_KUBECONFIG",
        env.plane.kubeconfig.display().to_string(),
    ));
    let server = Server::start(work.path(), &[], &server_env);

    // No token: refused before MCP.
    let plain = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 401);
    assert_eq!(plain.headers()["www-authenticate"], "Bearer");

    let out = run_client(&python, &["oidc", &server.url("/mcp"), alice, nobody], &[]);
    let denied = tool_error(&out, "nobody_install");
    assert!(
        denied.contains("forbidden") || denied.contains("RBAC"),
        "{denied}"
    );
    assert!(denied.contains("team-a"), "{denied}");
    let missing = tool_error(&out, "alice_no_namespace");
    assert!(
        missing.contains("OIDC_REQUIRED") && missing.contains("namespace"),
        "{missing}"
    );
    let installed = structured(&out, "alice_install");
    assert_eq!(installed["status"], "created", "{installed}");
    let other_team = &out["alice_other_team"];
    let text = other_team["text"].as_str().unwrap();
    assert_eq!(other_team["is_error"], true, "{other_team}");
    assert!(
        text.contains("team-b") && (text.contains("forbidden") || text.contains("RBAC")),
        "{text}"
    );
    assert!(tool_error(&out, "alice_outside_filter").contains("namespace filter"));
    assert_eq!(
        structured(&out, "alice_history")["revisions"][0]["status"],
        "deployed"
    );
    assert_eq!(
        structured(&out, "alice_uninstall")["namespaces"][0]["release"],
        "minio"
    );
    // Nothing was written outside team-a.
    assert!(
        env.kubectl_json(&["secrets", "-n", "team-b", "-l", "owner=helm"])
            .unwrap()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    let log = server.log_text();
    for (token, _, _) in TEST_IDENTITIES {
        assert!(!log.contains(token), "a bearer token reached the log");
    }
}

/// The MCP Inspector CLI (its own SDK) installs and lists through stdio.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspector_cli_installs_and_lists() {
    let Some(inspector) = inspector() else {
        return;
    };
    let Some(env) = start().await else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut server_env = env.server_env(work.path());
    server_env.push((
        "K0RDENT_MCP_KUBECONFIG",
        env.plane.kubeconfig.display().to_string(),
    ));
    let run = |args: &[&str]| -> Value {
        let mut command = Command::new(&inspector);
        command.arg("--cli");
        for (k, v) in &server_env {
            command.arg("-e").arg(format!("{k}={v}"));
        }
        command.args([BIN, "serve"]).args(args);
        let out = command.output().expect("running the MCP Inspector CLI");
        assert!(
            out.status.success(),
            "inspector {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let installed = run(&[
        "--method",
        "tools/call",
        "--tool-name",
        "k0rdent.mgmt.serviceTemplates.install_from_catalog",
        "--tool-arg",
        "app=minio",
        "--tool-arg",
        "template=minio",
        "--tool-arg",
        "version=14.1.2",
        "--tool-arg",
        "namespace=team-b",
    ]);
    assert_eq!(installed["isError"], false, "{installed}");
    assert_eq!(
        installed["structuredContent"]["status"], "created",
        "{installed}"
    );
    let listed = run(&[
        "--method",
        "tools/call",
        "--tool-name",
        "k0rdent.mgmt.serviceTemplates.list",
        "--tool-arg",
        "namespace=team-b",
    ]);
    assert_eq!(
        listed["structuredContent"]["templates"][0]["name"], "minio-14-1-2",
        "{listed}"
    );
    assert!(
        env.kubectl_json(&["secret", "sh.helm.release.v1.minio.v1", "-n", "team-b"])
            .is_some()
    );
}

/// OIDC_REQUIRED with token checks: real ServiceAccount JWTs from the
/// apiserver, checked against its own JWKS before any cluster call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_checks_reject_bad_tokens_before_the_cluster_sees_them() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    plane.kubectl(&["create", "serviceaccount", "agent", "-n", "team-a"]);
    plane.kubectl(&[
        "create",
        "rolebinding",
        "agent",
        "-n",
        "team-a",
        "--clusterrole=cluster-admin",
        "--serviceaccount=team-a:agent",
    ]);
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let jwks = plane.kubectl(&["get", "--raw", "/openid/v1/jwks"]);
    let jwks_server = k0rdent_test_harness::http::StaticServer::serve("/jwks", jwks.into_bytes());
    let token = |audiences: &[&str]| {
        let mut args = vec!["create", "token", "agent", "-n", "team-a"];
        for a in audiences {
            args.extend_from_slice(&["--audience", a]);
        }
        plane.kubectl(&args).trim().to_string()
    };
    let good = token(&["k0rdent-mcp", issuer]);
    let wrong_audience = token(&[issuer]);
    // One signature character changed (not the last, whose spare bits base64 rejects).
    let mut tampered: Vec<char> = good.chars().collect();
    let at = tampered.len() - 10;
    tampered[at] = if tampered[at] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let (static_token, _, _) = TEST_IDENTITIES[0];

    let work = tempfile::tempdir().unwrap();
    let mut server_env = env.server_env(work.path());
    server_env.extend([
        ("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".to_string()),
        ("K0RDENT_MCP_OIDC_ISSUER", issuer.to_string()),
        ("K0RDENT_MCP_OIDC_AUDIENCE", "k0rdent-mcp".to_string()),
        ("K0RDENT_MCP_OIDC_JWKS_URL", jwks_server.url()),
        (
            "K0RDENT_MCP_KUBECONFIG",
            plane.kubeconfig.display().to_string(),
        ),
    ]);
    let server = Server::start(work.path(), &[], &server_env);
    let call = |token: String| {
        let url = server.url("/mcp");
        async move {
            let response = reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .header("accept", "application/json, text/event-stream")
                .body(
                    json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
                        "name": "k0rdent.mgmt.releases.history",
                        "arguments": {"release": "none", "namespace": "team-a"}}})
                    .to_string(),
                )
                .send()
                .await
                .unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    for (what, bad, reason) in [
        ("a static token", static_token.to_string(), "not a JWT"),
        ("another audience", wrong_audience, "InvalidAudience"),
        ("a bad signature", tampered, "InvalidSignature"),
    ] {
        let (status, body) = call(bad).await;
        assert_eq!(status, 401, "{what}: {body}");
        assert!(body.contains(reason), "{what}: {body}");
    }
    // A good token passes and the cluster call acts as the ServiceAccount:
    // it may read release Secrets in team-a, so the answer is "not found".
    let (status, body) = call(good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(r#"release \"none\" in namespace \"team-a\" not found"#),
        "{body}"
    );
    assert!(
        !server.log_text().contains(&good),
        "a token reached the log"
    );
}
