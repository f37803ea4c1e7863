//! The WIT side: bindings for the `validator` world (`validate` and
//! `values-for-intent`) and the macro each component crate uses to export one
//! [`Layout`](crate::Layout).
//!
//! The bindings are generated here once, with a public export macro, so a
//! component crate is a single line and cannot drift from the others.

wit_bindgen::generate!({
    path: "../../wit",
    world: "validator",
    pub_export_macro: true,
    export_macro_name: "export_validator_world",
    default_bindings_module: "kgst_validator::component",
});

pub use exports::k0rdent::chart::validate::{
    ChartMetadata, Guest, InstallIntent, ValidateInput, Violation as WitViolation,
};
pub use k0rdent::chart::types::PluginInfo;

use crate::{Intent, Layout, Request, Violation};

/// `info()` of a component: its crate name and version (the host compares them
/// with the manifest it built) and the charts its layout handles.
pub fn plugin_info(name: &str, version: &str, layout: Layout) -> PluginInfo {
    PluginInfo {
        name: name.to_string(),
        version: version.to_string(),
        charts: layout
            .chart_patterns()
            .iter()
            .map(|p| p.to_string())
            .collect(),
    }
}

/// `validate()` of a component, in WIT types.
pub fn validate(input: ValidateInput, layout: Layout) -> Result<String, Vec<WitViolation>> {
    let request = Request {
        chart_name: input.chart.name,
        chart_version: input.chart.version,
        default_values_yaml: input.default_values_yaml,
        values_schema_json: input.values_schema_json,
        values_json: input.values_json,
        api_versions: input.capabilities.api_versions,
    };
    answer(crate::validate(layout, &request))
}

/// `values-for-intent()` of a component, in WIT types.
pub fn values_for_intent(
    intent: InstallIntent,
    chart: ChartMetadata,
    layout: Layout,
) -> Result<String, Vec<WitViolation>> {
    let intent = Intent {
        app: intent.app,
        chart: intent.chart,
        version: intent.version,
        repository: intent.repository,
        namespace: intent.namespace,
    };
    answer(crate::values_for_intent(
        layout,
        &intent,
        &chart.name,
        &chart.version,
    ))
}

fn answer(
    result: Result<serde_json::Map<String, serde_json::Value>, Vec<Violation>>,
) -> Result<String, Vec<WitViolation>> {
    match result {
        Ok(values) => Ok(serde_json::Value::Object(values).to_string()),
        Err(violations) => Err(violations
            .into_iter()
            .map(|v| WitViolation {
                path: v.path,
                message: v.message,
                hint: v.hint,
            })
            .collect()),
    }
}

/// An intent to install minio 14.1.2 from `repository` into `kcm-system`,
/// with kgst `version`; the component crates' tests build on it.
pub fn sample_intent(version: &str, repository: &str) -> (InstallIntent, ChartMetadata) {
    (
        InstallIntent {
            app: "minio".into(),
            chart: "minio".into(),
            version: "14.1.2".into(),
            repository: repository.into(),
            namespace: "kcm-system".into(),
        },
        sample_input(version, "{}").chart,
    )
}

/// A validation request for kgst `version` with capabilities serving
/// `k0rdent.mirantis.com/v1beta1`; the component crates' tests build on it.
pub fn sample_input(version: &str, values_json: &str) -> ValidateInput {
    ValidateInput {
        chart: exports::k0rdent::chart::validate::ChartMetadata {
            name: "kgst".into(),
            version: version.into(),
            app_version: None,
            api_version: "v2".into(),
        },
        default_values_yaml: None,
        values_schema_json: None,
        values_json: values_json.into(),
        capabilities: k0rdent::chart::types::Capabilities {
            kube_version: "v1.33.0".into(),
            api_versions: vec!["k0rdent.mirantis.com/v1beta1".into()],
            helm_version: "v4.1.4".into(),
        },
    }
}

/// Exports a component for one layout: `kgst_validator::export_layout!(Layout::RepoSpec);`.
/// The component's `info()` names the calling crate (`CARGO_PKG_NAME`/`_VERSION`).
#[macro_export]
macro_rules! export_layout {
    ($layout:expr) => {
        /// The exported component; it holds no state.
        pub struct KgstValidator;

        impl $crate::component::Guest for KgstValidator {
            fn info() -> $crate::component::PluginInfo {
                $crate::component::plugin_info(env!("CARGO_PKG_NAME"), env!("CARGO_PKG_VERSION"), $layout)
            }

            fn validate(
                input: $crate::component::ValidateInput,
            ) -> Result<String, Vec<$crate::component::WitViolation>> {
                $crate::component::validate(input, $layout)
            }

            fn values_for_intent(
                intent: $crate::component::InstallIntent,
                chart: $crate::component::ChartMetadata,
            ) -> Result<String, Vec<$crate::component::WitViolation>> {
                $crate::component::values_for_intent(intent, chart, $layout)
            }
        }

        // Only wasm exports the canonical-ABI symbols: their names (`k0rdent:chart/…`)
        // are not valid in a native linker's export list, and native builds only
        // run the unit tests, which call `KgstValidator` directly.
        #[cfg(target_family = "wasm")]
        $crate::component::export_validator_world!(KgstValidator with_types_in $crate::component);

        /// What every layout component must get right, whatever its layout.
        #[cfg(test)]
        mod layout_component_tests {
            use super::KgstValidator;
            use $crate::component::{Guest, sample_input};

            #[test]
            fn info_describes_this_component() {
                let info = KgstValidator::info();
                assert_eq!(info.name, env!("CARGO_PKG_NAME"));
                assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
                assert_eq!(info.charts, $layout.chart_patterns());
            }

            #[test]
            fn refuses_a_kgst_version_of_another_layout() {
                let info = KgstValidator::info();
                let own_major = info.charts[0].split(">=").nth(1).and_then(|v| v.chars().next()).unwrap();
                let other = ["0.2.0", "1.2.0", "2.0.2"]
                    .into_iter()
                    .find(|v| !v.starts_with(own_major))
                    .unwrap();
                let err = KgstValidator::validate(sample_input(other, "{}")).unwrap_err();
                assert!(err[0].message.contains(&info.charts[0]), "{}", err[0].message);
                let (intent, chart) = $crate::component::sample_intent(other, "oci://r.example/c");
                let err = KgstValidator::values_for_intent(intent, chart).unwrap_err();
                assert!(err[0].message.contains(&info.charts[0]), "{}", err[0].message);
            }
        }
    };
}
