//! `k0rdent-mcp serve`: the server's flags, the start-up state built from them once, and the transport
//! loop (stdio, or HTTP with `--http`).

use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use rmcp::ServiceExt;

use crate::catalog::{CatalogSource, CatalogSourceOptions, DEFAULT_INDEX_URL};
use crate::defaults::{DEFAULT_KGST_CHART, DEFAULT_KGST_VERSION};
use crate::flags::{PluginArgs, RegistryArgs};
use crate::mcp::{Context, K0rdentMcp, shutdown_signal};
use crate::oci::ChartRef;

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Catalog index: an https:// URL or a local file.
    #[arg(long = "catalog-url", env = "K0RDENT_MCP_CATALOG_URL", default_value = DEFAULT_INDEX_URL)]
    pub catalog_url: String,
    /// How long a fetched catalog index is used before it is fetched again, in seconds.
    #[arg(
        long = "catalog-ttl-seconds",
        env = "K0RDENT_MCP_CATALOG_TTL_SECONDS",
        default_value_t = 900
    )]
    pub catalog_ttl_seconds: u64,
    /// The kgst chart installs go through.
    #[arg(long = "kgst-chart", env = "K0RDENT_MCP_KGST_CHART", default_value = DEFAULT_KGST_CHART)]
    pub kgst_chart: String,
    /// The kgst version (tag) to use, or a digest `sha256:…` to pin it.
    #[arg(long = "kgst-version", env = "K0RDENT_MCP_KGST_VERSION", default_value = DEFAULT_KGST_VERSION)]
    pub kgst_version: String,
    /// Folder for the last good copy of the catalog index.
    /// Defaults to $XDG_CACHE_HOME/k0rdent-mcp/catalog (or ~/.cache/…).
    #[arg(
        long = "catalog-cache-dir",
        env = "K0RDENT_MCP_CATALOG_CACHE_DIR",
        value_name = "DIR"
    )]
    pub catalog_cache_dir: Option<std::path::PathBuf>,
    /// Serve only the tools that write nothing (list, render, history, plugins); calls to the others are
    /// refused with an error naming this flag.
    #[arg(
        long = "read-only",
        env = "K0RDENT_MCP_READ_ONLY",
        action = clap::ArgAction::Set,
        num_args = 0..=1,
        default_value_t = false,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub read_only: bool,
    /// How destructive tools (uninstall, rollback) are confirmed: `when-supported` asks the user through MCP
    /// elicitation when the client offers it, else the call must carry `confirm: true`; `require` serves them
    /// only to clients with elicitation; `never` asks nobody.
    #[arg(
        long = "confirm-destructive",
        env = "K0RDENT_MCP_CONFIRM_DESTRUCTIVE",
        value_enum,
        default_value = "when-supported",
        value_name = "MODE"
    )]
    pub confirm_destructive: crate::mcp::confirm::ConfirmMode,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
    #[command(flatten)]
    pub plugin_set: crate::plugin::hot_swap::PluginSetArgs,
    #[command(flatten)]
    pub http: crate::mcp::http::HttpArgs,
    #[command(flatten)]
    pub access: crate::mcp::access::AccessArgs,
}

impl ServeArgs {
    /// Flag checks that need no plugins or network: run before loading
    /// plugins (seconds of work), so a refused configuration fails fast.
    pub fn check(&self) -> anyhow::Result<()> {
        self.http.check()?;
        self.http.check_exposure(self.access.auth_mode)
    }
}

pub fn build_context(args: &ServeArgs) -> anyhow::Result<Arc<Context>> {
    let access = crate::mcp::access::Access::from_args(&args.access)?;
    if access.mode == crate::mcp::access::AuthMode::OidcRequired && args.http.listen.is_none() {
        anyhow::bail!(
            "--auth-mode OIDC_REQUIRED needs --http ADDR: stdio carries no bearer token; \
             serve over HTTP, or use DEV_ALLOW_ANY for a local stdio server"
        );
    }
    if args.confirm_destructive == crate::mcp::confirm::ConfirmMode::Never && !args.read_only {
        tracing::warn!(
            "INSECURE: --confirm-destructive never: uninstall, rollback and unlock run on the \
             model's say-so, without asking the user"
        );
    }
    let (host, plugins) = args.plugins.load(&args.registry)?;
    let plugins = args
        .plugin_set
        .start(&host, plugins, &args.registry, &args.plugins.trust);
    let kgst = if args.kgst_version.starts_with("sha256:") {
        ChartRef::parse(&format!("{}@{}", args.kgst_chart, args.kgst_version), None)?
    } else {
        ChartRef::parse(&args.kgst_chart, Some(&args.kgst_version))?
    };
    let charts = args.registry.source(&kgst.registry)?;
    let catalog = CatalogSource::new(CatalogSourceOptions {
        location: args.catalog_url.clone(),
        ttl: Duration::from_secs(args.catalog_ttl_seconds),
        ..CatalogSourceOptions::new(
            args.catalog_cache_dir
                .clone()
                .unwrap_or_else(|| crate::defaults::cache_base().join("catalog")),
        )
    });
    Ok(Arc::new(Context {
        plugins,
        catalog,
        charts,
        kgst,
        access,
        engine: args.access.engine.options(),
        read_only: args.read_only,
        confirm: args.confirm_destructive,
        _plugin_host: host,
    }))
}

/// Serves until the client hangs up (stdio) or a shutdown signal arrives.
pub fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    args.check()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let server = K0rdentMcp::new(build_context(args)?);
    match args.http.listen {
        Some(_) => runtime.block_on(crate::mcp::http::serve(server, &args.http)),
        None => runtime.block_on(serve_stdio(server)),
    }
}

async fn serve_stdio(server: K0rdentMcp) -> anyhow::Result<()> {
    tracing::info!("serving MCP on stdio");
    let tasks = server.clone();
    let running = server.serve(crate::mcp::stdio::transport()).await?;
    tokio::select! {
        quit = running.waiting() => { quit?; }
        _ = shutdown_signal() => { tracing::info!("shutting down on signal"); }
    }
    // Tasks outlive their requests; stop them cleanly before the runtime drops them.
    tasks.stop_tasks(std::time::Duration::from_secs(10)).await;
    Ok(())
}
