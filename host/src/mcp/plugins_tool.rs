//! `k0rdent.plugins.list`: what the sandbox has loaded, so a user can see
//! which renderer and validator serve which chart versions, and how the last
//! hot swap of the plugin set went.

use schemars::JsonSchema;
use serde::Serialize;

use crate::plugin::active::{ActivePlugins, LastReload};
use crate::plugin::selection::PluginSet;

#[derive(Debug, Serialize, JsonSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginSummary>,
    /// Generation of the active plugin set: 1 at start, +1 on each hot swap.
    pub generation: u64,
    /// The watched plugin set file (`--plugin-set`), if any.
    pub plugin_set: Option<String>,
    /// The last reload of the plugin set file: `activated`, or `refused`
    /// with the step, plugin reference, digest and error.
    pub last_reload: Option<LastReload>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PluginSummary {
    pub name: String,
    pub version: String,
    /// `renderer` or `validator`.
    pub world: String,
    /// sha256 of the component, as verified at load.
    pub digest: String,
    /// The contract interface the component exports, with its version.
    pub contract: String,
    /// Charts this plugin declares it handles (`*` or `<chart> <semver requirement>`).
    pub charts: Vec<String>,
    /// `embedded:<file>` or the manifest path it was loaded from.
    pub origin: String,
    /// A plugin of the same name loaded later serves new work instead; this
    /// one stays loaded so a rollback can re-render with it, by digest.
    pub superseded: bool,
}

/// What a server serves now: the active set and its reload state.
pub fn list_active(active: &ActivePlugins) -> PluginList {
    let set = active.current();
    let status = active.status();
    PluginList {
        generation: status.generation,
        plugin_set: status.plugin_set,
        last_reload: status.last_reload,
        ..list(&set)
    }
}

/// A set loaded once (`plugins list`).
pub fn list(set: &PluginSet) -> PluginList {
    PluginList {
        generation: 1,
        plugin_set: None,
        last_reload: None,
        plugins: set
            .all()
            .map(|(p, superseded)| PluginSummary {
                name: p.manifest().name.clone(),
                version: p.manifest().version.clone(),
                world: p.world().to_string(),
                digest: format!("sha256:{}", p.manifest().sha256),
                contract: p.export().to_string(),
                charts: p.info().charts.clone(),
                origin: p.origin().to_string(),
                superseded,
            })
            .collect(),
    }
}
