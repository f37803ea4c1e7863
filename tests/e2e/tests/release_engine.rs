//! The release engine against a real kube-apiserver (no controllers: the
//! harness plays the Job and ServiceTemplate controllers), checked with
//! kubectl and with real helm v4 reading the releases we store.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use clap::Parser;
use k0rdent_mcp::chart::{ArchiveLimits, Chart, load_chart_path};
use k0rdent_mcp::cluster::{Cluster, ClusterSource, connect};
use k0rdent_mcp::config::PluginArgs;
use k0rdent_mcp::release::engine::{
    EngineError, EngineOptions, InstallAction, InstallRequest, ReleaseEngine, ReleaseStore,
};
use k0rdent_mcp::release::{Status, secret_name};
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::controllers::FAILED_JOB_REASON;
use serde_json::{Map, Value, json};

const NS: &str = "kcm-system";

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    plugins: PluginArgs,
}

fn values(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn kgst_chart() -> Option<(PathBuf, Chart)> {
    let dir = kgst_oracle::fixtures()?.join("charts/2.0.2");
    let chart = load_chart_path(&dir, &ArchiveLimits::default()).expect("kgst 2.0.2 loads");
    Some((dir, chart))
}

fn helm_binary() -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache"))
        .join("tools/helm");
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED (helm parts): no helm at {}", path.display());
        None
    }
}

