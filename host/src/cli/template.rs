//! `k0rdent-mcp template`: `helm template` through the sandboxed plugins,
//! with Helm's argument order and flags.

use std::path::Path;

use clap::Args;

use crate::capabilities;
use crate::chart::{ArchiveLimits, Chart, load_chart_path};
use crate::defaults::DEFAULT_KUBE_VERSION;
use crate::flags::{PluginArgs, RegistryArgs};
use crate::oci::ChartRef;
use crate::plugin::selection::PluginSet;
use crate::render::{RenderMode, RenderRequest, helm_template_text, render_with};
use crate::values::ValueArgs;

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// `[RELEASE] CHART`: CHART is a folder, a .tgz or an oci:// reference.
    #[arg(num_args = 1..=2, required = true, value_name = "[RELEASE] CHART")]
    pub positional: Vec<String>,
    /// Chart version, for an oci:// chart.
    #[arg(long)]
    pub version: Option<String>,
    /// Namespace for `.Release.Namespace`.
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Kubernetes version for `.Capabilities.KubeVersion`.
    #[arg(long = "kube-version", default_value = DEFAULT_KUBE_VERSION)]
    pub kube_version: String,
    /// API versions for `.Capabilities.APIVersions` besides Helm's built-in set (repeatable,
    /// comma-separated; `group/version` or `group/version/Kind`).
    #[arg(short = 'a', long = "api-versions", value_delimiter = ',')]
    pub api_versions: Vec<String>,
    /// Render as an upgrade rather than an install.
    #[arg(long = "is-upgrade")]
    pub is_upgrade: bool,
    /// Same input, same output: random functions (randAlphaNum, uuidv4, …) use a fixed,
    /// public seed and `now` is the Unix epoch. For diffs and tests only: generated
    /// passwords are then known to everyone. By default every render gets fresh entropy
    /// and the current time.
    #[arg(long, env = "K0RDENT_MCP_DETERMINISTIC")]
    pub deterministic: bool,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

/// A CHART argument as Helm takes it: a folder, a .tgz, or an oci:// reference.
pub async fn load_chart_arg(
    chart_arg: &str,
    version: Option<&str>,
    registry: &RegistryArgs,
) -> anyhow::Result<Chart> {
    let _phase = crate::timings::phase(|| "chart: pull or read, unpack");
    let limits = ArchiveLimits::default();
    if chart_arg.starts_with("oci://") {
        let reference = ChartRef::parse(chart_arg, version)?;
        let pulled = registry
            .source(&reference.registry)?
            .pull(&reference)
            .await?;
        Ok(Chart::from_archive(&pulled.bytes, &limits)?)
    } else {
        Ok(load_chart_path(Path::new(chart_arg), &limits)?)
    }
}

pub async fn template(args: TemplateArgs) -> anyhow::Result<()> {
    // Plugins load (CPU) on a blocking thread while the chart is read or pulled.
    let loading = super::release::load_plugins_in_background(&args.plugins, &args.registry);
    let chart = load_chart_arg(chart_arg(&args).1, args.version.as_deref(), &args.registry).await;
    // A plugin problem is reported first, as when the steps ran one after another.
    let (_host, plugins) = loading.await??;
    let text = template_chart(args, chart?, &plugins).await?;
    let _phase = crate::timings::phase(|| "print output");
    print!("{text}");
    Ok(())
}

/// The release name and the CHART argument.
fn chart_arg(args: &TemplateArgs) -> (&str, &str) {
    match args.positional.as_slice() {
        [chart] => ("release-name", chart),
        [release, chart] => (release, chart),
        _ => unreachable!("clap allows one or two positionals"),
    }
}

/// What `template` prints, given loaded plugins.
pub async fn template_text(args: TemplateArgs, plugins: &PluginSet) -> anyhow::Result<String> {
    let chart = load_chart_arg(chart_arg(&args).1, args.version.as_deref(), &args.registry).await?;
    template_chart(args, chart, plugins).await
}

async fn template_chart(
    args: TemplateArgs,
    chart: Chart,
    plugins: &PluginSet,
) -> anyhow::Result<String> {
    let release_name = chart_arg(&args).0.to_string();
    let user_values = args.values.merge().map_err(anyhow::Error::msg)?;
    let request = RenderRequest {
        chart: &chart,
        release: capabilities::release(release_name, args.namespace, 1, !args.is_upgrade),
        user_values,
        capabilities: capabilities::offline(args.kube_version, args.api_versions),
    };
    // Plugin calls are CPU-bound; keep them off the async workers.
    let mode = if args.deterministic {
        RenderMode::Deterministic
    } else {
        RenderMode::Live
    };
    let rendered = tokio::task::block_in_place(|| {
        let _phase = crate::timings::phase(|| "validate and render (sandbox)");
        render_with(plugins, request, mode)
    })?;
    Ok(helm_template_text(&rendered.manifests))
}
