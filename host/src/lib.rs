//! k0rdent-mcp: installs k0rdent catalog apps through the kgst Helm chart,
//! with rendering and values validation in sandboxed WebAssembly plugins.

pub mod capabilities;
pub mod catalog;
pub mod chart;
pub mod cli_chart;
pub mod cli_plugins;
pub mod cli_plugins_test;
pub mod cli_release;
pub mod cli_template;
pub mod cluster;
pub mod config;
pub mod error_chain;
pub mod kgst;
pub mod mcp;
pub mod names;
pub mod oci;
pub mod ops;
pub mod plugin;
pub mod quote;
pub mod release;
pub mod render;
pub mod values;
pub mod versions;
