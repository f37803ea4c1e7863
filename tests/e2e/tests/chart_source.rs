//! The OCI chart source against a real registry (Debian's docker-registry):
//! tags and digests, the cache with and without network, credentials, TLS,
//! missing charts, hostile archives and concurrent pulls.

use std::sync::Arc;

use k0rdent_mcp::chart::{ArchiveLimits, Chart};
use k0rdent_mcp::oci::{
    ChartRef, ChartSource, ChartSourceOptions, CredentialStore, Credentials, OciError, PullOrigin,
};
use k0rdent_test_harness::charts::{self, RawEntry};
use k0rdent_test_harness::registry::{Auth, Registry, RegistryOptions};
use oci_client::secrets::RegistryAuth;

fn config_json(name: &str, version: &str) -> String {
    format!(r#"{{"apiVersion":"v2","name":"{name}","version":"{version}"}}"#)
}

async fn push(
    registry: &Registry,
    name: &str,
    version: &str,
    tgz: &[u8],
    auth: &RegistryAuth,
    plain: bool,
) -> String {
    charts::push_chart(
        &registry.host(),
        &format!("charts/{name}"),
        version,
        tgz,
        &config_json(name, version),
        auth,
        plain,
    )
    .await
    .expect("pushing a test chart")
}

/// A plain-HTTP registry holding `name:version` (a simple chart, pushed
/// anonymously), the chart's bytes and its manifest digest.
async fn registry_with(name: &str, version: &str) -> Option<(Registry, Vec<u8>, String)> {
    let registry = Registry::plain()?;
    let tgz = charts::simple_chart(name, version);
    let digest = push(
        &registry,
        name,
        version,
        &tgz,
        &RegistryAuth::Anonymous,
        true,
    )
    .await;
    Some((registry, tgz, digest))
}

fn source_for(
    registry: &Registry,
    cache: &std::path::Path,
    credentials: CredentialStore,
) -> ChartSource {
    let mut options = ChartSourceOptions::new(cache);
    if registry.ca_cert.is_none() {
        options.plain_http.push(registry.host());
    }
    ChartSource::new(options, credentials)
}

fn reference(registry: &Registry, name: &str, version: &str) -> ChartRef {
    ChartRef::parse(
        &format!("oci://{}/charts/{name}", registry.host()),
        Some(version),
    )
    .unwrap()
}

#[tokio::test]
async fn pulls_by_tag_then_by_digest_then_from_cache_without_network() {
    let Some((mut registry, tgz, pushed)) = registry_with("minio", "14.1.2").await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let source = source_for(&registry, cache.path(), CredentialStore::default());

    let by_tag = source
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap();
    assert_eq!(by_tag.origin, PullOrigin::Registry);
    assert_eq!(by_tag.manifest_digest, pushed);
    assert_eq!(by_tag.bytes, tgz);
    assert_eq!(by_tag.layer_digest, charts::sha256_digest(&tgz));
    assert!(by_tag.cache_path.starts_with(cache.path()));

    // Second pull of the tag: the registry confirms the digest, bytes come from cache.
    let again = source
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap();
    assert_eq!(again.origin, PullOrigin::Cache);

    registry.stop();

    // A digest already cached needs no network at all.
    let pinned = ChartRef::parse(
        &format!("oci://{}/charts/minio@{pushed}", registry.host()),
        None,
    )
    .unwrap();
    let by_digest = source.pull(&pinned).await.unwrap();
    assert_eq!(by_digest.origin, PullOrigin::Cache);
    assert_eq!(by_digest.bytes, tgz);

    // A tag seen before is served from cache while the registry is down, and says so.
    let offline = source
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap();
    assert!(
        matches!(offline.origin, PullOrigin::CacheOffline { .. }),
        "{:?}",
        offline.origin
    );

    // A tag never seen cannot be served.
    let err = source
        .pull(&reference(&registry, "minio", "9.9.9"))
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("is unreachable"), "{err}");

    // The pulled archive is a loadable chart.
    let chart = Chart::from_archive(&by_tag.bytes, &ArchiveLimits::default()).unwrap();
    assert_eq!(chart.metadata.name, "minio");
    assert!(
        chart
            .files
            .iter()
            .any(|f| f.path == "minio/templates/cm.yaml")
    );
}

