//! Plugins from OCI registries (`--plugin oci://…`), through the chart
//! source. The order is the defence: resolve the reference to a manifest
//! digest → fetch the manifest (size-capped, digest-checked) → verify a
//! signature over that digest when the policy asks for one → fetch the
//! layers (size-capped, digest-checked) → check the component against its
//! manifest. Only a plugin that passed all of it is cached and handed to the
//! host to compile.
//!
//! Offline, a cached plugin is re-verified from the cached signature
//! manifest and payloads under the keys given now, so neither a key removed
//! from the configuration nor a forged cache entry lets it load.

use super::manifest::{PluginManifest, PluginSource};
use super::oci_artifact::{self, ImageManifest, PluginConfig, pinned, plugin_layers};
use super::self_test::golden::GoldenBundle;
use super::signature::{self, Candidate, Rejection, TrustedKey};
use super::trust_policy::{Requirement, SignaturePolicy};
use crate::oci::{ChartRef, ChartSource, FetchedManifest, OciError, PullOrigin};
use crate::quote::quote;

/// Largest simple-signing payload accepted (cosign's are a few hundred bytes).
const MAX_PAYLOAD_BYTES: u64 = 64 * 1024;
/// Signatures examined beside one artifact, so a registry cannot make us loop.
const MAX_SIGNATURES: usize = 16;

/// What an OCI plugin is checked against.
#[derive(Debug, Clone)]
pub struct Trust {
    pub policy: SignaturePolicy,
    pub keys: Vec<TrustedKey>,
}

impl Trust {
    fn describe_keys(&self) -> String {
        if self.keys.is_empty() {
            return "none given".into();
        }
        self.keys
            .iter()
            .map(TrustedKey::describe)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SupplyError {
    #[error("plugin {reference}: {error}")]
    Registry {
        reference: String,
        #[source]
        error: OciError,
    },

    #[error("plugin {reference} is not a k0rdent-mcp plugin artifact: {why}")]
    NotAPlugin { reference: String, why: String },

    #[error(
        "plugin {reference} ({digest}) is unsigned: no signature at tag {tag} beside it, and \
         --plugin-signature-policy {policy} requires one by a trusted key ({keys}); sign it with \
         `cosign sign --key KEY` or `k0rdent-mcp plugins push --sign-key KEY`{hint}"
    )]
    Unsigned {
        reference: String,
        digest: String,
        tag: String,
        policy: &'static str,
        keys: String,
        hint: &'static str,
    },

    #[error(
        "plugin {reference} ({digest}) is not signed by a trusted key (trusted: {keys}): {}; \
         refusing to load it. Add the signer's public key with --plugin-trusted-key if you trust it",
        reasons.join("; ")
    )]
    Untrusted {
        reference: String,
        digest: String,
        keys: String,
        reasons: Vec<String>,
    },

    #[error(
        "plugin {reference}: digest mismatch: the signature by {key} is for {signed}, not for \
         {digest}; a signature copied from another artifact is refused"
    )]
    SignatureDigestMismatch {
        reference: String,
        digest: String,
        signed: String,
        key: String,
    },

    #[error(
        "plugin {reference}: --plugin-signature-policy {policy} requires a signature, but no \
         --plugin-trusted-key (K0RDENT_MCP_PLUGIN_TRUSTED_KEYS) is given; give the signer's public key{hint}"
    )]
    NoTrustedKeys {
        reference: String,
        policy: &'static str,
        hint: &'static str,
    },

    #[error("plugin {reference}: {message}")]
    Setup { reference: String, message: String },
}

/// A verified plugin and how it was vouched for.
pub struct PulledPlugin {
    pub source: PluginSource,
    pub digest: String,
    /// The trusted key that signed it, when one did.
    pub signed_by: Option<String>,
    pub origin: PullOrigin,
    /// The golden cases the artifact ships (empty when it ships none).
    pub golden: GoldenBundle,
}

