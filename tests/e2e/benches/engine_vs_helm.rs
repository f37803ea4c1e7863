//! The same kgst install (`upgrade --install`, chart=<app>:1.0.0) through our
//! engine and through real `helm upgrade --install`, against one real
//! kube-apiserver and one real OCI registry: wall time, the part of our wall
//! time that is not the verify-Job wait (what the host itself costs,
//! including its API round trips), and API requests per install, counted
//! from the apiserver's audit log by user agent.
//!
//! Targets: host overhead ≤ 1/10 of helm's wall time; no more API requests
//! than helm. `cargo bench -p k0rdent-e2e --bench engine_vs_helm`
//! (K0RDENT_MCP_BENCH_RUNS, default 8).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use k0rdent_mcp::chart::{ArchiveLimits, Chart};
use k0rdent_mcp::cluster::{Cluster, ClusterSource, USER_AGENT, connect};
use k0rdent_mcp::engine::{
    Control, EngineOptions, InstallMode, InstallRequest, ReleaseEngine, Step,
};
use k0rdent_mcp::flags::PluginArgs;
use k0rdent_mcp::oci::{ChartRef, ChartSource, ChartSourceOptions, CredentialStore};
use k0rdent_test_harness::bench::ms;
use k0rdent_test_harness::charts;
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::registry::Registry;
use serde_json::json;

const NS: &str = "kcm-system";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    plugins: PluginArgs,
    #[command(flatten)]
    registry: k0rdent_mcp::flags::RegistryArgs,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn median_usize(mut v: Vec<usize>) -> usize {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let Some(kgst_dir) = charts::shared_kgst_charts() else {
        eprintln!("SKIPPED: ../shared/fixtures/kgst/charts not found");
        return;
    };
    let helm = std::env::var_os("K0RDENT_MCP_HELM")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm".into());
    let runs: usize = std::env::var("K0RDENT_MCP_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let Some(registry) = Registry::plain() else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", NS]);
    let _controllers = plane.play_controllers("missing");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let tgz = charts::tgz_from_dir(&kgst_dir.join("2.0.2"), "kgst");
    runtime
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
    let kgst_url = format!("oci://{}/charts/kgst", registry.host());
    let work = tempfile::tempdir().unwrap();
    let source = ChartSource::new(
        ChartSourceOptions {
            plain_http: vec![registry.host()],
            ..ChartSourceOptions::new(work.path().join("charts"))
        },
        CredentialStore::default(),
    );
    let reference = ChartRef::parse(&kgst_url, Some("2.0.2")).unwrap();
    let cli = Cli::parse_from(["bench", "--plugin-cache-dir", "none"]);
    let (_host, plugins) = cli.plugins.load(&cli.registry).unwrap();
    let cluster = runtime.block_on(async {
        Cluster::new(
            connect(&ClusterSource::Kubeconfig(plane.kubeconfig.clone()), None)
                .await
                .unwrap(),
        )
    });
    // helm does not wait for k0rdent's ServiceTemplate verdict; neither do we here.
    let options = EngineOptions {
        validation_timeout: Duration::ZERO,
        ..EngineOptions::default()
    };

    let (mut helm_wall, mut helm_requests) = (Vec::new(), Vec::new());
    let (mut ours_wall, mut ours_host, mut ours_requests) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..runs {
        let before = plane.requests_by("helm");
        let started = Instant::now();
        let out = plane
            .helm_command(&helm)
            .args(["upgrade", "--install", &format!("h{i}"), &kgst_url])
            .args(["--version", "2.0.2", "--plain-http", "-n", NS])
            .args(["--set", &format!("chart=happ{i}:1.0.0"), "--timeout", "60s"])
            .output()
            .unwrap();
        helm_wall.push(started.elapsed());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        helm_requests.push(plane.requests_by("helm") - before);

        let before = plane.requests_by(USER_AGENT);
        let waited: Arc<Mutex<(Option<Instant>, Option<Instant>)>> = Arc::default();
        let sink = {
            let waited = waited.clone();
            Arc::new(move |step: Step, _: &str| {
                let mut w = waited.lock().unwrap();
                match step {
                    Step::VerifyJob => w.0 = Some(Instant::now()),
                    Step::Apply => w.1 = Some(Instant::now()),
                    _ => {}
                }
            })
        };
        let control = Control::new(Default::default(), Some(sink));
        let started = Instant::now();
        runtime.block_on(async {
            let pulled = source.pull(&reference).await.unwrap();
            let chart = Chart::from_archive(&pulled.bytes, &ArchiveLimits::default()).unwrap();
            ReleaseEngine::new(&cluster, &plugins, options.clone())
                .upgrade_install(
                    InstallRequest {
                        release: format!("o{i}"),
                        namespace: NS.into(),
                        chart: &chart,
                        values: json!({ "chart": format!("oapp{i}:1.0.0") })
                            .as_object()
                            .unwrap()
                            .clone(),
                        mode: InstallMode::UpgradeInstall,
                    },
                    &control,
                )
                .await
                .unwrap();
        });
        let wall = started.elapsed();
        let (job_started, job_done) = *waited.lock().unwrap();
        let job_wait = job_done.unwrap() - job_started.unwrap();
        ours_wall.push(wall);
        ours_host.push(wall - job_wait);
        ours_requests.push(plane.requests_by(USER_AGENT) - before);
    }
    if helm_requests.iter().all(|&n| n == 0) {
        let mut agents = plane.request_agents();
        agents.sort();
        agents.dedup();
        panic!("no request had helm's user agent; agents seen: {agents:?}");
    }
    let helm_ms = ms(median(helm_wall));
    let host_ms = ms(median(ours_host));
    println!(
        "kgst upgrade --install, {runs} runs each, medians (apiserver v1.20.2, local registry):"
    );
    println!(
        "  helm v4.1.4 process:      wall {helm_ms:8.1} ms   API requests {}",
        median_usize(helm_requests)
    );
    println!(
        "  k0rdent-mcp engine:       wall {:8.1} ms   API requests {}",
        ms(median(ours_wall)),
        median_usize(ours_requests)
    );
    println!(
        "  engine excl. Job wait:    {host_ms:8.1} ms   (host overhead incl. its API round trips)"
    );
    println!(
        "  host overhead / helm wall: {:.3} (target <= 0.100)",
        host_ms / helm_ms
    );
}
