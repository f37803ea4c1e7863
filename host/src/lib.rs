//! k0rdent-mcp: installs k0rdent catalog apps through the kgst Helm chart,
//! with rendering and values validation in sandboxed WebAssembly plugins.

pub mod capabilities;
pub mod catalog;
pub mod chart;
pub mod cli;
pub mod cluster;
pub mod defaults;
pub mod engine;
pub mod error_chain;
pub mod flags;
pub mod kgst;
pub mod mcp;
pub mod names;
pub mod oci;
pub mod ops;
pub mod plugin;
pub mod quote;
pub mod release;
pub mod render;
pub mod timings;
pub mod values;
pub mod versions;
