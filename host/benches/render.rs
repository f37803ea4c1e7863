//! Prices rendering kgst 2.0.2: inside the wasm sandbox (fresh instance per
//! call, as the host runs it), the same engine natively, the whole
//! validate + render pipeline, and `helm template` as a process.
//! Target (issue #3): warm render in the sandbox ≤ 1 ms p50.
//!
//! `cargo bench -p k0rdent-mcp --bench render` (needs ../shared; helm from scripts/install-helm is optional).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use k0rdent_mcp::chart::{ArchiveLimits, load_chart_path};
use k0rdent_mcp::plugin::contract::{Capabilities, ReleaseInfo, RenderInput, Timestamp};
use k0rdent_mcp::plugin::selection::PluginSet;
use k0rdent_mcp::plugin::{HostOptions, PluginHost, World, embedded};
use k0rdent_mcp::render::{RenderRequest, render};
use k0rdent_test_harness::bench::{ms, percentile as p, sample};

fn main() {
    let chart_dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/kgst/charts/2.0.2");
    if !chart_dir.is_dir() {
        eprintln!("SKIPPED: {} not found", chart_dir.display());
        return;
    }
    let chart = load_chart_path(&chart_dir, &ArchiveLimits::default()).unwrap();
    let values = r#"{"chart":"minio:14.1.2"}"#;
    let release = ReleaseInfo {
        name: "kgst-release".into(),
        namespace: "kcm-system".into(),
        revision: 1,
        is_install: true,
        is_upgrade: false,
        service: "Helm".into(),
    };
    let capabilities = Capabilities {
        kube_version: "v1.35.0".into(),
        api_versions: vec!["v1".into()],
        helm_version: "v4.1.4".into(),
    };

    let host = PluginHost::new(HostOptions::default()).unwrap();
    let plugins = PluginSet::load(&host, &embedded::sources()).unwrap();
    let renderer = plugins.select(World::Renderer, "kgst", "2.0.2").unwrap();
    let input = RenderInput {
        files: chart.files.clone(),
        values_json: values.into(),
        release: release.clone(),
        capabilities: capabilities.clone(),
        entropy: vec![0; 32],
        now: Timestamp {
            seconds: 0,
            nanoseconds: 0,
        },
    };
    let sandboxed = sample(500, || {
        let started = Instant::now();
        let out = renderer.render(&input).unwrap().unwrap();
        assert_eq!(out.manifests.len(), 3);
        started.elapsed()
    });

    let native = sample(500, || {
        let request = helm_renderer::RenderRequest {
            files: chart
                .files
                .iter()
                .map(|f| helm_renderer::ChartFile {
                    path: &f.path,
                    data: &f.data,
                })
                .collect(),
            values_json: values,
            release: helm_renderer::ReleaseInfo {
                name: release.name.clone(),
                namespace: release.namespace.clone(),
                revision: 1,
                is_install: true,
                is_upgrade: false,
                service: "Helm".into(),
            },
            capabilities: helm_renderer::CapabilitiesInfo {
                kube_version: capabilities.kube_version.clone(),
                api_versions: capabilities.api_versions.clone(),
                helm_version: capabilities.helm_version.clone(),
            },
            limits: helm_renderer::Limits::default(),
        };
        let started = Instant::now();
        let out = helm_renderer::render_on_current_thread(&request).unwrap();
        assert_eq!(out.manifests.len(), 3);
        started.elapsed()
    });

    let user_values: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(values).unwrap();
    let pipeline = sample(300, || {
        let started = Instant::now();
        let rendered = render(
            &plugins,
            RenderRequest {
                chart: &chart,
                release: release.clone(),
                user_values: user_values.clone(),
                capabilities: capabilities.clone(),
            },
        )
        .unwrap();
        assert_eq!(rendered.manifests.len(), 3);
        started.elapsed()
    });

    println!(
        "render benchmark: kgst 2.0.2, chart=minio:14.1.2 (medians and p90 over repeated runs)"
    );
    report(
        "sandboxed render (fresh instance per call)",
        &sandboxed,
        Some("target p50 <= 1 ms"),
    );
    report("same engine natively", &native, None);
    println!(
        "  sandbox / native ratio (p50)                     {:>8.1}x",
        p(&sandboxed, 50).as_secs_f64() / p(&native, 50).as_secs_f64()
    );
    report("validate + render pipeline (two plugins)", &pipeline, None);

    match helm_binary() {
        Some(helm) => {
            let runs = sample(10, || {
                let started = Instant::now();
                let out = Command::new(&helm)
                    .args(["template", "kgst-release"])
                    .arg(&chart_dir)
                    .args(["-n", "kcm-system", "--set", "chart=minio:14.1.2"])
                    .output()
                    .unwrap();
                assert!(out.status.success());
                started.elapsed()
            });
            report("helm template v4.1.4 as a process", &runs, None);
            println!(
                "  helm process / sandboxed pipeline (p50)          {:>8.1}x",
                p(&runs, 50).as_secs_f64() / p(&pipeline, 50).as_secs_f64()
            );
        }
        None => println!(
            "  helm template as a process                       skipped (run scripts/install-helm)"
        ),
    }
}

fn helm_binary() -> Option<PathBuf> {
    let cache =
        std::env::var("K0RDENT_MCP_CACHE").unwrap_or_else(|_| "/var/tmp/k0rdent-mcp-cache".into());
    let helm = PathBuf::from(cache).join("tools/helm");
    helm.is_file().then_some(helm)
}

fn report(what: &str, samples: &[Duration], target: Option<&str>) {
    println!(
        "  {what:<48} p50 {:>8.3} ms   p90 {:>8.3} ms   {}",
        ms(p(samples, 50)),
        ms(p(samples, 90)),
        target.unwrap_or("")
    );
}
