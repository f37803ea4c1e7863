//! A chart that generates a password must get a different, unguessable one
//! on every render, and `now` must be the time; only `--deterministic` fixes both.

use std::time::{SystemTime, UNIX_EPOCH};

use k0rdent_mcp::chart::{ArchiveLimits, load_chart_path};
use k0rdent_mcp::plugin::contract::{Capabilities, ReleaseInfo};
use k0rdent_mcp::plugin::selection::PluginSet;
use k0rdent_mcp::plugin::{HostOptions, PluginHost, embedded};
use k0rdent_mcp::render::{RenderRequest, render};

use super::cli;

const SECRETS: &str = "apiVersion: v1
kind: Secret
metadata:
  name: generated
stringData:
  password: {{ randAlphaNum 24 | quote }}
  id: {{ uuidv4 | quote }}
  now: {{ now | unixEpoch | quote }}
";

/// `(password, id, now)` from a rendered [`SECRETS`].
fn generated(rendered: &str) -> (String, String, i64) {
    let field = |name: &str| {
        rendered
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .unwrap_or_else(|| panic!("no {name} in:\n{rendered}"))
            .trim_matches('"')
            .to_string()
    };
    (
        field("password"),
        field("id"),
        field("now").parse().unwrap(),
    )
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn template_generates_a_new_password_every_render_and_knows_the_time() {
    let dir = tempfile::tempdir().unwrap();
    let chart = cli::chart(dir.path(), "secrets", "1.0.0", SECRETS);
    let chart = chart.to_str().unwrap();
    let before = unix_now();
    let first = generated(&cli::ok(cli::run(&["template", "r", chart], &[])));
    let second = generated(&cli::ok(cli::run(&["template", "r", chart], &[])));
    let after = unix_now();
    assert_ne!(first.0, second.0, "the same password twice");
    assert_ne!(first.1, second.1, "the same uuid twice");
    assert_eq!(first.0.len(), 24);
    for (_, _, now) in [&first, &second] {
        assert!(
            (before..=after).contains(now),
            "now = {now}, not within {before}..={after}"
        );
    }
}

#[test]
fn deterministic_template_renders_the_same_twice() {
    let dir = tempfile::tempdir().unwrap();
    let chart = cli::chart(dir.path(), "secrets", "1.0.0", SECRETS);
    let chart = chart.to_str().unwrap();
    let by_flag = cli::ok(cli::run(&["template", "r", chart, "--deterministic"], &[]));
    let by_env = cli::ok(cli::run(
        &["template", "r", chart],
        &[("K0RDENT_MCP_DETERMINISTIC", "true")],
    ));
    assert_eq!(by_flag, by_env);
    let (password, _, now) = generated(&by_flag);
    assert_eq!(password.len(), 24);
    assert_eq!(now, 0, "deterministic time is the Unix epoch");
}

/// The path the MCP tools and the release engine take.
#[test]
fn the_shared_render_path_supplies_entropy_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let chart_dir = cli::chart(dir.path(), "secrets", "1.0.0", SECRETS);
    let chart = load_chart_path(&chart_dir, &ArchiveLimits::default()).unwrap();
    let host = PluginHost::new(HostOptions {
        cache_dir: Some(cli::shared_cache_dir()),
        ..HostOptions::default()
    })
    .unwrap();
    let plugins = PluginSet::load(&host, &embedded::sources()).unwrap();
    let once = || {
        let rendered = render(
            &plugins,
            RenderRequest {
                chart: &chart,
                release: ReleaseInfo {
                    name: "r".into(),
                    namespace: "default".into(),
                    revision: 1,
                    is_install: true,
                    is_upgrade: false,
                    service: "Helm".into(),
                },
                user_values: Default::default(),
                capabilities: Capabilities {
                    kube_version: "v1.35.0".into(),
                    api_versions: vec!["v1".into()],
                    helm_version: "v4.1.4".into(),
                },
            },
        )
        .unwrap();
        generated(&rendered.manifests[0].content)
    };
    let (first, second) = (once(), once());
    assert_ne!(first.0, second.0);
    assert!(first.2 >= unix_now() - 60, "now = {}", first.2);
}
