//! Hot swap, measured: the time from a plugin set file change to the new
//! set's activation (pull, signature check, compile, self-test, swap) on a
//! running HTTP server, median of N swaps between two signed kgst validators;
//! and a steady load of concurrent renders across those swaps, which must
//! see zero failed calls. Real registry, real binary.
//!
//! `cargo bench -p k0rdent-mcp --bench plugin_swap` (K0RDENT_MCP_SWAPS, default 10;
//! K0RDENT_MCP_SWAP_CLIENTS, default 4; needs what scripts/test installs and ../shared).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;
use support::{BIN, McpFixture, Server, kgst_dir};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn key_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let key = loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        if let Ok(key) = SigningKey::from_slice(&seed) {
            break key;
        }
    };
    let (private, public) = (dir.join("bench.key"), dir.join("bench.pub"));
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

/// Pushes plugin `name` from `from` (with its golden cases, if any), signed; the pinned reference.
fn push(work: &Path, host: &str, from: &Path, name: &str, repo: &str, key: &Path) -> String {
    let dir = work.join(repo.replace('/', "-"));
    std::fs::create_dir_all(&dir).unwrap();
    let manifest = format!("{name}.plugin.json");
    let wasm = format!("{}.wasm", name.replace('-', "_"));
    std::fs::copy(from.join(&manifest), dir.join(&manifest)).unwrap();
    std::fs::copy(from.join(&wasm), dir.join(&wasm)).unwrap();
    let golden = from.join("selftest").join(name);
    if golden.is_dir() {
        let to = dir.join("selftest").join(name);
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&golden).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }
    let out = Command::new(BIN)
        .args(["plugins", "push", dir.to_str().unwrap()])
        .arg(format!("oci://{host}/{repo}:1"))
        .args(["--sign-key", key.to_str().unwrap()])
        .env("K0RDENT_MCP_PLAIN_HTTP", host)
        .env("DOCKER_CONFIG", work.join("no-docker"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    format!("oci://{host}/{repo}@{}", report["digest"].as_str().unwrap())
}

async fn call(
    http: &reqwest::Client,
    url: &str,
    tool: &str,
    arguments: Value,
) -> Result<Value, String> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let text = response.text().await.map_err(|e| e.to_string())?;
    let json_text = text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .map(str::trim)
        .find(|l| l.starts_with('{'))
        .unwrap_or(text.as_str());
    let reply: Value = serde_json::from_str(json_text).map_err(|e| format!("{e}: {text}"))?;
    let result = reply["result"].clone();
    if result.is_null() || result["isError"] == true {
        return Err(reply.to_string());
    }
    Ok(result)
}

fn write_set(path: &Path, reference: &str, key: &Path) {
    let next = path.with_extension("next");
    std::fs::write(
        &next,
        format!(
            "plugins: [{reference}]\ntrusted-keys: [{}]\n",
            key.display()
        ),
    )
    .unwrap();
    std::fs::rename(&next, path).unwrap();
}

fn main() {
    let swaps = env_number("K0RDENT_MCP_SWAPS", 10);
    let clients = env_number("K0RDENT_MCP_SWAP_CLIENTS", 4);
    let Some(kgst) = kgst_dir() else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(fixture) = runtime.block_on(McpFixture::start(&kgst)) else {
        return;
    };
    let work = fixture.work.path();
    let host = fixture.registry.host();
    let (key, public) = key_pair(work);
    let test_plugins = PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"));
    let embedded = test_plugins.parent().unwrap().join("embedded-plugins");
    let a = push(
        work,
        &host,
        &embedded,
        "kgst-validator-v2",
        "bench/plain",
        &key,
    );
    let b = push(
        work,
        &host,
        &test_plugins,
        "kgst-layout-probe",
        "bench/probe",
        &key,
    );
    let set = work.join("plugin-set.yaml");
    write_set(&set, &a, &public);
    let server = Server::start(
        work,
        &[
            "--plugin-set",
            set.to_str().unwrap(),
            "--plugin-set-poll-ms",
            "50",
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
            ("K0RDENT_MCP_LOG", "warn".into()),
        ],
    );
    let url = server.url("/mcp");
    let http = reqwest::Client::new();

    runtime.block_on(async {
        let generation = |listed: &Value| listed["structuredContent"]["generation"].as_u64().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let mut load = Vec::new();
        for _ in 0..clients {
            let (http, url, stop, ok, failed) = (http.clone(), url.clone(), stop.clone(), ok.clone(), failed.clone());
            load.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let args = json!({"app": "minio", "template": "minio", "version": "14.1.2"});
                    match call(&http, &url, "k0rdent.mgmt.serviceTemplates.render", args).await {
                        Ok(_) => ok.fetch_add(1, Ordering::Relaxed),
                        Err(e) => {
                            eprintln!("failed render: {e}");
                            failed.fetch_add(1, Ordering::Relaxed)
                        }
                    };
                }
            }));
        }
        let mut times = Vec::new();
        for i in 0..swaps {
            let before = generation(&call(&http, &url, "k0rdent.plugins.list", json!({})).await.unwrap());
            let started = Instant::now();
            write_set(&set, if i % 2 == 0 { &b } else { &a }, &public);
            loop {
                let listed = call(&http, &url, "k0rdent.plugins.list", json!({})).await.unwrap();
                if generation(&listed) > before {
                    break;
                }
                assert!(started.elapsed() < Duration::from_secs(120), "no activation: {listed}");
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        stop.store(true, Ordering::Relaxed);
        for task in load {
            task.await.unwrap();
        }
        times.sort_by(f64::total_cmp);
        println!("plugin set change → activation, {swaps} swaps (poll 50 ms, {clients} clients rendering):");
        println!(
            "  median {:.0} ms, min {:.0} ms, max {:.0} ms",
            times[times.len() / 2],
            times[0],
            times[times.len() - 1]
        );
        println!(
            "renders during the swaps: {} ok, {} failed",
            ok.load(Ordering::Relaxed),
            failed.load(Ordering::Relaxed)
        );
    });
}
