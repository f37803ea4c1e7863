//! Which requests are write points, and their names in the matrix
//! (`create record v2 pending-upgrade (lock)`, `apply ConfigMap app-a`).

use k0rdent_test_harness::kill_proxy::WriteRequest;
use serde_json::Value;

const RECORD_PREFIX: &str = "sh.helm.release.v1.";
const HOLDER_ANNOTATION: &str = "k0rdent-mcp.k0rdent.io/lock-holder";

/// The name of a write point, or `None` for a request that persists nothing
/// (a dry run) or whose place in the sequence is set by a timer, not by the
/// operation (the lease renewal, a merge patch of the held record: killing
/// the process there is a kill at the neighbouring write point).
pub fn name_write(write: &WriteRequest) -> Option<String> {
    if write.query().split('&').any(|p| p.starts_with("dryRun=")) {
        return None;
    }
    let segments: Vec<&str> = write.path().trim_matches('/').split('/').collect();
    let body: Value = serde_json::from_slice(&write.body).unwrap_or(Value::Null);
    let Some(at) = segments.iter().position(|s| *s == "namespaces") else {
        return Some(format!("{} {}", write.method, write.path()));
    };
    let resource = segments.get(at + 2).copied().unwrap_or_default();
    let name = segments
        .get(at + 3)
        .map(|s| s.to_string())
        .or_else(|| {
            body.pointer("/metadata/name")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .unwrap_or_default();
    let merge_patch = write.content_type.contains("merge-patch");
    if resource == "secrets" && name.starts_with(RECORD_PREFIX) {
        if write.method == "PATCH" && merge_patch {
            return None;
        }
        let revision = name.rsplit_once(".v").map(|(_, r)| r).unwrap_or("?");
        let status = body
            .pointer("/metadata/labels/status")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let leased = body
            .pointer("/metadata/annotations")
            .and_then(Value::as_object)
            .is_some_and(|a| a.contains_key(HOLDER_ANNOTATION));
        return Some(match write.method.as_str() {
            "POST" => format!("create record v{revision} {status} (lock)"),
            "PUT" if leased => format!("update record v{revision} {status} (leased)"),
            "PUT" => format!("update record v{revision} {status}"),
            "DELETE" => format!("delete record v{revision}"),
            other => format!("{other} record v{revision}"),
        });
    }
    let verb = match write.method.as_str() {
        "POST" => "create",
        "PUT" => "update",
        "PATCH" if write.content_type.contains("apply-patch") => "apply",
        "PATCH" => "patch",
        "DELETE" => "delete",
        other => other,
    };
    let kind = match resource {
        "configmaps" => "ConfigMap",
        "secrets" => "Secret",
        "jobs" => "Job",
        other => other,
    };
    Some(format!("{verb} {kind} {name}"))
}
