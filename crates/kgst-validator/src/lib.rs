//! Values validation for the kgst chart, shared by the kgst validator
//! components (`kgst-validator-v0`, `-v1`, `-v2`, one per values layout).
//!
//! [`validate`] runs, in order: Helm's coalescing of the chart's `values.yaml`
//! with the user values, the chart's `values.schema.json` (worded like Helm
//! v4), and the kgst contract of the layout. It reports every violation at
//! once; on success it returns the effective values.
//!
//! [`intent::values_for_intent`] builds the values a catalog install passes to
//! [`validate`]: the kgst layout lives here, not in the host.

pub mod coalesce;
pub mod component;
pub mod intent;
pub mod layout;
pub mod names;
pub mod repo_name;
pub mod schema;
pub mod shared_rules;
pub mod violation;
pub use helm_yaml as yaml;

use serde_json::{Map, Value};

pub use intent::{Intent, values_for_intent};
pub use layout::Layout;
pub use violation::{ValuePath, Violation};

/// What the host hands a validator (the WIT `validate-input`, minus what the
/// rules do not need).
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub chart_name: String,
    pub chart_version: String,
    /// The chart's `values.yaml`, verbatim.
    pub default_values_yaml: Option<String>,
    /// The chart's `values.schema.json`, verbatim.
    pub values_schema_json: Option<String>,
    /// User values as a JSON object.
    pub values_json: String,
    /// `capabilities.api-versions`.
    pub api_versions: Vec<String>,
}

/// Validates `request` with the rules of `layout`. `Ok` holds the effective
/// values (defaults coalesced with user values) as a JSON object.
pub fn validate(layout: Layout, request: &Request) -> Result<Map<String, Value>, Vec<Violation>> {
    let root = ValuePath::root();
    if let Some(wrong) = wrong_chart(layout, &request.chart_name, &request.chart_version) {
        return Err(vec![wrong]);
    }
    let user = match serde_json::from_str::<Value>(&request.values_json) {
        Ok(Value::Object(map)) => map,
        Ok(other) => {
            return Err(vec![Violation::new(
                &root,
                format!("values must be a JSON object, got {}", json_kind(&other)),
                "pass values as a map, for example {\"chart\": \"ingress-nginx:4.11.5\"}",
            )]);
        }
        Err(e) => {
            return Err(vec![Violation::new(
                &root,
                format!("values are not valid JSON: {e}"),
                "pass values as a JSON object, for example {\"chart\": \"ingress-nginx:4.11.5\"}",
            )]);
        }
    };
    let defaults = match request
        .default_values_yaml
        .as_deref()
        .map(yaml::parse_values)
    {
        None => Map::new(),
        Some(Ok(map)) => map,
        Some(Err(e)) => {
            return Err(vec![Violation::new(
                &root,
                format!("the chart's values.yaml cannot be read: {e}"),
                "this is a defect of the chart itself; use another kgst version",
            )]);
        }
    };
    let effective = Value::Object(coalesce::coalesce(&defaults, &user));
    let defaults = Value::Object(defaults);

    let schema = match request
        .values_schema_json
        .as_deref()
        .map(schema::Schema::parse)
    {
        None => None,
        Some(Ok(schema)) => Some(schema),
        Some(Err(violation)) => return Err(vec![violation]),
    };
    let mut violations = schema
        .as_ref()
        .map(|s| s.check(&effective, &defaults))
        .unwrap_or_default();

    let ctx = shared_rules::Context {
        values: &effective,
        served_api_versions: shared_rules::served_k0rdent_versions(&request.api_versions),
        chart_api_versions: Layout::chart_api_versions(
            schema
                .as_ref()
                .and_then(|s| s.enum_at(&["k0rdentApiVersion"])),
            &defaults,
        ),
    };
    let mut rules = Vec::new();
    layout.check(&ctx, &request.chart_version, &mut rules);
    // The schema already explained what is wrong at these paths; a second,
    // differently worded message for the same value would only add noise.
    let schema_paths: Vec<String> = violations.iter().map(|v| v.path.clone()).collect();
    violations.extend(
        rules
            .into_iter()
            .filter(|v| !schema_paths.contains(&v.path)),
    );

    match (violations.is_empty(), effective) {
        (true, Value::Object(map)) => Ok(map),
        _ => Err(violations),
    }
}

/// Why `layout` cannot serve chart `name` `version`, if it cannot.
pub(crate) fn wrong_chart(layout: Layout, name: &str, version: &str) -> Option<Violation> {
    if name == "kgst" && Layout::for_chart_version(version) == Some(layout) {
        return None;
    }
    Some(Violation::new(
        &ValuePath::root(),
        format!(
            "this validator handles {}, not {name} {version}",
            layout.chart_patterns().join("; "),
        ),
        "the host picked the wrong plugin; pick one whose info().charts matches the chart",
    ))
}

