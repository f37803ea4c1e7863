//! Helm 4 record fidelity: one release taken through 13 revisions, helm v4
//! and `k0rdent-mcp` taking turns (ours install → helm upgrade → ours
//! upgrade → helm rollback → ours rollback → …), against a real
//! kube-apiserver. After every step helm's `history`, `status` and `get
//! manifest` agree with ours, every record carries the apply method helm v4
//! writes for its own server-side-applied revisions (`ssa`), and the live
//! object is what that revision's manifest says. Then helm v3 reads the
//! same records (it ignores the v4 field).

use std::path::{Path, PathBuf};

use k0rdent_mcp::release::{ApplyMethod, ReleaseRecord, release_from_secret};
use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::Value;

mod support;
use support::{Cli, helm, helm3, write_chart};

const NS: &str = "kcm-system";

fn write_interop_chart(dir: &Path) -> PathBuf {
    write_chart(
        dir,
        "interop",
        "round: \"0\"\n",
        &[(
            "configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-cm\n\
             data:\n  round: {{ .Values.round | quote }}\n",
        )],
    )
}

/// Ours: `args -n NS -o json`.
fn ours(cli: &Cli, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend_from_slice(&["-n", NS]);
    cli.json(&all)
}

/// A control plane with namespace `NS`, a work folder and the chart in it.
fn start() -> Option<(ControlPlane, tempfile::TempDir, String)> {
    let plane = ControlPlane::start()?;
    plane.kubectl(&["create", "namespace", NS]);
    let work = tempfile::tempdir().unwrap();
    let chart = write_interop_chart(work.path()).display().to_string();
    Some((plane, work, chart))
}

/// The stored record of `demo`'s `revision`.
fn stored(plane: &ControlPlane, revision: u32) -> ReleaseRecord {
    let secret: Value = serde_json::from_str(&plane.kubectl(&[
        "get",
        "secret",
        &format!("sh.helm.release.v1.demo.v{revision}"),
        "-n",
        NS,
        "-o",
        "json",
    ]))
    .unwrap();
    release_from_secret(&secret).unwrap().record
}

