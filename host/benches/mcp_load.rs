//! Load: 50 concurrent `install_from_catalog` calls (one namespace each)
//! from the official MCP Python SDK over streamable HTTP to the real binary,
//! against a real registry and kube-apiserver (Jobs and ServiceTemplates
//! finished by the harness's played controllers). Prints p50/p99 latency,
//! errors (must be 0) and the server's peak RSS.
//!
//! `cargo bench -p k0rdent-mcp --bench mcp_load` (K0RDENT_MCP_LOAD_CALLS, default 50;
//! needs what scripts/test installs).

use std::process::Command;

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Value, json};

#[path = "../tests/support/mod.rs"]
mod support;
use support::{McpFixture, Server, kgst_dir, python_with_mcp};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/e2e/clients/mcp_load.py"
);

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Peak resident set of a process, from /proc (kB → MiB).
fn peak_rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn main() {
    let calls: usize = std::env::var("K0RDENT_MCP_LOAD_CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let (Some(python), Some(kgst)) = (python_with_mcp(), kgst_dir()) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(fixture) = runtime.block_on(McpFixture::start(&kgst)) else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let namespaces: String = (0..calls)
        .map(|i| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("load-{i}")}}).to_string())
        .collect::<Vec<_>>()
        .join("\n---\n");
    plane.apply(&namespaces);
    let _controllers = plane.play_controllers("missing");
    let work = tempfile::tempdir().unwrap();
    let env = vec![
        (
            "K0RDENT_MCP_CATALOG_URL",
            fixture.index.display().to_string(),
        ),
        (
            "K0RDENT_MCP_KGST_CHART",
            format!("{}/kgst", fixture.repository),
        ),
        ("K0RDENT_MCP_KGST_VERSION", "2.0.2".to_string()),
        ("K0RDENT_MCP_PLAIN_HTTP", fixture.registry.host()),
        ("K0RDENT_MCP_NAMESPACE_FILTER", "load-[0-9]+".to_string()),
        (
            "K0RDENT_MCP_KUBECONFIG",
            plane.kubeconfig.display().to_string(),
        ),
        ("K0RDENT_MCP_VALIDATION_TIMEOUT", "120s".to_string()),
        ("K0RDENT_MCP_LOG", "warn".to_string()),
    ];
    let server = Server::start(work.path(), &[], &env);
    let idle_rss = peak_rss_mib(server.pid());
    let out = Command::new(&python)
        .args([CLIENT, &server.url("/mcp"), &calls.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut latencies: Vec<f64> = result["latencies_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    latencies.sort_by(f64::total_cmp);
    let errors = result["errors"].as_array().unwrap();
    println!(
        "{calls} concurrent install_from_catalog calls (Python SDK, streamable HTTP, one namespace each):"
    );
    println!(
        "  latency p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; all done in {:.0} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        result["total_ms"].as_f64().unwrap_or(f64::NAN)
    );
    println!("  errors {} (must be 0)", errors.len());
    println!(
        "  server peak RSS {:.1} MiB (after start-up {:.1} MiB)",
        peak_rss_mib(server.pid()),
        idle_rss
    );
    for e in errors.iter().take(5) {
        println!("  error: {e}");
    }
    assert!(errors.is_empty(), "load test had errors");
}
