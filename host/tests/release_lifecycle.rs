//! Rollback, atomic recovery, long histories, dropped objects, k0rdent's
//! ServiceTemplate verdict, concurrent operations, cancellation and waits
//! that end (a hook object held by a finalizer nobody removes, put there by
//! kubectl) — the engine against a real kube-apiserver, with real helm where
//! Helm itself breaks (to show the difference).

use std::time::{Duration, Instant};

use k0rdent_mcp::chart::{ArchiveLimits, load_chart_path};
use k0rdent_mcp::engine::{
    Control, EngineError, EngineOptions, InstallAction, InstallMode, InstallRequest, ReleaseStore,
};
use k0rdent_mcp::release::Status;
use k0rdent_test_harness::cluster::ControlPlane;
use k0rdent_test_harness::controllers::PlayedControllers;
use serde_json::{Value, json};

mod support;

use support::engine::*;

fn statuses(history: &[k0rdent_mcp::release::StoredRelease]) -> Vec<(u32, String)> {
    history
        .iter()
        .map(|r| {
            (
                r.record.version,
                r.record.status().unwrap().as_str().to_string(),
            )
        })
        .collect()
}

fn rows(list: &[(u32, &str)]) -> Vec<(u32, String)> {
    list.iter().map(|(r, s)| (*r, s.to_string())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_across_kgst_chart_versions_adopts_the_kept_service_template() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();
    for chart in ["minio:14.1.2", "minio:14.1.3"] {
        engine
            .upgrade_install(env.request("kgst-minio", chart), &quiet())
            .await
            .expect(chart);
    }
    // Helm fails here with `original object ServiceTemplate with the name
    // "minio-14-1-2" not found`: the object lives on (kept) but is not in
    // revision 2's manifest. We adopt it: it is this release's.
    let back = engine
        .rollback("kgst-minio", NS, Some(1), &quiet())
        .await
        .expect("rollback across chart versions");
    assert_eq!((back.action, back.revision), (InstallAction::RolledBack, 3));
    assert_eq!(back.record.info.description, "Rollback to 1");
    let kept: Vec<&str> = back.kept.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(kept, ["minio-14-1-3"], "the newer template stays (keep)");
    assert_eq!(back.service_templates[0].name, "minio-14-1-2");
    assert_eq!(back.service_templates[0].valid, Some(true));
    assert_eq!(
        statuses(&engine.history("kgst-minio", NS).await.unwrap()),
        rows(&[(1, "superseded"), (2, "superseded"), (3, "deployed")])
    );
    let st = get_json(plane, &[ST, "minio-14-1-2"]).unwrap();
    assert_owned_by_helm(&st, "kgst-minio");

    if helm_binary().is_some() {
        // Real helm, same situation the other way: it stops; we do not.
        let err = helm(plane, &["rollback", "kgst-minio", "2", "-n", NS]).unwrap_err();
        assert!(
            err.contains(
                "original object ServiceTemplate with the name \"minio-14-1-3\" not found"
            ),
            "{err}"
        );
        let again = engine
            .rollback("kgst-minio", NS, Some(2), &quiet())
            .await
            .expect("we roll back where helm could not");
        assert_eq!(again.revision, 5);
        let history: Value = serde_json::from_str(
            &helm(plane, &["history", "kgst-minio", "-n", NS, "-o", "json"]).unwrap(),
        )
        .unwrap();
        let last = history.as_array().unwrap().last().unwrap();
        assert_eq!(
            (&last["revision"], &last["status"], &last["description"]),
            (&json!(5), &json!("deployed"), &json!("Rollback to 2")),
            "{history}"
        );
    }

    let err = engine
        .rollback("kgst-minio", NS, Some(42), &quiet())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("has no revision 42") && err.contains("fix:"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upgrade_is_rolled_back_even_across_chart_versions() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();
    engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
        .await
        .expect("install");
    let err = engine
        .upgrade_install(env.request("kgst-minio", "missing:1.0.0"), &quiet())
        .await
        .unwrap_err();
    let text = err.to_string();
    eprintln!("failed upgrade reports:\n{text}");
    assert!(
        matches!(
            err,
            EngineError::RolledBack {
                revision: 2,
                rolled_back_to: 1,
                rollback_revision: 3,
                ..
            }
        ),
        "{text}"
    );
    assert!(text.contains("verify-job-missing-1-0-0"), "{text}");
    let history = engine.history("kgst-minio", NS).await.unwrap();
    assert_eq!(
        statuses(&history),
        rows(&[(1, "superseded"), (2, "failed"), (3, "deployed")])
    );
    assert_eq!(history[2].record.config["chart"], "minio:14.1.2");
    assert!(get_json(plane, &[ST, "minio-14-1-2"]).is_some());
    assert!(get_json(plane, &[ST, "missing-1-0-0"]).is_none());

    // Without rollback-on-failure the failed revision simply stays failed,
    // and the next upgrade goes from the last deployed one.
    let plain = env.engine_with(EngineOptions {
        rollback_on_failure: false,
        validation_timeout: Duration::from_secs(20),
        ..EngineOptions::default()
    });
    let err = plain
        .upgrade_install(env.request("kgst-minio", "missing:1.0.1"), &quiet())
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Failed { revision: 4, .. }),
        "{err}"
    );
    let next = plain
        .upgrade_install(env.request("kgst-minio", "minio:14.1.3"), &quiet())
        .await
        .expect("upgrade after a failure");
    assert_eq!(next.revision, 5);
}

