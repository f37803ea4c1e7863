//! A whole one-shot `k0rdent-mcp upgrade --install` process against a whole `helm upgrade
//! --install` v4 process, side by side in one run, on one real kube-apiserver and one real OCI
//! registry: kgst 2.0.2 pulled by tag, a fresh release per run, `skipVerifyJob=true` for both (so
//! no Job wait is in either figure) and `--validation-timeout 0s` for ours (helm does not wait for
//! k0rdent's ServiceTemplate verdict either). Nothing else is excluded: each figure is the wall
//! time from spawn to exit of the process.
//!
//! Prints medians of the walls, their ratio (issue #14's goal: <= 0.10), the API requests of each
//! (from the apiserver's audit log, by user agent; ours also from `--timings`' own count), and our
//! per-phase breakdown from `--timings`. One warm-up run of each is left out (it fills our
//! precompiled plugin cache and both chart caches).
//!
//! `cargo bench -p k0rdent-mcp --bench process_vs_helm` (K0RDENT_MCP_BENCH_RUNS, default 10).
//! `K0RDENT_MCP_BENCH_BINARY` measures another build of the binary (e.g. an existing release build
//! while this harness, which only spawns and times processes, is built with `--profile dev`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k0rdent_test_harness::charts;
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::registry::Registry;

const BIN: &str = env!("CARGO_BIN_EXE_k0rdent-mcp");
const NS: &str = "kcm-system";
/// `User-Agent` prefix of our requests in the audit log.
const OUR_AGENT: &str = "k0rdent-mcp/";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `[timings] <phase> | <start ms> | <took ms>` lines, and the request count.
fn parse_timings(stderr: &str) -> (Vec<(String, f64)>, Option<usize>) {
    let mut phases = Vec::new();
    let mut requests = None;
    for line in stderr.lines() {
        let Some(rest) = line.strip_prefix("[timings] ") else {
            continue;
        };
        let cells: Vec<&str> = rest.split(" | ").collect();
        match cells.as_slice() {
            ["api requests", n] => requests = n.trim().parse().ok(),
            [name, _start, took] => {
                if let Ok(took) = took.trim().parse::<f64>() {
                    phases.push((name.to_string(), took));
                }
            }
            _ => {}
        }
    }
    (phases, requests)
}

struct Ours<'a> {
    kubeconfig: &'a Path,
    work: &'a Path,
    registry: String,
}

/// The binary under test.
fn binary() -> PathBuf {
    std::env::var_os("K0RDENT_MCP_BENCH_BINARY")
        .map(PathBuf::from)
        .unwrap_or_else(|| BIN.into())
}

impl Ours<'_> {
    fn command(&self, release: &str) -> Command {
        let mut command = Command::new(binary());
        command
            .args(["upgrade", "--install", release])
            .arg(format!("oci://{}/charts/kgst", self.registry))
            .args([
                "--version",
                "2.0.2",
                "--plain-http",
                &self.registry,
                "-n",
                NS,
            ])
            .args(["--set", &format!("chart={release}-app:1.0.0")])
            .args(["--set", "skipVerifyJob=true", "--validation-timeout", "0s"])
            .arg("--timings")
            .arg("--kubeconfig")
            .arg(self.kubeconfig)
            .env("K0RDENT_MCP_CHART_CACHE_DIR", self.work.join("charts"))
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", self.work.join("plugins"))
            .env("XDG_CACHE_HOME", self.work.join("xdg-cache"))
            .env("K0RDENT_MCP_LOG", "warn");
        command
    }
}

fn helm_path() -> PathBuf {
    std::env::var_os("K0RDENT_MCP_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm".into())
}

