//! `k0rdent.catalog.serviceTemplates.list`: what can be installed, from the
//! catalog index, with the index's age when it is a cached copy.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::context::Context;
use super::error::ToolError;
use crate::catalog::{CatalogOrigin, CatalogSnapshot};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogListArgs {
    /// Only apps whose name, description or chart names contain this (case-insensitive).
    #[serde(default)]
    pub app: Option<String>,
    /// Only apps carrying this tag (case-insensitive), e.g. `Storage`.
    #[serde(default)]
    pub tag: Option<String>,
    /// Fetch the index again even if the cached copy is fresh.
    #[serde(default)]
    pub refresh: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogList {
    pub catalog: CatalogInfo,
    pub apps: Vec<CatalogApp>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogInfo {
    pub location: String,
    pub version: String,
    pub generated: String,
    /// Seconds since this copy of the index was fetched.
    pub age_seconds: u64,
    pub origin: CatalogOrigin,
    /// Set when a stale copy was served because the catalog was unreachable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogApp {
    pub name: String,
    pub description: String,
    pub support_type: String,
    pub deprecated: bool,
    pub tags: Vec<String>,
    pub charts: Vec<CatalogAppChart>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogAppChart {
    /// The `template` argument of install_from_catalog.
    pub name: String,
    /// Newest first.
    pub versions: Vec<String>,
    pub repository: String,
}

pub async fn list(context: &Context, args: CatalogListArgs) -> Result<CatalogList, ToolError> {
    let snapshot: CatalogSnapshot = context.catalog.get(args.refresh).await?;
    let apps = snapshot
        .index
        .search(args.app.as_deref(), args.tag.as_deref())
        .into_iter()
        .map(|a| CatalogApp {
            name: a.name.clone(),
            description: a.description.clone(),
            support_type: a.support_type.clone(),
            deprecated: a.deprecated,
            tags: a.tags.clone(),
            charts: a
                .charts
                .iter()
                .map(|c| CatalogAppChart {
                    name: c.name.clone(),
                    versions: c.versions.clone(),
                    repository: c.repository.clone(),
                })
                .collect(),
        })
        .collect();
    Ok(CatalogList {
        catalog: CatalogInfo {
            location: snapshot.location.clone(),
            version: snapshot.index.version.clone(),
            generated: snapshot.index.generated.clone(),
            age_seconds: snapshot.age_seconds,
            origin: snapshot.origin.clone(),
            warning: snapshot.warning.clone(),
        },
        apps,
    })
}
