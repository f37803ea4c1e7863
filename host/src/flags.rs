//! The flag groups several commands share, in one place: reaching OCI registries, loading and
//! trusting plugins, logging, reaching the cluster and tuning the engine. Each flag has a
//! `K0RDENT_MCP_*` environment variable; flags win. Defaults shared with the rest of the host live in
//! `crate::defaults`. The verbs that use them are under `crate::cli`; the MCP server reads the same
//! groups (cluster, engine) from here.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::ValueEnum;

use crate::oci::{ChartRef, ChartSource, ChartSourceOptions, CredentialStore, Credentials};
use crate::plugin::embedded;
use crate::plugin::manifest::{self, PluginSource};
use crate::plugin::oci_source::{self, PulledPlugin, SupplyError, Trust};
use crate::plugin::selection::PluginSet;
use crate::plugin::signature::TrustedKey;
use crate::plugin::trust_policy::SignaturePolicy;
use crate::plugin::{HostOptions, Limits, PluginError, PluginHost};

use crate::cluster::discovery_disk::DiskDiscovery;
use crate::cluster::{Cluster, ClusterSource, DiscoveryCache, connect_to};
use crate::engine::EngineOptions;
use crate::quote::quote;
use crate::release::DEFAULT_MAX_HISTORY;

#[derive(Debug, Clone, Args)]
pub struct ClusterArgs {
    /// Kubeconfig to use (its current context). Default: $KUBECONFIG, ~/.kube/config,
    /// else the pod's service account.
    #[arg(
        long = "kubeconfig",
        env = "K0RDENT_MCP_KUBECONFIG",
        value_name = "FILE"
    )]
    pub kubeconfig: Option<PathBuf>,
    /// Bearer token to act as, replacing the kubeconfig's credentials.
    #[arg(
        long = "kube-token",
        id = "kube_token",
        env = "K0RDENT_MCP_KUBE_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
}

impl ClusterArgs {
    pub fn source(&self) -> ClusterSource {
        match &self.kubeconfig {
            Some(path) => ClusterSource::Kubeconfig(path.clone()),
            None => ClusterSource::Infer,
        }
    }
}

/// The cluster flags of the one-shot commands: [`ClusterArgs`] plus the discovery kept on disk
/// between processes (the server keeps discovery in memory instead).
#[derive(Debug, Clone, Args)]
pub struct OneShotClusterArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Folder where one-shot commands keep what they discovered about each cluster (server
    /// version, served APIs, kinds), for 10 minutes, as kubectl does; it must be closed to other
    /// users. Defaults to $XDG_CACHE_HOME/k0rdent-mcp/discovery (or ~/.cache/…); `none` asks the
    /// server every time.
    #[arg(
        long = "discovery-cache-dir",
        env = "K0RDENT_MCP_DISCOVERY_CACHE_DIR",
        value_name = "DIR"
    )]
    pub discovery_cache_dir: Option<String>,
}

impl OneShotClusterArgs {
    fn discovery_cache_dir(&self) -> Option<PathBuf> {
        match self.discovery_cache_dir.as_deref() {
            Some("none") => None,
            Some(dir) => Some(PathBuf::from(dir)),
            // As the plugin cache: never a shared temporary folder.
            None => crate::defaults::user_cache_base().map(|base| base.join("discovery")),
        }
    }

    pub async fn connect(&self) -> anyhow::Result<Cluster> {
        let (client, endpoint) = {
            let _phase = crate::timings::phase(|| "kube client (config, TLS set-up)");
            connect_to(&self.cluster.source(), self.cluster.token.as_deref()).await?
        };
        let _phase = crate::timings::phase(|| "discovery: read the disk cache");
        let disk = self
            .discovery_cache_dir()
            .and_then(|dir| DiskDiscovery::open(&dir, &endpoint.server_url, &endpoint.ca_certs));
        Ok(match disk {
            Some(disk) => Cluster::with_cache(client, &DiscoveryCache::on_disk(disk)),
            None => Cluster::new(client),
        })
    }
}

