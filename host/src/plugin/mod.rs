//! Sandboxed chart plugins: the WIT contract's host side, manifests and
//! digests, limits, the precompiled cache and the default embedded set.

mod cache_dir;
pub mod compiled_cache;
pub mod contract;
pub mod embedded;
mod error;
mod legacy;
mod limits;
pub mod manifest;
mod runtime;
mod sandbox;
pub mod selection;

pub use cache_dir::CacheRefusal;
pub use contract::{ContractVersion, World};
pub use error::PluginError;
pub use limits::Limits;
pub use runtime::{HostOptions, Plugin, PluginHost};
