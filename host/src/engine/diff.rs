//! Comparing objects field by field, for plans (what a server-side-apply
//! dry run would store vs what is live) and drift (what the release set vs
//! what is live). Pure logic.
//!
//! Fields the server manages (resourceVersion, managedFields, generation,
//! timestamps, uid, status) change on every write, so they are stripped
//! first: a plan or drift report must list only what a user changed.

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use super::pointer::{IgnoreRule, Pointer};

/// Most objects one report lists; the rest are counted, not shown.
pub const MAX_OBJECTS: usize = 200;
/// Most changed fields listed per object.
pub const MAX_CHANGES_PER_OBJECT: usize = 50;
/// Longest value excerpt in a change, in characters.
const MAX_VALUE_CHARS: usize = 200;

/// `metadata` fields the API server sets on every write.
const SERVER_METADATA: [&str; 7] = [
    "managedFields",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "uid",
    "selfLink",
    "deletionGracePeriodSeconds",
];

/// What happens (plan) or happened (drift) to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ObjectAction {
    /// Plan: the object does not exist yet.
    Create,
    /// Plan: applying would change these fields.
    Update,
    /// Plan: applying would change nothing; drift: live matches the release.
    Unchanged,
    /// Plan: the new revision drops it and it will be deleted.
    Delete,
    /// Plan: the new revision drops it, but its `helm.sh/resource-policy: keep` keeps it.
    Keep,
    /// Plan: another field manager owns fields the release sets; the upgrade
    /// is refused unless forced (`force_conflicts`).
    Conflict,
    /// Plan: the API server would refuse the object (see `message`).
    Rejected,
    /// Drift: deleted outside the release.
    Missing,
    /// Drift: fields the release set now differ.
    Changed,
}

/// One field that differs, with short excerpts of both values (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FieldChange {
    /// RFC 6901 pointer into the object, e.g. `/spec/interval`.
    pub pointer: String,
    /// The live value (absent: the field is not set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<String>,
    /// The value the release sets (plan: what the apply would store).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub release: Option<String>,
}

/// One object of a plan or drift report.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ObjectChange {
    /// `namespace/Kind/name` (`Kind/name` when cluster-scoped).
    pub object: String,
    pub action: ObjectAction,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// More fields changed than are listed.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub changes_truncated: bool,
    /// The API server's words on a conflict (the fields and their managers)
    /// or a rejection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl ObjectChange {
    pub fn new(object: String, action: ObjectAction) -> Self {
        ObjectChange {
            object,
            action,
            changes: Vec::new(),
            changes_truncated: false,
            message: None,
        }
    }
}

/// Which fields to compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    /// Only fields the desired object sets (drift: what the release set).
    DesiredFields,
    /// Every field of either side (plan: dry-run result vs live).
    Whole,
}

/// Removes what the server manages, so two reads of an unchanged object compare equal.
pub fn normalise(object: &mut Value) {
    let Some(map) = object.as_object_mut() else {
        return;
    };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            meta.remove(field);
        }
    }
}

/// Changed fields of `desired` against `live` (both normalised), minus those
/// `ignore` hides, capped at [`MAX_CHANGES_PER_OBJECT`] (second value: cut).
pub fn changes(
    desired: &Value,
    live: &Value,
    compare: Compare,
    ignore: &[IgnoreRule],
    kind: &str,
    name: &str,
) -> (Vec<FieldChange>, bool) {
    let mut found = Vec::new();
    walk(desired, Some(live), &Pointer::root(), compare, &mut found);
    let secret = kind == "Secret";
    let mut out = Vec::new();
    let mut truncated = false;
    for (pointer, release, live) in found {
        if ignore.iter().any(|rule| rule.hides(kind, name, &pointer)) {
            continue;
        }
        if out.len() == MAX_CHANGES_PER_OBJECT {
            truncated = true;
            break;
        }
        let text = pointer.to_string();
        // A Secret's values must not travel into a report.
        let hidden = secret && (text.starts_with("/data") || text.starts_with("/stringData"));
        let show = |v: Option<&Value>| {
            v.map(|v| {
                if hidden {
                    "(redacted)".into()
                } else {
                    excerpt(v)
                }
            })
        };
        out.push(FieldChange {
            pointer: text,
            live: show(live),
            release: show(release),
        });
    }
    (out, truncated)
}

