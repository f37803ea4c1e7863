//! A kgst 2.x validator that spells the install intent its own way: the real
//! 2.x values plus `prefix: probe-`, so every ServiceTemplate it installs is
//! named `probe-<chart>-<version>`. A host that built kgst values itself would
//! never produce that name; seeing it proves the values came from the plugin.

use kgst_validator::Layout;
use kgst_validator::component::{
    ChartMetadata, Guest, InstallIntent, PluginInfo, ValidateInput, WitViolation,
};

/// The prefix this validator's layout adds.
pub const PREFIX: &str = "probe-";

pub struct Probe;

impl Guest for Probe {
    fn info() -> PluginInfo {
        kgst_validator::component::plugin_info(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            Layout::RepoSpec,
        )
    }

    fn validate(input: ValidateInput) -> Result<String, Vec<WitViolation>> {
        kgst_validator::component::validate(input, Layout::RepoSpec)
    }

    fn values_for_intent(
        intent: InstallIntent,
        chart: ChartMetadata,
    ) -> Result<String, Vec<WitViolation>> {
        let values = kgst_validator::component::values_for_intent(intent, chart, Layout::RepoSpec)?;
        let mut values: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&values).expect("the library answers a JSON object");
        values.insert("prefix".into(), PREFIX.into());
        Ok(serde_json::Value::Object(values).to_string())
    }
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
kgst_validator::component::export_validator_world!(Probe with_types_in kgst_validator::component);

#[cfg(test)]
mod tests {
    use super::*;
    use kgst_validator::component::sample_intent;

    #[test]
    fn adds_its_prefix_to_the_2x_values() {
        let (intent, chart) = sample_intent("2.0.2", "oci://ghcr.io/k0rdent/catalog/charts");
        let values: serde_json::Value =
            serde_json::from_str(&Probe::values_for_intent(intent, chart).unwrap()).unwrap();
        assert_eq!(
            values,
            serde_json::json!({"chart": "minio:14.1.2", "prefix": "probe-"})
        );
    }
}