/// Helm orders history by Secret name (`v10` < `v9`) in places; with 10+
/// revisions it then picks the wrong "last" release. Numeric order here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twelve_revisions_are_ordered_by_number_and_pruned_to_the_history_limit() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine_with(EngineOptions {
        validation_timeout: Duration::ZERO,
        ..EngineOptions::default()
    });
    for patch in 0..12 {
        let out = engine
            .upgrade_install(env.request("long", &format!("app:1.0.{patch}")), &quiet())
            .await
            .expect("revision");
        assert_eq!(out.revision, patch + 1);
    }
    let history = engine.history("long", NS).await.unwrap();
    let revisions: Vec<u32> = history.iter().map(|r| r.record.version).collect();
    assert_eq!(
        revisions,
        (3..=12).collect::<Vec<_>>(),
        "pruned to 10, in numeric order"
    );
    assert_eq!(
        history.last().unwrap().record.status(),
        Some(Status::Deployed)
    );

    // What `helm uninstall --keep-history` leaves: the latest revision
    // uninstalled. Helm's `upgrade --install` reads `v9` as the last one and
    // fails with "has no deployed releases"; we reinstall as revision 13.
    let store = ReleaseStore::new(&env.cluster);
    let mut last = history.last().unwrap().record.clone();
    last.info.status = Some(Status::Uninstalled);
    store
        .update(&last, &history.last().unwrap().user_labels())
        .await
        .unwrap();
    if helm_binary().is_some() {
        let chart_dir = env.chart_dir.display().to_string();
        let err = helm(
            plane,
            &[
                "upgrade",
                "--install",
                "long",
                &chart_dir,
                "-n",
                NS,
                "--set",
                "chart=app:2.0.0",
            ],
        )
        .unwrap_err();
        assert!(
            err.contains("has no deployed releases"),
            "helm's bug: {err}"
        );
    }
    let out = engine
        .upgrade_install(env.request("long", "app:2.0.0"), &quiet())
        .await
        .expect("reinstall over an uninstalled latest revision");
    assert_eq!((out.action, out.revision), (InstallAction::Installed, 13));
    if helm_binary().is_some() {
        let history: Value = serde_json::from_str(
            &helm(plane, &["history", "long", "-n", NS, "-o", "json"]).unwrap(),
        )
        .unwrap();
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (&last["revision"], &last["status"]),
            (&json!(13), &json!("deployed"))
        );
    }
}