/// Pulls and verifies the plugin `reference` names.
pub async fn pull(
    source: &ChartSource,
    reference: &ChartRef,
    trust: &Trust,
) -> Result<PulledPlugin, SupplyError> {
    let shown = reference.to_string();
    let registry_error = |error| SupplyError::Registry {
        reference: shown.clone(),
        error,
    };
    let requirement = trust.policy.requirement(reference.digest.is_some());
    let hint = if reference.digest.is_some() {
        ""
    } else {
        "; or pin the plugin by digest (oci://…@sha256:…) under --plugin-signature-policy digest-only"
    };
    if requirement == Requirement::Signature && trust.keys.is_empty() {
        return Err(SupplyError::NoTrustedKeys {
            reference: shown.clone(),
            policy: trust.policy.name(),
            hint,
        });
    }

    let manifest = source
        .artifact_manifest(reference)
        .await
        .map_err(registry_error)?;
    let digest = manifest.digest.clone();
    let at = pinned(reference, &digest);
    tracing::info!(plugin = %shown, digest = %digest, "resolved plugin reference");

    let mut signature_parts = None;
    let signed_by = match requirement {
        Requirement::Nothing => None,
        Requirement::Signature => {
            let tag = signature::signature_tag(&digest);
            let Some(sig_manifest) = source
                .artifact_manifest_at_tag(reference, &tag)
                .await
                .map_err(registry_error)?
            else {
                return Err(SupplyError::Unsigned {
                    reference: shown.clone(),
                    digest,
                    tag,
                    policy: trust.policy.name(),
                    keys: trust.describe_keys(),
                    hint,
                });
            };
            let candidates = signature_candidates(source, reference, &sig_manifest)
                .await
                .map_err(|e| match e {
                    Fetch::Registry(error) => registry_error(error),
                    Fetch::Shape(why) => SupplyError::Untrusted {
                        reference: shown.clone(),
                        digest: digest.clone(),
                        keys: trust.describe_keys(),
                        reasons: vec![format!("its signature manifest is unusable: {why}")],
                    },
                })?;
            let key =
                signature::verify(&candidates, &trust.keys, &digest).map_err(|rejection| {
                    match rejection {
                        Rejection::Untrusted { reasons } => SupplyError::Untrusted {
                            reference: shown.clone(),
                            digest: digest.clone(),
                            keys: trust.describe_keys(),
                            reasons,
                        },
                        Rejection::DigestMismatch { key, signed } => {
                            SupplyError::SignatureDigestMismatch {
                                reference: shown.clone(),
                                digest: digest.clone(),
                                signed: quote(&signed),
                                key,
                            }
                        }
                    }
                })?;
            signature_parts = Some((tag, sig_manifest, candidates));
            Some(key)
        }
    };

    let not_a_plugin = |why: String| SupplyError::NotAPlugin {
        reference: at.clone(),
        why,
    };
    let doc = ImageManifest::parse(&manifest.bytes).map_err(not_a_plugin)?;
    let layers = plugin_layers(&doc).map_err(not_a_plugin)?;
    let config_bytes = fetch_layer(source, reference, &layers.config)
        .await
        .map_err(registry_error)?;
    let manifest_bytes = fetch_layer(source, reference, &layers.manifest)
        .await
        .map_err(registry_error)?;
    let plugin_manifest: PluginManifest = serde_json::from_slice(&manifest_bytes)
        .map_err(|e| not_a_plugin(format!("its plugin manifest layer is not valid: {e}")))?;
    plugin_manifest
        .validate()
        .map_err(|e| not_a_plugin(format!("its plugin manifest layer: {e}")))?;
    let config: PluginConfig = serde_json::from_slice(&config_bytes)
        .map_err(|e| not_a_plugin(format!("its config is not valid: {e}")))?;
    if (&config.name, &config.version, config.world, &config.sha256)
        != (
            &plugin_manifest.name,
            &plugin_manifest.version,
            plugin_manifest.world,
            &plugin_manifest.sha256,
        )
    {
        return Err(not_a_plugin(
            "its config and its plugin manifest disagree on name, version, world or sha256".into(),
        ));
    }
    let component = fetch_layer(source, reference, &layers.component)
        .await
        .map_err(registry_error)?;
    plugin_manifest
        .verify(&component)
        .map_err(|e| not_a_plugin(e.to_string()))?;
    let selftest_bytes = match &layers.selftest {
        Some(layer) => fetch_layer(source, reference, layer)
            .await
            .map_err(registry_error)?,
        None => Vec::new(),
    };
    let golden = match &layers.selftest {
        Some(_) => GoldenBundle::parse(&selftest_bytes).map_err(not_a_plugin)?,
        None => GoldenBundle::default(),
    };

    let mut blobs: Vec<(&str, &[u8])> = vec![
        (&layers.config.digest, &config_bytes),
        (&layers.manifest.digest, &manifest_bytes),
        (&layers.component.digest, &component),
    ];
    if let Some(layer) = &layers.selftest {
        blobs.push((&layer.digest, &selftest_bytes));
    }
    let keep_error = |e| SupplyError::Setup {
        reference: at.clone(),
        message: format!("cannot cache the verified plugin: {e}"),
    };
    if let Some((tag, sig_manifest, candidates)) = &signature_parts {
        let sig_ref = ChartRef {
            tag: Some(tag.clone()),
            digest: None,
            ..reference.clone()
        };
        let payloads: Vec<(String, &[u8])> = candidates
            .iter()
            .map(|c| (crate::oci::sha256_digest(&c.payload), c.payload.as_slice()))
            .collect();
        let payloads: Vec<(&str, &[u8])> = payloads.iter().map(|(d, b)| (d.as_str(), *b)).collect();
        source
            .keep(&sig_ref, sig_manifest, &payloads)
            .map_err(keep_error)?;
    }
    source
        .keep(reference, &manifest, &blobs)
        .map_err(keep_error)?;

    Ok(PulledPlugin {
        source: PluginSource {
            manifest: plugin_manifest,
            bytes: component,
            origin: at,
        },
        digest,
        signed_by,
        origin: manifest.origin,
        golden,
    })
}

