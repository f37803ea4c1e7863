//! The release engine against a real kube-apiserver (no controllers: the
//! harness plays the Job and ServiceTemplate controllers), checked with
//! kubectl and with real helm v4 reading the releases we store.

use std::collections::BTreeMap;

use k0rdent_mcp::cluster::{Cluster, ClusterSource, connect};
use k0rdent_mcp::engine::{EngineError, EngineOptions, InstallAction, ReleaseEngine, ReleaseStore};
use k0rdent_mcp::release::Status;
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::controllers::FAILED_JOB_REASON;
use serde_json::{Value, json};

mod support;

use support::engine::*;

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
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
        .await
        .expect("install");
    assert_eq!((out.action, out.revision), (InstallAction::Installed, 1));
    assert_eq!(
        out.service_templates.len(),
        1,
        "{:?}",
        out.service_templates
    );
    assert_eq!(out.service_templates[0].name, "minio-14-1-2");
    assert_eq!(out.service_templates[0].valid, Some(true));
    let hooks_applied: Vec<&str> = out.hooks.iter().map(|k| k.kind.as_str()).collect();
    assert_eq!(
        hooks_applied,
        ["HelmRepository", "Job"],
        "hooks in Helm's order"
    );
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
        let got = |what: &str| helm(plane, &["get", what, "kgst-minio", "-n", NS]).unwrap();
        assert!(
            got("values").contains("chart: minio:14.1.2"),
            "{}",
            got("values")
        );
        assert!(got("manifest").contains("name: minio-14-1-2"));
        let hooks = got("hooks");
        assert!(
            hooks.contains("kind: HelmRepository") && hooks.contains("kind: Job"),
            "{hooks}"
        );
        assert!(!record.info.notes.trim().is_empty(), "kgst has NOTES.txt");
        assert!(
            got("notes").contains(record.info.notes.trim()),
            "{}",
            got("notes")
        );
    }

    // Same chart and values: no new revision.
    let again = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
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
        .upgrade_install(env.request("kgst-minio", "minio:14.1.3"), &quiet())
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
        .upgrade_install(env.request("kgst-minio", "minio:14.1.4"), &quiet())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("another operation is in progress since "),
        "{err}"
    );
    // Written without a lease, as helm writes it: held by helm, not taken by age.
    assert!(err.contains("by helm or another client"), "{err}");
    assert!(err.contains("pending-upgrade, no lease"), "{err}");
    assert!(err.contains("fix:") && err.contains("unlock"), "{err}");
    store.delete("kgst-minio", NS, 3).await.unwrap();

    // Uninstall: Secrets go, kept objects stay and are reported.
    let gone = engine
        .uninstall("kgst-minio", NS, &quiet())
        .await
        .expect("uninstall");
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
        .upgrade_install(env.request("kgst-missing", "missing:1.0.0"), &quiet())
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
        .upgrade_install(env.request("kgst-a", "minio:14.1.2"), &quiet())
        .await
        .expect("install a");
    let err = engine
        .upgrade_install(env.request("kgst-b", "minio:14.1.2"), &quiet())
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
        .upgrade_install(env.request("kgst-c", "minio:14.1.2"), &quiet())
        .await
        .unwrap_err()
        .to_string();
    eprintln!("forbidden reports:\n{err}");
    assert!(err.contains("kgst-c") && err.contains("RBAC"), "{err}");
}

/// Interop both ways with real helm v4 on the same release.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_helm_v4_upgrades_our_release_and_we_upgrade_theirs() {
    interop(helm_binary().is_some(), helm).await;
}

/// The same with real helm v3.17.2, which reads releases with its own
/// (older) types and patches client-side.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_helm_v3_upgrades_our_release_and_we_upgrade_theirs() {
    interop(helm3_binary().is_some(), helm3).await;
}

type HelmCli = fn(&ControlPlane, &[&str]) -> Result<String, String>;

async fn interop(available: bool, helm: HelmCli) {
    if !available {
        assert!(std::env::var_os("CI").is_none(), "CI must have both helms");
        return;
    }
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();
    let chart_dir = env.chart_dir.display().to_string();

    engine
        .upgrade_install(env.request("ours", "minio:14.1.2"), &quiet())
        .await
        .expect("our install");
    let list: Value =
        serde_json::from_str(&helm(plane, &["list", "-n", NS, "-o", "json"]).unwrap()).unwrap();
    assert_eq!(
        (&list[0]["name"], &list[0]["status"], &list[0]["revision"]),
        (&json!("ours"), &json!("deployed"), &json!("1")),
        "{list}"
    );
    let values = helm(plane, &["get", "values", "ours", "-n", NS]).unwrap();
    assert!(values.contains("chart: minio:14.1.2"), "{values}");
    let manifest = helm(plane, &["get", "manifest", "ours", "-n", NS]).unwrap();
    assert!(manifest.contains("kind: ServiceTemplate"), "{manifest}");
    let hooks = helm(plane, &["get", "hooks", "ours", "-n", NS]).unwrap();
    assert!(hooks.contains("name: verify-job-minio-14-1-2"), "{hooks}");
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
    // And we upgrade again what helm wrote.
    let out = engine
        .upgrade_install(env.request("ours", "minio:14.1.4"), &quiet())
        .await
        .expect("we upgrade after helm");
    assert_eq!((out.action, out.revision), (InstallAction::Upgraded, 3));
    let history: Value =
        serde_json::from_str(&helm(plane, &["history", "ours", "-n", NS, "-o", "json"]).unwrap())
            .unwrap();
    let statuses: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["superseded", "superseded", "deployed"],
        "{history}"
    );
    let gone = helm(plane, &["uninstall", "ours", "-n", NS]).expect("helm uninstalls ours");
    assert!(gone.contains("kept due to the resource policy"), "{gone}");
    assert!(engine.history("ours", NS).await.unwrap().is_empty());

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
        .upgrade_install(env.request("theirs", "nginx:1.0.1"), &quiet())
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
    let gone = engine
        .uninstall("theirs", NS, &quiet())
        .await
        .expect("we uninstall helm's release");
    assert_eq!(gone.secrets_deleted.len(), 2);
    assert_eq!(
        helm(plane, &["list", "-n", NS, "-o", "json"])
            .unwrap()
            .trim(),
        "[]"
    );
}