#[derive(Debug, Clone, Args)]
pub struct EngineArgs {
    /// Time to wait for each hook (the verify Job) and each delete, e.g. 300s or 5m.
    #[arg(
        long = "timeout",
        env = "K0RDENT_MCP_TIMEOUT",
        default_value = "5m",
        value_parser = parse_duration
    )]
    pub timeout: Duration,
    /// Revisions kept per release (0 = no limit), as helm's --history-max.
    #[arg(long = "history-max", env = "K0RDENT_MCP_HISTORY_MAX", default_value_t = DEFAULT_MAX_HISTORY)]
    pub history_max: usize,
    /// Roll a failed upgrade back to the revision it replaced (helm's --rollback-on-failure).
    #[arg(
        long = "rollback-on-failure",
        env = "K0RDENT_MCP_ROLLBACK_ON_FAILURE",
        default_value_t = true,
        action = clap::ArgAction::Set,
        value_name = "BOOL"
    )]
    pub rollback_on_failure: bool,
    /// How long to wait for k0rdent to validate a deployed ServiceTemplate (0s: do not wait).
    #[arg(
        long = "validation-timeout",
        env = "K0RDENT_MCP_VALIDATION_TIMEOUT",
        default_value = "60s",
        value_parser = parse_duration
    )]
    pub validation_timeout: Duration,
    /// How long an operation's lock on a release lasts unless renewed (it is renewed every
    /// third of this while the operation runs); a later operation recovers a release whose
    /// lock ran out. At least 3s.
    #[arg(
        long = "lock-lease",
        env = "K0RDENT_MCP_LOCK_LEASE",
        default_value = "60s",
        value_parser = parse_lease
    )]
    pub lock_lease: Duration,
}

fn parse_lease(text: &str) -> Result<Duration, String> {
    let lease = parse_duration(text)?;
    if lease < Duration::from_secs(3) {
        return Err(format!(
            "{} is too short for a lock lease (renewed every third of it); use at least 3s",
            quote(text)
        ));
    }
    Ok(lease)
}

impl EngineArgs {
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            max_history: self.history_max,
            timeout: self.timeout,
            rollback_on_failure: self.rollback_on_failure,
            validation_timeout: self.validation_timeout,
            lease: self.lock_lease,
            ..EngineOptions::default()
        }
    }
}

/// `90`, `90s`, `5m`, `1h`, `2m30s`: Helm's duration flags, bounded to a day.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "{} is not a duration; use seconds or units s/m/h, e.g. 300s, 5m, 1h30m",
            quote(text)
        )
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    if let Ok(secs) = text.parse::<u64>() {
        total = secs;
    } else {
        let mut number = String::new();
        for c in text.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                _ => return Err(bad()),
            };
            let n: u64 = number.parse().map_err(|_| bad())?;
            total = total.saturating_add(n.saturating_mul(unit));
            number.clear();
        }
        if !number.is_empty() {
            return Err(bad());
        }
    }
    if total > 86_400 {
        return Err(format!(
            "{} is longer than a day; use at most 24h",
            quote(text)
        ));
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_helm_flags() {
        assert_eq!(parse_duration("300").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("2m30s").unwrap(), Duration::from_secs(150));
        assert_eq!(parse_duration("0s").unwrap(), Duration::ZERO);
        for bad in ["", "5x", "m", "5m3", "-1"] {
            assert!(
                parse_duration(bad).unwrap_err().contains("not a duration"),
                "{bad}"
            );
        }
        assert!(parse_duration("48h").unwrap_err().contains("at most 24h"));
    }
}

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
            .unwrap_or_else(|| crate::defaults::cache_base().join("charts"))
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

#[derive(Debug, Clone, Args)]
pub struct PluginArgs {
    /// Folder of extra plugins (`*.plugin.json` beside each component). A plugin here serves
    /// new work instead of the embedded one of the same name (which stays loaded for rollbacks,
    /// by digest) and is preferred for the charts it declares.
    #[arg(long, env = "K0RDENT_MCP_PLUGIN_DIR", value_name = "DIR")]
    pub plugin_dir: Option<PathBuf>,

