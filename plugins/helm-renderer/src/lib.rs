//! Helm-compatible chart rendering (`helm template` semantics, Helm v4.1).
//!
//! The engine is plain Rust and usable natively: call [`render`] with a
//! [`RenderRequest`]. The WIT component (`k0rdent:chart/render`) is a thin
//! wrapper in [`component`], compiled only for wasm targets.
//!
//! Layout: [`template`] (Go text/template), [`funcs`] (Go builtins, Sprig,
//! Helm functions), [`value`] (Go-like data model), [`values`] (coalescing),
//! [`yaml`] (YAML 1.1 reader, go-yaml compatible `toYaml`), [`files`]
//! (`.Files`), [`chart`] (chart loading), [`render`] (pipeline),
//! [`output`] (manifest splitting and ordering), [`errors`] (Helm's error
//! texts).

pub mod archive;
pub mod chart;
pub mod errors;
pub mod files;
pub mod funcs;
pub mod gofmt;
pub mod gotime;
pub mod json;
pub mod output;
pub mod render;
pub mod template;
pub mod toml;
pub mod value;
pub mod values;
pub mod yaml;

#[cfg(target_family = "wasm")]
mod component;

pub use chart::ChartFile;
pub use output::Manifest;
pub use render::{
    CapabilitiesInfo, ReleaseInfo, RenderEnvironment, RenderError, RenderRequest, RenderedChart,
    render, render_in, render_on_current_thread,
};
pub use template::Limits;

/// Plugin name reported by `info()`.
pub const PLUGIN_NAME: &str = "helm-renderer";
/// Charts this renderer handles: any.
pub const SUPPORTED_CHARTS: &[&str] = &["*"];
