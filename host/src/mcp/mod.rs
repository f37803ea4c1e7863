//! The MCP face of k0rdent-mcp: tools over rmcp, one code path with the CLI.

pub mod access;
mod catalog_tool;
mod client_log;
pub mod confirm;
pub mod context;
mod discovery;
pub mod http;
mod install_tool;
pub mod jwt;
pub mod metrics;
mod plugins_tool;
mod progress;
mod releases_tool;
mod render_tool;
mod scope;
mod server;
pub mod stdio;
mod task_run;
pub mod task_store;
mod tool_set;
pub mod wire;

pub use catalog_tool::{CatalogList, CatalogListArgs};
pub use context::Context;
pub use plugins_tool::{PluginList, PluginSummary, list as plugins_list};
pub use render_tool::{RenderArgs, RenderResult};
pub use server::K0rdentMcp;

/// SIGINT or SIGTERM: stop cleanly instead of dying mid-write.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
