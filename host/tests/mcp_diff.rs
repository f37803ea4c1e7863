//! `k0rdent.mgmt.releases.diff` (drift and plan), install_from_catalog's
//! `dry_run` plan and `force_conflicts` drift repair, driven by the official
//! MCP Python SDK over stdio against the real binary, a real registry and a
//! real kube-apiserver; kubectl changes and deletes the release's objects
//! between calls.

use std::path::PathBuf;
use std::process::Command;

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Value, json};

mod support;
use support::{BIN, McpFixture, client_json, kgst_dir, python_with_mcp};

const CLIENT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/e2e/clients/mcp_diff.py"
);
const TEMPLATE: &str = "kcm-system/ServiceTemplate/minio-14-1-2";

fn structured<'a>(out: &'a Value, key: &str) -> &'a Value {
    let r = &out[key];
    assert_eq!(r["is_error"], false, "{key}: {r}");
    &r["structured"]
}

fn only_object<'a>(out: &'a Value, key: &str) -> &'a Value {
    let drift = &structured(out, key)["drift"];
    let objects = drift["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 1, "{key}: {drift}");
    assert_eq!(objects[0]["object"], TEMPLATE, "{key}: {drift}");
    &objects[0]
}

fn kubectl_json(plane: &ControlPlane, args: &[&str]) -> Value {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-o", "json"]);
    serde_json::from_str(&plane.kubectl(&all)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_reports_drift_plans_and_force_conflicts_repairs_over_mcp() {
    let Some(python) = python_with_mcp() else {
        return;
    };
    let Some(kgst) = kgst_dir() else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    for ns in ["kcm-system", "team-a"] {
        plane.kubectl(&["create", "namespace", ns]);
    }
    let Some(fixture) = McpFixture::start(&kgst).await else {
        return;
    };
    let _controllers = plane.play_controllers("missing");
    let work = tempfile::tempdir().unwrap();
    let kubectl = k0rdent_test_harness::cluster::kubectl_binary().expect("kubectl");
    let env: Vec<(&str, String)> = vec![
        (
            "K0RDENT_MCP_CATALOG_URL",
            fixture.index.display().to_string(),
        ),
        (
            "K0RDENT_MCP_KGST_CHART",
            format!("{}/kgst", fixture.repository),
        ),
        ("K0RDENT_MCP_KGST_VERSION", "2.0.2".into()),
        ("K0RDENT_MCP_PLAIN_HTTP", fixture.registry.host()),
        ("K0RDENT_MCP_NAMESPACE_FILTER", "kcm-system|team-.*".into()),
        ("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s".into()),
        (
            "K0RDENT_MCP_KUBECONFIG",
            plane.kubeconfig.display().to_string(),
        ),
        (
            "K0RDENT_MCP_CHART_CACHE_DIR",
            work.path().join("charts").display().to_string(),
        ),
        (
            "K0RDENT_MCP_CATALOG_CACHE_DIR",
            work.path().join("catalog").display().to_string(),
        ),
        (
            "K0RDENT_MCP_PLUGIN_CACHE_DIR",
            work.path().join("plugins").display().to_string(),
        ),
        ("KUBECTL", kubectl.display().to_string()),
        ("KUBECONFIG_FILE", plane.kubeconfig.display().to_string()),
    ];
    let mut command = Command::new(PathBuf::from(&python));
    command.arg(CLIENT).arg(BIN);
    for (k, v) in &env {
        command.env(k, v);
    }
    let out = client_json(&command.output().expect("running the Python MCP client"));

    assert_eq!(structured(&out, "install")["status"], "created", "{out}");
    assert_eq!(
        structured(&out, "clean")["drift"]["drifted"],
        false,
        "{out}"
    );
    assert_eq!(only_object(&out, "clean")["action"], "unchanged");

    // A dry run returns the plan, and writes nothing.
    let dry = &structured(&out, "dry_run")["namespaces"][0];
    let plan = &dry["plan"];
    assert_eq!(
        (&plan["operation"], &plan["revision"]),
        (&json!("install"), &json!(1)),
        "{dry}"
    );
    assert_eq!(
        plan["objects"],
        json!([{"object": "team-a/ServiceTemplate/minio-14-1-2", "action": "create"}]),
        "{dry}"
    );
    let hooks: Vec<&str> = plan["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["object"].as_str().unwrap())
        .collect();
    assert!(
        hooks.contains(&"team-a/Job/verify-job-minio-14-1-2")
            && hooks
                .iter()
                .any(|h| h.starts_with("team-a/HelmRepository/")),
        "hooks are listed, not diffed: {plan}"
    );
    assert_eq!(dry["applied"].as_array().unwrap().len(), 3, "{dry}");
    for kind in [
        "secrets",
        "servicetemplates.k0rdent.mirantis.com",
        "helmrepositories.source.toolkit.fluxcd.io",
        "jobs.batch",
    ] {
        assert_eq!(
            kubectl_json(&plane, &[kind, "-n", "team-a"])["items"],
            json!([]),
            "a dry run wrote {kind} in team-a"
        );
    }

    // Edited behind the release's back: the pointer of the field it set.
    let changed = only_object(&out, "changed");
    assert_eq!(changed["action"], "changed", "{out}");
    assert_eq!(
        changed["changes"],
        json!([{"pointer": "/spec/helm/chartSpec/interval", "live": "\"1m\"", "release": "\"10m0s\""}])
    );
    assert_eq!(structured(&out, "changed")["drift"]["drifted"], true);
    assert_eq!(only_object(&out, "ignored")["action"], "unchanged");
    let bad = &out["bad_pointer"];
    assert_eq!(bad["is_error"], true, "{bad}");
    let text = bad["text"].as_str().unwrap();
    assert!(
        text.contains("ignore rule \"spec/helm\"")
            && text.contains("fix: give a JSON pointer (RFC 6901)"),
        "{text}"
    );

    // The plan of re-applying the release meets the editor's ownership.
    let plan = &structured(&out, "plan")["plan"];
    assert_eq!(plan["no_op"], true, "{plan}");
    let object = &plan["objects"][0];
    assert_eq!(
        (&object["object"], &object["action"]),
        (&json!(TEMPLATE), &json!("conflict")),
        "{plan}"
    );
    let message = object["message"].as_str().unwrap();
    assert!(
        message.contains("kubectl-patch") && message.contains(".spec.helm.chartSpec.interval"),
        "{message}"
    );

    // Without force nothing is overwritten; with it the release takes its field back.
    assert_eq!(structured(&out, "reinstall")["status"], "unchanged");
    assert_eq!(only_object(&out, "still_changed")["action"], "changed");
    let forced = structured(&out, "forced");
    assert_eq!(
        (&forced["status"], &forced["namespaces"][0]["revision"]),
        (&json!("updated"), &json!(2)),
        "{forced}"
    );
    assert_eq!(
        only_object(&out, "repaired")["action"],
        "unchanged",
        "{out}"
    );

    // Deleted behind the release's back: missing, unless ignored by object.
    assert_eq!(only_object(&out, "missing")["action"], "missing", "{out}");
    assert_eq!(structured(&out, "missing")["drift"]["drifted"], true);
    assert_eq!(
        structured(&out, "missing_ignored")["drift"]["drifted"],
        false,
        "{out}"
    );
}