type Found<'v> = Vec<(Pointer, Option<&'v Value>, Option<&'v Value>)>;

fn walk<'v>(
    desired: &'v Value,
    live: Option<&'v Value>,
    at: &Pointer,
    compare: Compare,
    found: &mut Found<'v>,
) {
    match (desired, live) {
        // Setting a field to null in a manifest means leaving it unset.
        (Value::Null, None) => {}
        (Value::Object(want), Some(Value::Object(have))) => {
            for (key, value) in want {
                walk(
                    value,
                    have.get(key),
                    &at.child(key.as_str()),
                    compare,
                    found,
                );
            }
            if compare == Compare::Whole {
                for (key, value) in have {
                    if !want.contains_key(key) {
                        found.push((at.child(key.as_str()), None, Some(value)));
                    }
                }
            }
        }
        (Value::Array(want), Some(Value::Array(have))) if want.len() == have.len() => {
            for (i, (w, h)) in want.iter().zip(have).enumerate() {
                walk(w, Some(h), &at.child(i.to_string()), compare, found);
            }
        }
        (want, Some(have)) if same_scalar(want, have) => {}
        (want, have) => found.push((at.clone(), Some(want), have)),
    }
}

/// Equal, counting `1` and `1.0` as the same number (YAML vs the server's JSON).
fn same_scalar(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn excerpt(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_VALUE_CHARS {
        return text;
    }
    let cut: String = text.chars().take(MAX_VALUE_CHARS).collect();
    format!("{cut}… ({} bytes)", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pointers(changes: &[FieldChange]) -> Vec<&str> {
        changes.iter().map(|c| c.pointer.as_str()).collect()
    }

    #[test]
    fn drift_compares_only_what_the_release_set() {
        let desired = json!({"spec": {"url": "a", "interval": "10m", "list": [1, 2]}});
        let live =
            json!({"spec": {"url": "b", "interval": "10m", "list": [1.0, 3], "extra": true}});
        let (c, cut) = changes(&desired, &live, Compare::DesiredFields, &[], "K", "n");
        assert_eq!(pointers(&c), ["/spec/list/1", "/spec/url"]);
        assert!(!cut);
        assert_eq!(c[1].live.as_deref(), Some("\"b\""));
        assert_eq!(c[1].release.as_deref(), Some("\"a\""));

        let (c, _) = changes(&desired, &live, Compare::Whole, &[], "K", "n");
        assert_eq!(pointers(&c), ["/spec/list/1", "/spec/url", "/spec/extra"]);
    }

    #[test]
    fn ignore_rules_and_server_fields_hide_changes() {
        let mut live = json!({"metadata": {"resourceVersion": "9", "managedFields": []},
            "spec": {"a": 1}, "status": {"x": 1}});
        normalise(&mut live);
        let desired = json!({"metadata": {}, "spec": {"a": 2}});
        let (c, _) = changes(&desired, &live, Compare::Whole, &[], "K", "n");
        assert_eq!(pointers(&c), ["/spec/a"]);
        let rule = IgnoreRule::parse("K/n:/spec").unwrap();
        assert!(
            changes(&desired, &live, Compare::Whole, &[rule], "K", "n")
                .0
                .is_empty()
        );
    }

    #[test]
    fn secrets_are_redacted_and_long_lists_cut() {
        let (c, _) = changes(
            &json!({"data": {"k": "c2VjcmV0"}}),
            &json!({"data": {"k": "b3RoZXI="}}),
            Compare::DesiredFields,
            &[],
            "Secret",
            "s",
        );
        assert_eq!(c[0].live.as_deref(), Some("(redacted)"));
        let many: serde_json::Map<String, Value> =
            (0..80).map(|i| (format!("f{i:02}"), json!(i))).collect();
        let (c, cut) = changes(
            &Value::Object(many),
            &json!({}),
            Compare::DesiredFields,
            &[],
            "K",
            "n",
        );
        assert_eq!(c.len(), MAX_CHANGES_PER_OBJECT);
        assert!(cut);
        assert!(excerpt(&json!("x".repeat(500))).ends_with("(502 bytes)"));
    }
}
