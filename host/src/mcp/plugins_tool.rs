//! `k0rdent.plugins.list`: what the sandbox has loaded, so a user can see
//! which renderer and validator serve which chart versions.

use schemars::JsonSchema;
use serde::Serialize;

use crate::plugin::selection::PluginSet;

#[derive(Debug, Serialize, JsonSchema)]
pub struct PluginList {
    pub plugins: Vec<PluginSummary>,
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

pub fn list(set: &PluginSet) -> PluginList {
    PluginList {
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
