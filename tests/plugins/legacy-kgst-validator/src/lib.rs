//! A kgst 2.x validator as a third party built it before
//! `k0rdent:chart@0.3.0`: it has `validate` but no `values-for-intent`. It
//! refuses values holding the word `forbidden`, so a test can see it ran, and
//! otherwise returns the user values unchanged.

wit_bindgen::generate!({
    path: "../../../wit/v0.2",
    world: "validator",
});

use exports::k0rdent::chart::validate::{Guest, ValidateInput, Violation};
use k0rdent::chart::types::PluginInfo;

struct Legacy;

impl Guest for Legacy {
    fn info() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            charts: vec!["kgst >=2.0.0, <3.0.0".into()],
        }
    }

    fn validate(input: ValidateInput) -> Result<String, Vec<Violation>> {
        if input.values_json.contains("forbidden") {
            return Err(vec![Violation {
                path: String::new(),
                message: format!(
                    "legacy-kgst-validator refuses {} {}: the values say forbidden",
                    input.chart.name, input.chart.version
                ),
                hint: "leave out the word forbidden".into(),
            }]);
        }
        Ok(input.values_json)
    }
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
export!(Legacy);
