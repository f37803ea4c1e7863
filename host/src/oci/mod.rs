//! Helm charts from OCI registries: references, credentials, a
//! content-addressed cache, and pulls that are bounded and verified.

mod artifact;
pub mod cache;
mod credentials;
mod error;
mod reference;
mod registry;
mod source;

pub use artifact::FetchedManifest;
pub use cache::ChartCache;
pub use credentials::{CredentialStore, Credentials};
pub use error::OciError;
pub use reference::ChartRef;
pub(crate) use reference::valid_digest;
pub use registry::sha256_digest;
pub use source::{ChartSource, ChartSourceOptions, PullOrigin, PulledChart};

/// Media types of a Helm chart stored in an OCI registry.
pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";
