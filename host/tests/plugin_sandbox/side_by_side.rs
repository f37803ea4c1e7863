//! Several builds of one plugin loaded at once: the one loaded last serves
//! new work, the earlier stays loaded (superseded) and is still found by its
//! sha256, which is how a rollback re-renders with the plugin that rendered
//! the revision. Two real components of the same name and version whose
//! bytes differ (the second carries an extra custom section).

use k0rdent_mcp::plugin::World;
use k0rdent_mcp::plugin::manifest::{PluginSource, sha256_hex};
use k0rdent_mcp::plugin::selection::PluginSet;
use k0rdent_mcp::plugin::{HostOptions, PluginHost};

use super::{limits, source};

/// `base` with a custom section appended: the same component to the
/// runtime, other bytes and so another digest.
fn rebuilt(base: &PluginSource, marker: &str) -> PluginSource {
    let mut bytes = base.bytes.clone();
    let name = b"k0rdent-test-build";
    let payload_len = 1 + name.len() + marker.len();
    assert!(
        payload_len < 128 && name.len() < 128,
        "one-byte LEB128 sizes"
    );
    bytes.push(0); // custom section id
    bytes.push(payload_len as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(marker.as_bytes());
    let mut manifest = base.manifest.clone();
    manifest.sha256 = sha256_hex(&bytes);
    PluginSource {
        manifest,
        bytes,
        origin: format!("{} ({marker})", base.origin),
    }
}

#[test]
fn the_later_build_serves_new_work_and_the_earlier_stays_addressable() {
    let host = PluginHost::new(HostOptions {
        limits: limits(),
        cache_dir: None,
    })
    .unwrap();
    let first = source("kgst-layout-probe");
    let second = rebuilt(&first, "second");
    assert_ne!(first.manifest.sha256, second.manifest.sha256);
    let set = PluginSet::load(&host, &[first.clone(), second.clone(), first.clone()]).unwrap();

    // Loading the first bytes again moved them last: they serve new work now.
    let chosen = set.select(World::Validator, "kgst", "2.0.2").unwrap();
    assert_eq!(chosen.manifest().sha256, first.manifest.sha256);
    let listed: Vec<(String, bool)> = set
        .all()
        .map(|(p, superseded)| (p.manifest().sha256.clone(), superseded))
        .collect();
    assert_eq!(
        listed,
        [
            (second.manifest.sha256.clone(), true),
            (first.manifest.sha256.clone(), false)
        ],
        "one copy per digest, the earlier build superseded"
    );
    assert_eq!(set.iter().count(), 1, "only the serving build is iterated");

    // The superseded build is still found by digest, with or without `sha256:`.
    let old = set.by_digest(&second.manifest.sha256).unwrap();
    assert_eq!(old.origin(), second.origin);
    let prefixed = format!("sha256:{}", second.manifest.sha256);
    assert!(set.by_digest(&prefixed).is_some());
    assert!(set.by_digest(&"0".repeat(64)).is_none());

    // And it still answers: superseded is not unloaded.
    let (intent, chart) = intent();
    let values = old.values_for_intent(&intent, &chart).unwrap().unwrap();
    assert!(values.contains("probe-"), "{values}");
}

fn intent() -> (
    k0rdent_mcp::plugin::contract::InstallIntent,
    k0rdent_mcp::plugin::contract::ChartMetadata,
) {
    (
        k0rdent_mcp::plugin::contract::InstallIntent {
            app: "minio".into(),
            chart: "minio".into(),
            version: "14.1.2".into(),
            repository: "oci://ghcr.io/k0rdent/catalog/charts".into(),
            namespace: "kcm-system".into(),
        },
        k0rdent_mcp::plugin::contract::ChartMetadata {
            name: "kgst".into(),
            version: "2.0.2".into(),
            app_version: None,
            api_version: "v2".into(),
        },
    )
}
