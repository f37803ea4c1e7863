//! `k0rdent-mcp plugins push|pull`: plugins as OCI artifacts, for plugin
//! authors (push, optionally signing) and for inspecting what a server would
//! load (pull runs the server's checks and writes a `--plugin-dir` folder).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use oci_client::client::{Certificate, CertificateEncoding, ClientConfig, ClientProtocol};
use oci_client::secrets::RegistryAuth;

use crate::flags::{PluginArgs, PluginTrustArgs, RegistryArgs};
use crate::oci::{ChartRef, Credentials, sha256_digest};
use crate::plugin::manifest::{self, MANIFEST_SUFFIX, PluginSource};
use crate::plugin::oci_artifact::{
    ARTIFACT_TYPE, COMPONENT_MEDIA_TYPE, CONFIG_MEDIA_TYPE, Descriptor, IMAGE_MANIFEST_MEDIA_TYPE,
    ImageManifest, MANIFEST_MEDIA_TYPE, PluginConfig, SELFTEST_MEDIA_TYPE, pinned,
};
use crate::plugin::oci_source::docker_reference;
use crate::plugin::signature::{self, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE};

#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub plugins: PluginArgs,
    /// Registry settings for `--plugin oci://…`.
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// A folder in the --plugin-dir layout holding one plugin, or one `*.plugin.json`.
    pub plugin: PathBuf,
    /// Where to push it: oci://host/repository:tag
    pub reference: String,
    /// Also sign it, cosign-compatibly, with this ECDSA P-256 private key (unencrypted PEM).
    #[arg(long = "sign-key", value_name = "PEM")]
    pub sign_key: Option<PathBuf>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// oci://host/repository@sha256:… (or :tag)
    pub reference: String,
    /// Folder to write the component and its manifest to (the --plugin-dir layout).
    #[arg(long = "output-dir", value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
    #[command(flatten)]
    pub trust: PluginTrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Pushes the plugin and prints its manifest digest (and signature tag) as JSON.