/// Real helm v4 with the control plane's kubeconfig and private state dirs.
fn helm(plane: &ControlPlane, args: &[&str]) -> Result<String, String> {
    let Some(helm) = helm_binary() else {
        return Err("no helm".into());
    };
    let home = plane.dir.path().join("helm-home");
    let out = Command::new(helm)
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_DATA_HOME", home.join("data"))
        .arg(format!("--kubeconfig={}", plane.kubeconfig.display()))
        .args(args)
        .output()
        .expect("running helm");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn get_json(plane: &ControlPlane, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-n", NS, "-o", "json", "--show-managed-fields"]);
    plane
        .kubectl_as(&plane.kubeconfig, &all)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
}

fn release_secret_status(plane: &ControlPlane, release: &str, revision: u32) -> Option<String> {
    get_json(plane, &["secret", &secret_name(release, revision)]).map(|s| {
        s.pointer("/metadata/labels/status")
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    })
}

const ST: &str = "servicetemplates.k0rdent.mirantis.com";
const HR: &str = "helmrepositories.source.toolkit.fluxcd.io";

fn assert_owned_by_helm(object: &Value, release: &str) {
    assert_eq!(
        object.pointer("/metadata/labels/app.kubernetes.io~1managed-by"),
        Some(&json!("Helm")),
        "{object}"
    );
    assert_eq!(
        object.pointer("/metadata/annotations/meta.helm.sh~1release-name"),
        Some(&json!(release))
    );
    assert_eq!(
        object.pointer("/metadata/annotations/meta.helm.sh~1release-namespace"),
        Some(&json!(NS))
    );
    let managers: Vec<(&str, &str)> = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap(),
                m["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(managers.contains(&("helm", "Apply")), "{managers:?}");
}

struct Env {
    plane: ControlPlane,
    cluster: Cluster,
    plugins: k0rdent_mcp::plugin::selection::PluginSet,
    _host: k0rdent_mcp::plugin::PluginHost,
    chart_dir: PathBuf,
    chart: Chart,
}

async fn start() -> Option<Env> {
    let (chart_dir, chart) = kgst_chart()?;
    let plane = ControlPlane::start()?;
    plane.kubectl(&["create", "namespace", NS]);
    let client = connect(&ClusterSource::Kubeconfig(plane.kubeconfig.clone()), None)
        .await
        .expect("client from the harness kubeconfig");
    let (host, plugins) = Cli::parse_from(["test", "--plugin-cache-dir", "none"])
        .plugins
        .load()
        .expect("embedded plugins load");
    Some(Env {
        plane,
        cluster: Cluster::new(client),
        plugins,
        _host: host,
        chart_dir,
        chart,
    })
}

impl Env {
    fn engine(&self) -> ReleaseEngine<'_> {
        ReleaseEngine::new(&self.cluster, &self.plugins, EngineOptions::default())
    }

    fn request(&self, release: &str, chart_value: &str) -> InstallRequest<'_> {
        InstallRequest {
            release: release.into(),
            namespace: NS.into(),
            chart: &self.chart,
            values: values(json!({ "chart": chart_value })),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kgst_install_reinstall_upgrade_and_uninstall_like_helm() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();

    // Install: hooks (HelmRepository, verify Job) first, then the ServiceTemplate.
    let out = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"))
        .await
        .expect("install");
    assert_eq!((out.action, out.revision), (InstallAction::Installed, 1));
    let repo = get_json(plane, &[HR, "k0rdent-catalog"]).expect("HelmRepository hook");
    assert!(
        repo.pointer("/metadata/labels/app.kubernetes.io~1managed-by")
            .is_none(),
        "hooks carry no ownership metadata: {repo}"
    );
    let job = get_json(plane, &["jobs.batch", "verify-job-minio-14-1-2"]).expect("verify Job");
    assert_eq!(
        job.pointer("/status/conditions/0/type"),
        Some(&json!("Complete"))
    );
    let st = get_json(plane, &[ST, "minio-14-1-2"]).expect("ServiceTemplate");
    assert_owned_by_helm(&st, "kgst-minio");
    assert_eq!(
        release_secret_status(plane, "kgst-minio", 1).as_deref(),
        Some("deployed")
    );
    let record = &engine.history("kgst-minio", NS).await.unwrap()[0].record;
    assert_eq!(record.info.description, "Install complete");
    assert_eq!(record.hooks.len(), 2);
    assert!(
        record
            .hooks
            .iter()
            .all(|h| h.last_run.phase.as_str() == "Succeeded"),
        "{:?}",
        record.hooks
    );

    // Real helm v4 reads what we stored.
    if helm_binary().is_some() {
        let list: Value =
            serde_json::from_str(&helm(plane, &["list", "-n", NS, "-o", "json"]).unwrap()).unwrap();
        let row = &list[0];
        assert_eq!(row["name"], "kgst-minio", "{list}");
        assert_eq!(row["status"], "deployed");
        assert_eq!(row["revision"], "1");
        assert_eq!(row["chart"], "kgst-2.0.2");
    }

    // Same chart and values: no new revision.
    let again = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"))
        .await
        .expect("re-install");
    assert_eq!(
        (again.action, again.revision),
        (InstallAction::Unchanged, 1)
    );
    assert_eq!(release_secret_status(plane, "kgst-minio", 2), None);

    // Other values: revision 2 deployed, 1 superseded; the old
    // ServiceTemplate is dropped from the manifest but kept by policy.
    let up = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.3"))
        .await
        .expect("upgrade");
    assert_eq!((up.action, up.revision), (InstallAction::Upgraded, 2));
    assert_eq!(up.kept.len(), 1, "{:?}", up.kept);
    assert_eq!(up.kept[0].name, "minio-14-1-2");
    assert_eq!(
        release_secret_status(plane, "kgst-minio", 1).as_deref(),
        Some("superseded")
    );
    assert_eq!(
        release_secret_status(plane, "kgst-minio", 2).as_deref(),
        Some("deployed")
    );
    assert_owned_by_helm(
        &get_json(plane, &[ST, "minio-14-1-3"]).unwrap(),
        "kgst-minio",
    );
    assert!(get_json(plane, &[ST, "minio-14-1-2"]).is_some());
    if helm_binary().is_some() {
        let history: Value = serde_json::from_str(
            &helm(plane, &["history", "kgst-minio", "-n", NS, "-o", "json"]).unwrap(),
        )
        .unwrap();
        let rows: Vec<(i64, &str, &str)> = history
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_i64().unwrap(),
                    r["status"].as_str().unwrap(),
                    r["description"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (1, "superseded", "Install complete"),
                (2, "deployed", "Upgrade complete")
            ]
        );
    }

    // A pending revision blocks the next operation.
    let store = ReleaseStore::new(&env.cluster);
    let mut pending = up.record.clone();
    pending.version = 3;
    pending.info.status = Some(Status::PendingUpgrade);
    store.create(&pending, &BTreeMap::new()).await.unwrap();
    let err = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.4"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another operation (install/upgrade/rollback) is in progress"),
        "{err}"
    );
    assert!(err.contains("fix:"), "{err}");
    store.delete("kgst-minio", NS, 3).await.unwrap();

    // Uninstall: Secrets go, kept objects stay and are reported.
    let gone = engine.uninstall("kgst-minio", NS).await.expect("uninstall");
    assert_eq!(gone.secrets_deleted.len(), 2);
    assert!(gone.deleted.is_empty(), "{:?}", gone.deleted);
    let kept: Vec<&str> = gone.kept.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(kept, ["minio-14-1-3"]);
    assert!(engine.history("kgst-minio", NS).await.unwrap().is_empty());
    assert!(get_json(plane, &[HR, "k0rdent-catalog"]).is_some());
    assert!(get_json(plane, &[ST, "minio-14-1-3"]).is_some());
    if helm_binary().is_some() {
        let list = helm(plane, &["list", "-n", NS, "-o", "json"]).unwrap();
        assert_eq!(list.trim(), "[]");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_verify_job_fails_the_install_and_another_release_cannot_take_objects() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();

    let err = engine
        .upgrade_install(env.request("kgst-missing", "missing:1.0.0"))
        .await
        .unwrap_err();
    let text = err.to_string();
    eprintln!("failed install reports:\n{text}");
    assert!(
        matches!(err, EngineError::Failed { revision: 1, .. }),
        "{text}"
    );
    assert!(text.contains("INSTALLATION FAILED"), "{text}");
    assert!(text.contains(FAILED_JOB_REASON), "{text}");
    assert!(text.contains("verify-job-missing-1-0-0"), "{text}");
    assert_eq!(
        release_secret_status(plane, "kgst-missing", 1).as_deref(),
        Some("failed")
    );
    let history = engine.history("kgst-missing", NS).await.unwrap();
    assert!(
        history[0]
            .record
            .info
            .description
            .starts_with("Release \"kgst-missing\" failed:"),
        "{}",
        history[0].record.info.description
    );
    assert!(
        get_json(plane, &[ST, "missing-1-0-0"]).is_none(),
        "not applied"
    );

    // Another release may not take over an object this one owns.
    engine
        .upgrade_install(env.request("kgst-a", "minio:14.1.2"))
        .await
        .expect("install a");
    let err = engine
        .upgrade_install(env.request("kgst-b", "minio:14.1.2"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(r#"ServiceTemplate "minio-14-1-2" in namespace "kcm-system" exists and cannot be imported into the current release"#),
        "{err}"
    );
    assert!(err.contains(r#"release "kgst-a""#), "{err}");
    assert!(
        engine.history("kgst-b", NS).await.unwrap().is_empty(),
        "nothing recorded"
    );

    // A per-call bearer token acts as that identity: RBAC decides.
    let (nobody, _, _) = k0rdent_test_harness::cluster::TEST_IDENTITIES[2];
    let client = connect(
        &ClusterSource::Kubeconfig(plane.kubeconfig.clone()),
        Some(nobody),
    )
    .await
    .unwrap();
    let as_nobody = Cluster::new(client);
    let err = ReleaseEngine::new(&as_nobody, &env.plugins, EngineOptions::default())
        .upgrade_install(env.request("kgst-c", "minio:14.1.2"))
        .await
        .unwrap_err()
        .to_string();
    eprintln!("forbidden reports:\n{err}");
    assert!(err.contains("kgst-c") && err.contains("RBAC"), "{err}");
}

/// Interop both ways with real helm v4 on the same release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_helm_upgrades_our_release_and_we_upgrade_theirs() {
    let Some(env) = start().await else {
        return;
    };
    if helm_binary().is_none() {
        return;
    }
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();
    let chart_dir = env.chart_dir.display().to_string();

    engine
        .upgrade_install(env.request("ours", "minio:14.1.2"))
        .await
        .expect("our install");
    helm(
        plane,
        &[
            "upgrade",
            "ours",
            &chart_dir,
            "-n",
            NS,
            "--set",
            "chart=minio:14.1.3",
            "--timeout",
            "60s",
        ],
    )
    .expect("helm upgrades our release");
    assert_eq!(
        release_secret_status(plane, "ours", 2).as_deref(),
        Some("deployed")
    );
    assert_eq!(
        release_secret_status(plane, "ours", 1).as_deref(),
        Some("superseded")
    );

    helm(
        plane,
        &[
            "upgrade",
            "--install",
            "theirs",
            &chart_dir,
            "-n",
            NS,
            "--set",
            "chart=nginx:1.0.0",
            "--timeout",
            "60s",
        ],
    )
    .expect("helm install");
    let out = engine
        .upgrade_install(env.request("theirs", "nginx:1.0.1"))
        .await
        .expect("we upgrade helm's release");
    assert_eq!((out.action, out.revision), (InstallAction::Upgraded, 2));
    assert_eq!(
        release_secret_status(plane, "theirs", 1).as_deref(),
        Some("superseded")
    );
    let history: Value =
        serde_json::from_str(&helm(plane, &["history", "theirs", "-n", NS, "-o", "json"]).unwrap())
            .unwrap();
    assert_eq!(history[1]["status"], "deployed", "{history}");
}
