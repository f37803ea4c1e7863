//! What "converged" means after a kill and the user's retry, checked against
//! the API server and real helm v4: one deployed latest revision whose
//! objects exist as its manifest says, nothing of the release orphaned, no
//! revision duplicated or left pending or leased, and helm's `list`,
//! `history` and `status` saying the same; or, after an uninstall, nothing
//! left but the objects the chart keeps.

use std::path::PathBuf;

use k0rdent_mcp::engine::parse_manifest_text;
use k0rdent_mcp::release::{Status, StoredRelease, release_from_secret};
use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::Value;

pub const RELEASE: &str = "app";
const RELEASE_NAME_ANNOTATION: &str = "meta.helm.sh/release-name";
const RELEASE_NAMESPACE_ANNOTATION: &str = "meta.helm.sh/release-namespace";
const POLICY_ANNOTATION: &str = "helm.sh/resource-policy";

/// The state an operation must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// The latest revision deployed with these values.
    Deployed { round: u32, with_b: bool },
    /// No release left.
    Gone,
}

pub fn kubectl_json(plane: &ControlPlane, args: &[&str]) -> Result<Value, String> {
    let text = plane.kubectl_as(&plane.kubeconfig, args)?;
    serde_json::from_str(&text).map_err(|e| format!("kubectl {args:?}: {e}"))
}

/// The release's Secrets, decoded, by revision; each with its raw JSON.
pub fn records(plane: &ControlPlane, ns: &str) -> Result<Vec<(StoredRelease, Value)>, String> {
    let list = kubectl_json(
        plane,
        &[
            "get",
            "secrets",
            "-n",
            ns,
            "-l",
            &format!("owner=helm,name={RELEASE}"),
            "-o",
            "json",
        ],
    )?;
    let mut out = Vec::new();
    for secret in list["items"].as_array().cloned().unwrap_or_default() {
        let stored =
            release_from_secret(&secret).map_err(|e| format!("undecodable record: {e}"))?;
        out.push((stored, secret));
    }
    out.sort_by_key(|(s, _)| s.record.version);
    Ok(out)
}

fn helm_binary() -> PathBuf {
    std::env::var_os("K0RDENT_MCP_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm".into())
}

