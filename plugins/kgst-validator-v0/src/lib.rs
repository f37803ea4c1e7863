//! Validator component for kgst 0.x values (helm.repository.*, helm.charts[]).
//! All rules live in the shared `kgst-validator` library; this crate only
//! picks the layout, so swapping this component is how a kgst layout update ships.

kgst_validator::export_layout!(kgst_validator::Layout::HelmCharts);

#[cfg(test)]
mod tests {
    use super::KgstValidator;
    use kgst_validator::component::{Guest, sample_input, sample_intent};

    #[test]
    fn validates_and_returns_effective_values() {
        let values = r#"{"helm": {"repository": {"url": "oci://ghcr.io/k0rdent/catalog/charts", "type": "oci"},
            "charts": [{"name": "minio", "version": "14.1.2"}]}}"#;
        let out = KgstValidator::validate(sample_input("0.2.0", values)).unwrap();
        let out: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(out["helm"]["charts"][0]["name"], "minio");
        let err = KgstValidator::validate(sample_input(
            "0.2.0",
            r#"{"helm": {"repository": {"url": "oci://x/y"}}}"#,
        ))
        .unwrap_err();
        assert_eq!(err[0].path, "helm.repository.type");
    }

    #[test]
    fn catalog_installs_are_refused_with_the_fix() {
        let (intent, chart) = sample_intent("0.2.0", "oci://ghcr.io/k0rdent/catalog/charts");
        let err = KgstValidator::values_for_intent(intent, chart).unwrap_err();
        assert!(
            err[0].message.contains("predates the `chart` value"),
            "{}",
            err[0].message
        );
        assert!(err[0].hint.contains("--kgst-version"), "{}", err[0].hint);
    }
}
