//! The default plugin set, built from `plugins/` and compiled into the binary
//! by `build.rs`, so the server needs no files besides itself.

use super::World;
use super::manifest::{PluginManifest, PluginSource};

pub struct EmbeddedPlugin {
    pub name: &'static str,
    pub version: &'static str,
    pub world: &'static str,
    pub sha256: &'static str,
    pub component: &'static str,
    pub bytes: &'static [u8],
}

pub static EMBEDDED: &[EmbeddedPlugin] = include!(concat!(env!("OUT_DIR"), "/embedded_plugins.rs"));

impl EmbeddedPlugin {
    pub fn manifest(&self) -> PluginManifest {
        PluginManifest {
            name: self.name.to_string(),
            version: self.version.to_string(),
            world: match self.world {
                "validator" => World::Validator,
                _ => World::Renderer,
            },
            sha256: self.sha256.to_string(),
            component: self.component.to_string(),
        }
    }

    pub fn source(&self) -> PluginSource {
        PluginSource {
            manifest: self.manifest(),
            bytes: self.bytes.to_vec(),
            origin: format!("embedded:{}", self.component),
        }
    }
}

/// Sources of every embedded plugin, in name order.
pub fn sources() -> Vec<PluginSource> {
    EMBEDDED.iter().map(EmbeddedPlugin::source).collect()
}