#[tokio::test]
async fn a_corrupted_cache_entry_is_detected_and_fetched_again() {
    let Some((registry, tgz, _)) = registry_with("valkey", "0.1.0").await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let source = source_for(&registry, cache.path(), CredentialStore::default());
    let first = source
        .pull(&reference(&registry, "valkey", "0.1.0"))
        .await
        .unwrap();
    std::fs::write(&first.cache_path, b"bit rot").unwrap();
    let second = source
        .pull(&reference(&registry, "valkey", "0.1.0"))
        .await
        .unwrap();
    assert_eq!(second.origin, PullOrigin::Registry);
    assert_eq!(second.bytes, tgz);
    assert_eq!(std::fs::read(&second.cache_path).unwrap(), tgz);
}

#[tokio::test]
async fn a_missing_version_fails_with_the_closest_available_ones() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    for v in ["17.0.21", "14.1.2", "14.1.0", "12.0.0"] {
        push(
            &registry,
            "minio",
            v,
            &charts::simple_chart("minio", v),
            &RegistryAuth::Anonymous,
            true,
        )
        .await;
    }
    let cache = tempfile::tempdir().unwrap();
    let source = source_for(&registry, cache.path(), CredentialStore::default());
    let err = source
        .check_exists(&reference(&registry, "minio", "14.1.9"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with(&format!(
            "chart minio:14.1.9 not found in oci://{}/charts; available: 14.1.2, 14.1.0",
            registry.host()
        )),
        "{text}"
    );
    let err = source
        .pull(&reference(&registry, "minio", "99"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("available: 17.0.21"), "{err}");
    // An existing one resolves.
    source
        .check_exists(&reference(&registry, "minio", "12.0.0"))
        .await
        .unwrap();
}

#[tokio::test]
async fn basic_auth_from_a_registry_config_and_a_clean_error_for_a_wrong_password() {
    let Some(registry) = Registry::start(RegistryOptions {
        auth: Auth::Basic {
            username: "tester".into(),
            password: "s3cret".into(),
        },
        tls: false,
    }) else {
        return;
    };
    let good = RegistryAuth::Basic("tester".into(), "s3cret".into());
    push(
        &registry,
        "minio",
        "14.1.2",
        &charts::simple_chart("minio", "14.1.2"),
        &good,
        true,
    )
    .await;

    // Credentials as `helm registry login` writes them.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"{}":{{"auth":"dGVzdGVyOnMzY3JldA=="}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let source = source_for(
        &registry,
        cache.path(),
        CredentialStore::with_config_files(vec![config]),
    );
    source
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap();

    let mut wrong = CredentialStore::default();
    wrong.set(
        &registry.host(),
        Credentials::Basic {
            username: "tester".into(),
            password: "nope".into(),
        },
    );
    let cache2 = tempfile::tempdir().unwrap();
    let err = source_for(&registry, cache2.path(), wrong)
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            OciError::Unauthorized {
                anonymous: false,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !err.to_string().contains("nope"),
        "the password leaked: {err}"
    );

    let cache3 = tempfile::tempdir().unwrap();
    let err = source_for(&registry, cache3.path(), CredentialStore::default())
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("none were given"), "{err}");
}

#[tokio::test]
async fn tls_with_a_private_ca_and_a_clear_error_without_it() {
    let Some(registry) = Registry::start(RegistryOptions {
        auth: Auth::None,
        tls: true,
    }) else {
        return;
    };
    push(
        &registry,
        "minio",
        "14.1.2",
        &charts::simple_chart("minio", "14.1.2"),
        &RegistryAuth::Anonymous,
        false,
    )
    .await;
    let ca = std::fs::read(registry.ca_cert.as_ref().unwrap()).unwrap();

    let cache = tempfile::tempdir().unwrap();
    let mut options = ChartSourceOptions::new(cache.path());
    options.ca_pem.push(ca);
    let trusted = ChartSource::new(options, CredentialStore::default());
    trusted
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap();

    let cache2 = tempfile::tempdir().unwrap();
    let untrusted = ChartSource::new(
        ChartSourceOptions::new(cache2.path()),
        CredentialStore::default(),
    );
    let err = untrusted
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::Tls { .. }), "{err}");
    assert!(err.to_string().contains("--registry-ca-file"), "{err}");
}

