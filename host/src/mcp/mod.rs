//! The MCP face of k0rdent-mcp: tools over rmcp, one code path with the CLI.

mod plugins_tool;
mod server;

pub use plugins_tool::{PluginList, PluginSummary, list as plugins_list};
pub use server::K0rdentMcp;
