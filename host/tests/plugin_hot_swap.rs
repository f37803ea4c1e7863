//! Hot swap through the real binary: a running HTTP server watches its
//! `--plugin-set` file and swaps kgst validators pulled from a real registry,
//! signed with keys made here, without a restart; a tampered artifact, a
//! wrong key, an unsigned plugin, a plugin that fails its self-test, a
//! malformed set file and a set that loosens the signature policy are each
//! refused with the step and digest in `k0rdent.plugins.list`, `/readyz` and `/metrics`, while the last good set
//! keeps serving renders; on the real apiserver, the next install after a
//! swap writes the new layout. And `plugins test`, the same gate for authors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod support;
use support::{BIN, McpFixture, Server, kgst_dir};

const RENDER: &str = "k0rdent.mgmt.serviceTemplates.render";
const LIST: &str = "k0rdent.plugins.list";

fn test_plugin_dir() -> PathBuf {
    PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"))
}

/// The default plugins build.rs embeds, as a plugin folder beside the test ones.
fn embedded_plugin_dir() -> PathBuf {
    test_plugin_dir().parent().unwrap().join("embedded-plugins")
}

/// Golden cases of the probe that disagree with its own output.
fn disagreeing_cases() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/plugins/kgst-layout-probe/selftest-disagreeing")
}

/// A plugin folder at `dir` with plugin `name` from `from` and the golden
/// cases `cases` (file name, text) in `selftest/<name>/`.
fn plugin_folder(dir: &Path, from: &Path, name: &str, cases: &[(String, String)]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let manifest = format!("{name}.plugin.json");
    let wasm = format!("{}.wasm", name.replace('-', "_"));
    std::fs::copy(from.join(&manifest), dir.join(&manifest)).unwrap();
    std::fs::copy(from.join(&wasm), dir.join(&wasm)).unwrap();
    if !cases.is_empty() {
        let golden = dir.join("selftest").join(name);
        std::fs::create_dir_all(&golden).unwrap();
        for (file, text) in cases {
            std::fs::write(golden.join(file), text).unwrap();
        }
    }
    dir.to_path_buf()
}

/// The probe's own golden cases, plus one named `marker` so that each
/// pushed copy is a distinct artifact with a distinct digest.
fn probe_cases(marker: &str) -> Vec<(String, String)> {
    let own = test_plugin_dir().join("selftest/kgst-layout-probe");
    let mut cases: Vec<(String, String)> = std::fs::read_dir(&own)
        .unwrap_or_else(|e| panic!("{}: {e}", own.display()))
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    assert!(
        !cases.is_empty(),
        "build.rs copies the probe's golden cases"
    );
    let (_, first) = cases[0].clone();
    cases.push((format!("{marker}.json"), first));
    cases
}

/// A fresh key pair as PEM files; returns (private, public).
fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        if let Ok(key) = SigningKey::from_slice(&seed) {
            break key;
        }
    };
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(
        &private,
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(
        &public,
        key.verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap(),
    )
    .unwrap();
    (private, public)
}

fn cli(work: &Path, registry_host: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("K0RDENT_MCP_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("K0RDENT_MCP_PLAIN_HTTP", registry_host)
        .env("K0RDENT_MCP_CHART_CACHE_DIR", work.join("cli-charts"))
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.join("cli-plugins"))
        .env("DOCKER_CONFIG", work.join("no-docker"))
        .env("HELM_REGISTRY_CONFIG", work.join("no-helm.json"))
        .args(args)
        .output()
        .expect("running k0rdent-mcp")
}