#[tokio::test]
async fn concurrent_pulls_of_one_chart_download_once() {
    let Some((registry, tgz, _)) = registry_with("minio", "14.1.2").await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let source = Arc::new(source_for(
        &registry,
        cache.path(),
        CredentialStore::default(),
    ));
    let r = reference(&registry, "minio", "14.1.2");
    let pulls: Vec<_> = (0..8)
        .map(|_| {
            let (source, r) = (source.clone(), r.clone());
            tokio::spawn(async move { source.pull(&r).await.unwrap() })
        })
        .collect();
    let mut downloads = 0;
    for p in pulls {
        let pulled = p.await.unwrap();
        assert_eq!(pulled.bytes, tgz);
        if pulled.origin == PullOrigin::Registry {
            downloads += 1;
        }
    }
    assert_eq!(downloads, 1, "eight concurrent pulls must download once");
}

#[tokio::test]
async fn an_oversized_chart_is_refused_before_download() {
    let Some((registry, _, _)) = registry_with("minio", "14.1.2").await else {
        return;
    };
    let cache = tempfile::tempdir().unwrap();
    let mut options = ChartSourceOptions::new(cache.path());
    options.plain_http.push(registry.host());
    options.max_chart_bytes = 64;
    let err = ChartSource::new(options, CredentialStore::default())
        .pull(&reference(&registry, "minio", "14.1.2"))
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::TooLarge { .. }), "{err}");
}

