//! The WIT side: bindings for the `validator` world and the macro each
//! component crate uses to export one [`Layout`](crate::Layout).
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

pub use exports::k0rdent::chart::validate::{Guest, ValidateInput, Violation as WitViolation};
pub use k0rdent::chart::types::PluginInfo;

use crate::{Layout, Request};

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
    match crate::validate(layout, &request) {
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
        }

        // Only wasm exports the canonical-ABI symbols: their names (`k0rdent:chart/…`)
        // are not valid in a native linker's export list, and native builds only
        // run the unit tests, which call `KgstValidator` directly.
        #[cfg(target_family = "wasm")]
        $crate::component::export_validator_world!(KgstValidator with_types_in $crate::component);
    };
}
