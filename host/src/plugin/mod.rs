//! Sandboxed chart plugins: the WIT contract's host side, manifests and
//! digests, limits, the precompiled cache, the default embedded set, and
//! plugins pulled from OCI registries with their signatures checked.

pub mod active;
mod bounded_read;
pub(crate) mod cache_dir;
pub mod compiled_cache;
pub mod contract;
pub mod embedded;
mod error;
pub mod hot_swap;
mod keys;
mod legacy;
mod limits;
pub mod manifest;
pub mod oci_artifact;
pub mod oci_source;
mod runtime;
mod sandbox;
pub mod selection;
pub mod self_test;
pub mod set_file;
pub mod signature;
pub mod trust_policy;

pub use cache_dir::CacheRefusal;
pub use contract::{ContractVersion, World};
pub use error::PluginError;
pub use keys::MAX_KEYS_PER_CALL;
pub use limits::Limits;
pub use runtime::{HostOptions, Plugin, PluginHost};
