//! JSON Schema validation of the effective values, worded like Helm v4.
//!
//! Why our own and not the `jsonschema` crate: kgst's schemas use a handful of
//! draft-07 keywords (`type`, `enum`, `required`, `properties`,
//! `additionalProperties`, `oneOf`), and `jsonschema` alone makes a 2.86 MB
//! component (see docs/validator.md). This covers those keywords plus a few
//! close relatives; any other keyword makes validation fail closed with a
//! violation saying so, rather than silently skipping a rule Helm would apply.
//!
//! Messages reproduce Helm v4 (santhosh-tekuri/jsonschema v6) item lines, for
//! example `at '/skipVerifyJob': got string, want boolean`.

use serde_json::{Map, Value};

use crate::violation::{ValuePath, Violation, show};

/// Keywords that only annotate; they never make a value invalid.
const ANNOTATIONS: &[&str] = &[
    "$schema",
    "$id",
    "$comment",
    "title",
    "description",
    "default",
    "examples",
    "readOnly",
    "writeOnly",
    "definitions",
];

/// Keywords this validator enforces.
const ENFORCED: &[&str] = &[
    "type",
    "enum",
    "const",
    "required",
    "properties",
    "additionalProperties",
    "items",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
];

/// A parsed `values.schema.json`, checked to use only keywords we enforce.
pub struct Schema(Value);

impl Schema {
    /// Parses the schema text; an unparsable schema or one using a keyword we
    /// cannot enforce is reported as a violation at the root.
    pub fn parse(text: &str) -> Result<Schema, Violation> {
        let root = ValuePath::root();
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Violation::new(
                &root,
                format!("the chart's values.schema.json is not valid JSON: {e}"),
                "this is a defect of the chart itself; use another kgst version",
            )
        })?;
        let mut unsupported = Vec::new();
        collect_unsupported(&value, &mut unsupported);
        if !unsupported.is_empty() {
            unsupported.sort();
            unsupported.dedup();
            return Err(Violation::new(
                &root,
                format!(
                    "the chart's values.schema.json uses keywords this validator cannot check: {}",
                    unsupported.join(", ")
                ),
                "update the kgst validator plugin to one that supports this kgst version's schema",
            ));
        }
        Ok(Schema(value))
    }

    /// Every violation of the schema by `values`; `defaults` supplies example
    /// values for the hints.
    pub fn check(&self, values: &Value, defaults: &Value) -> Vec<Violation> {
        let mut failures = Vec::new();
        check_node(&self.0, values, &ValuePath::root(), &mut failures);
        failures
            .into_iter()
            .map(|f| f.into_violation(values, defaults))
            .collect()
    }

    /// The `enum` of the property at `path`, if the schema declares one.
    pub fn enum_at(&self, path: &[&str]) -> Option<Vec<Value>> {
        let mut node = &self.0;
        for key in path {
            node = node.get("properties")?.get(*key)?;
        }
        node.get("enum")?.as_array().cloned()
    }
}

fn collect_unsupported(schema: &Value, out: &mut Vec<String>) {
    let Some(map) = schema.as_object() else {
        return;
    };
    for (key, sub) in map {
        if ANNOTATIONS.contains(&key.as_str()) {
            continue;
        }
        if !ENFORCED.contains(&key.as_str()) {
            out.push(key.clone());
            continue;
        }
        match key.as_str() {
            "properties" => sub
                .as_object()
                .into_iter()
                .flatten()
                .for_each(|(_, s)| collect_unsupported(s, out)),
            "oneOf" | "anyOf" | "allOf" => sub
                .as_array()
                .into_iter()
                .flatten()
                .for_each(|s| collect_unsupported(s, out)),
            "additionalProperties" | "items" | "not" => collect_unsupported(sub, out),
            _ => {}
        }
    }
}

/// What went wrong where, before it is worded for the user.
struct Failure {
    path: ValuePath,
    kind: FailureKind,
}