fn succeeded(out: &Output) -> String {
    assert!(
        out.status.success(),
        "k0rdent-mcp failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `plugins push`, signed when `key` is given; returns the pinned reference and digest.
fn push(
    work: &Path,
    host: &str,
    folder: &Path,
    repo: &str,
    key: Option<&Path>,
) -> (String, String) {
    let target = format!("oci://{host}/{repo}:1");
    let mut args = vec!["plugins", "push", folder.to_str().unwrap(), target.as_str()];
    if let Some(key) = key {
        args.extend(["--sign-key", key.to_str().unwrap()]);
    }
    let report: Value = serde_json::from_str(&succeeded(&cli(work, host, &args))).unwrap();
    let digest = report["digest"].as_str().unwrap().to_string();
    (format!("oci://{host}/{repo}@{digest}"), digest)
}

/// A tools/call over stateless streamable HTTP; the JSON-RPC result.
/// Signed by `key`: A, the plain kgst 2.x validator, and B, the probe whose layout prefixes every
/// name. Their references, and B's digest.
fn push_plain_and_probe(work: &Path, host: &str, key: &Path) -> (String, String, String) {
    let a_dir = plugin_folder(
        &work.join("a"),
        &embedded_plugin_dir(),
        "kgst-validator-v2",
        &[],
    );
    let (a_ref, _) = push(work, host, &a_dir, "plugins/plain", Some(key));
    let b_dir = plugin_folder(
        &work.join("b"),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &probe_cases("b"),
    );
    let (b_ref, b_digest) = push(work, host, &b_dir, "plugins/probe", Some(key));
    (a_ref, b_ref, b_digest)
}

async fn call(http: &reqwest::Client, server: &Server, tool: &str, arguments: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let response = http
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let text = response.text().await.unwrap();
    let json_text = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .unwrap_or(text.as_str());
    let reply: Value = serde_json::from_str(json_text)
        .unwrap_or_else(|e| panic!("{e}: {text}\nserver log:\n{}", server.log_text()));
    reply["result"].clone()
}

async fn plugins(http: &reqwest::Client, server: &Server) -> Value {
    call(http, server, LIST, json!({})).await["structuredContent"].clone()
}

/// Polls `plugins.list` until `done` holds (a swap takes a pull, a compile and a self-test).
async fn wait_for(
    http: &reqwest::Client,
    server: &Server,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let listed = plugins(http, server).await;
        if done(&listed) {
            return listed;
        }
        if Instant::now() > deadline {
            panic!(
                "timed out waiting for {what}: {listed}\nserver log:\n{}",
                server.log_text()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The ServiceTemplate the render tool produces for minio 14.1.2.
async fn rendered_template_name(http: &reqwest::Client, server: &Server) -> String {
    let result = call(
        http,
        server,
        RENDER,
        json!({"app": "minio", "template": "minio", "version": "14.1.2"}),
    )
    .await;
    assert_eq!(
        result["isError"],
        false,
        "{result}\nserver log:\n{}",
        server.log_text()
    );
    result["structuredContent"]["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "ServiceTemplate")
        .unwrap_or_else(|| panic!("no ServiceTemplate: {result}"))["name"]
        .as_str()
        .unwrap()
        .to_string()
}

fn write_set(path: &Path, reference: &str, key: &Path) {
    // Written beside and renamed over, as a kubelet swaps a ConfigMap volume.
    let next = path.with_extension("next");
    std::fs::write(
        &next,
        format!(
            "plugins:\n  - {reference}\ntrusted-keys:\n  - {}\n",
            key.display()
        ),
    )
    .unwrap();
    std::fs::rename(&next, path).unwrap();
}

async fn metric(http: &reqwest::Client, server: &Server, line_start: &str) -> String {
    let text = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find(|l| l.starts_with(line_start))
        .unwrap_or_else(|| panic!("{line_start} missing from /metrics:\n{text}"))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_server_swaps_validators_from_its_plugin_set_and_refuses_bad_ones() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    let work = fixture.work.path();
    let host = fixture.registry.host();
    let (author, author_pub) = key_pair(work, "author");
    let (stranger, _) = key_pair(work, "stranger");

    // A: the plain kgst 2.x validator. B: the probe, whose layout prefixes every name.
    let (a_ref, b_ref, b_digest) = push_plain_and_probe(work, &host, &author);

    let set = work.join("plugin-set.yaml");
    write_set(&set, &a_ref, &author_pub);
    let server = Server::start(
        work,
        &[
            "--plugin-set",
            set.to_str().unwrap(),
            "--plugin-set-poll-ms",
            "100",
        ],
        &[
            (
                "K0RDENT_MCP_CATALOG_URL",
                fixture.index.display().to_string(),
            ),
            (
                "K0RDENT_MCP_KGST_CHART",
                format!("{}/kgst", fixture.repository),
            ),
            ("K0RDENT_MCP_PLAIN_HTTP", host.clone()),
            (
                "DOCKER_CONFIG",
                work.join("no-docker").display().to_string(),
            ),
        ],
    );
    let http = reqwest::Client::new();

    // The set file's first load happens before the server listens.
    let listed = plugins(&http, &server).await;
    assert_eq!(listed["generation"], 2, "{listed}");
    assert_eq!(listed["plugin_set"], set.display().to_string(), "{listed}");
    assert_eq!(listed["last_reload"]["outcome"], "activated", "{listed}");
    assert_eq!(rendered_template_name(&http, &server).await, "minio-14-1-2");

    // Swap to B: the next render follows B's layout, with no restart.
    let pid = server.pid();
    let started = Instant::now();
    write_set(&set, &b_ref, &author_pub);
    let listed = wait_for(&http, &server, "generation 3", |l| l["generation"] == 3).await;
    eprintln!("swap to B activated in {:?}", started.elapsed());
    assert!(
        listed["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "kgst-layout-probe"
                && p["origin"].as_str().unwrap().ends_with(&b_digest)),
        "{listed}"
    );
    assert_eq!(
        rendered_template_name(&http, &server).await,
        "probe-minio-14-1-2"
    );
    assert_eq!(server.pid(), pid);

    // Each bad set is refused at its step, naming its digest; B keeps serving.
    let tampered_dir = plugin_folder(
        &work.join("t"),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &probe_cases("tampered"),
    );
    let (tampered_ref, tampered_digest) = push(
        work,
        &host,
        &tampered_dir,
        "plugins/tampered",
        Some(&author),
    );
    let golden_layer = tampered_golden_layer(&fixture, &tampered_digest);
    let mut bytes = std::fs::read(&golden_layer).unwrap();
    bytes[0] ^= 0x20;
    std::fs::write(&golden_layer, &bytes).unwrap();

    let stranger_dir = plugin_folder(
        &work.join("s"),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &probe_cases("stranger"),
    );
    let (stranger_ref, stranger_digest) = push(
        work,
        &host,
        &stranger_dir,
        "plugins/stranger",
        Some(&stranger),
    );
    let unsigned_dir = plugin_folder(
        &work.join("u"),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &probe_cases("unsigned"),
    );
    let (unsigned_ref, unsigned_digest) =
        push(work, &host, &unsigned_dir, "plugins/unsigned", None);
    let failing_cases: Vec<(String, String)> = vec![(
        "minio-2.0.2.json".into(),
        std::fs::read_to_string(disagreeing_cases().join("minio-2.0.2.json")).unwrap(),
    )];
    let failing_dir = plugin_folder(
        &work.join("f"),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &failing_cases,
    );
    let (failing_ref, failing_digest) =
        push(work, &host, &failing_dir, "plugins/failing", Some(&author));

    // An author runs the same gate on the pushed artifact before pointing a server at it.
    let tested = cli(
        work,
        &host,
        &[
            "plugins",
            "test",
            &failing_ref,
            "--plugin-trusted-key",
            author_pub.to_str().unwrap(),
        ],
    );
    assert!(
        !tested.status.success(),
        "plugins test must fail the disagreeing artifact"
    );
    let table = String::from_utf8_lossy(&tested.stdout);
    assert!(
        table.contains("minio-2.0.2") && table.contains("FAIL"),
        "{table}"
    );
    let tested = cli(
        work,
        &host,
        &[
            "plugins",
            "test",
            &b_ref,
            "--plugin-trusted-key",
            author_pub.to_str().unwrap(),
        ],
    );
    assert!(succeeded(&tested).contains("passed"));

    let cases = [
        (tampered_ref, tampered_digest, "verify", "hash to"),
        (
            stranger_ref,
            stranger_digest,
            "verify",
            "not signed by a trusted key",
        ),
        (unsigned_ref, unsigned_digest, "verify", "is unsigned"),
        (
            failing_ref,
            failing_digest,
            "self-test",
            "at prefix: expected (absent), got \"probe-\"",
        ),
    ];
    for (reference, digest, step, message) in &cases {
        write_set(&set, reference, &author_pub);
        let listed = wait_for(&http, &server, reference, |l| {
            l["last_reload"]["reference"] == reference.as_str()
        })
        .await;
        let last = &listed["last_reload"];
        assert_eq!(last["outcome"], "refused", "{listed}");
        assert_eq!(last["step"], *step, "{listed}");
        assert_eq!(last["digest"], digest.as_str(), "{listed}");
        assert!(
            last["error"].as_str().unwrap().contains(message),
            "{message:?}: {listed}"
        );
        assert_eq!(listed["generation"], 3, "{listed}");
        assert_eq!(
            rendered_template_name(&http, &server).await,
            "probe-minio-14-1-2"
        );
    }

    // A malformed set file is a refusal too, never an exit.
    std::fs::write(&set, "plugins: [oops\n").unwrap();
    let listed = wait_for(&http, &server, "the malformed set", |l| {
        l["last_reload"]["step"] == "read"
    })
    .await;
    assert_eq!(
        listed["last_reload"]["reference"],
        set.display().to_string(),
        "{listed}"
    );
    assert_eq!(
        rendered_template_name(&http, &server).await,
        "probe-minio-14-1-2"
    );

    // Whoever can edit the set may not loosen the server's signature policy: an unsigned plugin under
    // `signature-policy: none` in the file is refused before anything is pulled.
    let unsigned = &cases[2].0;
    std::fs::write(
        &set,
        format!(
            "plugins: [{unsigned}]\ntrusted-keys: [{}]\nsignature-policy: none\n",
            author_pub.display()
        ),
    )
    .unwrap();
    let listed = wait_for(&http, &server, "the loosening set", |l| {
        l["last_reload"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("weaker than the server's require-signature"))
    })
    .await;
    assert_eq!(listed["last_reload"]["step"], "read", "{listed}");
    assert_eq!(listed["generation"], 3, "{listed}");
    assert_eq!(
        rendered_template_name(&http, &server).await,
        "probe-minio-14-1-2"
    );

    let ready = http.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200, "a good set still serves");
    let ready: Value = serde_json::from_str(&ready.text().await.unwrap()).unwrap();
    assert_eq!(ready["plugin_set"]["generation"], 3, "{ready}");
    assert_eq!(
        ready["plugin_set"]["last_reload"]["outcome"], "refused",
        "{ready}"
    );
    assert_eq!(
        ready["plugin_set"]["last_reload"]["step"], "read",
        "{ready}"
    );

    assert_eq!(
        metric(
            &http,
            &server,
            "k0rdent_mcp_plugin_reloads_total{outcome=\"activated\"}"
        )
        .await,
        "k0rdent_mcp_plugin_reloads_total{outcome=\"activated\"} 2"
    );
    assert_eq!(
        metric(
            &http,
            &server,
            "k0rdent_mcp_plugin_reloads_total{outcome=\"refused\"}"
        )
        .await,
        "k0rdent_mcp_plugin_reloads_total{outcome=\"refused\"} 6"
    );
    assert_eq!(
        metric(&http, &server, "k0rdent_mcp_plugin_generation ").await,
        "k0rdent_mcp_plugin_generation 3"
    );
    assert_eq!(server.pid(), pid);
}

/// The "no host change" promise end to end on the real apiserver: a server
/// installing with validator A is pointed at validator B by its set file,
/// and the next catalog install writes B's layout into the cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_install_after_a_swap_uses_the_new_validator() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(plane) = k0rdent_test_harness::cluster::ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", "kcm-system"]);
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    let _controllers = plane.play_controllers("missing");
    let work = fixture.work.path();
    let host = fixture.registry.host();
    let (author, author_pub) = key_pair(work, "author");
    let (a_ref, b_ref, _) = push_plain_and_probe(work, &host, &author);
    let set = work.join("plugin-set.yaml");
    write_set(&set, &a_ref, &author_pub);
    let server = Server::start(
        work,
        &[
            "--plugin-set",
            set.to_str().unwrap(),
            "--plugin-set-poll-ms",
            "100",
        ],
        &[
            (
                "K0RDENT_MCP_CATALOG_URL",
                fixture.index.display().to_string(),
            ),
            (
                "K0RDENT_MCP_KGST_CHART",
                format!("{}/kgst", fixture.repository),
            ),
            ("K0RDENT_MCP_PLAIN_HTTP", host.clone()),
            (
                "K0RDENT_MCP_KUBECONFIG",
                plane.kubeconfig.display().to_string(),
            ),
            ("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s".into()),
            (
                "DOCKER_CONFIG",
                work.join("no-docker").display().to_string(),
            ),
        ],
    );
    let http = reqwest::Client::new();
    assert_eq!(plugins(&http, &server).await["generation"], 2);

    write_set(&set, &b_ref, &author_pub);
    wait_for(&http, &server, "generation 3", |l| l["generation"] == 3).await;
    let installed = call(
        &http,
        &server,
        "k0rdent.mgmt.serviceTemplates.install_from_catalog",
        json!({"app": "minio", "template": "minio", "version": "14.1.2", "namespace": "kcm-system"}),
    )
    .await;
    assert_eq!(
        installed["isError"],
        false,
        "{installed}\nserver log:\n{}",
        server.log_text()
    );
    let result = &installed["structuredContent"];
    assert_eq!(result["status"], "created", "{result}");
    assert!(
        result["applied"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "kcm-system/ServiceTemplate/probe-minio-14-1-2"),
        "{result}"
    );
    let template = plane.kubectl(&[
        "get",
        "servicetemplates.k0rdent.mirantis.com",
        "probe-minio-14-1-2",
        "-n",
        "kcm-system",
        "-o",
        "name",
    ]);
    assert!(template.contains("probe-minio-14-1-2"), "{template}");
}

/// The registry's file holding the golden-case layer of the artifact `digest`.
fn tampered_golden_layer(fixture: &McpFixture, digest: &str) -> PathBuf {
    let blob = |digest: &str| {
        let hex = digest.strip_prefix("sha256:").unwrap();
        fixture
            .registry
            .dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    };
    let manifest: Value = serde_json::from_slice(&std::fs::read(blob(digest)).unwrap()).unwrap();
    let layer = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["mediaType"] == "application/vnd.k0rdent.mcp.plugin.selftest.v1+json")
        .unwrap_or_else(|| panic!("no golden-case layer: {manifest}"));
    blob(layer["digest"].as_str().unwrap())
}

fn plugins_test(args: &[&str]) -> Output {
    let work = tempfile::tempdir().unwrap();
    Command::new(BIN)
        .args(["plugins", "test"])
        .args(args)
        .env("K0RDENT_MCP_LOG", "warn")
        .env("XDG_CACHE_HOME", work.path())
        .output()
        .expect("running k0rdent-mcp")
}

#[test]
fn plugins_test_prints_a_pass_table_for_a_good_plugin() {
    let work = tempfile::tempdir().unwrap();
    let dir = plugin_folder(
        work.path(),
        &test_plugin_dir(),
        "kgst-layout-probe",
        &probe_cases("extra"),
    );
    let out = plugins_test(&[dir.to_str().unwrap()]);
    let table = succeeded(&out);
    let header = table.lines().next().unwrap();
    for column in ["PLUGIN", "CASE", "KIND", "CALL", "RESULT", "MS"] {
        assert!(header.contains(column), "{table}");
    }
    let row = |case: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().nth(1) == Some(case))
            .unwrap_or_else(|| panic!("{case} missing:\n{table}"))
            .to_string()
    };
    let golden = row("minio-2.0.2");
    assert!(
        golden.contains("golden")
            && golden.contains("values-for-intent")
            && golden.contains("pass"),
        "{table}"
    );
    let smoke = row("kgst-2.0.2-intent-answer");
    assert!(
        smoke.contains("host-smoke") && smoke.contains("pass"),
        "{table}"
    );
    assert!(!table.contains("FAIL"), "{table}");

    // A renderer's golden render case (a 0.1-contract plugin, through the host's translation).
    let renderer = test_plugin_dir().join("legacy-renderer.plugin.json");
    let table = succeeded(&plugins_test(&[renderer.to_str().unwrap()]));
    assert!(
        table
            .lines()
            .any(|l| l.contains("echo") && l.contains("render") && l.contains("pass")),
        "{table}"
    );

    // --json, for scripts; a bare component with no golden cases beside it
    // runs the host's cases alone.
    let component = work.path().join("bare/kgst_layout_probe.wasm");
    std::fs::create_dir_all(component.parent().unwrap()).unwrap();
    std::fs::copy(test_plugin_dir().join("kgst_layout_probe.wasm"), &component).unwrap();
    let report: Value = serde_json::from_str(&succeeded(&plugins_test(&[
        component.to_str().unwrap(),
        "--json",
    ])))
    .unwrap();
    assert_eq!(report["passed"], true, "{report}");
    assert_eq!(
        report["plugins"][0]["name"], "kgst-layout-probe",
        "{report}"
    );
    assert!(
        report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["kind"] == "host-smoke"),
        "{report}"
    );
}

