//! k0rdent-mcp: installs k0rdent catalog apps through the kgst Helm chart,
//! with rendering and values validation in sandboxed WebAssembly plugins.

pub mod config;
pub mod mcp;
pub mod plugin;