enum FailureKind {
    Type {
        want: Vec<String>,
        got: &'static str,
    },
    Enum {
        allowed: Vec<Value>,
    },
    Const {
        want: Value,
    },
    Required {
        missing: Vec<String>,
    },
    Additional {
        keys: Vec<String>,
        allowed: Vec<String>,
    },
    Combinator {
        text: String,
        causes: Vec<String>,
    },
    Not,
    Bound {
        keyword: &'static str,
        got: String,
        want: String,
    },
}

fn check_node(schema: &Value, value: &Value, path: &ValuePath, out: &mut Vec<Failure>) {
    let map = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Not,
            });
            return;
        }
        Value::Object(map) => map,
        _ => return,
    };
    let fail = |kind| Failure {
        path: path.clone(),
        kind,
    };

    if let Some(types) = map.get("type") {
        let want: Vec<String> = match types {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts
                .iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect(),
            _ => Vec::new(),
        };
        if !want.is_empty() && !want.iter().any(|t| has_type(value, t)) {
            // Helm v4 stops at a type mismatch: nothing else about this node is checked.
            out.push(fail(FailureKind::Type {
                want,
                got: type_name(value),
            }));
            return;
        }
    }
    if let Some(Value::Array(allowed)) = map.get("enum")
        && !allowed.iter().any(|a| json_equal(a, value))
    {
        out.push(fail(FailureKind::Enum {
            allowed: allowed.clone(),
        }));
    }
    if let Some(want) = map.get("const")
        && !json_equal(want, value)
    {
        out.push(fail(FailureKind::Const { want: want.clone() }));
    }
    if let Value::String(s) = value {
        let len = s.chars().count() as u64;
        if let Some(min) = map
            .get("minLength")
            .and_then(Value::as_u64)
            .filter(|m| len < *m)
        {
            out.push(fail(bound("minLength", len, min)));
        }
        if let Some(max) = map
            .get("maxLength")
            .and_then(Value::as_u64)
            .filter(|m| len > *m)
        {
            out.push(fail(bound("maxLength", len, max)));
        }
    }
    if let Some(n) = value.as_f64() {
        if let Some(min) = map
            .get("minimum")
            .and_then(Value::as_f64)
            .filter(|m| n < *m)
        {
            out.push(fail(bound("minimum", go_number(n), go_number(min))));
        }
        if let Some(max) = map
            .get("maximum")
            .and_then(Value::as_f64)
            .filter(|m| n > *m)
        {
            out.push(fail(bound("maximum", go_number(n), go_number(max))));
        }
    }
    if let Value::Object(object) = value {
        check_object(map, object, path, out);
    }
    if let (Some(items), Value::Array(list)) = (map.get("items"), value) {
        for (i, item) in list.iter().enumerate() {
            check_node(items, item, &path.index(i), out);
        }
    }
    check_combinators(map, value, path, out);
}

fn check_object(
    schema: &Map<String, Value>,
    object: &Map<String, Value>,
    path: &ValuePath,
    out: &mut Vec<Failure>,
) {
    if let Some(Value::Array(required)) = schema.get("required") {
        let missing: Vec<String> = required
            .iter()
            .filter_map(Value::as_str)
            .filter(|k| !object.contains_key(*k))
            .map(String::from)
            .collect();
        if !missing.is_empty() {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Required { missing },
            });
        }
    }
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(properties) = properties {
        for (key, sub) in properties {
            if let Some(v) = object.get(key) {
                check_node(sub, v, &path.key(key), out);
            }
        }
    }
    let declared = |k: &str| properties.is_some_and(|p| p.contains_key(k));
    match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => {
            let keys: Vec<String> = object.keys().filter(|k| !declared(k)).cloned().collect();
            if !keys.is_empty() {
                let allowed = properties
                    .map(|p| p.keys().cloned().collect())
                    .unwrap_or_default();
                out.push(Failure {
                    path: path.clone(),
                    kind: FailureKind::Additional { keys, allowed },
                });
            }
        }
        Some(extra @ Value::Object(_)) => {
            for (key, v) in object.iter().filter(|(k, _)| !declared(k)) {
                check_node(extra, v, &path.key(key), out);
            }
        }
        _ => {}
    }
}