fn main() {
    let Some(kgst_dir) = charts::shared_kgst_charts() else {
        eprintln!("SKIPPED: ../shared/fixtures/kgst/charts not found");
        return;
    };
    let helm = helm_path();
    if !helm.is_file() {
        eprintln!(
            "SKIPPED: no helm at {} (scripts/install-helm)",
            helm.display()
        );
        return;
    }
    let runs: usize = std::env::var("K0RDENT_MCP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let Some(registry) = Registry::plain() else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", NS]);
    let _controllers = plane.play_controllers("missing");
    let tgz = charts::tgz_from_dir(&kgst_dir.join("2.0.2"), "kgst");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(charts::push_chart(
            &registry.host(),
            "charts/kgst",
            "2.0.2",
            &tgz,
            r#"{"apiVersion":"v2","name":"kgst","version":"2.0.2"}"#,
            &oci_client::secrets::RegistryAuth::Anonymous,
            true,
        ))
        .unwrap();
    let work = tempfile::tempdir().unwrap();
    let ours = Ours {
        kubeconfig: &plane.kubeconfig,
        work: work.path(),
        registry: registry.host(),
    };
    let kgst_url = format!("oci://{}/charts/kgst", registry.host());

    let run_helm = |release: &str| -> (f64, usize) {
        let before = plane.requests_by("Helm/");
        let started = Instant::now();
        let out = plane
            .helm_command(&helm)
            .args(["upgrade", "--install", release, &kgst_url])
            .args(["--version", "2.0.2", "--plain-http", "-n", NS])
            .args(["--set", &format!("chart={release}-app:1.0.0")])
            .args(["--set", "skipVerifyJob=true"])
            .output()
            .unwrap();
        let wall = ms(started.elapsed());
        assert!(
            out.status.success(),
            "helm: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (wall, plane.requests_by("Helm/") - before)
    };
    let run_ours = |release: &str| -> (f64, usize, String) {
        let before = plane.requests_by(OUR_AGENT);
        let started = Instant::now();
        let out = ours.command(release).output().unwrap();
        let wall = ms(started.elapsed());
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "k0rdent-mcp: {stderr}");
        (wall, plane.requests_by(OUR_AGENT) - before, stderr)
    };

    // Warm-up: fills our plugin cache (compiling the components) and both chart caches.
    run_helm("hwarm");
    let (_, _, warm) = run_ours("owarm");
    assert!(
        !warm.contains("not using the precompiled plugin cache"),
        "the plugin cache was refused: {warm}"
    );

    let (mut helm_wall, mut helm_requests) = (Vec::new(), Vec::new());
    let (mut our_wall, mut our_requests, mut counted) = (Vec::new(), Vec::new(), Vec::new());
    let mut in_process = Vec::new();
    let mut phases: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for i in 0..runs {
        // Alternate who goes first, so neither always runs right after the other's writes.
        let (h, o) = if i % 2 == 0 {
            let h = run_helm(&format!("h{i}"));
            (h, run_ours(&format!("o{i}")))
        } else {
            let o = run_ours(&format!("o{i}"));
            (run_helm(&format!("h{i}")), o)
        };
        helm_wall.push(h.0);
        helm_requests.push(h.1 as f64);
        our_wall.push(o.0);
        our_requests.push(o.1 as f64);
        let (list, requests) = parse_timings(&o.2);
        counted.push(requests.expect("--timings printed the request count") as f64);
        for (name, took) in list {
            if name.starts_with("total in process") {
                in_process.push(took);
                continue;
            }
            if !order.contains(&name) {
                order.push(name.clone());
            }
            phases.entry(name).or_default().push(took);
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let (helm_ms, our_ms) = (median(helm_wall), median(our_wall));
    let inside = median(in_process);
    println!(
        "kgst 2.0.2 upgrade --install (fresh release, skipVerifyJob=true), {runs} runs each, medians; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    println!("k0rdent-mcp: {}", binary().display());
    println!("| what | wall ms | API requests |");
    println!("|---|---|---|");
    println!(
        "| `helm upgrade --install` v4 (process) | {helm_ms:.1} | {} |",
        median(helm_requests)
    );
    println!(
        "| `k0rdent-mcp upgrade --install` (process) | {our_ms:.1} | {} (audit log), {} (own count) |",
        median(our_requests),
        median(counted)
    );
    println!(
        "| ratio k0rdent-mcp / helm | {:.3} | (goal <= 0.10) |",
        our_ms / helm_ms
    );
    println!();
    println!("k0rdent-mcp phases (--timings), medians; phases that overlap run concurrently:");
    println!("| phase | ms |");
    println!("|---|---|");
    for name in &order {
        println!("| {name} | {:.2} |", median(phases[name].clone()));
    }
    println!("| total in process (main to exit) | {inside:.2} |");
    println!(
        "| outside main (exec, loading, exit; wall minus in-process) | {:.2} |",
        our_ms - inside
    );
}
