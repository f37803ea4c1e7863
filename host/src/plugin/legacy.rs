//! Translation between the current contract and `k0rdent:chart@0.1`, so that
//! plugins built before 0.2 (third-party validators above all) keep working.
//!
//! 0.2 added `entropy` and `now` to the render input and changed nothing
//! else. A 0.1 renderer has nowhere to receive them, so it keeps whatever
//! randomness and time it had; `plugins list` shows its contract version.

use super::contract::{
    ChartMetadata, Manifest, ReleaseInfo, RenderError, RenderInput, RenderOutput, ValidateInput,
    Violation, v0_1,
};

use v0_1::renderer::exports::k0rdent::chart::render as old_render;
use v0_1::validator::exports::k0rdent::chart::validate as old_validate;

pub fn render_input(input: &RenderInput) -> old_render::RenderInput {
    let ReleaseInfo {
        name,
        namespace,
        revision,
        is_install,
        is_upgrade,
        service,
    } = input.release.clone();
    old_render::RenderInput {
        files: input.files.clone(),
        values_json: input.values_json.clone(),
        release: old_render::ReleaseInfo {
            name,
            namespace,
            revision,
            is_install,
            is_upgrade,
            service,
        },
        capabilities: input.capabilities.clone(),
    }
}

pub fn render_result(
    result: Result<old_render::RenderOutput, old_render::RenderError>,
) -> Result<RenderOutput, RenderError> {
    match result {
        Ok(out) => Ok(RenderOutput {
            manifests: out
                .manifests
                .into_iter()
                .map(|m| Manifest {
                    source: m.source,
                    content: m.content,
                })
                .collect(),
            notes: out.notes,
        }),
        Err(e) => Err(RenderError {
            template: e.template,
            line: e.line,
            column: e.column,
            message: e.message,
        }),
    }
}

pub fn validate_input(input: &ValidateInput) -> old_validate::ValidateInput {
    let ChartMetadata {
        name,
        version,
        app_version,
        api_version,
    } = input.chart.clone();
    old_validate::ValidateInput {
        chart: old_validate::ChartMetadata {
            name,
            version,
            app_version,
            api_version,
        },
        default_values_yaml: input.default_values_yaml.clone(),
        values_schema_json: input.values_schema_json.clone(),
        values_json: input.values_json.clone(),
        capabilities: input.capabilities.clone(),
    }
}

pub fn validate_result(
    result: Result<String, Vec<old_validate::Violation>>,
) -> Result<String, Vec<Violation>> {
    result.map_err(|violations| {
        violations
            .into_iter()
            .map(|v| Violation {
                path: v.path,
                message: v.message,
                hint: v.hint,
            })
            .collect()
    })
}
