//! `diff` (plan and drift) and drift repair with `--force-conflicts`, through
//! the real binary against a real kube-apiserver, with objects changed
//! behind the release's back by real kubectl and real helm v4 reading the
//! records afterwards.

use std::path::{Path, PathBuf};

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::Value;

mod support;
use support::{Cli, helm, write_chart};

const NS: &str = "kcm-system";

/// Two ConfigMaps, no hooks: every object is a normal one the drift check sees.
fn write_drift_chart(dir: &Path) -> PathBuf {
    write_chart(
        dir,
        "driftdemo",
        "colour: blue\nsize: \"1\"\n",
        &[(
            "configmaps.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-a\n\
             data:\n  colour: {{ .Values.colour | quote }}\n  size: {{ .Values.size | quote }}\n\
             ---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-b\n\
             data:\n  fixed: \"yes\"\n",
        )],
    )
}

/// The live `demo-a`, managed fields included.
fn live_a(plane: &ControlPlane) -> Value {
    serde_json::from_str(&plane.kubectl(&[
        "get",
        "configmap",
        "demo-a",
        "-n",
        NS,
        "-o",
        "json",
        "--show-managed-fields",
    ]))
    .unwrap()
}

fn object<'v>(report: &'v Value, path: &str) -> &'v Value {
    report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["object"] == path)
        .unwrap_or_else(|| panic!("{path} not in {report}"))
}