fn helm(plane: &ControlPlane, args: &[&str]) -> Result<String, String> {
    let out = plane
        .helm_command(&helm_binary())
        .args(args)
        .output()
        .map_err(|e| format!("running helm: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "(absent)".into(),
    }
}

/// `Ok` when `ns` holds the release as `expect` says; else what is wrong.
pub fn check(plane: &ControlPlane, ns: &str, expect: Expect) -> Result<(), String> {
    let records = records(plane, ns)?;
    let summary: Vec<String> = records
        .iter()
        .map(|(s, _)| {
            format!(
                "v{} {}",
                s.record.version,
                s.record.info.status.map(Status::as_str).unwrap_or("?")
            )
        })
        .collect();
    let fail = |what: String| Err(format!("{what} (records: {summary:?})"));
    let mut seen = std::collections::BTreeSet::new();
    for (stored, raw) in &records {
        let version = stored.record.version;
        if !seen.insert(version) {
            return fail(format!("revision {version} is stored twice"));
        }
        if stored.secret_name != format!("sh.helm.release.v1.{RELEASE}.v{version}")
            || stored.labels.get("version") != Some(&version.to_string())
        {
            return fail(format!(
                "{} does not name revision {version}",
                stored.secret_name
            ));
        }
        if raw
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .is_some_and(|a| a.keys().any(|k| k.starts_with("k0rdent-mcp.k0rdent.io/")))
        {
            return fail(format!("revision {version} still carries a lease"));
        }
        match stored.record.info.status {
            Some(Status::Deployed | Status::Superseded | Status::Failed) => {}
            other => return fail(format!("revision {version} is left {other:?}")),
        }
    }
    let live = kubectl_json(plane, &["get", "configmaps", "-n", ns, "-o", "json"])?;
    let live: Vec<Value> = live["items"].as_array().cloned().unwrap_or_default();
    let ours = |o: &&Value| {
        o.pointer("/metadata/annotations")
            .and_then(|a| a.get(RELEASE_NAME_ANNOTATION))
            .and_then(Value::as_str)
            == Some(RELEASE)
    };
    let kept = |o: &Value| {
        o.pointer("/metadata/annotations")
            .and_then(|a| a.get(POLICY_ANNOTATION))
            .and_then(Value::as_str)
            == Some("keep")
    };
    let name_of = |o: &Value| text(o.pointer("/metadata/name"));

    let Expect::Deployed { round, with_b } = expect else {
        if !records.is_empty() {
            return fail("the release still has records after its uninstall".into());
        }
        if let Some(orphan) = live.iter().filter(ours).find(|o| !kept(o)) {
            return fail(format!("{} survived the uninstall", name_of(orphan)));
        }
        let listed = helm(plane, &["list", "-n", ns, "-o", "json"])?;
        if serde_json::from_str::<Value>(&listed).ok() != Some(Value::Array(Vec::new())) {
            return fail(format!("helm list still shows: {listed}"));
        }
        return match helm(plane, &["status", RELEASE, "-n", ns]) {
            Err(e) if e.contains("not found") => Ok(()),
            other => fail(format!("helm status after the uninstall: {other:?}")),
        };
    };

    let Some((latest, _)) = records.last() else {
        return fail("no release records".into());
    };
    if latest.record.info.status != Some(Status::Deployed) {
        return fail(format!(
            "the latest revision v{} is not deployed",
            latest.record.version
        ));
    }
    let deployed = records
        .iter()
        .filter(|(s, _)| s.record.info.status == Some(Status::Deployed))
        .count();
    if deployed != 1 {
        return fail(format!("{deployed} deployed revisions"));
    }
    let config = &latest.record.config;
    if text(config.get("round")) != round.to_string()
        || text(config.get("withB")) != with_b.to_string()
    {
        return fail(format!(
            "the deployed values are {config:?}, not round={round} withB={with_b}"
        ));
    }

    let docs = parse_manifest_text(&latest.record.manifest).map_err(|e| e.to_string())?;
    let mut named = Vec::new();
    for doc in &docs {
        let want = &doc.object;
        if want["kind"] != "ConfigMap" {
            return fail(format!(
                "this check knows ConfigMaps only, not {}",
                want["kind"]
            ));
        }
        let name = name_of(want);
        let Some(found) = live.iter().find(|o| name_of(o) == name) else {
            return fail(format!(
                "ConfigMap {name} of the deployed manifest is missing"
            ));
        };
        if found["data"] != want["data"] {
            return fail(format!(
                "ConfigMap {name} holds {} where the manifest says {}",
                found["data"], want["data"]
            ));
        }
        let annotations = &found["metadata"]["annotations"];
        if annotations[RELEASE_NAME_ANNOTATION] != RELEASE
            || annotations[RELEASE_NAMESPACE_ANNOTATION] != ns
            || found["metadata"]["labels"]["app.kubernetes.io/managed-by"] != "Helm"
        {
            return fail(format!("ConfigMap {name} lacks Helm's ownership metadata"));
        }
        named.push(name);
    }
    if let Some(orphan) = live
        .iter()
        .filter(ours)
        .find(|o| !named.contains(&name_of(o)) && !kept(o))
    {
        return fail(format!(
            "{} belongs to the release but not to its deployed manifest",
            name_of(orphan)
        ));
    }

    let ours: Vec<(u64, String)> = records
        .iter()
        .map(|(s, _)| {
            (
                u64::from(s.record.version),
                s.record
                    .info
                    .status
                    .map(Status::as_str)
                    .unwrap_or("?")
                    .to_string(),
            )
        })
        .collect();
    let history: Value =
        serde_json::from_str(&helm(plane, &["history", RELEASE, "-n", ns, "-o", "json"])?)
            .map_err(|e| e.to_string())?;
    let helms: Vec<(u64, String)> = history
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| (r["revision"].as_u64().unwrap_or(0), text(r.get("status"))))
        .collect();
    if helms != ours {
        return fail(format!("helm history says {helms:?}"));
    }
    let list: Value = serde_json::from_str(&helm(plane, &["list", "-n", ns, "-o", "json"])?)
        .map_err(|e| e.to_string())?;
    let version = latest.record.version.to_string();
    match list.as_array().map(Vec::as_slice) {
        Some([row])
            if row["name"] == RELEASE
                && text(row.get("revision")) == version
                && row["status"] == "deployed" => {}
        _ => return fail(format!("helm list says {list}")),
    }
    let status = helm(plane, &["status", RELEASE, "-n", ns])?;
    if !status.contains("STATUS: deployed") || !status.contains(&format!("REVISION: {version}\n")) {
        return fail(format!("helm status says {status}"));
    }
    Ok(())
}
