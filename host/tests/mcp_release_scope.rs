//! Attacks on what the MCP tools may touch, through the real binary driven by
//! the official MCP Python SDK over stdio, against a real registry, a real
//! kube-apiserver and real helm: releases of other charts and tampered kgst
//! release records (uninstall, rollback, history and install must refuse them
//! and delete nothing), release names that would reach a label selector,
//! two repositories whose plain HelmRepository names collide, unknown
//! arguments, and huge argument values.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use k0rdent_mcp::release::{decode_release_payload, encode_release_payload};
use k0rdent_test_harness::charts;
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::controllers::PlayedControllers;
use serde_json::{Value, json};

mod support;
use support::{BIN, McpFixture, client_json, helm, kgst_dir, push, python_with_mcp};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/e2e/clients/mcp_calls.py"
);

const INSTALL: &str = "k0rdent.mgmt.serviceTemplates.install_from_catalog";
const UNINSTALL: &str = "k0rdent.mgmt.serviceTemplates.uninstall";
const HISTORY: &str = "k0rdent.mgmt.releases.history";
const ROLLBACK: &str = "k0rdent.mgmt.releases.rollback";
const RENDER: &str = "k0rdent.mgmt.serviceTemplates.render";

/// The bound the server puts on a tool error's text, plus its cut note.
const ERROR_TEXT_BOUND: usize = 16 * 1024 + 100;

struct Env {
    plane: ControlPlane,
    fixture: McpFixture,
    python: PathBuf,
    index: PathBuf,
    work: tempfile::TempDir,
    _controllers: PlayedControllers,
}

/// A control plane with the namespaces the filter allows (and `other`,
/// which it does not), the test registry with kgst and minio, and a
/// catalog index with minio plus `apps` (name, repository).
async fn start(apps: &[(&str, String)]) -> Option<Env> {
    let python = python_with_mcp()?;
    let kgst = kgst_dir()?;
    let plane = ControlPlane::start()?;
    for ns in ["kcm-system", "team-a", "team-b", "other"] {
        plane.kubectl(&["create", "namespace", ns]);
    }
    let fixture = McpFixture::start(&kgst).await?;
    let mut addons = vec![json!({"name": "minio", "description": "Object storage",
        "supportType": "community",
        "charts": [{"name": "minio", "versions": ["14.1.2"], "repository": fixture.repository}]})];
    for (name, repository) in apps {
        let repository = repository.replace("{registry}", &fixture.registry.host());
        addons.push(
            json!({"name": name, "description": "test app", "supportType": "community",
            "charts": [{"name": name, "versions": ["1.0.0"], "repository": repository}]}),
        );
    }
    let index = json!({"metadata": {"generated": "2026-11-26T00:00:00Z", "version": "test"},
        "addons": addons});
    let work = tempfile::tempdir().unwrap();
    let index_path = work.path().join("index.json");
    std::fs::write(&index_path, index.to_string()).unwrap();
    let controllers = plane.play_controllers("missing");
    Some(Env {
        plane,
        fixture,
        python,
        index: index_path,
        work,
        _controllers: controllers,
    })
}

impl Env {
    /// Runs `calls` (key, tool, arguments) in one MCP session over stdio.
    fn calls(&self, calls: &[(&str, &str, Value)]) -> Value {
        let calls: Vec<Value> = calls
            .iter()
            .map(|(key, tool, arguments)| json!({"key": key, "tool": tool, "arguments": arguments}))
            .collect();
        let work = self.work.path();
        let mut child = Command::new(&self.python)
            .arg(CLIENT)
            .arg(BIN)
            .env("K0RDENT_MCP_CATALOG_URL", &self.index)
            .env(
                "K0RDENT_MCP_KGST_CHART",
                format!("{}/kgst", self.fixture.repository),
            )
            .env("K0RDENT_MCP_KGST_VERSION", "2.0.2")
            .env("K0RDENT_MCP_PLAIN_HTTP", self.fixture.registry.host())
            .env("K0RDENT_MCP_NAMESPACE_FILTER", "kcm-system|team-.*")
            .env("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s")
            .env("K0RDENT_MCP_TIMEOUT", "60s")
            .env("K0RDENT_MCP_KUBECONFIG", &self.plane.kubeconfig)
            .env("K0RDENT_MCP_CHART_CACHE_DIR", work.join("charts"))
            .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.join("catalog"))
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.join("plugins"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running the Python MCP client");
        serde_json::to_writer(child.stdin.take().unwrap(), &calls).unwrap();
        client_json(&child.wait_with_output().unwrap())
    }

