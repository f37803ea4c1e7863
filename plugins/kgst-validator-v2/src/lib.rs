//! Validator component for kgst 2.x values (repo.name, repo.spec, chart).
//! All rules live in the shared `kgst-validator` library; this crate only
//! picks the layout, so swapping this component is how a kgst layout update ships.

kgst_validator::export_layout!(kgst_validator::Layout::RepoSpec);

#[cfg(test)]
mod tests {
    use super::KgstValidator;
    use kgst_validator::component::exports::k0rdent::chart::validate::ChartMetadata;
    use kgst_validator::component::k0rdent::chart::types::Capabilities;
    use kgst_validator::component::{Guest, ValidateInput};

    fn input(version: &str, values_json: &str) -> ValidateInput {
        ValidateInput {
            chart: ChartMetadata {
                name: "kgst".into(),
                version: version.into(),
                app_version: None,
                api_version: "v2".into(),
            },
            default_values_yaml: None,
            values_schema_json: None,
            values_json: values_json.into(),
            capabilities: Capabilities {
                kube_version: "v1.33.0".into(),
                api_versions: vec!["k0rdent.mirantis.com/v1beta1".into()],
                helm_version: "v4.1.4".into(),
            },
        }
    }

    #[test]
    fn info_describes_this_component() {
        let info = KgstValidator::info();
        assert_eq!(info.name, env!("CARGO_PKG_NAME"));
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        assert_eq!(
            info.charts,
            kgst_validator::Layout::RepoSpec.chart_patterns()
        );
    }

    #[test]
    fn refuses_a_kgst_version_of_another_layout() {
        let other = if "2.0.2".starts_with('2') {
            "1.2.0"
        } else {
            "2.0.2"
        };
        let err = KgstValidator::validate(input(other, "{}")).unwrap_err();
        assert!(
            err[0].message.contains(&KgstValidator::info().charts[0]),
            "{}",
            err[0].message
        );
    }

    #[test]
    fn validates_and_returns_effective_values() {
        let values = r#"{"repo": {"name": "k0rdent-catalog", "spec": {"url": "oci://ghcr.io/k0rdent/catalog/charts", "type": "oci"}},
            "chart": "minio:14.1.2", "k0rdentApiVersion": "v1beta1"}"#;
        let out = KgstValidator::validate(input("2.0.2", values)).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["repo"]["spec"]["type"], "oci");
        let err = KgstValidator::validate(input(
            "2.0.2",
            r#"{"chart": "minio:1.0", "k0rdentApiVersion": "v1alpha1"}"#,
        ))
        .unwrap_err();
        let paths: Vec<&str> = err.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["k0rdentApiVersion", "repo.name", "repo.spec"]);
    }
}
