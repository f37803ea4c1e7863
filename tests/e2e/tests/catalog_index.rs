//! The catalog index served by a local HTTP server: fetch, TTL, the last good
//! copy when offline (with its age), validation naming the field, lookups.

use std::time::Duration;

use k0rdent_mcp::catalog::{
    CatalogError, CatalogOrigin, CatalogSource, CatalogSourceOptions, DEFAULT_REPOSITORY,
};
use k0rdent_test_harness::http::StaticServer;

fn test_index() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/catalog-index.json"
    ))
    .unwrap()
}

fn options(location: String, cache: &std::path::Path, ttl: Duration) -> CatalogSourceOptions {
    CatalogSourceOptions {
        location,
        ttl,
        timeout: Duration::from_secs(5),
        ..CatalogSourceOptions::new(cache)
    }
}

#[tokio::test]
async fn fetches_caches_and_serves_the_last_good_copy_when_offline() {
    let mut server = StaticServer::serve("/latest/index.json", test_index());
    let cache = tempfile::tempdir().unwrap();
    let source = CatalogSource::new(options(
        server.url(),
        cache.path(),
        Duration::from_secs(600),
    ));

    let first = source.get(false).await.unwrap();
    assert_eq!(first.origin, CatalogOrigin::Fetched);
    assert_eq!(first.index.version, "1.11.0");
    assert_eq!(first.index.addons.len(), 5);
    let again = source.get(false).await.unwrap();
    assert_eq!(again.origin, CatalogOrigin::Memory);
    assert_eq!(
        server.hits.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "the TTL avoided a second fetch"
    );
    assert_eq!(
        source.get(true).await.unwrap().origin,
        CatalogOrigin::Fetched
    );

    server.stop();
    let stale = source.get(true).await.unwrap();
    assert_eq!(stale.origin, CatalogOrigin::Stale);
    let warning = stale.warning.unwrap();
    assert!(
        warning.contains("cannot be read") && warning.contains("seconds ago"),
        "{warning}"
    );

    // A new process (nothing in memory) finds the last good copy on disk.
    let restarted = CatalogSource::new(options(server.url(), cache.path(), Duration::ZERO));
    let from_disk = restarted.get(false).await.unwrap();
    assert_eq!(from_disk.origin, CatalogOrigin::Stale);
    assert_eq!(from_disk.index.addons[0].name, "minio");

    // Nothing cached and nothing reachable is an error that says so.
    let empty = tempfile::tempdir().unwrap();
    let err = CatalogSource::new(options(server.url(), empty.path(), Duration::ZERO))
        .get(false)
        .await
        .unwrap_err();
    assert!(matches!(err, CatalogError::Unavailable { .. }), "{err}");
    assert!(
        err.to_string().contains("no earlier copy is cached"),
        "{err}"
    );
}