/// A layer whose descriptor [`plugin_layers`] checked: capped at its size.
async fn fetch_layer(
    source: &ChartSource,
    reference: &ChartRef,
    layer: &oci_artifact::Descriptor,
) -> Result<Vec<u8>, OciError> {
    source
        .artifact_blob(reference, &layer.digest, layer.size as u64)
        .await
}

enum Fetch {
    Registry(OciError),
    Shape(String),
}

/// Every signature layer of a cosign signature manifest, with its payload.
async fn signature_candidates(
    source: &ChartSource,
    reference: &ChartRef,
    sig_manifest: &FetchedManifest,
) -> Result<Vec<Candidate>, Fetch> {
    let doc = ImageManifest::parse(&sig_manifest.bytes).map_err(Fetch::Shape)?;
    let mut candidates = Vec::new();
    for layer in doc
        .layers
        .iter()
        .filter(|l| l.media_type == signature::SIMPLE_SIGNING_MEDIA_TYPE)
        .take(MAX_SIGNATURES)
    {
        let Some(sig) = layer
            .annotations
            .as_ref()
            .and_then(|a| a.get(signature::SIGNATURE_ANNOTATION))
        else {
            continue;
        };
        oci_artifact::check_descriptor(layer, MAX_PAYLOAD_BYTES).map_err(Fetch::Shape)?;
        let payload = source
            .artifact_blob(reference, &layer.digest, layer.size as u64)
            .await
            .map_err(Fetch::Registry)?;
        candidates.push(Candidate {
            payload,
            signature_b64: sig.clone(),
        });
    }
    if candidates.is_empty() {
        return Err(Fetch::Shape(format!(
            "it has no {} layer with a {} annotation",
            signature::SIMPLE_SIGNING_MEDIA_TYPE,
            signature::SIGNATURE_ANNOTATION
        )));
    }
    Ok(candidates)
}

/// The registry part of `reference` cosign's payload names (`host/path`).
pub fn docker_reference(reference: &ChartRef) -> String {
    format!("{}/{}", reference.registry, reference.repository)
}
