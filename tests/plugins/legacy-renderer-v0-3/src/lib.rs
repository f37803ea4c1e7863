//! A renderer as a third party built it before `k0rdent:chart@0.4.0`: it
//! imports no `keys` (it would make its own). It echoes how much entropy it
//! was given, so a test can see the host translated the call.

wit_bindgen::generate!({
    path: "../../../wit/v0.3",
    world: "renderer",
});

use exports::k0rdent::chart::render::{Guest, Manifest, RenderError, RenderInput, RenderOutput};
use k0rdent::chart::types::PluginInfo;

struct Legacy;

impl Guest for Legacy {
    fn info() -> PluginInfo {
        PluginInfo {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            charts: vec!["legacy3 >=1.0.0, <2.0.0".into()],
        }
    }

    fn render(input: RenderInput) -> Result<RenderOutput, RenderError> {
        Ok(RenderOutput {
            manifests: vec![Manifest {
                source: "legacy3/templates/echo.yaml".into(),
                content: format!(
                    "kind: ConfigMap\nmetadata:\n  name: {}\ndata:\n  renderer: legacy-renderer-v0-3\n  entropy: \"{}\"\n",
                    input.release.name,
                    input.entropy.len()
                ),
            }],
            notes: None,
        })
    }
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
export!(Legacy);