#[tokio::test]
async fn a_malformed_index_is_an_error_naming_the_field() {
    let broken = String::from_utf8(test_index())
        .unwrap()
        .replace(r#""versions": ["0.1.0"]"#, r#""versions": "0.1.0""#);
    let server = StaticServer::serve("/index.json", broken.into_bytes());
    let cache = tempfile::tempdir().unwrap();
    let err = CatalogSource::new(options(server.url(), cache.path(), Duration::from_secs(60)))
        .get(false)
        .await
        .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "catalog index field addons[1].charts[0].versions: must be a list, found a string"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn reads_a_local_file_and_answers_lookups() {
    let cache = tempfile::tempdir().unwrap();
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/catalog-index.json").to_string();
    let snapshot = CatalogSource::new(options(file, cache.path(), Duration::from_secs(60)))
        .get(false)
        .await
        .unwrap();
    let index = &snapshot.index;
    let names = |q: Option<&str>, t: Option<&str>| {
        index
            .search(q, t)
            .iter()
            .map(|a| a.name.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(names(Some("storage"), None), ["minio"]);
    assert_eq!(names(None, Some("ingress")), ["ingress-nginx"]);
    let (_, minio) = index.chart_version("minio", "minio", "14.1.2").unwrap();
    assert_eq!(minio.repository, DEFAULT_REPOSITORY);
    let (_, nginx) = index
        .chart_version("ingress-nginx", "ingress-nginx", "4.11.5")
        .unwrap();
    assert_eq!(
        nginx.repository,
        "oci://registry.example.com/partner/charts"
    );
    let (_, acme) = index
        .chart_version("acme-enterprise", "acme", "1.0.0")
        .unwrap();
    assert_eq!(
        acme.repository,
        "oci://registry.mirantis.com/k0rdent-enterprise-catalog"
    );
    assert_eq!(
        index.app("prometeus").unwrap_err().to_string(),
        "app \"prometeus\" is not in the catalog; did you mean prometheus?"
    );
    assert_eq!(
        index
            .chart_version("minio", "minio", "99")
            .unwrap_err()
            .to_string(),
        "chart minio:99 is not in the catalog; available: 17.0.21, 14.1.2"
    );
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Rewrites the one cached index entry's fetch time.
fn forge_fetched_at(cache: &std::path::Path, at: u64) {
    let file = std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .expect("a cached index");
    let mut entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    entry["fetched_at"] = at.into();
    std::fs::write(&file, serde_json::to_vec(&entry).unwrap()).unwrap();
}

#[tokio::test]
async fn a_cached_index_stamped_in_the_future_is_stale_not_fresh_forever() {
    let mut server = StaticServer::serve("/latest/index.json", test_index());
    let cache = tempfile::tempdir().unwrap();
    let ttl = Duration::from_secs(600);
    let first = CatalogSource::new(options(server.url(), cache.path(), ttl))
        .get(false)
        .await
        .unwrap();
    assert_eq!(first.origin, CatalogOrigin::Fetched);

    // A year ahead: with `now - fetched_at` saturating at zero it would never expire.
    forge_fetched_at(cache.path(), now() + 365 * 86400);
    let restarted = CatalogSource::new(options(server.url(), cache.path(), ttl))
        .get(false)
        .await
        .unwrap();
    assert_eq!(restarted.origin, CatalogOrigin::Fetched);
    assert_eq!(server.hits.load(std::sync::atomic::Ordering::SeqCst), 2);

    // Offline, such a copy is still the last good one, and is labelled for what it is.
    forge_fetched_at(cache.path(), now() + 365 * 86400);
    server.stop();
    let offline = CatalogSource::new(options(server.url(), cache.path(), ttl))
        .get(false)
        .await
        .unwrap();
    assert_eq!(offline.origin, CatalogOrigin::Stale);
    let warning = offline.warning.unwrap();
    assert!(warning.contains("fetch time is in the future"), "{warning}");
}

#[tokio::test]
async fn an_oversized_or_endless_index_stops_at_the_limit_naming_the_url() {
    use k0rdent_test_harness::registry::{Answer, HostileServer};
    let limit = 1u64 << 20;
    let cache = tempfile::tempdir().unwrap();
    let with_limit = |url: String| CatalogSourceOptions {
        max_bytes: limit,
        ..options(url, cache.path(), Duration::from_secs(60))
    };

    let declared = StaticServer::serve("/index.json", vec![b' '; 2 << 20]);
    let err = CatalogSource::new(with_limit(declared.url()))
        .get(false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&declared.url()) && err.contains("larger than the limit of 1048576 bytes"),
        "{err}"
    );

    let endless = HostileServer::start(|_, _| Answer::Endless {
        headers: Vec::new(),
    });
    let url = format!("http://{}/index.json", endless.host());
    let started = std::time::Instant::now();
    let err = CatalogSource::new(with_limit(url.clone()))
        .get(false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&url) && err.contains("larger than the limit of 1048576 bytes"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(20));
}
