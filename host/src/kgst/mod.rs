//! kgst, the chart every catalog install goes through: a catalog app checked
//! against the catalog and its registry (the pre-flight), kgst pulled, the
//! kgst values asked of the validator plugin, and the rendered objects
//! described. Shared by the MCP tools, which only map arguments and results.
//!
//! The host knows no kgst values layout: the validator for the kgst version
//! in use builds the values from the install intent (`values-for-intent`,
//! `k0rdent:chart@0.3.0`), so a new layout ships as a plugin alone.

mod describe;
mod error;
mod intent;
mod prepare;

pub use describe::{RenderedObject, describe};
pub use error::KgstError;
pub use prepare::{KgstInfo, KgstOrigin, PreparedApp, Sources, prepare_app};
