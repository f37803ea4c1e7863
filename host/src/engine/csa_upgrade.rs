//! Taking over field ownership a client-side apply left behind. helm v3
//! (and helm v4 with `--server-side=false`) writes objects with
//! update/patch requests, so the API server records their fields as owned by
//! manager `helm` with operation `Update`. A server-side apply as `helm`
//! is a different owner (operation `Apply`) and conflicts on every field it
//! changes. helm v4 moves those fields to its `Apply` entry before applying
//! (client-go's csaupgrade) when a release switches from client-side to
//! server-side apply, and on every rollback; the engine does the same, so
//! releases helm v3 made upgrade without `--force-conflicts`. Pure logic.

use serde_json::{Map, Value};

use crate::cluster::FIELD_MANAGER;

/// `managedFields` with every `helm`/`Update` entry (main resource, not a
/// subresource) folded into the `helm`/`Apply` one; `None` when there is
/// nothing to move.
pub fn upgraded_managed_fields(managed: &[Value]) -> Option<Vec<Value>> {
    let is_helm = |e: &Value, operation: &str| {
        e["manager"] == FIELD_MANAGER
            && e["operation"] == operation
            && e.get("subresource")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
    };
    let csa: Vec<&Value> = managed.iter().filter(|e| is_helm(e, "Update")).collect();
    let first = *csa.first()?;
    let mut apply = managed
        .iter()
        .find(|e| is_helm(e, "Apply"))
        .cloned()
        .unwrap_or_else(|| {
            let mut entry = Map::new();
            entry.insert("manager".into(), FIELD_MANAGER.into());
            entry.insert("operation".into(), "Apply".into());
            entry.insert("apiVersion".into(), first["apiVersion"].clone());
            entry.insert("fieldsType".into(), "FieldsV1".into());
            entry.insert("fieldsV1".into(), Value::Object(Map::new()));
            if let Some(time) = first.get("time") {
                entry.insert("time".into(), time.clone());
            }
            Value::Object(entry)
        });
    let mut fields = apply["fieldsV1"].take();
    if !fields.is_object() {
        fields = Value::Object(Map::new());
    }
    for entry in &csa {
        union(&mut fields, &entry["fieldsV1"]);
    }
    apply["fieldsV1"] = fields;
    let mut out: Vec<Value> = managed
        .iter()
        .filter(|e| !is_helm(e, "Update") && !is_helm(e, "Apply"))
        .cloned()
        .collect();
    out.push(apply);
    Some(out)
}

/// Adds every path of the field set `more` to `set` (both FieldsV1 trees).
fn union(set: &mut Value, more: &Value) {
    let (Some(set), Some(more)) = (set.as_object_mut(), more.as_object()) else {
        return;
    };
    for (key, child) in more {
        let slot = set
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        union(slot, child);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn helm_update_fields_move_to_its_apply_entry() {
        let managed = vec![
            json!({"manager": "helm", "operation": "Update", "apiVersion": "v1", "time": "t1",
                   "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:round": {}}}}),
            json!({"manager": "helm", "operation": "Apply", "apiVersion": "v1",
                   "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:other": {}}}}),
            json!({"manager": "kubectl-edit", "operation": "Update", "apiVersion": "v1",
                   "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"f:x": {}}}}),
            json!({"manager": "helm", "operation": "Update", "subresource": "status",
                   "fieldsV1": {"f:status": {}}}),
        ];
        let out = upgraded_managed_fields(&managed).unwrap();
        assert_eq!(out.len(), 3, "{out:?}");
        assert_eq!(out[0]["manager"], "kubectl-edit");
        assert_eq!(out[1]["subresource"], "status");
        assert_eq!(
            out[2]["fieldsV1"],
            json!({"f:data": {"f:other": {}, "f:round": {}}})
        );
        assert_eq!(out[2]["operation"], "Apply");
    }

    #[test]
    fn an_apply_entry_is_made_when_missing_and_nothing_moves_without_updates() {
        let managed = vec![
            json!({"manager": "helm", "operation": "Update", "apiVersion": "v1",
            "time": "t1", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}}),
        ];
        let out = upgraded_managed_fields(&managed).unwrap();
        assert_eq!(
            out,
            vec![
                json!({"manager": "helm", "operation": "Apply", "apiVersion": "v1",
                "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {}}, "time": "t1"})
            ]
        );
        assert!(upgraded_managed_fields(&out).is_none());
    }
}