/// `data.round` of the live ConfigMap.
fn live_round(plane: &ControlPlane) -> String {
    let live: Value = serde_json::from_str(&plane.kubectl(&[
        "get",
        "configmap",
        "demo-cm",
        "-n",
        NS,
        "-o",
        "json",
    ]))
    .unwrap();
    live["data"]["round"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Who does a step, and what the live ConfigMap then holds.
enum Step {
    OursInstall(&'static str),
    OursUpgrade(&'static str),
    OursRollback(u32),
    HelmUpgrade(&'static str),
    HelmRollback(Option<u32>),
}

#[test]
fn helm_v4_and_ours_take_turns_over_thirteen_revisions() {
    let Some((plane, work, chart)) = start() else {
        return;
    };
    // 13 revisions, all kept: helm's default --history-max (10) would prune.
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        env: vec![
            ("K0RDENT_MCP_VALIDATION_TIMEOUT", "0s"),
            ("K0RDENT_MCP_HISTORY_MAX", "0"),
        ],
    };

    use Step::*;
    let steps = [
        OursInstall("1"),
        HelmUpgrade("2"),
        OursUpgrade("3"),
        HelmRollback(Some(1)),
        OursRollback(2),
        HelmUpgrade("6"),
        OursUpgrade("7"),
        HelmRollback(None),
        OursRollback(3),
        HelmUpgrade("10"),
        OursUpgrade("11"),
        HelmRollback(Some(9)),
        OursRollback(10),
    ];
    // The round each revision deployed, to check rollbacks and live objects.
    let mut rounds: Vec<String> = Vec::new();
    let mut made_by_helm = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let revision = i as u32 + 1;
        let round = match step {
            OursInstall(r) | OursUpgrade(r) | HelmUpgrade(r) => r.to_string(),
            OursRollback(to) | HelmRollback(Some(to)) => rounds[*to as usize - 1].clone(),
            HelmRollback(None) => rounds[rounds.len() - 2].clone(),
        };
        let set = format!("round={round}");
        match step {
            OursInstall(_) => {
                let out = ours(
                    &cli,
                    &["upgrade", "--install", "demo", &chart, "--set", &set],
                );
                assert_eq!(out["revision"], revision, "{out}");
            }
            OursUpgrade(_) => {
                let out = ours(&cli, &["upgrade", "demo", &chart, "--set", &set]);
                assert_eq!(
                    (&out["action"], &out["revision"]),
                    (&"upgraded".into(), &revision.into()),
                    "{out}"
                );
            }
            OursRollback(to) => {
                let out = ours(&cli, &["rollback", "demo", &to.to_string()]);
                assert_eq!(out["revision"], revision, "{out}");
            }
            HelmUpgrade(_) => {
                helm(
                    &plane,
                    &[
                        "upgrade",
                        "demo",
                        &chart,
                        "-n",
                        NS,
                        "--history-max",
                        "0",
                        "--set",
                        &set,
                    ],
                );
                made_by_helm.push(revision);
            }
            HelmRollback(to) => {
                let mut args = vec!["rollback".to_string(), "demo".into()];
                args.extend(to.map(|t| t.to_string()));
                args.extend(["-n", NS, "--history-max", "0"].map(String::from));
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                helm(&plane, &args);
                made_by_helm.push(revision);
            }
        }
        rounds.push(round.clone());
        check_agreement(&plane, &cli, revision, &round);
    }
    assert_eq!(made_by_helm, [2, 4, 6, 8, 10, 12]);

    // helm v3 reads records that carry the v4 field.
    if let Some(history) = helm3(&plane, &["history", "demo", "-n", NS, "-o", "json"]) {
        let history: Value = serde_json::from_str(&history).unwrap();
        assert_eq!(history.as_array().unwrap().len(), steps.len(), "{history}");
        assert_eq!(history[steps.len() - 1]["status"], "deployed");
        let manifest = helm3(&plane, &["get", "manifest", "demo", "-n", NS]).unwrap();
        assert!(manifest.contains("round: \"10\""), "{manifest}");
        let status = helm3(&plane, &["status", "demo", "-n", NS, "-o", "json"]).unwrap();
        let status: Value = serde_json::from_str(&status).unwrap();
        assert_eq!(status["version"], steps.len(), "{status}");
    }
}

/// helm's view and ours agree on `revision`, its record carries `ssa`, and
/// the live ConfigMap holds `round`.
fn check_agreement(plane: &ControlPlane, cli: &Cli, revision: u32, round: &str) {
    let theirs: Value =
        serde_json::from_str(&helm(plane, &["history", "demo", "-n", NS, "-o", "json"])).unwrap();
    let mine = ours(cli, &["history", "demo"]);
    let rows = |v: &Value| -> Vec<(u64, String, String, String)> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["revision"].as_u64().unwrap(),
                    r["status"].as_str().unwrap().to_string(),
                    r["chart"].as_str().unwrap().to_string(),
                    r["description"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(rows(&theirs), rows(&mine), "revision {revision}");
    let rows = rows(&mine);
    assert_eq!(rows.len() as u32, revision, "{rows:?}");
    for (n, status, ..) in &rows {
        let expected = if *n == revision as u64 {
            "deployed"
        } else {
            "superseded"
        };
        assert_eq!(
            status, expected,
            "revision {n} after step {revision}: {rows:?}"
        );
    }

    let status: Value =
        serde_json::from_str(&helm(plane, &["status", "demo", "-n", NS, "-o", "json"])).unwrap();
    assert_eq!(
        (&status["version"], &status["info"]["status"]),
        (&revision.into(), &"deployed".into()),
        "{status}"
    );

    let record = stored(plane, revision);
    assert_eq!(
        record.apply_method,
        Some(ApplyMethod::ServerSide),
        "revision {revision}: helm v4 records server-side apply as \"ssa\""
    );
    let manifest = helm(plane, &["get", "manifest", "demo", "-n", NS]);
    assert_eq!(
        manifest.trim(),
        record.manifest.trim(),
        "revision {revision}"
    );
    assert!(
        manifest.contains(&format!("round: \"{round}\"")),
        "{manifest}"
    );

    assert_eq!(live_round(plane), round, "revision {revision}");
}

/// A release helm v3 made applies client-side (no `apply_method`, fields owned
/// by manager `helm` with operation `Update`); ours upgrades it by server-side
/// apply with a changed value and records `ssa`, and helm v4 and v3 go on.
#[test]
fn ours_upgrades_a_client_side_release_of_helm_v3() {
    let Some((plane, work, chart)) = start() else {
        return;
    };
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        env: vec![("K0RDENT_MCP_VALIDATION_TIMEOUT", "0s")],
    };
    if helm3(
        &plane,
        &["install", "demo", &chart, "-n", NS, "--set", "round=1"],
    )
    .is_none()
    {
        return;
    }
    assert_eq!(
        stored(&plane, 1).apply_method,
        None,
        "helm v3 writes no apply method"
    );

    let out = ours(&cli, &["upgrade", "demo", &chart, "--set", "round=2"]);
    assert_eq!(
        (&out["action"], &out["revision"]),
        (&"upgraded".into(), &2.into()),
        "{out}"
    );
    assert_eq!(
        stored(&plane, 2).apply_method,
        Some(ApplyMethod::ServerSide)
    );
    assert_eq!(live_round(&plane), "2");

    helm(
        &plane,
        &["upgrade", "demo", &chart, "-n", NS, "--set", "round=3"],
    );
    assert_eq!(
        stored(&plane, 3).apply_method,
        Some(ApplyMethod::ServerSide)
    );
    let out = ours(&cli, &["rollback", "demo", "1"]);
    assert_eq!(out["revision"], 4, "{out}");
    let history = helm3(&plane, &["history", "demo", "-n", NS, "-o", "json"]).unwrap();
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 4, "{history}");
    assert_eq!(history[3]["status"], "deployed", "{history}");
}
