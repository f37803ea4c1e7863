//! The install intent handed to the validator, and its answer read back: the
//! kgst values, checked to be a JSON object and nothing else.

use serde_json::{Map, Value};

use super::KgstError;
use crate::chart::Chart;
use crate::plugin::Plugin;
use crate::plugin::contract::{ChartMetadata, InstallIntent};

/// The kgst values `validator` builds for `intent` with the kgst chart `kgst`.
pub(super) fn values_for_intent(
    validator: &Plugin,
    kgst: &Chart,
    intent: &InstallIntent,
) -> Result<Map<String, Value>, KgstError> {
    let meta = &kgst.metadata;
    let chart = ChartMetadata {
        name: meta.name.clone(),
        version: meta.version.clone(),
        app_version: meta.app_version.clone(),
        api_version: meta.api_version.clone(),
    };
    let name = || validator.manifest().name.clone();
    match validator.values_for_intent(intent, &chart)? {
        Ok(text) => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(values)) => Ok(values),
            Ok(other) => Err(KgstError::MalformedValues {
                validator: name(),
                problem: format!("JSON {}", helm_yaml::json_kind(&other)),
            }),
            Err(e) => Err(KgstError::MalformedValues {
                validator: name(),
                problem: format!("text that is not JSON ({e})"),
            }),
        },
        Err(violations) => Err(KgstError::Refused {
            validator: name(),
            chart: format!("{}:{}", intent.chart, intent.version),
            kgst_version: meta.version.clone(),
            violations,
        }),
    }
}