#[tokio::test]
async fn a_pulled_archive_that_escapes_its_folder_is_refused_and_not_cached() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let evil = charts::raw_tgz(&[
        RawEntry {
            path: "evil/Chart.yaml",
            kind: tar::EntryType::Regular,
            data: b"name: evil\nversion: 1.0.0\n",
            link: None,
            claimed_size: None,
        },
        RawEntry {
            path: "evil/../../etc/cron.d/x",
            kind: tar::EntryType::Regular,
            data: b"boom",
            link: None,
            claimed_size: None,
        },
    ]);
    push(
        &registry,
        "evil",
        "1.0.0",
        &evil,
        &RegistryAuth::Anonymous,
        true,
    )
    .await;
    let cache = tempfile::tempdir().unwrap();
    let err = source_for(&registry, cache.path(), CredentialStore::default())
        .pull(&reference(&registry, "evil", "1.0.0"))
        .await
        .unwrap_err();
    assert!(matches!(err, OciError::BadChart { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("evil/../../etc/cron.d/x") && text.contains("'..'"),
        "{text}"
    );
    assert!(
        !cache.path().join("blobs").exists(),
        "a refused chart must not be cached"
    );
    let err = Chart::from_archive(&evil, &ArchiveLimits::default()).unwrap_err();
    assert!(err.to_string().contains("'..'"), "{err}");
}

mod hostile_archives {
    use super::*;

    fn load(entries: &[RawEntry<'_>], limits: &ArchiveLimits) -> String {
        Chart::from_archive(&charts::raw_tgz(entries), limits)
            .unwrap_err()
            .to_string()
    }

    fn regular<'a>(path: &'a str, data: &'a [u8]) -> RawEntry<'a> {
        RawEntry {
            path,
            kind: tar::EntryType::Regular,
            data,
            link: None,
            claimed_size: None,
        }
    }

    const CHART: &[u8] = b"name: c\nversion: 1.0.0\n";

    #[test]
    fn absolute_paths_are_refused() {
        let err = load(&[regular("/etc/passwd", b"x")], &ArchiveLimits::default());
        assert!(
            err.contains("\"/etc/passwd\" has an absolute path"),
            "{err}"
        );
    }

    #[test]
    fn links_and_devices_are_refused() {
        for (kind, word) in [
            (tar::EntryType::Symlink, "symbolic link"),
            (tar::EntryType::Link, "hard link"),
            (tar::EntryType::Char, "character device"),
            (tar::EntryType::Block, "block device"),
            (tar::EntryType::Fifo, "FIFO"),
        ] {
            let entry = RawEntry {
                path: "c/templates/x.yaml",
                kind,
                data: b"",
                link: Some("/etc/shadow"),
                claimed_size: None,
            };
            let err = load(
                &[regular("c/Chart.yaml", CHART), entry],
                &ArchiveLimits::default(),
            );
            assert!(
                err.contains("c/templates/x.yaml") && err.contains(word),
                "{word}: {err}"
            );
        }
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_uncompressed_limit() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let entries: Vec<String> = (0..20).map(|i| format!("c/files/zero-{i}")).collect();
        let mut raw = vec![regular("c/Chart.yaml", CHART)];
        raw.extend(entries.iter().map(|p| regular(p, &zeros)));
        let tgz = charts::raw_tgz(&raw);
        assert!(
            tgz.len() < 1024 * 1024,
            "the bomb is small when compressed ({} bytes)",
            tgz.len()
        );
        let err = Chart::from_archive(&tgz, &ArchiveLimits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("expands to more than"), "{err}");
    }

    #[test]
    fn too_many_files_and_oversized_files_are_refused() {
        let limits = ArchiveLimits {
            files: 3,
            ..ArchiveLimits::default()
        };
        let names: Vec<String> = (0..5).map(|i| format!("c/f{i}")).collect();
        let raw: Vec<RawEntry<'_>> = names.iter().map(|p| regular(p, b"x")).collect();
        assert!(load(&raw, &limits).contains("more than 3 files"));
        let limits = ArchiveLimits {
            file_bytes: 10,
            ..ArchiveLimits::default()
        };
        let err = load(&[regular("c/big", &[b'x'; 11])], &limits);
        assert!(
            err.contains("\"c/big\" is 11 bytes, over the per-file limit of 10 bytes"),
            "{err}"
        );
    }

    #[test]
    fn a_header_that_lies_about_its_size_is_refused() {
        let lying = RawEntry {
            path: "c/x",
            kind: tar::EntryType::Regular,
            data: b"abc",
            link: None,
            claimed_size: Some(1_000_000),
        };
        let err = load(&[lying], &ArchiveLimits::default());
        assert!(err.contains("c/x"), "{err}");
    }

    #[test]
    fn files_outside_the_chart_folder_and_missing_chart_yaml_are_named() {
        let err = load(
            &[regular("c/Chart.yaml", CHART), regular("other/x", b"1")],
            &ArchiveLimits::default(),
        );
        assert!(
            err.contains("\"other/x\" is outside the chart folder"),
            "{err}"
        );
        let err = load(
            &[regular("c/values.yaml", b"a: 1")],
            &ArchiveLimits::default(),
        );
        assert!(err.contains("\"c/Chart.yaml\" is missing"), "{err}");
    }

    #[test]
    fn nested_subcharts_expand_in_place_within_the_limits() {
        let sub = charts::tgz(&[
            ("sub/Chart.yaml", b"name: sub\nversion: 0.1.0\n"),
            ("sub/templates/a.yaml", b"a: 1\n"),
        ]);
        let parent = charts::tgz(&[("c/Chart.yaml", CHART), ("c/charts/sub-0.1.0.tgz", &sub)]);
        let chart = Chart::from_archive(&parent, &ArchiveLimits::default()).unwrap();
        let paths: Vec<&str> = chart.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "c/Chart.yaml",
                "c/charts/sub/Chart.yaml",
                "c/charts/sub/templates/a.yaml"
            ]
        );
        let err = Chart::from_archive(
            &parent,
            &ArchiveLimits {
                subchart_depth: 0,
                ..ArchiveLimits::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("nest deeper than 0 levels"), "{err}");
    }
}

/// Archives whose extension headers (GNU long names, PAX records) are
/// gigabytes long: the bytes are really there, compressed about 160:1, as an
/// attacker would build them. Refused at the header, before any of it is read.
mod header_bombs {
    use std::path::Path;
    use std::time::{Duration, Instant};

    use k0rdent_mcp::cli::chart::PullArgs;
    use k0rdent_mcp::cli::template::load_chart_arg;
    use k0rdent_mcp::flags::RegistryArgs;
    use k0rdent_test_harness::charts::HeaderBomb;

    use super::*;

    const GIB_AND_A_HALF: u64 = 1536 << 20;
    /// The most the CLI may print for one of these (`main` prints `Error: {e:#}`).
    const MAX_ERROR_BYTES: usize = 600;
    /// Generous for a debug build on a busy machine; the refusal itself takes milliseconds.
    const PROMPTLY: Duration = Duration::from_secs(10);

    fn registry_args(registry: &Registry, cache: &Path) -> RegistryArgs {
        RegistryArgs {
            plain_http: vec![registry.host()],
            ca_file: None,
            username: None,
            password: None,
            token: None,
            cache_dir: Some(cache.to_path_buf()),
        }
    }

    /// The CLI's stderr for `err`, checked to be short, prompt and to say `expected`.
    fn assert_refused(what: &str, err: anyhow::Error, started: Instant, expected: &[&str]) {
        let elapsed = started.elapsed();
        let printed = format!("Error: {err:#}");
        assert!(
            printed.len() <= MAX_ERROR_BYTES,
            "{what}: the error is {} bytes long: {}…",
            printed.len(),
            printed.chars().take(300).collect::<String>()
        );
        for e in expected {
            assert!(printed.contains(e), "{what}: {printed}");
        }
        assert!(elapsed < PROMPTLY, "{what}: took {elapsed:?}: {printed}");
    }

    fn bombs(len: u64) -> [(HeaderBomb, &'static str); 2] {
        [
            (
                HeaderBomb::GnuLongName(len),
                "a GNU long name header declares",
            ),
            (HeaderBomb::PaxPath(len), "a PAX extended header declares"),
        ]
    }

    #[tokio::test]
    async fn a_chart_with_a_gigabyte_header_is_refused_by_template_and_chart_pull() {
        let Some(registry) = Registry::plain() else {
            return;
        };
        for (i, (bomb, says)) in bombs(GIB_AND_A_HALF).into_iter().enumerate() {
            let tgz = charts::header_bomb_chart("bomb", bomb);
            assert!(
                tgz.len() < 11 << 20,
                "{bomb:?}: the bomb is {} bytes compressed",
                tgz.len()
            );
            let name = format!("bomb{i}");
            push(
                &registry,
                &name,
                "1.0.0",
                &tgz,
                &RegistryAuth::Anonymous,
                true,
            )
            .await;
            let cache = tempfile::tempdir().unwrap();
            let args = registry_args(&registry, cache.path());
            let oci = format!("oci://{}/charts/{name}", registry.host());
            let expected = [says, "over the limit of"];

            let started = Instant::now();
            let err = load_chart_arg(&oci, Some("1.0.0"), &args)
                .await
                .unwrap_err();
            assert_refused(&format!("template {bomb:?}"), err, started, &expected);

            let started = Instant::now();
            let err = k0rdent_mcp::cli::chart::pull(PullArgs {
                reference: oci.clone(),
                version: Some("1.0.0".into()),
                registry: args.clone(),
            })
            .await
            .unwrap_err();
            assert_refused(&format!("chart pull {bomb:?}"), err, started, &expected);
            assert!(
                !cache.path().join("blobs").exists(),
                "{bomb:?}: the bomb was cached"
            );

            let file = cache.path().join("bomb-1.0.0.tgz");
            std::fs::write(&file, &tgz).unwrap();
            let started = Instant::now();
            let err = load_chart_arg(file.to_str().unwrap(), None, &args)
                .await
                .unwrap_err();
            assert_refused(&format!("template .tgz {bomb:?}"), err, started, &expected);
        }
    }

    #[tokio::test]
    async fn a_subchart_with_a_huge_header_is_refused_and_named() {
        let Some(registry) = Registry::plain() else {
            return;
        };
        let len = 512 << 20;
        for (i, (bomb, says)) in bombs(len).into_iter().enumerate() {
            let sub = charts::header_bomb_chart("sub", bomb);
            let parent = charts::tgz(&[
                (
                    "app/Chart.yaml",
                    b"apiVersion: v2\nname: app\nversion: 1.0.0\n",
                ),
                (
                    "app/templates/cm.yaml",
                    b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                ),
                ("app/charts/sub-0.1.0.tgz", &sub),
            ]);
            let name = format!("app{i}");
            push(
                &registry,
                &name,
                "1.0.0",
                &parent,
                &RegistryAuth::Anonymous,
                true,
            )
            .await;
            let cache = tempfile::tempdir().unwrap();
            let args = registry_args(&registry, cache.path());
            let expected = [
                says,
                "subchart \"app/charts/sub-0.1.0.tgz\"",
                "over the limit of",
            ];

            let started = Instant::now();
            let err = load_chart_arg(
                &format!("oci://{}/charts/{name}", registry.host()),
                Some("1.0.0"),
                &args,
            )
            .await
            .unwrap_err();
            assert_refused(&format!("template {bomb:?}"), err, started, &expected);

            let file = cache.path().join("app-1.0.0.tgz");
            std::fs::write(&file, &parent).unwrap();
            let started = Instant::now();
            let err = load_chart_arg(file.to_str().unwrap(), None, &args)
                .await
                .unwrap_err();
            assert_refused(&format!("template .tgz {bomb:?}"), err, started, &expected);
        }
    }

    #[test]
    fn a_header_that_only_claims_gigabytes_is_refused_the_same_way() {
        for kind in [tar::EntryType::GNULongName, tar::EntryType::XHeader] {
            let mut tar_bytes = charts::tar_header("././@LongLink", kind, GIB_AND_A_HALF);
            tar_bytes.extend_from_slice(b"aaaa");
            tar_bytes.resize(4096, 0);
            let tgz = charts::gzip_pieces(&[charts::Piece::Bytes(tar_bytes)]);
            let err = Chart::from_archive(&tgz, &ArchiveLimits::default())
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("declares 1610612736 bytes, over the limit of"),
                "{kind:?}: {err}"
            );
        }
    }

    #[test]
    fn long_paths_within_the_limit_still_load() {
        let long = format!("c/templates/{}.yaml", "n".repeat(300));
        let tgz = charts::tgz(&[
            ("c/Chart.yaml", b"name: c\nversion: 1.0.0\n"),
            (&long, b"a: 1\n"),
        ]);
        let chart = Chart::from_archive(&tgz, &ArchiveLimits::default()).unwrap();
        assert!(chart.files.iter().any(|f| f.path == long));
    }

    #[test]
    fn a_path_over_the_limit_is_refused_with_a_short_quote() {
        let long = format!("c/{}", "p".repeat(5000));
        let tgz = charts::tgz(&[
            ("c/Chart.yaml", b"name: c\nversion: 1.0.0\n"),
            (&long, b"x"),
        ]);
        let err = Chart::from_archive(&tgz, &ArchiveLimits::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("over the limit of 4096 bytes"), "{err}");
        assert!(err.len() < MAX_ERROR_BYTES, "{err}");
    }
}

/// A registry that lies, served from the test (a real registry cannot be made
/// to): a path as its `Docker-Content-Digest`, a digest the bytes do not
/// have, bodies that never end.
mod hostile_registry {
    use std::time::{Duration, Instant};

    use k0rdent_test_harness::registry::{Answer, HostileServer};

    use super::*;

    const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

    fn manifest_for(layer: &[u8]) -> Vec<u8> {
        let config = br#"{"name":"x","version":"1.0.0"}"#;
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": charts::HELM_CONFIG_MEDIA_TYPE,
                "digest": charts::sha256_digest(config),
                "size": config.len(),
            },
            "layers": [{
                "mediaType": charts::HELM_CHART_MEDIA_TYPE,
                "digest": charts::sha256_digest(layer),
                "size": layer.len(),
            }],
        }))
        .unwrap()
    }

    /// Serves the chart `x` with `digest_header` as the manifest's
    /// `Docker-Content-Digest`.
    fn lying_registry(digest_header: String) -> (HostileServer, Vec<u8>) {
        let chart = charts::simple_chart("x", "1.0.0");
        let manifest = manifest_for(&chart);
        let layer = chart.clone();
        let server = HostileServer::start(move |_, path| {
            if path.contains("/manifests/") {
                Answer::Fixed {
                    status: 200,
                    headers: vec![
                        ("Content-Type".into(), OCI_MANIFEST.into()),
                        ("Docker-Content-Digest".into(), digest_header.clone()),
                    ],
                    body: manifest.clone(),
                }
            } else if path.contains("/blobs/") {
                Answer::Fixed {
                    status: 200,
                    headers: Vec::new(),
                    body: layer.clone(),
                }
            } else {
                Answer::Fixed {
                    status: 404,
                    headers: Vec::new(),
                    body: Vec::new(),
                }
            }
        });
        (server, chart)
    }

    fn source(server: &HostileServer, cache: &std::path::Path) -> ChartSource {
        let mut options = ChartSourceOptions::new(cache);
        options.plain_http.push(server.host());
        ChartSource::new(options, CredentialStore::default())
    }

    fn chart_ref(server: &HostileServer) -> ChartRef {
        ChartRef::parse(&format!("oci://{}/charts/x", server.host()), Some("1.0.0")).unwrap()
    }

    #[tokio::test]
    async fn a_digest_header_that_is_a_path_is_refused_before_any_use() {
        let (server, _) = lying_registry("sha256:../../../../../escaped".into());
        let sandbox = tempfile::tempdir().unwrap();
        // Deep enough that `../` from the cache's folders stays inside the sandbox.
        let cache = sandbox.path().join("a/b/c/cache");
        let err = source(&server, &cache)
            .pull(&chart_ref(&server))
            .await
            .unwrap_err();
        assert!(matches!(err, OciError::InvalidDigest { .. }), "{err}");
        assert!(
            err.to_string()
                .contains("invalid Docker-Content-Digest \"sha256:../../../../../escaped\""),
            "{err}"
        );
        std::fs::create_dir_all(&cache).unwrap();
        assert_eq!(walk(sandbox.path()), Vec::<std::path::PathBuf>::new());
    }

    #[tokio::test]
    async fn a_digest_header_the_bytes_do_not_have_is_refused() {
        let other = charts::sha256_digest(b"some other manifest");
        let (server, _) = lying_registry(other.clone());
        let cache = tempfile::tempdir().unwrap();
        let err = source(&server, cache.path())
            .pull(&chart_ref(&server))
            .await
            .unwrap_err();
        assert!(matches!(err, OciError::DigestMismatch { .. }), "{err}");
        assert!(err.to_string().contains(&other), "{err}");
        assert!(walk(cache.path()).is_empty(), "nothing may be cached");

        // Pinned by digest, bytes that hash otherwise are refused too.
        let (server, _) = lying_registry(String::new());
        let pinned =
            ChartRef::parse(&format!("oci://{}/charts/x@{other}", server.host()), None).unwrap();
        let err = source(&server, cache.path())
            .pull(&pinned)
            .await
            .unwrap_err();
        assert!(matches!(err, OciError::DigestMismatch { .. }), "{err}");

        // The honest answer works, so the refusals above are about the lies.
        let chart = charts::simple_chart("x", "1.0.0");
        let (server, _) = lying_registry(charts::sha256_digest(&manifest_for(&chart)));
        let pulled = source(&server, cache.path())
            .pull(&chart_ref(&server))
            .await
            .unwrap();
        assert_eq!(pulled.bytes, chart);
    }

    #[tokio::test]
    async fn endless_bodies_stop_at_their_limit_with_the_url_named() {
        let chart = charts::simple_chart("x", "1.0.0");
        let manifest = manifest_for(&chart);
        let endless_blobs = HostileServer::start(move |_, path| {
            if path.contains("/manifests/") {
                Answer::Fixed {
                    status: 200,
                    headers: vec![("Content-Type".into(), OCI_MANIFEST.into())],
                    body: manifest.clone(),
                }
            } else {
                Answer::Endless {
                    headers: Vec::new(),
                }
            }
        });
        let endless_everything = HostileServer::start(|_, _| Answer::Endless {
            headers: Vec::new(),
        });
        let cache = tempfile::tempdir().unwrap();

        let err = refused_promptly(
            source(&endless_everything, cache.path()).pull(&chart_ref(&endless_everything)),
        )
        .await;
        assert!(matches!(err, OciError::ResponseTooLarge { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains("/v2/charts/x/manifests/1.0.0") && text.contains("4194304 bytes"),
            "{text}"
        );

        let err = refused_promptly(
            source(&endless_everything, cache.path())
                .list_versions(&chart_ref(&endless_everything)),
        )
        .await;
        let text = err.to_string();
        assert!(
            text.contains("/v2/charts/x/tags/list") && text.contains("8388608 bytes"),
            "{text}"
        );

        let err =
            refused_promptly(source(&endless_blobs, cache.path()).pull(&chart_ref(&endless_blobs)))
                .await;
        assert!(matches!(err, OciError::TooLarge { .. }), "{err}");
    }

    /// The error of `call`, which must come well before an endless body could be read.
    async fn refused_promptly<T: std::fmt::Debug>(
        call: impl std::future::Future<Output = Result<T, OciError>>,
    ) -> OciError {
        let started = Instant::now();
        let err = call.await.unwrap_err();
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}: {err}");
        err
    }

    #[tokio::test]
    async fn a_registry_error_body_is_quoted_short() {
        let server = HostileServer::start(|_, _| Answer::Fixed {
            status: 500,
            headers: Vec::new(),
            body: vec![b'e'; 10 << 20],
        });
        let cache = tempfile::tempdir().unwrap();
        let err = source(&server, cache.path())
            .pull(&chart_ref(&server))
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("HTTP 500"), "{err}");
        assert!(err.len() < 600, "{} bytes: {err}", err.len());
    }
}