/// An object the new revision no longer renders is deleted, unless kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_deletes_objects_it_drops_and_install_and_upgrade_modes_check_the_name() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let dir = tempfile::tempdir().unwrap();
    let chart_dir = dir.path().join("demo");
    std::fs::create_dir_all(chart_dir.join("templates")).unwrap();
    std::fs::write(
        chart_dir.join("Chart.yaml"),
        "apiVersion: v2\nname: demo\nversion: 0.1.0\nappVersion: \"1.0\"\n",
    )
    .unwrap();
    std::fs::write(chart_dir.join("values.yaml"), "extra: false\n").unwrap();
    std::fs::write(
        chart_dir.join("templates/base.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\ndata:\n  extra: {{ .Values.extra | quote }}\n",
    )
    .unwrap();
    std::fs::write(
        chart_dir.join("templates/extra.yaml"),
        "{{- if .Values.extra }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\n{{- end }}\n",
    )
    .unwrap();
    let chart = load_chart_path(&chart_dir, &ArchiveLimits::default()).unwrap();
    let engine = env.engine();
    let request = |extra: bool, mode: InstallMode| InstallRequest {
        release: "demo".into(),
        namespace: NS.into(),
        chart: &chart,
        values: values(json!({ "extra": extra })),
        mode,
    };

    let err = engine
        .upgrade_install(request(true, InstallMode::Upgrade), &quiet())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not found"), "upgrade needs a release: {err}");
    engine
        .upgrade_install(request(true, InstallMode::Install), &quiet())
        .await
        .expect("install");
    assert!(get_json(plane, &["configmap", "extra"]).is_some());
    let err = engine
        .upgrade_install(request(true, InstallMode::Install), &quiet())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("cannot reuse a name that is still in use"),
        "{err}"
    );

    let out = engine
        .upgrade_install(request(false, InstallMode::Upgrade), &quiet())
        .await
        .expect("upgrade");
    let deleted: Vec<&str> = out.deleted.iter().map(|k| k.name.as_str()).collect();
    assert_eq!(deleted, ["extra"]);
    assert!(
        get_json(plane, &["configmap", "extra"]).is_none(),
        "deleted"
    );
    assert_eq!(
        get_json(plane, &["configmap", "base"]).unwrap()["data"]["extra"],
        "false"
    );
    assert!(out.service_templates.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k0rdent_rejecting_the_service_template_is_reported_in_full() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    // Jobs succeed; templates naming "ghost" are declared invalid.
    let _controllers = plane.play_controllers_with("never-fails", "ghost");
    let out = env
        .engine()
        .upgrade_install(env.request("kgst-ghost", "ghost:0.1.0"), &quiet())
        .await
        .expect("deployed: helm's part succeeded");
    assert_eq!(out.record.status(), Some(Status::Deployed));
    let st = &out.service_templates[0];
    assert_eq!((st.name.as_str(), st.valid), ("ghost-0-1-0", Some(false)));
    assert_eq!(
        st.validation_error.as_deref(),
        Some("chart ghost-0-1-0 not found")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_concurrent_operations_exactly_one_proceeds() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let _controllers = plane.play_controllers("missing");
    let engine = env.engine();
    let control = quiet();
    let (a, b) = tokio::join!(
        engine.upgrade_install(env.request("race", "minio:14.1.2"), &control),
        engine.upgrade_install(env.request("race", "minio:14.1.3"), &control),
    );
    let results = [a, b];
    let ok = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 1, "{results:?}");
    let err = results
        .iter()
        .find_map(|r| r.as_ref().err())
        .unwrap()
        .to_string();
    assert!(
        err.contains("another operation is in progress since "),
        "{err}"
    );
    let history = engine.history("race", NS).await.unwrap();
    assert_eq!(
        statuses(&history),
        rows(&[(1, "deployed")]),
        "nothing corrupted"
    );

    // An operation that starts while another is running is refused too.
    let slow = env.request("race", "minio:14.1.4");
    let running = engine.upgrade_install(slow, &control);
    let second = async {
        let store = ReleaseStore::new(&env.cluster);
        loop {
            let h = store.history("race", NS).await.unwrap();
            if h.iter()
                .any(|r| r.record.status().is_some_and(Status::is_pending))
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        engine.uninstall("race", NS, &quiet()).await
    };
    let (first, second) = tokio::join!(running, second);
    first.expect("the first operation finishes");
    let err = second.unwrap_err().to_string();
    assert!(err.contains("in progress"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_while_waiting_leaves_the_release_consistent() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    let engine = env.engine();
    {
        let _controllers = plane.play_controllers("missing");
        engine
            .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
            .await
            .expect("install");
    }
    // No Job controller now: the verify Job of the upgrade never finishes.
    let control = Control::default();
    let (result, stopped_after) = cancelled_once(
        "hook Job wait (upgrade, rollback included)",
        &control,
        || get_json(plane, &["jobs.batch", "verify-job-minio-14-1-3"]).is_some(),
        engine.upgrade_install(env.request("kgst-minio", "minio:14.1.3"), &control),
    )
    .await;
    let err = result.unwrap_err();
    assert_cancelled_and_rolled_back(
        &err,
        stopped_after,
        "the wait for Job kcm-system/verify-job-minio-14-1-3",
    );
    let history = engine.history("kgst-minio", NS).await.unwrap();
    assert_eq!(
        statuses(&history),
        rows(&[(1, "superseded"), (2, "failed"), (3, "deployed")])
    );
    assert!(
        get_json(plane, &[ST, "minio-14-1-3"]).is_none(),
        "never applied"
    );

    // A first install cancelled before it starts writes nothing at all.
    let control = Control::default();
    control.cancel.cancel();
    let err = engine
        .upgrade_install(env.request("kgst-nginx", "nginx:1.0.0"), &control)
        .await
        .unwrap_err();
    assert!(
        matches!(err, EngineError::Cancelled { .. })
            && err.to_string().contains("nothing was written"),
        "{err}"
    );
    assert!(
        statuses(&engine.history("kgst-nginx", NS).await.unwrap_or_default()).is_empty(),
        "no record"
    );
    assert!(get_json(plane, &[ST, "nginx-1-0-0"]).is_none());
}

const FINALIZER: &str = "k0rdent.test/held-by-nobody";
const OLD_JOB: &str = "verify-job-minio-14-1-2";

/// Runs `operation` and cancels `control` once `ready` holds; returns what
/// the operation returned and how long after the cancel it did, printed as
/// the `TIME-TO-STOP` figures docs/release-engine.md quotes.
async fn cancelled_once<T>(
    what: &str,
    control: &Control,
    ready: impl Fn() -> bool,
    operation: impl std::future::Future<Output = T>,
) -> (T, Duration) {
    let canceller = async {
        while !ready() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        control.cancel.cancel();
        Instant::now()
    };
    let (result, cancelled_at) = tokio::join!(operation, canceller);
    let stopped_after = cancelled_at.elapsed();
    eprintln!("TIME-TO-STOP {what}: {stopped_after:?} from cancel to the operation's return");
    (result, stopped_after)
}

/// The upgrade stopped within a second of the cancel, during `wait`, and was
/// rolled back.
fn assert_cancelled_and_rolled_back(err: &EngineError, stopped_after: Duration, wait: &str) {
    eprintln!("cancelled upgrade reports:\n{err}");
    assert!(stopped_after < Duration::from_secs(1), "{stopped_after:?}");
    assert!(matches!(err, EngineError::RolledBack { .. }), "{err}");
    assert!(matches!(err.root(), EngineError::Cancelled { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("cancelled by the caller during {wait}")),
        "{err}"
    );
}

fn hold_with_finalizer(plane: &ControlPlane, job: &str) {
    let patch = json!({"metadata": {"finalizers": [FINALIZER]}}).to_string();
    plane.kubectl(&[
        "patch",
        "jobs.batch",
        job,
        "-n",
        NS,
        "--type=merge",
        "-p",
        &patch,
    ]);
}

fn resource_version(plane: &ControlPlane, args: &[&str]) -> Value {
    get_json(plane, args).unwrap()["metadata"]["resourceVersion"].clone()
}

/// A control plane (Jobs and templates played) where revision 1 ran the
/// verify Job of minio 14.1.2 and revision 2 that of 14.1.3; the old Job is
/// then held by a finalizer, so going back to 14.1.2 must first delete a Job
/// that never goes away. The engine waits at most `timeout`.
async fn with_a_held_hook_job(
    timeout: Duration,
) -> Option<(Env, PlayedControllers, EngineOptions)> {
    let env = start().await?;
    let controllers = env.plane.play_controllers("missing");
    let engine = env.engine();
    for chart in ["minio:14.1.2", "minio:14.1.3"] {
        engine
            .upgrade_install(env.request("kgst-minio", chart), &quiet())
            .await
            .expect(chart);
    }
    hold_with_finalizer(&env.plane, OLD_JOB);
    let options = EngineOptions {
        timeout,
        validation_timeout: Duration::from_secs(20),
        ..EngineOptions::default()
    };
    Some((env, controllers, options))
}

/// Revision 3 (back to 14.1.2) failed and revision 4 rolled back to 2.
fn assert_rolled_back_past_the_held_job(history: &[k0rdent_mcp::release::StoredRelease]) {
    assert_eq!(
        statuses(history),
        rows(&[
            (1, "superseded"),
            (2, "superseded"),
            (3, "failed"),
            (4, "deployed")
        ])
    );
    assert_eq!(history[3].record.config["chart"], "minio:14.1.3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hook_held_by_a_finalizer_fails_the_operation_within_the_timeout_naming_it() {
    let timeout = Duration::from_secs(3);
    let Some((env, _controllers, options)) = with_a_held_hook_job(timeout).await else {
        return;
    };
    let plane = &env.plane;
    let old_template = resource_version(plane, &[ST, "minio-14-1-2"]);
    let engine = env.engine_with(options);

    let started = Instant::now();
    let err = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
        .await
        .unwrap_err();
    let took = started.elapsed();
    let text = err.to_string();
    eprintln!("stuck delete ({timeout:?} timeout) reported after {took:?}:\n{text}");
    assert!(
        took >= timeout && took < timeout + Duration::from_secs(5),
        "{took:?}"
    );
    assert!(
        matches!(
            err,
            EngineError::RolledBack {
                revision: 3,
                rolled_back_to: 2,
                rollback_revision: 4,
                ..
            }
        ),
        "{text}"
    );
    for part in [
        "kcm-system/Job/verify-job-minio-14-1-2 was still present 3s after it was deleted",
        &format!("finalizer \"{FINALIZER}\" holds it"),
        "fix: remove the finalizer",
        "kubectl patch job.batch/verify-job-minio-14-1-2 -n kcm-system --type=merge",
        "before-hook-creation",
    ] {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    assert_rolled_back_past_the_held_job(&engine.history("kgst-minio", NS).await.unwrap());
    // Revision 3's manifest was never applied: its template is untouched.
    assert_eq!(resource_version(plane, &[ST, "minio-14-1-2"]), old_template);

    // The fix the error names works: without the finalizer the Job goes and
    // the same upgrade succeeds.
    plane.kubectl(&[
        "patch",
        "jobs.batch",
        OLD_JOB,
        "-n",
        NS,
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    let out = engine
        .upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &quiet())
        .await
        .expect("upgrade once the finalizer is removed");
    assert_eq!((out.action, out.revision), (InstallAction::Upgraded, 5));

    // A first install over a held hook object (left by an uninstall: hooks
    // are not part of the manifest) fails, recorded, with nothing applied.
    engine
        .upgrade_install(env.request("kgst-nginx", "nginx:1.0.0"), &quiet())
        .await
        .expect("install nginx");
    engine
        .uninstall("kgst-nginx", NS, &quiet())
        .await
        .expect("uninstall nginx");
    hold_with_finalizer(plane, "verify-job-nginx-1-0-0");
    let kept_template = resource_version(plane, &[ST, "nginx-1-0-0"]);
    let err = engine
        .upgrade_install(env.request("kgst-nginx", "nginx:1.0.0"), &quiet())
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, EngineError::Failed { revision: 1, .. }),
        "{text}"
    );
    assert!(
        text.contains("kcm-system/Job/verify-job-nginx-1-0-0 was still present"),
        "{text}"
    );
    assert_eq!(
        statuses(&engine.history("kgst-nginx", NS).await.unwrap()),
        rows(&[(1, "failed")])
    );
    assert_eq!(resource_version(plane, &[ST, "nginx-1-0-0"]), kept_template);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_a_stuck_before_hook_creation_delete_stops_at_once() {
    // Long enough that only the cancellation can end the wait in time.
    let Some((env, _controllers, options)) = with_a_held_hook_job(Duration::from_secs(30)).await
    else {
        return;
    };
    let plane = &env.plane;
    let engine = env.engine_with(options);
    let control = Control::default();
    let held = || {
        get_json(plane, &["jobs.batch", OLD_JOB])
            .is_some_and(|job| job.pointer("/metadata/deletionTimestamp").is_some())
    };
    let (result, stopped_after) = cancelled_once(
        "stuck before-hook-creation delete (upgrade, rollback included)",
        &control,
        held,
        engine.upgrade_install(env.request("kgst-minio", "minio:14.1.2"), &control),
    )
    .await;
    let err = result.unwrap_err();
    assert_cancelled_and_rolled_back(
        &err,
        stopped_after,
        "the wait for the deletion of kcm-system/Job/verify-job-minio-14-1-2",
    );
    assert_rolled_back_past_the_held_job(&engine.history("kgst-minio", NS).await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_the_service_template_verdict_wait_stops_at_once_and_keeps_the_release() {
    let Some(env) = start().await else {
        return;
    };
    let plane = &env.plane;
    // No controllers: nothing ever validates the template. No verify Job,
    // so the verdict is the only wait.
    let engine = env.engine_with(EngineOptions {
        validation_timeout: Duration::from_secs(60),
        ..EngineOptions::default()
    });
    let mut request = env.request("kgst-nginx", "nginx:1.0.0");
    request.values.insert("skipVerifyJob".into(), json!(true));
    let control = Control::default();
    let (result, stopped_after) = cancelled_once(
        "ServiceTemplate verdict wait (install)",
        &control,
        || get_json(plane, &[ST, "nginx-1-0-0"]).is_some(),
        engine.upgrade_install(request, &control),
    )
    .await;
    let out = result.expect("deployed: the verdict is reported, not required");
    assert!(stopped_after < Duration::from_secs(1), "{stopped_after:?}");
    assert_eq!((out.action, out.revision), (InstallAction::Installed, 1));
    let st = &out.service_templates[0];
    assert_eq!((st.name.as_str(), st.valid), ("nginx-1-0-0", None));
    assert_eq!(
        st.note.as_deref(),
        Some("the caller cancelled the wait for validation")
    );
    assert_eq!(
        statuses(&engine.history("kgst-nginx", NS).await.unwrap()),
        rows(&[(1, "deployed")])
    );
}
