//! Everything that can go wrong between the host and a plugin. Each variant
//! names the plugin and, where one applies, the limit or input at fault.

use std::time::Duration;

use super::World;

#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error(
        "plugin {plugin}: component digest sha256:{actual} does not match its manifest (sha256:{expected}); \
         refusing to load it. Rebuild the plugin or correct the manifest's sha256"
    )]
    DigestMismatch {
        plugin: String,
        expected: String,
        actual: String,
    },

    #[error(
        "plugin {plugin} was built against {found}, but this host supports {supported}; \
         rebuild the plugin against wit/ from this host's release"
    )]
    UnsupportedContract {
        plugin: String,
        found: String,
        supported: String,
    },

    #[error(
        "plugin {plugin} is declared as a {world} but does not export {expected} (it exports: {})",
        if found.is_empty() { "nothing".to_string() } else { found.join(", ") }
    )]
    WrongWorld {
        plugin: String,
        world: World,
        expected: String,
        found: Vec<String>,
    },

    #[error("plugin manifest {path}: {message}")]
    Manifest { path: String, message: String },

    #[error("plugin {plugin}: cannot load component: {message}")]
    Load { plugin: String, message: String },

    #[error(
        "plugin {plugin} exceeded its CPU time limit of {} ms and was stopped; \
         raise --plugin-cpu-ms if the input is legitimately large",
        limit.as_millis()
    )]
    CpuLimit { plugin: String, limit: Duration },

    #[error(
        "plugin {plugin} exceeded its memory limit of {} MiB (it asked for {} MiB) and was stopped; \
         raise --plugin-memory-mib if the input is legitimately large",
        limit_bytes / (1024 * 1024),
        requested_bytes.div_ceil(1024 * 1024)
    )]
    MemoryLimit {
        plugin: String,
        limit_bytes: u64,
        requested_bytes: u64,
    },

    #[error(
        "plugin {plugin} returned {size} bytes, over the output limit of {limit} bytes; \
         raise --plugin-output-mib if the chart legitimately renders that much"
    )]
    OutputLimit {
        plugin: String,
        size: u64,
        limit: u64,
    },

    #[error(
        "plugin {plugin} tried to use {import}, which the sandbox does not grant \
         (plugins get no files, network, environment or clock)"
    )]
    Denied { plugin: String, import: String },

    #[error("plugin {plugin} panicked: {message}")]
    Panicked { plugin: String, message: String },

    #[error("plugin {plugin} trapped: {message}")]
    Trapped { plugin: String, message: String },

    #[error("plugin {plugin} violated the contract: {message}")]
    Contract { plugin: String, message: String },

    #[error("no {world} plugin handles chart {chart} {version}; loaded {world}s: {loaded}")]
    NoPluginFor {
        world: World,
        chart: String,
        version: String,
        loaded: String,
    },

    #[error(
        "no validator plugin handles chart {chart} {version}, and {chart} charts are never rendered \
         without values validation (loaded validators: {loaded}); fix: pass --plugin-dir DIR \
         (K0RDENT_MCP_PLUGIN_DIR) holding a validator whose `charts` cover {chart} {version}, \
         or use a {chart} version one of the loaded validators handles"
    )]
    ValidatorRequired {
        chart: String,
        version: String,
        loaded: String,
    },

    #[error(
        "validator {plugin} was built against {contract}, which has no values-for-intent, so it cannot \
         build kgst values for a catalog app (the host has no kgst layout of its own); fix: rebuild \
         {plugin} against {current} (wit/ from this release; wit/README.md, \"Migrating from 0.2\"), \
         or remove it from --plugin-dir so a current validator for this kgst version is used"
    )]
    NoValuesForIntent {
        plugin: String,
        contract: String,
        current: String,
    },

    /// A plugin from a registry that was refused before it was compiled.
    #[error(transparent)]
    Supply(#[from] Box<super::oci_source::SupplyError>),

    #[error("plugin runtime: {0}")]
    Runtime(String),
}
