//! The release remembers its plugins: each revision we write records the
//! renderer and validator that rendered it (in Secret labels helm keeps),
//! `history` shows them, and a rollback re-renders the target with exactly
//! those components when they are loaded, or says plainly that it applied the
//! stored manifest unchecked when one is gone. Real binary over stdio, real
//! registry, real kube-apiserver, real helm v4 (and v3) reading the release.
//!
//! Validator A is the test plugin `kgst-layout-probe` (its layout prefixes
//! ServiceTemplate names with `probe-`), B the embedded kgst 2.x validator.

use std::path::{Path, PathBuf};

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Value, json};

mod support;
use support::{McpFixture, RawStdio, helm, helm3, kgst_dir};

const NS: &str = "kcm-system";
const INSTALL: &str = "k0rdent.mgmt.serviceTemplates.install_from_catalog";
const HISTORY: &str = "k0rdent.mgmt.releases.history";
const ROLLBACK: &str = "k0rdent.mgmt.releases.rollback";
const PLUGINS: &str = "k0rdent.plugins.list";

/// A `--plugin-dir` holding the test plugin `name` alone.
fn plugin_dir(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"));
    let manifest = format!("{name}.plugin.json");
    let wasm = format!("{}.wasm", name.replace('-', "_"));
    std::fs::copy(from.join(&manifest), dir.path().join(&manifest)).unwrap();
    std::fs::copy(from.join(&wasm), dir.path().join(&wasm)).unwrap();
    dir
}

struct Env {
    plane: ControlPlane,
    fixture: McpFixture,
    _controllers: k0rdent_test_harness::controllers::PlayedControllers,
}

impl Env {
    /// The server over stdio against the cluster, with `plugin_dir` if given.
    fn serve(&self, plugin_dir: Option<&Path>) -> RawStdio {
        let index = self.fixture.index.display().to_string();
        let kgst = format!("{}/kgst", self.fixture.repository);
        let host = self.fixture.registry.host();
        let kubeconfig = self.plane.kubeconfig.display().to_string();
        let mut args = vec![
            "--catalog-url",
            index.as_str(),
            "--kgst-chart",
            kgst.as_str(),
            "--plain-http",
            host.as_str(),
            "--kubeconfig",
            kubeconfig.as_str(),
            "--validation-timeout",
            "20s",
        ];
        let dir;
        if let Some(path) = plugin_dir {
            dir = path.display().to_string();
            args.extend_from_slice(&["--plugin-dir", dir.as_str()]);
        }
        let mut server = RawStdio::start(self.fixture.work.path(), &args);
        let init = json!({"jsonrpc": "2.0", "id": "init", "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}});
        server.ask(init.to_string().as_bytes());
        server.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        server
    }

    /// Labels of the release Secret of `revision` (ours only).
    fn labels(&self, revision: u32) -> Vec<(String, String)> {
        let secret: Value = serde_json::from_str(&self.plane.kubectl(&[
            "get",
            "secret",
            &format!("sh.helm.release.v1.minio.v{revision}"),
            "-n",
            NS,
            "-o",
            "json",
        ]))
        .unwrap();
        secret["metadata"]["labels"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.starts_with("k0rdent-mcp.k0rdent.io/"))
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect()
    }

    /// The ServiceTemplate in the deployed revision's manifest, as helm v4
    /// reads it (`helm get manifest`). Older ones stay live: kgst keeps them.
    fn deployed_template(&self) -> String {
        let manifest = helm(&self.plane, &["get", "manifest", "minio", "-n", NS]);
        let template = manifest
            .split("\n---")
            .find(|doc| doc.contains("kind: ServiceTemplate"))
            .unwrap_or_else(|| panic!("no ServiceTemplate in {manifest}"));
        let name = template
            .lines()
            .find_map(|l| l.trim().strip_prefix("name: "))
            .unwrap();
        name.trim_matches('"').to_string()
    }
}

/// The tool's structured result; panics with the whole answer on an error.
fn call(server: &mut RawStdio, tool: &str, arguments: Value) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}});
    let result = server.ask(call.to_string().as_bytes())["result"].clone();
    assert_eq!(result["isError"], false, "{tool}: {result}");
    result["structuredContent"].clone()
}