fn check_combinators(
    schema: &Map<String, Value>,
    value: &Value,
    path: &ValuePath,
    out: &mut Vec<Failure>,
) {
    let branch_failures = |branches: &Vec<Value>| -> Vec<Vec<Failure>> {
        branches
            .iter()
            .map(|b| {
                let mut f = Vec::new();
                check_node(b, value, path, &mut f);
                f
            })
            .collect()
    };
    let causes = |results: &[Vec<Failure>]| -> Vec<String> {
        results.iter().flatten().map(|f| f.text()).collect()
    };
    if let Some(Value::Array(branches)) = schema.get("oneOf") {
        let results = branch_failures(branches);
        let matched: Vec<String> = results
            .iter()
            .enumerate()
            .filter(|(_, f)| f.is_empty())
            .map(|(i, _)| i.to_string())
            .collect();
        if matched.is_empty() {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Combinator {
                    text: "oneOf failed, none matched".into(),
                    causes: causes(&results),
                },
            });
        } else if matched.len() > 1 {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Combinator {
                    text: format!("oneOf failed, subschemas {} matched", matched.join(", ")),
                    causes: Vec::new(),
                },
            });
        }
    }
    if let Some(Value::Array(branches)) = schema.get("anyOf") {
        let results = branch_failures(branches);
        if results.iter().all(|f| !f.is_empty()) {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Combinator {
                    text: "anyOf failed, none matched".into(),
                    causes: causes(&results),
                },
            });
        }
    }
    if let Some(Value::Array(branches)) = schema.get("allOf") {
        for failures in branch_failures(branches) {
            out.extend(failures);
        }
    }
    if let Some(negated) = schema.get("not") {
        let mut f = Vec::new();
        check_node(negated, value, path, &mut f);
        if f.is_empty() {
            out.push(Failure {
                path: path.clone(),
                kind: FailureKind::Not,
            });
        }
    }
}

fn bound(keyword: &'static str, got: impl ToString, want: impl ToString) -> FailureKind {
    FailureKind::Bound {
        keyword,
        got: got.to_string(),
        want: want.to_string(),
    }
}

/// Numbers print the way Go's `%v` prints a float64 (`5`, not `5.0`).
fn go_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