#[test]
fn plugins_test_fails_a_plugin_that_disagrees_with_its_golden_cases() {
    let work = tempfile::tempdir().unwrap();
    let cases = vec![(
        "minio-2.0.2.json".to_string(),
        std::fs::read_to_string(disagreeing_cases().join("minio-2.0.2.json")).unwrap(),
    )];
    let dir = plugin_folder(work.path(), &test_plugin_dir(), "kgst-layout-probe", &cases);
    let out = plugins_test(&[dir.to_str().unwrap()]);
    assert!(
        !out.status.success(),
        "a failing self-test must fail the command"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let failed = table
        .lines()
        .find(|l| l.contains("minio-2.0.2"))
        .unwrap_or_else(|| panic!("no row:\n{table}"));
    assert!(failed.contains("FAIL"), "{table}");
    assert!(
        table.contains("at prefix: expected (absent), got \"probe-\""),
        "{table}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("1 of 5 self-test cases failed"), "{stderr}");

    let report: Value =
        serde_json::from_slice(&plugins_test(&[dir.to_str().unwrap(), "--json"]).stdout).unwrap();
    assert_eq!(report["passed"], false, "{report}");
}

/// Keeps the sha2 import honest: digests in reports are sha256 of the bytes.
#[test]
fn plugins_test_reports_the_component_digest() {
    let component = test_plugin_dir().join("kgst_layout_probe.wasm");
    let report: Value = serde_json::from_str(&succeeded(&plugins_test(&[
        component.to_str().unwrap(),
        "--json",
    ])))
    .unwrap();
    let expected = format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(&component).unwrap()))
    );
    assert_eq!(
        report["plugins"][0]["digest"],
        expected.as_str(),
        "{report}"
    );
}