fn install_minio(server: &mut RawStdio) -> Value {
    call(
        server,
        INSTALL,
        json!({"app": "minio", "template": "minio", "version": "14.1.2", "timeout": "60s"}),
    )
}

/// `validator`'s digest of each revision in the history tool's answer
/// (`helm` for a revision helm rendered).
fn validators(server: &mut RawStdio) -> Vec<String> {
    let history = call(server, HISTORY, json!({"release": "minio"}));
    history["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r.get("plugins") {
            None => {
                assert_eq!(r["rendered_by"], "helm", "{r}");
                "helm".to_string()
            }
            Some(plugins) => {
                let line = r["rendered_by"].as_str().unwrap();
                let name = plugins["validator"]["name"].as_str().unwrap();
                assert!(line.contains(name), "{line} names {name}");
                plugins["validator"]["digest"].as_str().unwrap().to_string()
            }
        })
        .collect()
}

/// The digest `plugins.list` reports for `name`, and whether it is superseded.
fn digest_of(server: &mut RawStdio, name: &str) -> String {
    let list = call(server, PLUGINS, json!({}));
    list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not loaded: {list}"))["digest"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_names_each_revisions_plugins_and_rollback_rerenders_with_them() {
    let Some(kgst) = kgst_dir() else { return };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", NS]);
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    let controllers = plane.play_controllers("missing");
    let env = Env {
        plane,
        fixture,
        _controllers: controllers,
    };
    let probe = plugin_dir("kgst-layout-probe");

    // Revision 1 with validator A: its layout names the ServiceTemplate.
    let mut server = env.serve(Some(probe.path()));
    let a = digest_of(&mut server, "kgst-layout-probe");
    let b = digest_of(&mut server, "kgst-validator-v2");
    assert_ne!(a, b);
    let installed = install_minio(&mut server);
    assert_eq!(installed["status"], "created", "{installed}");
    assert_eq!(env.deployed_template(), "probe-minio-14-1-2");
    drop(server);

    // Revision 2 with validator B (A not loaded): the plain 2.x layout.
    let mut server = env.serve(None);
    let upgraded = install_minio(&mut server);
    assert_eq!(upgraded["status"], "updated", "{upgraded}");
    assert_eq!(env.deployed_template(), "minio-14-1-2");
    assert_eq!(validators(&mut server), [a.clone(), b.clone()]);

    // helm v4 and v3 still read the release and its history.
    let helm_history: Value = serde_json::from_str(&helm(
        &env.plane,
        &["history", "minio", "-n", NS, "-o", "json"],
    ))
    .unwrap();
    assert_eq!(helm_history.as_array().unwrap().len(), 2, "{helm_history}");
    let helm_list = helm(&env.plane, &["list", "-n", NS, "-o", "json"]);
    assert!(helm_list.contains("\"minio\""), "{helm_list}");
    if let Some(v3) = helm3(&env.plane, &["history", "minio", "-n", NS, "-o", "json"]) {
        let v3: Value = serde_json::from_str(&v3).unwrap();
        assert_eq!(v3.as_array().unwrap().len(), 2, "{v3}");
    }

    // A still has no place here: rolling back to revision 1 applies its
    // stored manifest and says it could not re-render with A.
    let report = call(
        &mut server,
        ROLLBACK,
        json!({"release": "minio", "revision": 1, "confirm": true}),
    );
    let rerender = report["rerender"].as_str().unwrap();
    assert!(rerender.contains("not loaded any more"), "{rerender}");
    assert!(rerender.contains(&a), "names A's digest: {rerender}");
    assert!(
        rerender.contains("--plugin-dir"),
        "names the fix: {rerender}"
    );
    assert_eq!(report["rendered_by"]["validator"]["digest"], a.as_str());
    assert_eq!(env.deployed_template(), "probe-minio-14-1-2");
    drop(server);

    // With A loaded beside B, rolling back to revision 2 re-renders with B
    // and rolling back to revision 1 re-renders with A: identical manifests.
    let mut server = env.serve(Some(probe.path()));
    let report = call(
        &mut server,
        ROLLBACK,
        json!({"release": "minio", "revision": 2, "confirm": true}),
    );
    let rerender = report["rerender"].as_str().unwrap();
    assert!(rerender.contains("identical"), "{rerender}");
    assert!(rerender.contains("kgst-validator-v2"), "{rerender}");
    assert_eq!(env.deployed_template(), "minio-14-1-2");
    let report = call(
        &mut server,
        ROLLBACK,
        json!({"release": "minio", "revision": 1, "confirm": true}),
    );
    let rerender = report["rerender"].as_str().unwrap();
    assert!(rerender.contains("identical"), "{rerender}");
    assert!(rerender.contains("kgst-layout-probe"), "{rerender}");
    assert_eq!(report["rendered_by"]["validator"]["digest"], a.as_str());
    assert_eq!(env.deployed_template(), "probe-minio-14-1-2");
    assert_eq!(
        validators(&mut server),
        [a.clone(), b.clone(), a.clone(), b.clone(), a.clone()]
    );

    // helm v4 upgrades on its own: its revision inherits our labels from
    // revision 5 but says "rendered by helm", and the revision it marks
    // superseded keeps its own.
    let kgst_chart = kgst.display().to_string();
    helm(
        &env.plane,
        &[
            "upgrade",
            "minio",
            &kgst_chart,
            "-n",
            NS,
            "--reuse-values",
            "--timeout",
            "60s",
        ],
    );
    assert!(
        env.labels(6).contains(&(
            "k0rdent-mcp.k0rdent.io/rendered-revision".into(),
            "5".into()
        )),
        "helm v4 upgrade copies the previous revision's labels: {:?}",
        env.labels(6)
    );
    let mut expected = vec![
        a.clone(),
        b.clone(),
        a.clone(),
        b.clone(),
        a.clone(),
        "helm".into(),
    ];
    assert_eq!(validators(&mut server), expected);
    // helm v4 rolls back on its own (to revision 3, whose objects are all
    // live: helm cannot roll back to one whose kept objects are not in the
    // current manifest): "helm" again, the rest unchanged.
    helm(&env.plane, &["rollback", "minio", "3", "-n", NS]);
    expected.push("helm".into());
    assert_eq!(validators(&mut server), expected);
    assert!(
        env.labels(7).contains(&(
            "k0rdent-mcp.k0rdent.io/rendered-revision".into(),
            "3".into()
        )),
        "helm v4 rollback copies the target's labels: {:?}",
        env.labels(7)
    );
    // Rolling back to helm's revision: nothing to re-render with.
    let report = call(
        &mut server,
        ROLLBACK,
        json!({"release": "minio", "revision": 7, "confirm": true}),
    );
    let rerender = report["rerender"].as_str().unwrap();
    assert!(rerender.contains("rendered by helm"), "{rerender}");
    assert!(report.get("rendered_by").is_none(), "{report}");
    expected.push("helm".into());
    assert_eq!(validators(&mut server), expected);
    let helm_history: Value = serde_json::from_str(&helm(
        &env.plane,
        &["history", "minio", "-n", NS, "-o", "json"],
    ))
    .unwrap();
    assert_eq!(helm_history.as_array().unwrap().len(), 8, "{helm_history}");
    if let Some(v3) = helm3(&env.plane, &["history", "minio", "-n", NS, "-o", "json"]) {
        let v3: Value = serde_json::from_str(&v3).unwrap();
        assert_eq!(v3.as_array().unwrap().len(), 8, "{v3}");
    }
}