pub async fn push(args: PushArgs) -> anyhow::Result<()> {
    let reference = ChartRef::parse(&args.reference, None)?;
    let tag = match (&reference.tag, &reference.digest) {
        (Some(tag), None) => tag.clone(),
        _ => anyhow::bail!(
            "push to a tag, for example oci://{}/{}:0.1.0; the digest is what push prints",
            reference.registry,
            reference.repository
        ),
    };
    let plugin = read_one_plugin(&args.plugin)?;
    let sign_key = args
        .sign_key
        .as_ref()
        .map(|path| {
            let pem = std::fs::read_to_string(path)
                .with_context(|| format!("--sign-key {}", path.display()))?;
            signature::signing_key_from_pem(&path.display().to_string(), &pem)
                .map_err(anyhow::Error::msg)
        })
        .transpose()?;

    let registry = Pusher::new(&args.registry, &reference).await?;
    let config = serde_json::to_vec(&PluginConfig::of(&plugin.manifest))?;
    let manifest_file = serde_json::to_vec_pretty(&plugin.manifest)?;
    let golden = crate::plugin::self_test::golden::GoldenBundle::read_dir(
        plugin_folder(&args.plugin),
        &plugin.manifest.name,
    )
    .map_err(anyhow::Error::msg)?;
    let golden_bytes = golden.to_bytes();
    let mut layers = vec![
        Descriptor::of(COMPONENT_MEDIA_TYPE, &plugin.bytes),
        Descriptor::of(MANIFEST_MEDIA_TYPE, &manifest_file),
    ];
    let mut blobs = vec![
        config.as_slice(),
        plugin.bytes.as_slice(),
        manifest_file.as_slice(),
    ];
    if !golden.is_empty() {
        layers.push(Descriptor::of(SELFTEST_MEDIA_TYPE, &golden_bytes));
        blobs.push(golden_bytes.as_slice());
    }
    let image = ImageManifest::new(
        Some(ARTIFACT_TYPE),
        Descriptor::of(CONFIG_MEDIA_TYPE, &config),
        layers,
    );
    let digest = registry.push(&tag, &image, &blobs).await?;

    let mut report = serde_json::json!({
        "reference": pinned(&reference, &digest),
        "digest": digest,
        "name": plugin.manifest.name,
        "version": plugin.manifest.version,
        "component_sha256": format!("sha256:{}", plugin.manifest.sha256),
        "golden_cases": golden.cases.len(),
    });
    if let Some(key) = sign_key {
        let payload = signature::simple_signing_payload(&docker_reference(&reference), &digest);
        let mut layer = Descriptor::of(SIMPLE_SIGNING_MEDIA_TYPE, &payload);
        layer.annotations = Some(
            [(
                SIGNATURE_ANNOTATION.to_string(),
                signature::sign(&key, &payload),
            )]
            .into(),
        );
        // cosign's signature images carry an image config naming the payload layer.
        let sig_config = serde_json::to_vec(&serde_json::json!({
            "architecture": "", "os": "", "config": {},
            "rootfs": {"type": "layers", "diff_ids": [layer.digest]},
        }))?;
        let sig_image = ImageManifest::new(
            None,
            Descriptor::of("application/vnd.oci.image.config.v1+json", &sig_config),
            vec![layer],
        );
        let sig_tag = signature::signature_tag(&digest);
        let sig_digest = registry
            .push(
                &sig_tag,
                &sig_image,
                &[sig_config.as_slice(), payload.as_slice()],
            )
            .await?;
        report["signature"] = serde_json::json!({ "tag": sig_tag, "digest": sig_digest });
    }
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Pulls and verifies a plugin as the server would, then writes it out.
pub fn pull(args: PullArgs) -> anyhow::Result<()> {
    let pulled = args
        .trust
        .pull(std::slice::from_ref(&args.reference), &args.registry)?
        .remove(0);
    let source = &pulled.source;
    std::fs::create_dir_all(&args.output_dir)
        .with_context(|| format!("--output-dir {}", args.output_dir.display()))?;
    let component = args.output_dir.join(&source.manifest.component);
    let manifest_path = args
        .output_dir
        .join(format!("{}{MANIFEST_SUFFIX}", source.manifest.name));
    std::fs::write(&component, &source.bytes)
        .with_context(|| format!("writing {}", component.display()))?;
    std::fs::write(&manifest_path, serde_json::to_vec_pretty(&source.manifest)?)
        .with_context(|| format!("writing {}", manifest_path.display()))?;
    let report = serde_json::json!({
        "reference": source.origin,
        "digest": pulled.digest,
        "signed_by": pulled.signed_by,
        "origin": pulled.origin,
        "name": source.manifest.name,
        "component_sha256": format!("sha256:{}", source.manifest.sha256),
        "files": [component, manifest_path],
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// The plugin folder a `push`/`test` argument names: the folder itself, or
/// the folder of a named `*.plugin.json`.
pub(crate) fn plugin_folder(path: &Path) -> &Path {
    if path.is_file() {
        path.parent().unwrap_or(Path::new("."))
    } else {
        path
    }
}

pub(crate) fn read_one_plugin(path: &Path) -> anyhow::Result<PluginSource> {
    if path.is_file() {
        return Ok(manifest::read_plugin(path)?);
    }
    let mut plugins = manifest::read_plugin_dir(path)?;
    if plugins.len() != 1 {
        anyhow::bail!(
            "{} holds {} plugins; push one at a time by naming its *{MANIFEST_SUFFIX}",
            path.display(),
            plugins.len()
        );
    }
    Ok(plugins.remove(0))
}

/// Uploads through oci-client with the chart flags' plain-HTTP policy, CA
/// and credentials.
struct Pusher {
    client: oci_client::Client,
    auth: RegistryAuth,
    registry: String,
    repository: String,
}

impl Pusher {
    async fn new(args: &RegistryArgs, reference: &ChartRef) -> anyhow::Result<Self> {
        let mut config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(args.plain_http.clone()),
            ..ClientConfig::default()
        };
        if let Some(pem) = args.ca_pem()? {
            config.extra_root_certificates.push(Certificate {
                encoding: CertificateEncoding::Pem,
                data: pem,
            });
        }
        let auth = match args
            .credentials(&reference.registry)
            .for_registry(&reference.registry)?
        {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => RegistryAuth::Basic(username, password),
            Credentials::Bearer(token) => RegistryAuth::Bearer(token),
        };
        let pusher = Pusher {
            client: oci_client::Client::new(config),
            auth,
            registry: reference.registry.clone(),
            repository: reference.repository.clone(),
        };
        pusher
            .client
            .auth(
                &pusher.at("k0rdent-mcp-push"),
                &pusher.auth,
                oci_client::RegistryOperation::Push,
            )
            .await
            .with_context(|| format!("authenticating to {} for push", reference.registry))?;
        Ok(pusher)
    }

    fn at(&self, tag: &str) -> oci_client::Reference {
        oci_client::Reference::with_tag(
            self.registry.clone(),
            self.repository.clone(),
            tag.to_string(),
        )
    }

    /// Pushes `blobs`, then `image` at `tag`; returns the manifest digest.
    async fn push(
        &self,
        tag: &str,
        image: &ImageManifest,
        blobs: &[&[u8]],
    ) -> anyhow::Result<String> {
        let at = self.at(tag);
        for blob in blobs {
            let digest = sha256_digest(blob);
            self.client
                .push_blob(&at, blob.to_vec(), &digest)
                .await
                .with_context(|| format!("pushing blob {digest} to {}", self.repository))?;
        }
        let bytes = serde_json::to_vec(image)?;
        let digest = sha256_digest(&bytes);
        self.client
            .push_manifest_raw(
                &at,
                bytes,
                http::HeaderValue::from_static(IMAGE_MANIFEST_MEDIA_TYPE),
            )
            .await
            .with_context(|| format!("pushing the manifest to {}:{tag}", self.repository))?;
        Ok(digest)
    }
}