    fn exists(&self, args: &[&str]) -> bool {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        self.plane.kubectl_as(&self.plane.kubeconfig, &all).is_ok()
    }

    fn get_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.plane.kubectl(&all)).unwrap()
    }

    fn helm(&self, args: &[&str]) -> String {
        helm(&self.plane, args)
    }

    /// Revisions helm sees, as (revision, chart).
    fn helm_history(&self, release: &str, namespace: &str) -> Vec<(u64, String)> {
        let text = self.helm(&["history", release, "-n", namespace, "-o", "json"]);
        serde_json::from_str::<Vec<Value>>(&text)
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap(),
                    r["chart"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// Rewrites revision `revision`'s stored manifest with `edit`, as
    /// someone with write access to the release Secret could.
    fn tamper(&self, release: &str, namespace: &str, revision: u32, edit: impl Fn(&mut String)) {
        let name = format!("sh.helm.release.v1.{release}.v{revision}");
        let mut secret = self.get_json(&["secret", &name, "-n", namespace]);
        let payload = BASE64
            .decode(secret["data"]["release"].as_str().unwrap())
            .unwrap();
        let mut record = decode_release_payload(&payload).unwrap();
        edit(&mut record.manifest);
        let payload = encode_release_payload(&record).unwrap();
        secret["data"]["release"] = json!(BASE64.encode(payload));
        let file = self.work.path().join(format!("{name}.json"));
        std::fs::write(&file, secret.to_string()).unwrap();
        self.plane
            .kubectl(&["replace", "-f", &file.display().to_string()]);
    }
}

fn refused<'a>(out: &'a Value, key: &str) -> &'a str {
    let r = &out[key];
    assert_eq!(r["is_error"], true, "{key} should be refused: {r}");
    r["text"].as_str().unwrap()
}

fn succeeded<'a>(out: &'a Value, key: &str) -> &'a Value {
    let r = &out[key];
    assert_eq!(r["is_error"], false, "{key}: {r}");
    &r["structured"]
}

