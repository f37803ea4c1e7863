//! Command-line and environment configuration shared by every subcommand.
//! Each flag has a `K0RDENT_MCP_*` environment variable; flags win.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::cli_chart::RegistryArgs;
use crate::oci::ChartRef;
use crate::plugin::embedded;
use crate::plugin::manifest::{self, PluginSource};
use crate::plugin::oci_source::{self, PulledPlugin, SupplyError, Trust};
use crate::plugin::selection::PluginSet;
use crate::plugin::signature::TrustedKey;
use crate::plugin::trust_policy::SignaturePolicy;
use crate::plugin::{HostOptions, Limits, PluginError, PluginHost};

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
            None => user_cache_base().map(|base| base.join("plugins")),
        }
    }

    /// The plugin host and every plugin: embedded defaults first, then
    /// `--plugin-dir`, then `--plugin` references, pulled through `registry`'s
    /// settings and verified before the host is created.
    pub fn load(&self, registry: &RegistryArgs) -> Result<(PluginHost, PluginSet), PluginError> {
        let mut sources: Vec<PluginSource> = embedded::sources();
        if let Some(dir) = &self.plugin_dir {
            sources.extend(manifest::read_plugin_dir(dir)?);
        }
        let pulled = self.trust.pull(&self.plugin, registry)?;
        sources.extend(pulled.into_iter().map(|p| p.source));
        let host = PluginHost::new(HostOptions {
            limits: self.limits(),
            cache_dir: self.cache_dir(),
        })?;
        let set = PluginSet::load(&host, &sources)?;
        Ok((host, set))
    }
}

/// `$XDG_CACHE_HOME/k0rdent-mcp`, else `~/.cache/k0rdent-mcp`, else under the
/// system temporary folder: where plugin, chart and catalog caches live by default.
pub fn cache_base() -> PathBuf {
    user_cache_base().unwrap_or_else(|| std::env::temp_dir().join("k0rdent-mcp"))
}

/// `$XDG_CACHE_HOME/k0rdent-mcp`, else `~/.cache/k0rdent-mcp`; `None` when
/// neither variable is set (empty counts as unset).
pub fn user_cache_base() -> Option<PathBuf> {
    let set = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    set("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| set("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|base| base.join("k0rdent-mcp"))
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