    /// Plugin from an OCI registry, `oci://host/repo@sha256:…` or `oci://host/repo:tag` (repeatable;
    /// the env variable is comma-separated). Loaded after --plugin-dir, in the order given; checked
    /// against --plugin-signature-policy before it is compiled. The chart registry flags apply.
    #[arg(
        long = "plugin",
        env = "K0RDENT_MCP_PLUGINS",
        value_delimiter = ',',
        value_name = "oci://REF"
    )]
    pub plugin: Vec<String>,

    #[command(flatten)]
    pub trust: PluginTrustArgs,

    /// Folder for precompiled plugins: it and every folder above it must be closed to other users
    /// (otherwise it is not used, with a warning). Defaults to $XDG_CACHE_HOME/k0rdent-mcp/plugins
    /// (or ~/.cache/…); with neither variable set, or `none`, plugins are compiled in memory.
    #[arg(long, env = "K0RDENT_MCP_PLUGIN_CACHE_DIR", value_name = "DIR")]
    pub plugin_cache_dir: Option<String>,

    /// CPU time one plugin call may use, in milliseconds.
    #[arg(long, env = "K0RDENT_MCP_PLUGIN_CPU_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub plugin_cpu_ms: u64,

    /// Memory one plugin instance may grow to, in MiB.
    #[arg(long, env = "K0RDENT_MCP_PLUGIN_MEMORY_MIB", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub plugin_memory_mib: u64,

    /// Largest result one plugin call may return, in MiB.
    #[arg(long, env = "K0RDENT_MCP_PLUGIN_OUTPUT_MIB", default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub plugin_output_mib: u64,
}

/// What a plugin from a registry must prove.
#[derive(Debug, Clone, Args)]
pub struct PluginTrustArgs {
    /// Public key (PEM "PUBLIC KEY", ECDSA P-256, as `cosign generate-key-pair` writes) whose
    /// cosign-style signatures make an OCI plugin trusted (repeatable; env comma-separated).
    #[arg(
        long = "plugin-trusted-key",
        env = "K0RDENT_MCP_PLUGIN_TRUSTED_KEYS",
        value_delimiter = ',',
        value_name = "PEM"
    )]
    pub trusted_keys: Vec<PathBuf>,

    /// What an OCI plugin must prove: `require-signature` (a signature by a trusted key),
    /// `digest-only` (a @sha256: reference suffices; a tag still needs a signature), or
    /// `none` (INSECURE: anything the registry serves; local development only).
    #[arg(
        long = "plugin-signature-policy",
        env = "K0RDENT_MCP_PLUGIN_SIGNATURE_POLICY",
        value_enum,
        default_value_t = SignaturePolicy::RequireSignature
    )]
    pub policy: SignaturePolicy,
}

