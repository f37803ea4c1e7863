//! Chart defaults coalesced with user values, as Helm's `chartutil.CoalesceValues`
//! does it for a chart without subcharts.
//!
//! User values win; maps merge key by key; a user `null` deletes a key the
//! defaults have (that is how `--set skipVerifyJob=null` brings back "unset"),
//! while a `null` for a key the defaults lack is kept. When one side is a map and
//! the other is not, Helm warns and keeps the user's value, so we keep it too.

use serde_json::{Map, Value};

/// Returns the effective values: `defaults` coalesced with `user`.
pub fn coalesce(defaults: &Map<String, Value>, user: &Map<String, Value>) -> Map<String, Value> {
    let mut out = user.clone();
    merge_defaults(&mut out, defaults);
    out
}

fn merge_defaults(dst: &mut Map<String, Value>, defaults: &Map<String, Value>) {
    for (key, default) in defaults {
        match dst.get_mut(key) {
            None => {
                dst.insert(key.clone(), default.clone());
            }
            Some(Value::Null) => {
                dst.remove(key);
            }
            Some(Value::Object(user_map)) => {
                if let Value::Object(default_map) = default {
                    merge_defaults(user_map, default_map);
                }
            }
            Some(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(defaults: Value, user: Value) -> Value {
        let (Value::Object(d), Value::Object(u)) = (defaults, user) else {
            panic!("objects only")
        };
        Value::Object(coalesce(&d, &u))
    }

    #[test]
    fn user_values_win_and_maps_merge_recursively() {
        let out = run(
            json!({"repo": {"name": "k0rdent-catalog", "spec": {"url": "oci://a", "type": "oci"}}, "chart": ""}),
            json!({"repo": {"spec": {"url": "https://b"}}, "chart": "minio:14.1.2"}),
        );
        assert_eq!(
            out,
            json!({"repo": {"name": "k0rdent-catalog", "spec": {"url": "https://b", "type": "oci"}}, "chart": "minio:14.1.2"})
        );
    }

    #[test]
    fn null_deletes_a_default_but_is_kept_for_unknown_keys() {
        let out = run(
            json!({"skipVerifyJob": false, "repo": {"name": "x"}}),
            json!({"skipVerifyJob": null, "repo": {"name": null, "extra": null}, "other": null}),
        );
        assert_eq!(out, json!({"repo": {"extra": null}, "other": null}));
    }

    #[test]
    fn mismatched_shapes_keep_the_user_value() {
        let out = run(
            json!({"a": {"b": 1}, "c": 1}),
            json!({"a": "scalar", "c": {"d": 2}}),
        );
        assert_eq!(out, json!({"a": "scalar", "c": {"d": 2}}));
    }

    #[test]
    fn default_nulls_are_copied() {
        let out = run(json!({"repo": {"secretRef": null}}), json!({}));
        assert_eq!(out, json!({"repo": {"secretRef": null}}));
    }
}
