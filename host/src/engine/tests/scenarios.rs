//! The engine's branches, one scenario each.

use std::time::Duration;

use crate::release::Status;

use super::super::{EngineError, InstallAction};
use super::{Bench, CONFIGMAPS, SECRETS, values};

fn position(writes: &[String], target: &str) -> usize {
    writes
        .iter()
        .position(|w| w == target)
        .unwrap_or_else(|| panic!("{target} was not written; writes: {writes:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_takes_the_lock_runs_hooks_by_weight_then_objects_in_kind_order_then_records() {
    let bench = Bench::new();
    let outcome = bench.upgrade_install(values(&[])).await.unwrap();
    assert_eq!(outcome.action, InstallAction::Installed);
    let writes = bench.writes_since(0);
    let lock = position(&writes, "secrets/sh.helm.release.v1.demo.v1");
    let order = [
        "configmaps/hook-config",
        "jobs/migrate",
        "serviceaccounts/app",
        "configmaps/app",
        "deployments/app",
    ]
    .map(|t| position(&writes, t));
    assert!(lock < order[0], "the lock comes first: {writes:#?}");
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "hooks by weight, then ServiceAccount, ConfigMap, Deployment: {writes:#?}"
    );
    let last = writes.len() - 1;
    assert_eq!(
        writes[last], "secrets/sh.helm.release.v1.demo.v1",
        "the record is written last"
    );
    assert_eq!(bench.statuses().await, vec![(1, Status::Deployed)]);
    assert_eq!(bench.configmap_value("app").as_deref(), Some("one"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_chart_and_values_again_write_nothing() {
    let bench = Bench::new();
    bench.upgrade_install(values(&[])).await.unwrap();
    let from = bench.api.log().len();
    let outcome = bench.upgrade_install(values(&[])).await.unwrap();
    assert_eq!(outcome.action, InstallAction::Unchanged);
    assert_eq!(bench.writes_since(from), Vec::<String>::new());
    assert_eq!(bench.statuses().await, vec![(1, Status::Deployed)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_install_is_recorded_failed_and_removes_only_what_it_created() {
    let bench = Bench::new();
    bench.api.fail_writes_to("deployments/app");
    let err = bench.upgrade_install(values(&[])).await.unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Failed {
                operation: "INSTALLATION",
                revision: 1,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(bench.statuses().await, vec![(1, Status::Failed)]);
    assert_eq!(
        bench.configmap_value("app"),
        None,
        "created objects are removed"
    );
    let kept = bench.api.names(CONFIGMAPS);
    assert!(
        kept.contains(&"kept".to_string()),
        "keep-policy objects stay: {kept:?}"
    );
    assert!(
        kept.contains(&"hook-config".to_string()),
        "hooks stay for inspection: {kept:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upgrade_hook_rolls_the_release_back_to_the_deployed_revision() {
    let bench = Bench::new();
    bench.upgrade_install(values(&[])).await.unwrap();
    bench.api.fail_job("broken");
    let err = bench
        .upgrade_install(values(&[("value", "two"), ("job", "broken")]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::RolledBack {
                operation: "UPGRADE",
                revision: 2,
                rolled_back_to: 1,
                rollback_revision: 3,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        bench.statuses().await,
        vec![
            (1, Status::Superseded),
            (2, Status::Failed),
            (3, Status::Deployed)
        ]
    );
    assert_eq!(
        bench.configmap_value("app").as_deref(),
        Some("one"),
        "revision 1's objects"
    );

    // Without roll-back on failure the failed revision stays as the latest.
    let mut bench = Bench::new();
    bench.options.rollback_on_failure = false;
    bench.upgrade_install(values(&[])).await.unwrap();
    bench.api.fail_job("broken");
    let err = bench
        .upgrade_install(values(&[("job", "broken")]))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::Failed {
                operation: "UPGRADE",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        bench.statuses().await,
        vec![(1, Status::Deployed), (2, Status::Failed)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_is_pruned_to_max_history_under_the_lock() {
    let mut bench = Bench::new();
    bench.options.max_history = 3;
    for value in ["a", "b", "c", "d", "e"] {
        bench
            .upgrade_install(values(&[("value", value)]))
            .await
            .unwrap();
    }
    let statuses = bench.statuses().await;
    assert_eq!(
        statuses,
        vec![
            (3, Status::Superseded),
            (4, Status::Superseded),
            (5, Status::Deployed)
        ]
    );
    assert_eq!(bench.api.names(SECRETS).len(), 3);
    assert_eq!(bench.configmap_value("app").as_deref(), Some("e"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_lock_is_respected_and_an_expired_one_is_recovered() {
    let mut bench = Bench::new();
    bench.options.lease = Duration::from_secs(1);
    bench.upgrade_install(values(&[])).await.unwrap();
    // The upgrade's final record write fails: revision 2 stays pending, leased, as after a crash.
    bench
        .api
        .fail_writes_to("secrets/sh.helm.release.v1.demo.v2");
    bench
        .upgrade_install(values(&[("value", "two")]))
        .await
        .unwrap_err();
    bench.api.heal();
    assert_eq!(
        bench.statuses().await,
        vec![(1, Status::Deployed), (2, Status::PendingUpgrade)]
    );

    let err = bench
        .upgrade_install(values(&[("value", "three")]))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("in progress"), "{err}");

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let outcome = bench
        .upgrade_install(values(&[("value", "three")]))
        .await
        .unwrap();
    let recovered = outcome
        .recovered
        .expect("the abandoned upgrade is reported");
    assert_eq!(recovered.revision, 2);
    assert_eq!(bench.configmap_value("app").as_deref(), Some("three"));
    let statuses = bench.statuses().await;
    assert_eq!(statuses.last().map(|s| s.1), Some(Status::Deployed));
    assert_eq!(
        statuses.iter().filter(|s| s.1 == Status::Deployed).count(),
        1,
        "{statuses:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_restores_a_revisions_objects_and_uninstall_keeps_what_the_chart_keeps() {
    let bench = Bench::new();
    bench.upgrade_install(values(&[])).await.unwrap();
    bench
        .upgrade_install(values(&[("value", "two")]))
        .await
        .unwrap();
    let engine = bench.engine();
    let control = super::super::Control::default();
    let outcome = engine
        .rollback("demo", super::NS, Some(1), &control)
        .await
        .unwrap();
    assert_eq!(outcome.revision, 3);
    assert_eq!(bench.configmap_value("app").as_deref(), Some("one"));
    assert_eq!(
        bench.statuses().await,
        vec![
            (1, Status::Superseded),
            (2, Status::Superseded),
            (3, Status::Deployed)
        ]
    );

    let from = bench.api.log().len();
    let outcome = engine.uninstall("demo", super::NS, &control).await.unwrap();
    assert!(
        outcome.kept.iter().any(|k| k.name == "kept"),
        "{:?}",
        outcome.kept
    );
    assert_eq!(bench.configmap_value("app"), None);
    assert!(bench.api.names(CONFIGMAPS).contains(&"kept".to_string()));
    assert!(
        bench.api.names(SECRETS).is_empty(),
        "every revision's record is removed"
    );
    let writes = bench.writes_since(from);
    assert!(
        position(&writes, "deployments/app") < position(&writes, "serviceaccounts/app"),
        "uninstall deletes in reverse kind order: {writes:#?}"
    );
}
