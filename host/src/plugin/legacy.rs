//! Translation between the current contract and the frozen older ones, so
//! that plugins built before it (third-party validators above all) keep
//! working for `render` and `validate`.
//!
//! - 0.4 added the `keys` import to the renderer world. A 0.3 renderer does
//!   not import it and keeps generating keys itself; nothing else changed.
//! - 0.3 added `values-for-intent` to the validator world. A 0.2 or 0.1
//!   validator has no such export: the host refuses catalog installs with it
//!   (see [`super::PluginError::NoValuesForIntent`]) rather than building kgst
//!   values itself.
//! - 0.2 added `entropy` and `now` to the render input. A 0.1 renderer has
//!   nowhere to receive them, so it keeps whatever randomness and time it had.
//!
//! `plugins list` shows each plugin's contract version. The generated types of
//! each frozen contract are distinct Rust types even where the WIT is
//! identical, hence the field-by-field copies.

use super::contract::{
    ChartMetadata, InstallIntent, Manifest, ReleaseInfo, RenderError, RenderInput, RenderOutput,
    ValidateInput, Violation,
};

/// `render-output`, `render-error`, `validate-input` and `violation` are the
/// same in every contract so far: one definition of their copies, expanded in
/// each version's module (where `old_render`/`old_validate` name its types).
macro_rules! unchanged_conversions {
    () => {
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

        pub fn chart_metadata(chart: &ChartMetadata) -> old_validate::ChartMetadata {
            let ChartMetadata {
                name,
                version,
                app_version,
                api_version,
            } = chart.clone();
            old_validate::ChartMetadata {
                name,
                version,
                app_version,
                api_version,
            }
        }

        pub fn validate_input(input: &ValidateInput) -> old_validate::ValidateInput {
            old_validate::ValidateInput {
                chart: chart_metadata(&input.chart),
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
    };
}

/// `release-info` is the same in every contract so far.
macro_rules! release_conversion {
    () => {
        fn release(release: &ReleaseInfo) -> old_render::ReleaseInfo {
            let ReleaseInfo {
                name,
                namespace,
                revision,
                is_install,
                is_upgrade,
                service,
            } = release.clone();
            old_render::ReleaseInfo {
                name,
                namespace,
                revision,
                is_install,
                is_upgrade,
                service,
            }
        }
    };
}

/// Since 0.2 the render input carries entropy and the time; its shape has
/// not changed since.
macro_rules! render_input_with_entropy {
    () => {
        pub fn render_input(input: &RenderInput) -> old_render::RenderInput {
            old_render::RenderInput {
                files: input.files.clone(),
                values_json: input.values_json.clone(),
                release: release(&input.release),
                capabilities: input.capabilities.clone(),
                entropy: input.entropy.clone(),
                now: old_render::Timestamp {
                    seconds: input.now.seconds,
                    nanoseconds: input.now.nanoseconds,
                },
            }
        }
    };
}

/// Conversions for `k0rdent:chart@0.3.x`: render, validate and
/// values-for-intent are unchanged (0.4 only added the renderer's `keys` import).
pub mod v0_3 {
    use super::*;
    use crate::plugin::contract::v0_3::renderer::exports::k0rdent::chart::render as old_render;
    use crate::plugin::contract::v0_3::validator::exports::k0rdent::chart::validate as old_validate;

    release_conversion!();
    render_input_with_entropy!();
    unchanged_conversions!();

    pub fn install_intent(intent: &InstallIntent) -> old_validate::InstallIntent {
        let InstallIntent {
            app,
            chart,
            version,
            repository,
            namespace,
        } = intent.clone();
        old_validate::InstallIntent {
            app,
            chart,
            version,
            repository,
            namespace,
        }
    }
}

/// Conversions for `k0rdent:chart@0.2.x`: render and validate are unchanged.
pub mod v0_2 {
    use super::*;
    use crate::plugin::contract::v0_2::renderer::exports::k0rdent::chart::render as old_render;
    use crate::plugin::contract::v0_2::validator::exports::k0rdent::chart::validate as old_validate;

    release_conversion!();
    render_input_with_entropy!();
    unchanged_conversions!();
}

/// Conversions for `k0rdent:chart@0.1.x`: no entropy or time for renderers.
pub mod v0_1 {
    use super::*;
    use crate::plugin::contract::v0_1::renderer::exports::k0rdent::chart::render as old_render;
    use crate::plugin::contract::v0_1::validator::exports::k0rdent::chart::validate as old_validate;

    release_conversion!();

    pub fn render_input(input: &RenderInput) -> old_render::RenderInput {
        old_render::RenderInput {
            files: input.files.clone(),
            values_json: input.values_json.clone(),
            release: release(&input.release),
            capabilities: input.capabilities.clone(),
        }
    }

    unchanged_conversions!();
}
