//! The k0rdent catalog index (`https://catalog.k0rdent.io/latest/index.json`):
//! fetched or read from a file, validated, cached with a TTL, and searched.

mod index;
mod lookup;
mod source;

pub use source::CatalogError;

pub use index::{Addon, CatalogChart, CatalogIndex, IndexError};
pub use lookup::{LookupError, closest_names};
pub use source::{CatalogOrigin, CatalogSnapshot, CatalogSource, CatalogSourceOptions};

/// Where community and partner charts live when an index entry names none.
pub const DEFAULT_REPOSITORY: &str = "oci://ghcr.io/k0rdent/catalog/charts";
pub const DEFAULT_INDEX_URL: &str = "https://catalog.k0rdent.io/latest/index.json";