fn pointers(object: &Value) -> Vec<&str> {
    object["changes"]
        .as_array()
        .map(|c| c.iter().map(|c| c["pointer"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

fn revisions(plane: &ControlPlane) -> usize {
    let out = plane.kubectl(&[
        "get",
        "secrets",
        "-n",
        NS,
        "-l",
        "owner=helm,name=demo",
        "-o",
        "json",
    ]);
    serde_json::from_str::<Value>(&out).unwrap()["items"]
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn diff_plans_reports_drift_and_force_conflicts_repairs_it() {
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", NS]);
    let work = tempfile::tempdir().unwrap();
    let chart = write_drift_chart(work.path()).display().to_string();
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        env: vec![("K0RDENT_MCP_VALIDATION_TIMEOUT", "0s")],
    };

    // A plan of a first install creates everything and writes nothing.
    let plan = cli.json(&["diff", "demo", &chart, "-n", NS]);
    assert_eq!(
        (&plan["operation"], &plan["revision"]),
        (&"install".into(), &1.into()),
        "{plan}"
    );
    assert_eq!(
        object(&plan, "kcm-system/ConfigMap/demo-a")["action"],
        "create"
    );
    assert_eq!(revisions(&plane), 0, "a plan writes no release record");
    assert!(
        plane
            .kubectl_as(&plane.kubeconfig, &["get", "configmap", "demo-a", "-n", NS])
            .is_err(),
        "a plan creates no object"
    );

    let installed = cli.json(&["upgrade", "--install", "demo", &chart, "-n", NS]);
    assert_eq!(installed["revision"], 1, "{installed}");

    // The plan of a pending upgrade names the field it changes, and only it.
    let plan = cli.json(&["diff", "demo", &chart, "-n", NS, "--set", "colour=green"]);
    assert_eq!(
        (&plan["operation"], &plan["revision"], &plan["no_op"]),
        (&"upgrade".into(), &2.into(), &false.into()),
        "{plan}"
    );
    let a = object(&plan, "kcm-system/ConfigMap/demo-a");
    assert_eq!(a["action"], "update", "{plan}");
    assert_eq!(pointers(a), ["/data/colour"], "{plan}");
    assert_eq!(a["changes"][0]["live"], "\"blue\"");
    assert_eq!(a["changes"][0]["release"], "\"green\"");
    assert_eq!(
        object(&plan, "kcm-system/ConfigMap/demo-b")["action"],
        "unchanged"
    );
    let text = cli
        .run(&["diff", "demo", &chart, "-n", NS, "--set", "colour=green"])
        .unwrap();
    assert!(
        text.contains("/data/colour: live \"blue\", release \"green\""),
        "{text}"
    );
    assert_eq!(revisions(&plane), 1, "a plan writes no release record");

    // No drift yet.
    let drift = cli.json(&["diff", "demo", "-n", NS]);
    assert_eq!(drift["drifted"], false, "{drift}");

    // Changed and deleted behind the release's back.
    plane.kubectl(&[
        "patch",
        "configmap",
        "demo-a",
        "-n",
        NS,
        "--type=merge",
        "-p",
        r#"{"data":{"colour":"red","extra":"ignored: the release never set it"}}"#,
    ]);
    plane.kubectl(&["delete", "configmap", "demo-b", "-n", NS]);
    let drift = cli.json(&["diff", "demo", "-n", NS]);
    assert_eq!(drift["drifted"], true, "{drift}");
    let a = object(&drift, "kcm-system/ConfigMap/demo-a");
    assert_eq!(a["action"], "changed", "{drift}");
    assert_eq!(pointers(a), ["/data/colour"], "{drift}");
    assert_eq!(a["changes"][0]["live"], "\"red\"");
    assert_eq!(
        object(&drift, "kcm-system/ConfigMap/demo-b")["action"],
        "missing"
    );

    // Ignore rules hide fields (everywhere, or in one object) and objects.
    let drift = cli.json(&["diff", "demo", "-n", NS, "--ignore", "/data/colour"]);
    assert_eq!(
        object(&drift, "kcm-system/ConfigMap/demo-a")["action"],
        "unchanged"
    );
    let drift = cli.json(&[
        "diff",
        "demo",
        "-n",
        NS,
        "--ignore",
        "ConfigMap/demo-a:/data",
        "--ignore",
        "ConfigMap/demo-b:",
    ]);
    assert_eq!(drift["drifted"], false, "{drift}");
    for bad in ["data/colour", "/data/~2", "ConfigMap:/data"] {
        let err = cli
            .run(&["diff", "demo", "-n", NS, "--ignore", bad])
            .unwrap_err();
        assert!(err.contains(&format!("ignore rule \"{bad}\"")), "{err}");
        assert!(err.contains("fix: give a JSON pointer (RFC 6901)"), "{err}");
    }

    // Another writer takes a field the release set (forcing, as kubectl lets it):
    // the upgrade is refused,
    // naming the field, its manager and the flag, and writes nothing.
    let owner = work.path().join("other.yaml");
    std::fs::write(
        &owner,
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo-a\n  namespace: {NS}\n\
             data:\n  size: \"9\"\n"
        ),
    )
    .unwrap();
    plane.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=other",
        "-f",
        &owner.display().to_string(),
    ]);
    let plan = cli.json(&["diff", "demo", &chart, "-n", NS, "--set", "colour=green"]);
    let a = object(&plan, "kcm-system/ConfigMap/demo-a");
    assert_eq!(a["action"], "conflict", "{plan}");
    assert!(a["message"].as_str().unwrap().contains("other"), "{plan}");
    let err = cli
        .run(&["upgrade", "demo", &chart, "-n", NS, "--set", "colour=green"])
        .unwrap_err();
    assert!(
        err.contains("ConfigMap/demo-a conflicts with another field manager"),
        "{err}"
    );
    assert!(err.contains("\\\"other\\\""), "names the manager: {err}");
    assert!(err.contains(".data.size"), "names the field: {err}");
    assert!(err.contains("--force-conflicts"), "names the flag: {err}");
    assert_eq!(revisions(&plane), 1, "a refused upgrade leaves no revision");
    let live = live_a(&plane);
    assert_eq!(live["data"]["size"], "9", "nothing was overwritten");

    // Forced: the release takes its fields back and recreates what was deleted.
    let repaired = cli.json(&["upgrade", "demo", &chart, "-n", NS, "--force-conflicts"]);
    assert_eq!(
        (&repaired["action"], &repaired["revision"]),
        (&"upgraded".into(), &2.into()),
        "same chart and values, still applied when forced: {repaired}"
    );
    let drift = cli.json(&["diff", "demo", "-n", NS]);
    assert_eq!(drift["drifted"], false, "{drift}");
    let live = live_a(&plane);
    assert_eq!(
        (&live["data"]["size"], &live["data"]["colour"]),
        (&"1".into(), &"blue".into())
    );
    let managers: Vec<&str> = live["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert!(managers.contains(&"helm"), "{managers:?}");
    let history = helm(&plane, &["history", "demo", "-n", NS, "-o", "json"]);
    let history: Value = serde_json::from_str(&history).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[1]["status"], "deployed", "{history}");
}