impl PluginTrustArgs {
    pub fn trust(&self) -> Result<Trust, PluginError> {
        let keys = self
            .trusted_keys
            .iter()
            .map(|path| TrustedKey::from_file(path))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|message| PluginError::Manifest {
                path: "--plugin-trusted-key".into(),
                message,
            })?;
        if self.policy == SignaturePolicy::None {
            tracing::warn!(
                "INSECURE: --plugin-signature-policy none: plugins from registries load without a \
                 signature or a pinned digest; whoever controls the registry or its tags chooses \
                 the code that renders and validates charts. For local development only"
            );
        }
        Ok(Trust {
            policy: self.policy,
            keys,
        })
    }

    /// Pulls and verifies each `oci://` reference, in order. Runs on a
    /// thread of its own: callers may or may not be inside a runtime.
    pub fn pull(
        &self,
        references: &[String],
        registry: &RegistryArgs,
    ) -> Result<Vec<PulledPlugin>, PluginError> {
        if references.is_empty() {
            return Ok(Vec::new());
        }
        let trust = self.trust()?;
        let setup = |reference: &str, message: String| {
            PluginError::from(Box::new(SupplyError::Setup {
                reference: reference.to_string(),
                message,
            }))
        };
        let pull_all = || -> Result<Vec<PulledPlugin>, PluginError> {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    PluginError::Runtime(format!("cannot start a runtime to pull plugins: {e}"))
                })?;
            runtime.block_on(async {
                let mut pulled = Vec::new();
                for text in references {
                    let reference =
                        ChartRef::parse(text, None).map_err(|e| setup(text, e.to_string()))?;
                    let source = registry
                        .source(&reference.registry)
                        .map_err(|e| setup(text, format!("{e:#}")))?;
                    let plugin = oci_source::pull(&source, &reference, &trust)
                        .await
                        .map_err(Box::new)?;
                    tracing::info!(
                        plugin = %text,
                        digest = %plugin.digest,
                        signed_by = plugin.signed_by.as_deref().unwrap_or("unsigned"),
                        origin = ?plugin.origin,
                        "verified plugin from registry; loading it from {}",
                        plugin.source.origin
                    );
                    pulled.push(plugin);
                }
                Ok(pulled)
            })
        };
        std::thread::scope(|scope| {
            scope
                .spawn(pull_all)
                .join()
                .unwrap_or_else(|_| Err(PluginError::Runtime("pulling plugins panicked".into())))
        })
    }
}

impl PluginArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            cpu: Duration::from_millis(self.plugin_cpu_ms),
            memory_bytes: self.plugin_memory_mib * 1024 * 1024,
            output_bytes: self.plugin_output_mib * 1024 * 1024,
            ..Limits::default()
        }
    }

    fn cache_dir(&self) -> Option<PathBuf> {
        match self.plugin_cache_dir.as_deref() {
            Some("none") => None,
            Some(dir) => Some(PathBuf::from(dir)),
            // Never the shared temporary folder: whoever creates the folder
            // there first decides what native code the server would load.
            None => crate::defaults::user_cache_base().map(|base| base.join("plugins")),
        }
    }

    /// The plugin host and every plugin: embedded defaults first, then
    /// `--plugin-dir`, then `--plugin` references, pulled through `registry`'s
    /// settings and verified before the host is created.
    pub fn load(&self, registry: &RegistryArgs) -> Result<(PluginHost, PluginSet), PluginError> {
        let _phase = crate::timings::phase(|| "plugins: load (total)");
        let mut sources: Vec<PluginSource> = embedded::sources();
        if let Some(dir) = &self.plugin_dir {
            sources.extend(manifest::read_plugin_dir(dir)?);
        }
        let pulled = self.trust.pull(&self.plugin, registry)?;
        sources.extend(pulled.into_iter().map(|p| p.source));
        let host = {
            let _phase = crate::timings::phase(|| "plugins: wasm engine and cache");
            PluginHost::new(HostOptions {
                limits: self.limits(),
                cache_dir: self.cache_dir(),
            })?
        };
        let set = PluginSet::load(&host, &sources)?;
        Ok((host, set))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogArgs {
    /// Log format on stderr.
    #[arg(long, env = "K0RDENT_MCP_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log filter, in `tracing` EnvFilter syntax (for example `info,k0rdent_mcp=debug`).
    // rmcp logs every stateless HTTP request at info; its warnings are what matter.
    #[arg(
        long,
        env = "K0RDENT_MCP_LOG",
        default_value = "info,rmcp=warn",
        global = true
    )]
    pub log: String,
}

impl LogArgs {
    /// Logs go to stderr: stdout belongs to the stdio transport and to CLI output.
    pub fn init(&self) {
        let filter = tracing_subscriber::EnvFilter::try_new(&self.log)
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
        use std::io::IsTerminal;
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        match self.log_format {
            LogFormat::Json => builder.json().init(),
            LogFormat::Text => builder.init(),
        }
    }
}
