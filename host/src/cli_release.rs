//! `k0rdent-mcp install|upgrade|rollback|uninstall|history|list`: Helm's
//! release commands with Helm-like flags, through the same operations the
//! MCP tools use; and `unlock`, which helm lacks (its users roll back or
//! delete a stuck pending record by hand).

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use crate::cli_chart::RegistryArgs;
use crate::cli_template::load_chart_arg;
use crate::config::PluginArgs;
use crate::ops::{self, ClusterArgs, EngineArgs};
use crate::release::engine::{Control, InstallMode, ProgressSink};
use crate::values::ValueArgs;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    pub release: String,
    /// A chart folder, a .tgz or an oci:// reference (e.g. oci://ghcr.io/k0rdent/catalog/charts/kgst).
    pub chart: String,
    /// Chart version, for an oci:// chart.
    #[arg(long)]
    pub version: Option<String>,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// `upgrade` only: install when the release does not exist (helm's --install).
    #[arg(short = 'i', long = "install")]
    pub install: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    pub release: String,
    /// Revision to return to; 0 or absent means the one before the latest.
    pub revision: Option<u32>,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Registry settings for `--plugin oci://…`.
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    pub release: String,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Registry settings for `--plugin oci://…`.
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

#[derive(Debug, Args)]
pub struct UnlockArgs {
    pub release: String,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Also take a lock whose lease is live or that has no lease (helm's own pending
    /// record): only when no operation on the release still runs.
    #[arg(long)]
    pub force: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: ClusterArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    pub release: String,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Every namespace.
    #[arg(short = 'A', long = "all-namespaces")]
    pub all_namespaces: bool,
    /// Also superseded-at-latest and uninstalled-with-history releases.
    #[arg(short = 'a', long)]
    pub all: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub cluster: ClusterArgs,
}

/// Progress lines on stderr, so stdout stays the result.
fn stderr_progress() -> ProgressSink {
    std::sync::Arc::new(|step, message| {
        let _ = writeln!(std::io::stderr(), "[{}] {message}", step.as_str());
    })
}

/// Ctrl-C cancels the waits; the operation then finishes consistently.
fn control() -> Control {
    let control = Control::new(Default::default(), Some(stderr_progress()));
    let cancel = control.cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = writeln!(
                std::io::stderr(),
                "interrupted: stopping the wait and leaving the release consistent…"
            );
            cancel.cancel();
        }
    });
    control
}

fn print<T: Serialize>(output: Output, value: &T, text: impl FnOnce(&T) -> String) {
    match output {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(value).expect("reports serialise")
        ),
        Output::Table => print!("{}", text(value)),
    }
}

pub async fn install(args: InstallArgs, mode: InstallMode) -> anyhow::Result<()> {
    let mode = match mode {
        InstallMode::Upgrade if args.install => InstallMode::UpgradeInstall,
        other => other,
    };
    let values = args.values.merge().map_err(anyhow::Error::msg)?;
    let (_host, plugins) = args.plugins.load(&args.registry)?;
    let cluster = args.cluster.connect().await?;
    let chart = load_chart_arg(&args.chart, args.version.as_deref(), &args.registry).await?;
    let report = ops::install(
        &cluster,
        &plugins,
        args.engine.options(),
        &chart,
        &args.release,
        &args.namespace,
        values,
        mode,
        &control(),
    )
    .await?;
    print(args.output, &report, ops::ReleaseReport::text);
    Ok(())
}

pub async fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let (_host, plugins) = args.plugins.load(&args.registry)?;
    let cluster = args.cluster.connect().await?;
    let report = ops::rollback(
        &cluster,
        &plugins,
        args.engine.options(),
        &args.release,
        &args.namespace,
        args.revision,
        &control(),
    )
    .await?;
    print(args.output, &report, |_| {
        "Rollback was a success! Happy Helming!\n".into()
    });
    Ok(())
}

pub async fn uninstall(args: UninstallArgs) -> anyhow::Result<()> {
    let (_host, plugins) = args.plugins.load(&args.registry)?;
    let cluster = args.cluster.connect().await?;
    let report = ops::uninstall(
        &cluster,
        &plugins,
        args.engine.options(),
        &args.release,
        &args.namespace,
        &control(),
    )
    .await?;
    print(args.output, &report, ops::UninstallReport::text);
    Ok(())
}

pub async fn unlock(args: UnlockArgs) -> anyhow::Result<()> {
    let (_host, plugins) = args.plugins.load(&args.registry)?;
    let cluster = args.cluster.connect().await?;
    let outcome = ops::unlock(
        &cluster,
        &plugins,
        args.engine.options(),
        &args.release,
        &args.namespace,
        args.force,
        &control(),
    )
    .await?;
    print(args.output, &outcome, |o| {
        format!(
            "{}release {:?} unlocked\n",
            ops::recovered_text(Some(&o.recovered)),
            o.release
        )
    });
    Ok(())
}

pub async fn history(args: HistoryArgs) -> anyhow::Result<()> {
    let cluster = args.cluster.connect().await?;
    let rows = ops::history(&cluster, &args.release, &args.namespace, None).await?;
    print(args.output, &rows, |rows| {
        table(
            &[
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
                "DESCRIPTION",
            ],
            rows.iter()
                .map(|r| {
                    vec![
                        r.revision.to_string(),
                        r.updated.clone(),
                        r.status.clone(),
                        r.chart.clone(),
                        r.app_version.clone(),
                        r.description.clone(),
                    ]
                })
                .collect(),
        )
    });
    Ok(())
}

pub async fn list(args: ListArgs) -> anyhow::Result<()> {
    let cluster = args.cluster.connect().await?;
    let namespace = (!args.all_namespaces).then_some(args.namespace.as_str());
    let rows = ops::list(&cluster, namespace, args.all).await?;
    print(args.output, &rows, |rows| {
        table(
            &[
                "NAME",
                "NAMESPACE",
                "REVISION",
                "UPDATED",
                "STATUS",
                "CHART",
                "APP VERSION",
            ],
            rows.iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.namespace.clone(),
                        r.revision.clone(),
                        r.updated.clone(),
                        r.status.clone(),
                        r.chart.clone(),
                        r.app_version.clone(),
                    ]
                })
                .collect(),
        )
    });
    Ok(())
}

/// Tab-separated columns padded to the widest cell, as Helm's tables.
fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}\t", w = *w));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        out.push_str(&line(row));
    }
    out
}