/// What the cache hands out is checked again when read back.
#[tokio::test]
async fn tampered_cache_entries_are_misses_and_fetched_again() {
    let Some(mut registry) = Registry::plain() else {
        return;
    };
    let tgz_a = charts::simple_chart("alpha", "1.0.0");
    let tgz_b = charts::simple_chart("beta", "1.0.0");
    let anonymous = RegistryAuth::Anonymous;
    let digest_a = push(&registry, "alpha", "1.0.0", &tgz_a, &anonymous, true).await;
    let digest_b = push(&registry, "beta", "1.0.0", &tgz_b, &anonymous, true).await;
    let cache = tempfile::tempdir().unwrap();
    let source = source_for(&registry, cache.path(), CredentialStore::default());
    let alpha = reference(&registry, "alpha", "1.0.0");
    source.pull(&alpha).await.unwrap();
    source
        .pull(&reference(&registry, "beta", "1.0.0"))
        .await
        .unwrap();

    // Point alpha's manifest entry at beta's chart: whatever the layout, the
    // entry named after alpha's digest now holds beta's.
    let manifest_file = |digest: &str| {
        let hex = digest.trim_start_matches("sha256:");
        walk(&cache.path().join("manifests"))
            .into_iter()
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(hex))
            .expect("a cached manifest entry")
    };
    let (file_a, file_b) = (manifest_file(&digest_a), manifest_file(&digest_b));
    std::fs::copy(&file_b, &file_a).unwrap();
    let again = source.pull(&alpha).await.unwrap();
    assert_eq!(again.bytes, tgz_a, "the cache served another chart's bytes");
    assert_eq!(again.origin, PullOrigin::Registry);

    // Offline, tag entries that point outside the cache or come from the
    // future are not served.
    registry.stop();
    let tag_file = walk(&cache.path().join("tags"))
        .into_iter()
        .find(|p| p.to_string_lossy().contains("alpha"))
        .expect("alpha's tag entry");
    for entry in [
        r#"{"manifest_digest":"sha256:../../../../blobs/x","resolved_at":1}"#.to_string(),
        format!(r#"{{"manifest_digest":"{digest_a}","resolved_at":99999999999}}"#),
    ] {
        std::fs::write(&tag_file, &entry).unwrap();
        let err = source.pull(&alpha).await.unwrap_err();
        assert!(
            matches!(err, OciError::Unreachable { .. }),
            "{entry}: {err}"
        );
        assert!(!tag_file.exists(), "{entry}: the bad entry was kept");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
