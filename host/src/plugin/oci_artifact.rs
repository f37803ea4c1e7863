//! The layout of a plugin stored in an OCI registry (see
//! docs/plugin-runtime.md, "Plugins as OCI artifacts"): an image manifest
//! with our `artifactType`, a small JSON config, and two layers, the
//! component and the `*.plugin.json` manifest the `--plugin-dir` layout uses,
//! plus an optional third: the plugin's golden cases for the self-test.

use serde::{Deserialize, Serialize};

use super::World;
use super::manifest::{MAX_COMPONENT_BYTES, PluginManifest};
use super::self_test::golden::MAX_BUNDLE_BYTES;
pub use super::self_test::golden::SELFTEST_MEDIA_TYPE;
use crate::oci::ChartRef;
use crate::quote::quote;

pub const ARTIFACT_TYPE: &str = "application/vnd.k0rdent.mcp.plugin.v1";
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.k0rdent.mcp.plugin.config.v1+json";
pub const COMPONENT_MEDIA_TYPE: &str = "application/vnd.k0rdent.mcp.plugin.component.v1+wasm";
pub const MANIFEST_MEDIA_TYPE: &str = "application/vnd.k0rdent.mcp.plugin.manifest.v1+json";
pub const IMAGE_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
/// Largest config or plugin-manifest layer (both are a few hundred bytes).
pub const MAX_SMALL_LAYER_BYTES: u64 = 64 * 1024;

/// The config blob: who the plugin says it is, repeated from its manifest
/// so registries and tools can show it without fetching layers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginConfig {
    pub name: String,
    pub version: String,
    pub world: World,
    /// sha256 of the component, as in the plugin manifest.
    pub sha256: String,
    /// WIT package the component is built against.
    pub contract: String,
}

impl PluginConfig {
    pub fn of(manifest: &PluginManifest) -> Self {
        PluginConfig {
            name: manifest.name.clone(),
            version: manifest.version.clone(),
            world: manifest.world,
            sha256: manifest.sha256.clone(),
            contract: super::contract::PACKAGE.to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Descriptor {
    #[serde(rename = "mediaType")]
    pub media_type: String,
    pub digest: String,
    pub size: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<std::collections::BTreeMap<String, String>>,
}

impl Descriptor {
    pub fn of(media_type: &str, bytes: &[u8]) -> Self {
        Descriptor {
            media_type: media_type.to_string(),
            digest: crate::oci::sha256_digest(bytes),
            size: bytes.len() as i64,
            annotations: None,
        }
    }
}

/// The parts of an OCI image manifest that plugins and signatures use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageManifest {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default)]
    pub media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

impl ImageManifest {
    pub fn new(artifact_type: Option<&str>, config: Descriptor, layers: Vec<Descriptor>) -> Self {
        ImageManifest {
            schema_version: 2,
            media_type: Some(IMAGE_MANIFEST_MEDIA_TYPE.to_string()),
            artifact_type: artifact_type.map(str::to_string),
            config,
            layers,
        }
    }

    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes)
            .map_err(|e| format!("its manifest is not an OCI image manifest: {e}"))
    }
}

/// The three blobs a plugin manifest points at, checked for shape and size.
pub struct PluginLayers {
    pub config: Descriptor,
    pub component: Descriptor,
    pub manifest: Descriptor,
    /// The plugin's golden cases, when it ships any (see [`super::self_test`]).
    pub selftest: Option<Descriptor>,
}

/// Finds the plugin's blobs in its manifest, refusing anything that is not
/// exactly our layout or that announces sizes over the limits.
pub fn plugin_layers(manifest: &ImageManifest) -> Result<PluginLayers, String> {
    if let Some(declared) = manifest.artifact_type.as_deref()
        && declared != ARTIFACT_TYPE
    {
        return Err(format!(
            "artifact type {} is not {ARTIFACT_TYPE}; push plugins with `k0rdent-mcp plugins push`",
            quote(declared)
        ));
    }
    let one = |media_type: &str, limit: u64| -> Result<Descriptor, String> {
        let mut found = manifest
            .layers
            .iter()
            .filter(|l| l.media_type == media_type);
        let layer = found
            .next()
            .ok_or_else(|| format!("it has no {media_type} layer"))?;
        if found.next().is_some() {
            return Err(format!("it has more than one {media_type} layer"));
        }
        check_descriptor(layer, limit)?;
        Ok(layer.clone())
    };
    if manifest.config.media_type != CONFIG_MEDIA_TYPE {
        return Err(format!(
            "its config media type is {}, expected {CONFIG_MEDIA_TYPE}",
            quote(&manifest.config.media_type)
        ));
    }
    check_descriptor(&manifest.config, MAX_SMALL_LAYER_BYTES)?;
    Ok(PluginLayers {
        config: manifest.config.clone(),
        component: one(COMPONENT_MEDIA_TYPE, MAX_COMPONENT_BYTES)?,
        manifest: one(MANIFEST_MEDIA_TYPE, MAX_SMALL_LAYER_BYTES)?,
        selftest: match manifest
            .layers
            .iter()
            .any(|l| l.media_type == SELFTEST_MEDIA_TYPE)
        {
            true => Some(one(SELFTEST_MEDIA_TYPE, MAX_BUNDLE_BYTES)?),
            false => None,
        },
    })
}

pub fn check_descriptor(layer: &Descriptor, limit: u64) -> Result<(), String> {
    if !crate::oci::valid_digest(&layer.digest) {
        return Err(format!(
            "layer digest {} is not sha256: and 64 lower-case hex digits",
            quote(&layer.digest)
        ));
    }
    if layer.size < 0 || layer.size as u64 > limit {
        return Err(format!(
            "its {} layer announces {} bytes, over the limit of {limit}",
            layer.media_type, layer.size
        ));
    }
    Ok(())
}

/// `oci://registry/repository@digest`: the exact artifact, for origins and logs.
pub fn pinned(reference: &ChartRef, digest: &str) -> String {
    format!(
        "oci://{}/{}@{digest}",
        reference.registry, reference.repository
    )
}
