//! `k0rdent-mcp chart …`: the chart source from the command line.

use std::path::PathBuf;

use clap::Args;

use crate::oci::{ChartRef, ChartSource, ChartSourceOptions, CredentialStore, Credentials};

/// Flags for reaching OCI registries, shared by every command that pulls charts.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Registry host[:port] that may be reached over plain HTTP (repeatable). Never implied.
    #[arg(
        long = "plain-http",
        env = "K0RDENT_MCP_PLAIN_HTTP",
        value_delimiter = ',',
        value_name = "HOST"
    )]
    pub plain_http: Vec<String>,

    /// PEM file of extra CA certificates to trust for registries.
    #[arg(
        long = "registry-ca-file",
        env = "K0RDENT_MCP_REGISTRY_CA_FILE",
        value_name = "FILE"
    )]
    pub ca_file: Option<PathBuf>,

    /// Username for the chart's registry (else Helm's and Docker's registry config, else anonymous).
    #[arg(
        long = "registry-username",
        env = "K0RDENT_MCP_REGISTRY_USERNAME",
        requires = "password"
    )]
    pub username: Option<String>,

    /// Password for --registry-username.
    #[arg(
        long = "registry-password",
        env = "K0RDENT_MCP_REGISTRY_PASSWORD",
        id = "password",
        hide_env_values = true
    )]
    pub password: Option<String>,

    /// Bearer token for the chart's registry (instead of a username and password).
    #[arg(
        long = "registry-token",
        env = "K0RDENT_MCP_REGISTRY_TOKEN",
        conflicts_with = "username",
        hide_env_values = true
    )]
    pub token: Option<String>,

    /// Folder of the content-addressed chart cache.
    /// Defaults to $XDG_CACHE_HOME/k0rdent-mcp/charts (or ~/.cache/…).
    #[arg(
        long = "chart-cache-dir",
        env = "K0RDENT_MCP_CHART_CACHE_DIR",
        value_name = "DIR"
    )]
    pub cache_dir: Option<PathBuf>,
}

impl RegistryArgs {
    pub fn cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| crate::config::cache_base().join("charts"))
    }

    /// A chart source; explicit credentials apply to `registry` only.
    pub fn source(&self, registry: &str) -> anyhow::Result<ChartSource> {
        let mut options = ChartSourceOptions::new(self.cache_dir());
        options.plain_http = self.plain_http.clone();
        options.ca_pem.extend(self.ca_pem()?);
        Ok(ChartSource::new(options, self.credentials(registry)))
    }

    /// The PEM of --registry-ca-file, if given.
    pub fn ca_pem(&self) -> anyhow::Result<Option<Vec<u8>>> {
        self.ca_file
            .as_ref()
            .map(|ca| {
                std::fs::read(ca)
                    .map_err(|e| anyhow::anyhow!("--registry-ca-file {}: {e}", ca.display()))
            })
            .transpose()
    }

    /// The environment's credentials, with the explicit ones for `registry`.
    pub fn credentials(&self, registry: &str) -> CredentialStore {
        let mut credentials = CredentialStore::from_environment();
        if let Some(token) = &self.token {
            credentials.set(registry, Credentials::Bearer(token.clone()));
        }
        if let (Some(username), Some(password)) = (&self.username, &self.password) {
            credentials.set(
                registry,
                Credentials::Basic {
                    username: username.clone(),
                    password: password.clone(),
                },
            );
        }
        credentials
    }
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Chart reference: oci://registry/path/chart[:tag|@sha256:digest]
    pub reference: String,
    /// Chart version (the OCI tag).
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub async fn pull(args: PullArgs) -> anyhow::Result<()> {
    let chart = ChartRef::parse(&args.reference, args.version.as_deref())?;
    let source = args.registry.source(&chart.registry)?;
    let pulled = source.pull(&chart).await?;
    let report = serde_json::json!({
        "reference": pulled.reference.to_string(),
        "digest": pulled.manifest_digest,
        "chart_layer_digest": pulled.layer_digest,
        "size": pulled.bytes.len(),
        "cache_path": pulled.cache_path,
        "origin": pulled.origin,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
