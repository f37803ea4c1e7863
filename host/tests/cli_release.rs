//! The release commands of the binary (`upgrade --install`, `history`,
//! `list`, `rollback`, `uninstall`, `install`) against a real kube-apiserver,
//! with real helm reading what they wrote.

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::Value;

mod support;
use support::{Cli, helm, kgst_dir};

const NS: &str = "kcm-system";

#[test]
fn release_commands_install_upgrade_roll_back_and_uninstall_like_helm() {
    let Some(kgst) = kgst_dir() else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    plane.kubectl(&["create", "namespace", NS]);
    let _controllers = plane.play_controllers("missing");
    let work = tempfile::tempdir().unwrap();
    let cli = Cli {
        plane: &plane,
        cache: work.path().to_path_buf(),
        env: vec![("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s")],
    };
    let chart = kgst.display().to_string();
    let install = |value: &str| {
        cli.json(&[
            "upgrade",
            "--install",
            "minio",
            &chart,
            "-n",
            NS,
            "--set",
            value,
        ])
    };

    let first = install("chart=minio:14.1.2");
    assert_eq!(
        (&first["action"], &first["revision"]),
        (&"installed".into(), &1.into()),
        "{first}"
    );
    assert_eq!(first["service_templates"][0]["valid"], true);
    assert_eq!(install("chart=minio:14.1.2")["action"], "unchanged");
    let second = install("chart=minio:14.1.3");
    assert_eq!(
        (&second["action"], &second["revision"]),
        (&"upgraded".into(), &2.into())
    );
    assert_eq!(second["kept"][0], "kcm-system/ServiceTemplate/minio-14-1-2");

    // `install` refuses a name in use; `upgrade` without --install refuses a missing one.
    let err = cli
        .run(&[
            "install",
            "minio",
            &chart,
            "-n",
            NS,
            "--set",
            "chart=minio:1.0.0",
        ])
        .unwrap_err();
    assert!(
        err.contains("cannot reuse a name that is still in use"),
        "{err}"
    );
    let err = cli
        .run(&[
            "upgrade",
            "nope",
            &chart,
            "-n",
            NS,
            "--set",
            "chart=a:1.0.0",
        ])
        .unwrap_err();
    assert!(
        err.contains(r#"release "nope" in namespace "kcm-system" not found"#),
        "{err}"
    );

    let back = cli.json(&["rollback", "minio", "1", "-n", NS]);
    assert_eq!(
        (&back["action"], &back["revision"]),
        (&"rolled-back".into(), &3.into())
    );
    let history = cli.json(&["history", "minio", "-n", NS]);
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
            (2, "superseded", "Upgrade complete"),
            (3, "deployed", "Rollback to 1")
        ]
    );
    // Real helm agrees, row for row.
    let theirs: Value =
        serde_json::from_str(&helm(&plane, &["history", "minio", "-n", NS, "-o", "json"])).unwrap();
    for (ours, helms) in history
        .as_array()
        .unwrap()
        .iter()
        .zip(theirs.as_array().unwrap())
    {
        for key in ["revision", "status", "chart", "description"] {
            assert_eq!(ours[key], helms[key], "{key}: {ours} vs {helms}");
        }
    }
    let list = cli.json(&["list", "-n", NS]);
    assert_eq!(list[0]["name"], "minio");
    assert_eq!(list[0]["revision"], "3");
    let table = cli.run(&["list", "-A"]).unwrap();
    assert!(
        table.starts_with("NAME") && table.contains("kgst-2.0.2"),
        "{table}"
    );

    let gone = cli.run(&["uninstall", "minio", "-n", NS]).unwrap();
    assert!(
        gone.contains("These resources were kept due to the resource policy:"),
        "{gone}"
    );
    assert!(gone.contains("release \"minio\" uninstalled"), "{gone}");
    assert_eq!(cli.json(&["list", "-A"]), Value::Array(Vec::new()));
    let err = cli.run(&["history", "minio", "-n", NS]).unwrap_err();
    assert!(err.contains("not found") && err.contains("fix:"), "{err}");
}
