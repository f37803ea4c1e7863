//! Validator component for kgst 2.x values (repo.name, repo.spec, chart).
//! All rules live in the shared `kgst-validator` library; this crate only
//! picks the layout, so swapping this component is how a kgst layout update ships.

kgst_validator::export_layout!(kgst_validator::Layout::RepoSpec);

#[cfg(test)]
mod tests {
    use super::KgstValidator;
    use kgst_validator::component::{Guest, sample_input, sample_intent};

    #[test]
    fn validates_and_returns_effective_values() {
        let values = r#"{"repo": {"name": "k0rdent-catalog", "spec": {"url": "oci://ghcr.io/k0rdent/catalog/charts", "type": "oci"}},
            "chart": "minio:14.1.2", "k0rdentApiVersion": "v1beta1"}"#;
        let out = KgstValidator::validate(sample_input("2.0.2", values)).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["repo"]["spec"]["type"], "oci");
        let err = KgstValidator::validate(sample_input(
            "2.0.2",
            r#"{"chart": "minio:1.0", "k0rdentApiVersion": "v1alpha1"}"#,
        ))
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["k0rdentApiVersion", "repo.name", "repo.spec"]);
    }

    #[test]
    fn builds_repo_spec_values_from_an_intent() {
        let (intent, chart) = sample_intent("2.0.2", "oci://ghcr.io/k0rdent/catalog/charts");
        let out = KgstValidator::values_for_intent(intent, chart).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out, serde_json::json!({"chart": "minio:14.1.2"}));
        let (intent, chart) = sample_intent("2.0.2", "oci://r.example/c");
        let out = KgstValidator::values_for_intent(intent, chart).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            out["repo"]["spec"],
            serde_json::json!({"url": "oci://r.example/c", "type": "oci"})
        );
    }
}
