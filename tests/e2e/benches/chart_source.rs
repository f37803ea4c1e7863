//! Prices pulling kgst from a real local registry: a cold pull (resolve,
//! download, verify, cache), a warm pull by tag (one HEAD, then the cache) and
//! a cached resolve by digest (no network at all). Target: cached ≤ 2 ms.
//!
//! `cargo bench -p k0rdent-e2e --bench chart_source` (needs docker-registry and ../shared).

use std::time::Instant;

use k0rdent_mcp::oci::{ChartRef, ChartSource, ChartSourceOptions, CredentialStore, PullOrigin};
use k0rdent_test_harness::bench::{median, ms};
use k0rdent_test_harness::charts;
use k0rdent_test_harness::registry::Registry;

fn main() {
    let Some(kgst_dir) = charts::shared_kgst_charts() else {
        eprintln!("SKIPPED: ../shared/fixtures/kgst/charts not found");
        return;
    };
    let Some(registry) = Registry::plain() else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let tgz = charts::tgz_from_dir(&kgst_dir.join("2.0.2"), "kgst");
    let config = r#"{"apiVersion":"v2","name":"kgst","version":"2.0.2"}"#;
    let digest = runtime
        .block_on(charts::push_chart(
            &registry.host(),
            "charts/kgst",
            "2.0.2",
            &tgz,
            config,
            &oci_client::secrets::RegistryAuth::Anonymous,
            true,
        ))
        .unwrap();
    let tag_ref = ChartRef::parse(
        &format!("oci://{}/charts/kgst", registry.host()),
        Some("2.0.2"),
    )
    .unwrap();
    let digest_ref = ChartRef::parse(
        &format!("oci://{}/charts/kgst@{digest}", registry.host()),
        None,
    )
    .unwrap();

    let cold = median(11, || {
        let cache = tempfile::tempdir().unwrap();
        let source = source(&registry, cache.path());
        let started = Instant::now();
        let pulled = runtime.block_on(source.pull(&tag_ref)).unwrap();
        assert_eq!(pulled.origin, PullOrigin::Registry);
        started.elapsed()
    });

    let cache = tempfile::tempdir().unwrap();
    let source = source(&registry, cache.path());
    runtime.block_on(source.pull(&tag_ref)).unwrap();
    let warm_tag = median(51, || {
        let started = Instant::now();
        let pulled = runtime.block_on(source.pull(&tag_ref)).unwrap();
        assert_eq!(pulled.origin, PullOrigin::Cache);
        started.elapsed()
    });
    let cached_digest = median(201, || {
        let started = Instant::now();
        let pulled = runtime.block_on(source.pull(&digest_ref)).unwrap();
        assert_eq!(pulled.origin, PullOrigin::Cache);
        started.elapsed()
    });

    println!(
        "chart source benchmark: kgst 2.0.2 ({} bytes) from docker-registry on loopback",
        tgz.len()
    );
    println!(
        "  cold pull by tag (resolve + download + verify + cache)  {:>8.3} ms",
        ms(cold)
    );
    println!(
        "  warm pull by tag (HEAD, then cache)                      {:>8.3} ms",
        ms(warm_tag)
    );
    println!(
        "  cached resolve by digest (no network)                    {:>8.3} ms   target <= 2 ms",
        ms(cached_digest)
    );
}

fn source(registry: &Registry, cache: &std::path::Path) -> ChartSource {
    let mut options = ChartSourceOptions::new(cache);
    options.plain_http.push(registry.host());
    ChartSource::new(options, CredentialStore::default())
}