fn has_type(value: &Value, wanted: &str) -> bool {
    match wanted {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "number" => value.is_number(),
        "integer" => {
            value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}

/// JSON Schema equality: numbers compare by value (`1` equals `1.0`).
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// santhosh-tekuri/jsonschema's name for a value's type.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// santhosh-tekuri/jsonschema's `display`: strings in single quotes.
fn display(value: &Value) -> String {
    match value {
        Value::String(s) => format!("'{}'", s.replace('\'', "\\'")),
        other => other.to_string(),
    }
}

fn quoted_list(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Failure {
    /// The text after `at '<pointer>': ` in Helm v4's message.
    fn reason(&self) -> String {
        match &self.kind {
            FailureKind::Type { want, got } => format!("got {got}, want {}", want.join(" or ")),
            FailureKind::Enum { allowed } => match allowed.as_slice() {
                [one] => format!("value must be {}", display(one)),
                many => format!(
                    "value must be one of {}",
                    many.iter().map(display).collect::<Vec<_>>().join(", ")
                ),
            },
            FailureKind::Const { want } => format!("value must be {}", display(want)),
            FailureKind::Required { missing } if missing.len() == 1 => {
                format!("missing property '{}'", missing[0])
            }
            FailureKind::Required { missing } => {
                format!("missing properties {}", quoted_list(missing))
            }
            FailureKind::Additional { keys, .. } => {
                format!("additional properties {} not allowed", quoted_list(keys))
            }
            FailureKind::Combinator { text, .. } => text.clone(),
            FailureKind::Not => "not failed".into(),
            FailureKind::Bound { keyword, got, want } => {
                format!("{keyword}: got {got}, want {want}")
            }
        }
    }

    fn text(&self) -> String {
        format!("at '{}': {}", self.path.pointer(), self.reason())
    }

    fn into_violation(self, values: &Value, defaults: &Value) -> Violation {
        let value = self.path.lookup(values);
        let mut message = self.text();
        let scalar_kind = matches!(
            self.kind,
            FailureKind::Type { .. }
                | FailureKind::Enum { .. }
                | FailureKind::Const { .. }
                | FailureKind::Bound { .. }
        );
        if let (true, Some(v)) = (scalar_kind, value) {
            message.push_str(&format!(" (value: {})", show(v)));
        }
        let name = self.path.dotted();
        let example = self.path.lookup(defaults);
        let hint = match &self.kind {
            FailureKind::Type { want, .. } => type_hint(&name, want, example),
            FailureKind::Enum { allowed } => format!(
                "use one of the allowed values, for example {name}={}",
                allowed.first().map(plain).unwrap_or_default()
            ),
            FailureKind::Const { want } => format!("set {name}={}", plain(want)),
            FailureKind::Required { missing } => format!(
                "set {}; for example --set {}=<value>",
                missing.join(", "),
                join_path(&name, &missing[0])
            ),
            FailureKind::Additional { keys, allowed } => format!(
                "remove {} (this kgst version's schema does not allow {}); allowed keys here: {}",
                quoted_list(keys),
                if keys.len() == 1 { "it" } else { "them" },
                allowed.join(", ")
            ),
            FailureKind::Combinator { causes, .. } if !causes.is_empty() => {
                format!("make {name} match one of: {}", causes.join("; "))
            }
            FailureKind::Combinator { .. } | FailureKind::Not => {
                format!("change {name} so that it satisfies the chart's values.schema.json")
            }
            FailureKind::Bound { keyword, want, .. } => {
                format!("{name} must satisfy {keyword} {want}")
            }
        };
        Violation {
            path: name,
            message,
            hint,
        }
    }
}

fn join_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// A value as a user would type it after `--set k=`.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn type_hint(name: &str, want: &[String], example: Option<&Value>) -> String {
    let example = example
        .filter(|e| want.iter().any(|t| has_type(e, t)))
        .map(|e| format!("{name}={}", plain(e)));
    match want.first().map(String::as_str) {
        Some("boolean") => format!(
            "set a boolean, for example {} (with --set, not --set-string; unquoted true/false in a values file)",
            example.unwrap_or_else(|| format!("{name}=true"))
        ),
        Some("string") => format!(
            "set a string, for example {} (use --set-string for text that looks like a number)",
            example
                .filter(|e| !e.ends_with('='))
                .unwrap_or_else(|| format!("{name}=\"some-text\""))
        ),
        Some("object") => {
            format!("set a map of keys, for example {name}.<key>=<value>, or leave it unset")
        }
        Some(t) => format!(
            "set a value of type {}, or leave it unset",
            if want.len() > 1 {
                want.join(" or ")
            } else {
                t.to_string()
            }
        ),
        None => format!("change {name}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const KGST_LIKE: &str = r#"{
      "$schema": "https://json-schema.org/draft-07/schema#",
      "additionalProperties": false,
      "required": ["repo", "chart"],
      "properties": {
        "repo": {"type": "object", "properties": {
          "name": {"type": "string"},
          "secretRef": {"oneOf": [{"type": "null"}, {"type": "object"}]}
        }},
        "k0rdentApiVersion": {"type": "string", "enum": ["v1alpha1", "v1beta1"]},
        "chart": {"type": "string"},
        "skipVerifyJob": {"type": "boolean"}
      }
    }"#;

    fn messages(values: Value) -> Vec<String> {
        let schema = Schema::parse(KGST_LIKE).unwrap();
        schema
            .check(&values, &json!({}))
            .into_iter()
            .map(|v| v.message)
            .collect()
    }

    #[test]
    fn type_mismatch_uses_helm_v4_wording() {
        let m = messages(json!({"repo": {}, "chart": 123, "skipVerifyJob": "yes"}));
        assert_eq!(
            m,
            vec![
                "at '/chart': got number, want string (value: 123)",
                "at '/skipVerifyJob': got string, want boolean (value: \"yes\")",
            ]
        );
    }

    #[test]
    fn enum_lists_allowed_values_in_single_quotes() {
        let m = messages(json!({"repo": {}, "chart": "", "k0rdentApiVersion": "v2"}));
        assert_eq!(
            m,
            vec![
                "at '/k0rdentApiVersion': value must be one of 'v1alpha1', 'v1beta1' (value: \"v2\")"
            ]
        );
    }

    #[test]
    fn required_and_additional_properties_report_at_the_root() {
        let m = messages(json!({"global": {}, "x": 1}));
        assert_eq!(
            m,
            vec![
                "at '': missing properties 'repo', 'chart'",
                "at '': additional properties 'global', 'x' not allowed",
            ]
        );
        let m = messages(json!({"repo": {}, "global": {}}));
        assert_eq!(
            m,
            vec![
                "at '': missing property 'chart'",
                "at '': additional properties 'global' not allowed"
            ]
        );
    }

    #[test]
    fn one_of_reports_none_matched_with_causes_in_the_hint() {
        let schema = Schema::parse(KGST_LIKE).unwrap();
        let v = schema.check(
            &json!({"repo": {"secretRef": "s"}, "chart": ""}),
            &json!({}),
        );
        assert_eq!(
            v[0].message,
            "at '/repo/secretRef': oneOf failed, none matched"
        );
        assert!(v[0].hint.contains("got string, want null"), "{}", v[0].hint);
        assert_eq!(v[0].path, "repo.secretRef");
    }

    #[test]
    fn every_violation_is_reported_not_just_the_first() {
        let m = messages(
            json!({"repo": {"name": 1}, "chart": 2, "skipVerifyJob": "x", "k0rdentApiVersion": ""}),
        );
        assert_eq!(m.len(), 4, "{m:?}");
    }

    #[test]
    fn hints_use_the_chart_default_as_example() {
        let schema = Schema::parse(KGST_LIKE).unwrap();
        let v = schema.check(
            &json!({"repo": {}, "chart": "", "skipVerifyJob": "no"}),
            &json!({"skipVerifyJob": false}),
        );
        assert!(v[0].hint.contains("skipVerifyJob=false"), "{}", v[0].hint);
    }

    #[test]
    fn unsupported_keywords_fail_closed() {
        let err = Schema::parse(r##"{"properties": {"a": {"pattern": "^x$"}}, "$ref": "#/x"}"##)
            .err()
            .unwrap();
        assert!(err.message.contains("$ref, pattern"), "{}", err.message);
        assert!(Schema::parse("{nope").is_err());
    }

    #[test]
    fn other_supported_keywords() {
        let schema = Schema::parse(
            r#"{"properties": {
                "n": {"type": "integer", "minimum": 1, "maximum": 5},
                "s": {"minLength": 2, "maxLength": 3},
                "l": {"type": "array", "items": {"type": "string"}},
                "c": {"const": "x"},
                "a": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "no": {"not": {"type": "string"}},
                "all": {"allOf": [{"type": "string"}, {"enum": ["q"]}]},
                "extra": {"additionalProperties": {"type": "boolean"}}
            }}"#,
        )
        .unwrap();
        let values = json!({"n": 9, "s": "a", "l": ["x", 1], "c": "y", "a": 1, "no": "s", "all": "z", "extra": {"k": 1}});
        let m: Vec<String> = schema
            .check(&values, &json!({}))
            .into_iter()
            .map(|v| v.message)
            .collect();
        assert_eq!(
            m,
            vec![
                "at '/a': anyOf failed, none matched",
                "at '/all': value must be 'q' (value: \"z\")",
                "at '/c': value must be 'x' (value: \"y\")",
                "at '/extra/k': got number, want boolean (value: 1)",
                "at '/l/1': got number, want string (value: 1)",
                "at '/n': maximum: got 9, want 5 (value: 9)",
                "at '/no': not failed",
                "at '/s': minLength: got 1, want 2 (value: \"a\")",
            ]
        );
        assert!(
            schema
                .check(
                    &json!({"n": 3, "s": "ab", "l": [], "c": "x", "a": true}),
                    &json!({})
                )
                .is_empty()
        );
    }

    #[test]
    fn enum_at_reads_a_property_enum() {
        let schema = Schema::parse(KGST_LIKE).unwrap();
        assert_eq!(
            schema.enum_at(&["k0rdentApiVersion"]),
            Some(vec![json!("v1alpha1"), json!("v1beta1")])
        );
        assert_eq!(schema.enum_at(&["chart"]), None);
    }
}
