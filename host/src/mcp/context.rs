//! What the MCP tools share for the server's lifetime: loaded plugins, the catalog, the chart source,
//! access rules and engine options. Built once at start-up by `crate::cli::serve` from its flags; per-call
//! state (caller, namespaces, progress) lives in `scope.rs` and `progress.rs`.

use crate::catalog::CatalogSource;
use crate::oci::{ChartRef, ChartSource};
use std::sync::Arc;

use crate::plugin::PluginHost;
use crate::plugin::active::ActivePlugins;
use crate::plugin::selection::PluginSet;

pub struct Context {
    /// The active plugin set; a tool takes `current()` once per call, so a
    /// hot swap never changes plugins under a running call.
    pub plugins: Arc<ActivePlugins>,
    pub catalog: CatalogSource,
    pub charts: ChartSource,
    pub kgst: ChartRef,
    pub access: super::access::Access,
    pub engine: crate::engine::EngineOptions,
    /// `--read-only`: only tools that write nothing are served.
    pub read_only: bool,
    pub confirm: super::confirm::ConfirmMode,
    /// Keeps the engine (and its epoch ticker) alive as long as the plugins.
    pub(crate) _plugin_host: PluginHost,
}

impl Context {
    /// What the kgst module reads a catalog install from, with the plugin
    /// set the calling tool took for the whole call.
    pub fn kgst_sources<'a>(&'a self, plugins: &'a PluginSet) -> crate::kgst::Sources<'a> {
        crate::kgst::Sources {
            catalog: &self.catalog,
            charts: &self.charts,
            kgst: &self.kgst,
            plugins,
        }
    }
}