pub use helm_yaml::json_kind;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VALUES_2X: &str = "repo:\n  name: \"k0rdent-catalog\"\n  spec:\n    url: oci://ghcr.io/k0rdent/catalog/charts\n    type: oci\nchart: \"\"\nprefix: \"\"\nnamespace: \"\"\nk0rdentApiVersion: \"v1beta1\"\nskipVerifyJob: false\nverifyJobImage: \"alpine/helm:3.14.0\"\n";
    const SCHEMA_2X: &str = r#"{"additionalProperties": true, "required": ["repo", "chart"], "properties": {
        "repo": {"type": "object", "properties": {"name": {"type": "string"}, "spec": {"type": "object"}}},
        "k0rdentApiVersion": {"type": "string", "enum": ["v1alpha1", "v1beta1"]},
        "chart": {"type": "string"}, "skipVerifyJob": {"type": "boolean"}}}"#;

    fn request(values: Value) -> Request {
        Request {
            chart_name: "kgst".into(),
            chart_version: "2.0.2".into(),
            default_values_yaml: Some(VALUES_2X.into()),
            values_schema_json: Some(SCHEMA_2X.into()),
            values_json: values.to_string(),
            api_versions: Vec::new(),
        }
    }

    #[test]
    fn success_returns_coalesced_values() {
        let out = validate(
            Layout::RepoSpec,
            &request(json!({"chart": "minio:14.1.2", "skipVerifyJob": null})),
        )
        .unwrap();
        assert_eq!(out["chart"], json!("minio:14.1.2"));
        assert_eq!(out["repo"]["spec"]["type"], json!("oci"));
        assert!(
            !out.contains_key("skipVerifyJob"),
            "null deletes the default"
        );
    }

    #[test]
    fn schema_and_contract_violations_come_together_without_duplicates() {
        let err = validate(
            Layout::RepoSpec,
            &request(json!({"chart": 123, "skipVerifyJob": "yes", "prefix": "X", "k0rdentApiVersion": "v2"})),
        )
        .unwrap_err();
        let got: Vec<(&str, &str)> = err
            .iter()
            .map(|v| (v.path.as_str(), v.message.as_str()))
            .collect();
        assert_eq!(got.len(), 4, "{got:#?}");
        assert_eq!(
            got[0],
            ("chart", "at '/chart': got number, want string (value: 123)")
        );
        assert!(
            got[1]
                .1
                .starts_with("at '/k0rdentApiVersion': value must be one of 'v1alpha1', 'v1beta1'")
        );
        assert!(
            got[2]
                .1
                .starts_with("at '/skipVerifyJob': got string, want boolean")
        );
        assert_eq!(got[3].0, "prefix");
    }

    #[test]
    fn wrong_chart_or_version_is_refused() {
        let mut r = request(json!({"chart": "minio:14.1.2"}));
        r.chart_version = "1.2.0".into();
        let err = validate(Layout::RepoSpec, &r).unwrap_err();
        assert!(err[0].message.contains("kgst >=2.0.0, <3.0.0"));
        r.chart_version = "2.0.2".into();
        r.chart_name = "other".into();
        assert!(validate(Layout::RepoSpec, &r).is_err());
    }

    #[test]
    fn malformed_inputs_are_violations_not_panics() {
        let mut r = request(json!({}));
        r.values_json = "[1]".into();
        assert!(
            validate(Layout::RepoSpec, &r).unwrap_err()[0]
                .message
                .contains("a list")
        );
        r.values_json = "{".into();
        assert!(
            validate(Layout::RepoSpec, &r).unwrap_err()[0]
                .message
                .contains("not valid JSON")
        );
        let mut r = request(json!({"chart": "minio:14.1.2"}));
        r.default_values_yaml = Some("a: [".into());
        assert!(
            validate(Layout::RepoSpec, &r).unwrap_err()[0]
                .message
                .contains("values.yaml")
        );
        let mut r = request(json!({"chart": "minio:14.1.2"}));
        r.values_schema_json = Some("{\"pattern\": \"x\"}".into());
        assert!(
            validate(Layout::RepoSpec, &r).unwrap_err()[0]
                .message
                .contains("pattern")
        );
    }

    #[test]
    fn served_api_versions_come_from_capabilities() {
        let mut r = request(json!({"chart": "minio:14.1.2", "k0rdentApiVersion": "v1alpha1"}));
        assert!(
            validate(Layout::RepoSpec, &r).is_ok(),
            "chart allows v1alpha1 when the host passes none"
        );
        r.api_versions = vec!["k0rdent.mirantis.com/v1beta1".into()];
        let err = validate(Layout::RepoSpec, &r).unwrap_err();
        assert_eq!(err[0].path, "k0rdentApiVersion");
    }
}