/// A chart that is not kgst, with objects outside its namespace: a
/// ConfigMap in `other` and a cluster-scoped ClusterRole.
fn write_foreign_chart(dir: &Path) {
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        "apiVersion: v2\nname: intruder\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::write(dir.join("values.yaml"), "rev: 1\n").unwrap();
    std::fs::write(
        dir.join("templates/objects.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: intruder-data\ndata:\n  rev: \"{{ .Values.rev }}\"\n\
         ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: intruder-elsewhere\n  namespace: other\n\
         ---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: intruder-cluster-role\n\
         rules: []\n",
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_the_server_does_not_own_are_refused_and_nothing_is_deleted() {
    let Some(env) = start(&[]).await else {
        return;
    };

    // Another chart's release, installed by helm where the tools may act,
    // named like a catalog app so install_from_catalog would take it over.
    let foreign = env.work.path().join("intruder");
    write_foreign_chart(&foreign);
    let foreign = foreign.display().to_string();
    env.helm(&["install", "minio", &foreign, "-n", "kcm-system"]);
    env.helm(&[
        "upgrade",
        "minio",
        &foreign,
        "-n",
        "kcm-system",
        "--set",
        "rev=2",
    ]);
    let foreign_objects: [&[&str]; 3] = [
        &["configmap", "intruder-data", "-n", "kcm-system"],
        &["configmap", "intruder-elsewhere", "-n", "other"],
        &["clusterrole", "intruder-cluster-role"],
    ];

    // kgst installed by the real helm CLI stays manageable.
    let kgst = kgst_dir().unwrap().display().to_string();
    let spec_url = format!("repo.spec.url={}", env.fixture.repository);
    env.helm(&[
        "upgrade",
        "--install",
        "theirs",
        &kgst,
        "-n",
        "team-a",
        "--set",
        "chart=minio:14.1.2",
        "--set",
        "repo.name=test-charts",
        "--set",
        &spec_url,
        "--timeout",
        "60s",
    ]);

    let minio = |ns: &str| json!({"app": "minio", "template": "minio", "version": "14.1.2", "namespace": ns});
    let out = env.calls(&[
        (
            "uninstall_foreign",
            UNINSTALL,
            json!({"template": "minio", "namespace": "kcm-system"}),
        ),
        (
            "rollback_foreign",
            ROLLBACK,
            json!({"release": "minio", "namespace": "kcm-system", "revision": 1}),
        ),
        (
            "history_foreign",
            HISTORY,
            json!({"release": "minio", "namespace": "kcm-system"}),
        ),
        ("install_over_foreign", INSTALL, minio("kcm-system")),
        (
            "history_helm_kgst",
            HISTORY,
            json!({"release": "theirs", "namespace": "team-a"}),
        ),
        (
            "uninstall_helm_kgst",
            UNINSTALL,
            json!({"template": "theirs", "namespace": "team-a"}),
        ),
        ("install_team_b", INSTALL, minio("team-b")),
    ]);
    for key in [
        "uninstall_foreign",
        "rollback_foreign",
        "history_foreign",
        "install_over_foreign",
    ] {
        let text = refused(&out, key);
        assert!(
            text.contains("chart \"intruder-0.1.0\"")
                && text.contains("only releases of the kgst chart")
                && text.contains("fix: manage it with helm"),
            "{key}: {text}"
        );
    }
    for object in foreign_objects {
        assert!(env.exists(object), "{object:?} was deleted");
    }
    assert_eq!(
        env.helm_history("minio", "kcm-system"),
        [(1, "intruder-0.1.0".into()), (2, "intruder-0.1.0".into())],
        "the foreign release is untouched"
    );
    assert_eq!(
        succeeded(&out, "history_helm_kgst")["revisions"][0]["chart"],
        "kgst-2.0.2"
    );
    assert_eq!(
        succeeded(&out, "uninstall_helm_kgst")["namespaces"][0]["release"],
        "theirs"
    );
    assert_eq!(succeeded(&out, "install_team_b")["status"], "created");

    // A kgst release whose stored manifest was edited to name an object
    // kgst renders, but in a namespace outside the filter...
    env.plane.apply(
        "apiVersion: k0rdent.mirantis.com/v1beta1\nkind: ServiceTemplate\nmetadata:\n  name: victim\n  namespace: other\n\
         spec:\n  helm:\n    chartSpec:\n      chart: victim\n      version: 1.0.0\n      sourceRef:\n        kind: HelmRepository\n        name: x\n",
    );
    env.tamper("minio", "team-b", 1, |manifest| {
        manifest.push_str(
            "---\n# Source: kgst/templates/service-template.yaml\napiVersion: k0rdent.mirantis.com/v1beta1\n\
             kind: ServiceTemplate\nmetadata:\n  name: victim\n  namespace: other\n",
        )
    });
    let out = env.calls(&[
        (
            "uninstall",
            UNINSTALL,
            json!({"template": "minio", "namespace": "team-b"}),
        ),
        (
            "rollback",
            ROLLBACK,
            json!({"release": "minio", "namespace": "team-b", "revision": 1}),
        ),
    ]);
    for key in ["uninstall", "rollback"] {
        let text = refused(&out, key);
        assert!(
            text.contains("\"ServiceTemplate\" \"victim\"")
                && text.contains("namespace \"other\" is neither the release namespace"),
            "{key}: {text}"
        );
    }
    assert!(env.exists(&["servicetemplate", "victim", "-n", "other"]));

    // ...or a cluster-scoped kind kgst never renders.
    env.plane
        .apply("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: victim\nrules: []\n");
    env.tamper("minio", "team-b", 1, |manifest| {
        let at = manifest.find("---\n# Source: kgst/templates/service-template.yaml\napiVersion: k0rdent.mirantis.com/v1beta1\n\
             kind: ServiceTemplate\nmetadata:\n  name: victim").unwrap();
        manifest.truncate(at);
        manifest.push_str(
            "---\n# Source: kgst/templates/role.yaml\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n\
             metadata:\n  name: victim\n",
        )
    });
    let out = env.calls(&[(
        "uninstall",
        UNINSTALL,
        json!({"template": "minio", "all_namespaces": true}),
    )]);
    let text = refused(&out, "uninstall");
    assert!(
        text.contains("\"ClusterRole\" \"victim\"") && text.contains("kgst never renders"),
        "{text}"
    );
    assert!(env.exists(&["clusterrole", "victim"]));
    assert!(env.exists(&["secret", "sh.helm.release.v1.minio.v1", "-n", "team-b"]));

    // Bad release names are refused before any cluster call: a comma would
    // widen the release Secret label selector to other releases.
    let before = env.plane.requests_by("k0rdent-mcp");
    let out = env.calls(&[
        (
            "history",
            HISTORY,
            json!({"release": "minio,name", "namespace": "team-b"}),
        ),
        (
            "uninstall",
            UNINSTALL,
            json!({"template": "minio,name", "all_namespaces": true}),
        ),
        (
            "rollback",
            ROLLBACK,
            json!({"release": "minio,owner", "namespace": "team-b"}),
        ),
        (
            "install",
            INSTALL,
            json!({"app": "minio", "template": "minio,name", "version": "14.1.2", "namespace": "team-b"}),
        ),
        (
            "render",
            RENDER,
            json!({"app": "minio", "template": "Minio", "version": "14.1.2"}),
        ),
        (
            "history_long",
            HISTORY,
            json!({"release": "a".repeat(54), "namespace": "team-b"}),
        ),
    ]);
    for key in [
        "history",
        "uninstall",
        "rollback",
        "install",
        "render",
        "history_long",
    ] {
        let text = refused(&out, key);
        assert!(
            text.contains("is not a valid release name"),
            "{key}: {text}"
        );
    }
    assert_eq!(
        env.plane.requests_by("k0rdent-mcp"),
        before,
        "a bad name reached the cluster"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_repository_names_unknown_arguments_and_huge_values() {
    // `team.charts` and `team-charts` both read `<registry>-team-charts` once
    // dots become dashes.
    let apps = [
        ("dots", "oci://{registry}/team.charts".to_string()),
        ("dashes", "oci://{registry}/team-charts".to_string()),
    ];
    let Some(env) = start(&apps).await else {
        return;
    };
    let registry = &env.fixture.registry;
    push(
        registry,
        "team.charts/dots",
        "1.0.0",
        &charts::simple_chart("dots", "1.0.0"),
        "dots",
    )
    .await;
    push(
        registry,
        "team-charts/dashes",
        "1.0.0",
        &charts::simple_chart("dashes", "1.0.0"),
        "dashes",
    )
    .await;
    let app = |name: &str| json!({"app": name, "template": name, "version": "1.0.0", "namespace": "team-a"});
    let out = env.calls(&[
        ("dots", INSTALL, app("dots")),
        ("dashes", INSTALL, app("dashes")),
    ]);
    for key in ["dots", "dashes"] {
        assert_eq!(succeeded(&out, key)["status"], "created", "{out}");
    }
    let repositories = env.get_json(&["helmrepositories.source.toolkit.fluxcd.io", "-n", "team-a"]);
    let mut urls: Vec<(String, String)> = repositories["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["metadata"]["name"].as_str().unwrap().to_string(),
                r["spec"]["url"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    urls.sort_by(|a, b| a.1.cmp(&b.1));
    let host = registry.host();
    assert_eq!(
        urls.iter().map(|(_, url)| url.as_str()).collect::<Vec<_>>(),
        [
            format!("oci://{host}/team-charts"),
            format!("oci://{host}/team.charts")
        ],
        "one HelmRepository per repository: {urls:?}"
    );
    for (name, _) in &urls {
        assert!(name.len() <= 63, "{name}");
    }
    // Each ServiceTemplate's source is the HelmRepository of its own repository.
    for (template, repository) in [
        ("dots-1-0-0", format!("oci://{host}/team.charts")),
        ("dashes-1-0-0", format!("oci://{host}/team-charts")),
    ] {
        let st = env.get_json(&["servicetemplate", template, "-n", "team-a"]);
        let source = st["spec"]["helm"]["chartSpec"]["sourceRef"]["name"]
            .as_str()
            .unwrap();
        let url = &urls.iter().find(|(name, _)| name == source).unwrap().1;
        assert_eq!(url, &repository, "{template}");
    }

    // An argument the tool does not take is refused before any work, not
    // ignored: the app is not installed from the catalog's repository instead.
    let out = env.calls(&[
        (
            "install_with_repo_url",
            INSTALL,
            json!({"app": "minio", "template": "minio", "version": "14.1.2", "namespace": "team-b",
                   "repo_url": "oci://evil.example/charts"}),
        ),
        (
            "namespaces_with_extra",
            "k0rdent.mgmt.namespaces.list",
            json!({"namespace": "other"}),
        ),
    ]);
    let text = refused(&out, "install_with_repo_url");
    assert!(
        text.contains("unknown argument \"repo_url\"")
            && text.contains(
                "it accepts all_namespaces, app, dry_run, force_conflicts, namespace, template, timeout, version"
            ),
        "{text}"
    );
    let text = refused(&out, "namespaces_with_extra");
    assert!(
        text.contains("unknown argument \"namespace\"") && text.contains("it takes no arguments"),
        "{text}"
    );
    assert!(!env.exists(&["secret", "sh.helm.release.v1.minio.v1", "-n", "team-b"]));

    // Huge argument values: errors quote them cut short, and the server
    // bounds every tool error's text.
    let huge = "x".repeat(2 * 1024 * 1024);
    let mut unknown_key = json!({"release": "minio"});
    unknown_key[huge.as_str()] = json!(1);
    let out = env.calls(&[
        (
            "render_app",
            RENDER,
            json!({"app": huge, "template": "minio", "version": "14.1.2"}),
        ),
        (
            "render_version",
            RENDER,
            json!({"app": "minio", "template": "minio", "version": huge}),
        ),
        (
            "install_timeout",
            INSTALL,
            json!({"app": "minio", "template": "minio", "version": "14.1.2", "timeout": huge}),
        ),
        (
            "history_release",
            HISTORY,
            json!({"release": huge, "namespace": "team-a"}),
        ),
        ("unknown_key", HISTORY, unknown_key),
        (
            "wrong_type",
            ROLLBACK,
            json!({"release": "minio", "namespace": "team-a", "revision": huge}),
        ),
    ]);
    for (key, says) in [
        ("render_app", "app \"xxx"),
        ("render_version", "minio"),
        ("install_timeout", "timeout"),
        ("history_release", "is not a valid release name"),
        ("unknown_key", "unknown argument"),
        ("wrong_type", "invalid type"),
    ] {
        let r = &out[key];
        let text = r["text"]
            .as_str()
            .or_else(|| r["raised"].as_str())
            .unwrap_or_else(|| panic!("{key}: {r}"));
        assert!(
            text.len() <= ERROR_TEXT_BOUND,
            "{key}: a {} byte error",
            text.len()
        );
        assert!(
            text.contains(says),
            "{key}: {}",
            &text[..text.len().min(500)]
        );
    }
}
