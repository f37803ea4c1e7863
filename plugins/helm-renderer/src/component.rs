//! The WIT glue: converts between the `k0rdent:chart/render` types and the
//! native engine API. Nothing else lives here.

wit_bindgen::generate!({
    path: "../../wit",
    world: "renderer",
});

use exports::k0rdent::chart::render::{Guest, Manifest, RenderError, RenderInput, RenderOutput};
use k0rdent::chart::types::PluginInfo;

use crate::{CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderEnvironment, RenderRequest};

struct Component;

impl Guest for Component {
    fn info() -> PluginInfo {
        PluginInfo {
            name: crate::PLUGIN_NAME.into(),
            version: env!("CARGO_PKG_VERSION").into(),
            charts: crate::SUPPORTED_CHARTS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        }
    }

    fn render(input: RenderInput) -> Result<RenderOutput, RenderError> {
        let environment = RenderEnvironment {
            entropy: input.entropy,
            now_unix_seconds: input.now.seconds,
        };
        let request = RenderRequest {
            files: input
                .files
                .iter()
                .map(|f| ChartFile {
                    path: &f.path,
                    data: &f.data,
                })
                .collect(),
            values_json: &input.values_json,
            release: ReleaseInfo {
                name: input.release.name,
                namespace: input.release.namespace,
                revision: input.release.revision,
                is_install: input.release.is_install,
                is_upgrade: input.release.is_upgrade,
                service: input.release.service,
            },
            capabilities: CapabilitiesInfo {
                kube_version: input.capabilities.kube_version,
                api_versions: input.capabilities.api_versions,
                helm_version: input.capabilities.helm_version,
            },
            limits: Limits::default(),
        };
        match crate::render_in(&request, &environment) {
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
}

export!(Component);
