//! Validator component for kgst 1.x values (repo.name, repo.url, chart).
//! All rules live in the shared `kgst-validator` library; this crate only
//! picks the layout, so swapping this component is how a kgst layout update ships.

kgst_validator::export_layout!(kgst_validator::Layout::RepoUrl);

#[cfg(test)]
mod tests {
    use super::KgstValidator;
    use kgst_validator::component::{Guest, sample_input, sample_intent};

    #[test]
    fn validates_and_returns_effective_values() {
        let values = r#"{"repo": {"name": "k0rdent-catalog", "url": "oci://ghcr.io/k0rdent/catalog/charts"},
            "chart": "minio:14.1.2", "k0rdentApiVersion": "v1beta1"}"#;
        let out = KgstValidator::validate(sample_input("1.2.0", values)).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["chart"], "minio:14.1.2");
        let err =
            KgstValidator::validate(sample_input("1.2.0", r#"{"chart": "minio"}"#)).unwrap_err();
        let paths: Vec<&str> = err.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            ["chart", "k0rdentApiVersion", "repo.name", "repo.url"]
        );
    }

    #[test]
    fn builds_repo_url_values_from_an_intent() {
        let (intent, chart) = sample_intent("1.2.0", "oci://r.example/c");
        let out = KgstValidator::values_for_intent(intent, chart).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["chart"], "minio:14.1.2");
        assert_eq!(out["repo"]["url"], "oci://r.example/c");
        assert!(out["repo"].get("spec").is_none(), "{out}");
    }
}
