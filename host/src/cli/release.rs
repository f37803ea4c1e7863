//! `k0rdent-mcp install|upgrade|rollback|uninstall|history|list`: Helm's
//! release commands with Helm-like flags, through the same operations the
//! MCP tools use; and `unlock`, which helm lacks (its users roll back or
//! delete a stuck pending record by hand).

use std::io::Write;

use clap::{Args, ValueEnum};
use serde::Serialize;

use super::template::load_chart_arg;
use crate::engine::{
    ChangePlan, Control, DriftReport, EngineOptions, InstallMode, InstallRequest, ObjectChange,
    ProgressSink,
};
use crate::flags::{EngineArgs, OneShotClusterArgs, PluginArgs, RegistryArgs};
use crate::ops;
use crate::plugin::selection::PluginSet;
use crate::plugin::{PluginError, PluginHost};
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
    /// Take fields another field manager owns (server-side apply force), e.g. to repair drift
    /// that `diff` reports. Without it, an upgrade that meets a conflict is refused before
    /// anything is written, naming the fields and their managers.
    #[arg(long = "force-conflicts")]
    pub force_conflicts: bool,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: OneShotClusterArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    #[command(flatten)]
    pub plugins: PluginArgs,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub release: String,
    /// A chart folder, a .tgz or an oci:// reference: show what `upgrade --install` to it
    /// would change (server-side-apply dry runs, nothing written). Without a chart: the
    /// release's drift, its last deployed revision against the live objects.
    pub chart: Option<String>,
    /// Chart version, for an oci:// chart.
    #[arg(long)]
    pub version: Option<String>,
    #[arg(short = 'n', long, default_value = "default")]
    pub namespace: String,
    /// Drift only: a field to leave out, as a JSON pointer (`/spec/interval`, every object)
    /// or scoped to one object (`ServiceTemplate/minio-14-1-2:/spec/helm`). Repeatable.
    #[arg(long = "ignore", value_name = "POINTER")]
    pub ignore: Vec<String>,
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[command(flatten)]
    pub cluster: OneShotClusterArgs,
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
    pub cluster: OneShotClusterArgs,
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
    pub cluster: OneShotClusterArgs,
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
    pub cluster: OneShotClusterArgs,
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
    pub cluster: OneShotClusterArgs,
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
    pub cluster: OneShotClusterArgs,
}

/// [`PluginArgs::load`] on a blocking thread, so the caller can do its I/O meanwhile.
pub(super) fn load_plugins_in_background(
    plugins: &PluginArgs,
    registry: &RegistryArgs,
) -> tokio::task::JoinHandle<Result<(PluginHost, PluginSet), PluginError>> {
    let (plugins, registry) = (plugins.clone(), registry.clone());
    tokio::task::spawn_blocking(move || plugins.load(&registry))
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
    // The three inputs do not depend on each other: load the plugins (CPU) on a blocking thread
    // while the cluster connection is opened and the chart is pulled (I/O).
    let loading = load_plugins_in_background(&args.plugins, &args.registry);
    let inputs = tokio::try_join!(
        async {
            let cluster = args.cluster.connect().await?;
            cluster.warm_connection().await;
            anyhow::Ok(cluster)
        },
        load_chart_arg(&args.chart, args.version.as_deref(), &args.registry)
    );
    // A plugin problem is reported first, as when the steps ran one after another.
    let (_host, plugins) = loading.await??;
    let (cluster, chart) = inputs?;
    let options = EngineOptions {
        force_conflicts: args.force_conflicts,
        ..args.engine.options()
    };
    let report = ops::install(
        &cluster,
        &plugins,
        options,
        InstallRequest {
            release: args.release.clone(),
            namespace: args.namespace.clone(),
            chart: &chart,
            values,
            mode,
        },
        &control(),
    )
    .await?;
    print(args.output, &report, ops::ReleaseReport::text);
    Ok(())
}

/// `diff <release> [chart]`: a plan with a chart, drift without.
pub async fn diff(args: DiffArgs) -> anyhow::Result<()> {
    let (_host, plugins) = args.plugins.load(&args.registry)?;
    let Some(chart) = &args.chart else {
        let values = args.values.merge().map_err(anyhow::Error::msg)?;
        if !values.is_empty() {
            anyhow::bail!(
                "values were given but no chart; fix: name the chart to plan an upgrade with them \
                 (k0rdent-mcp diff {} <chart> …), or drop them to see the release's drift",
                args.release
            );
        }
        let cluster = args.cluster.connect().await?;
        let report = ops::drift(
            &cluster,
            &plugins,
            args.engine.options(),
            &args.release,
            &args.namespace,
            &args.ignore,
        )
        .await?;
        print(args.output, &report, drift_text);
        return Ok(());
    };
    if !args.ignore.is_empty() {
        anyhow::bail!(
            "--ignore applies to drift, not to a plan; fix: drop the chart argument to see drift, or drop --ignore"
        );
    }
    let values = args.values.merge().map_err(anyhow::Error::msg)?;
    let cluster = args.cluster.connect().await?;
    let chart = load_chart_arg(chart, args.version.as_deref(), &args.registry).await?;
    let plan = ops::plan(
        &cluster,
        &plugins,
        args.engine.options(),
        InstallRequest {
            release: args.release.clone(),
            namespace: args.namespace.clone(),
            chart: &chart,
            values,
            mode: InstallMode::UpgradeInstall,
        },
        &control(),
    )
    .await?;
    print(args.output, &plan, plan_text);
    Ok(())
}

fn plan_text(plan: &ChangePlan) -> String {
    let mut out = format!(
        "PLAN: {} {:?} in namespace {:?} as revision {}{}\n",
        plan.operation,
        plan.release,
        plan.namespace,
        plan.revision,
        if plan.no_op {
            " (no change: nothing would be written)"
        } else {
            ""
        }
    );
    for hook in &plan.hooks {
        out.push_str(&format!(
            "  {:<10}{} ({})\n",
            "hook",
            hook.object,
            hook.events.join(", ")
        ));
    }
    objects_text(&mut out, &plan.objects, plan.omitted);
    out
}

fn drift_text(report: &DriftReport) -> String {
    let mut out = format!(
        "DRIFT: release {:?} in namespace {:?}, revision {}: {}\n",
        report.release,
        report.namespace,
        report.revision,
        if report.drifted {
            "drifted"
        } else {
            "no drift"
        }
    );
    objects_text(&mut out, &report.objects, report.omitted);
    out
}

fn objects_text(out: &mut String, objects: &[ObjectChange], omitted: usize) {
    for object in objects {
        let action = serde_json::to_value(object.action).unwrap_or_default();
        out.push_str(&format!(
            "  {:<10}{}\n",
            action.as_str().unwrap_or_default(),
            object.object
        ));
        if let Some(message) = &object.message {
            out.push_str(&format!("      {message}\n"));
        }
        for change in &object.changes {
            out.push_str(&format!(
                "      {}: live {}, release {}\n",
                change.pointer,
                change.live.as_deref().unwrap_or("(unset)"),
                change.release.as_deref().unwrap_or("(unset)")
            ));
        }
        if object.changes_truncated {
            out.push_str("      … more fields changed\n");
        }
    }
    if omitted > 0 {
        out.push_str(&format!("  … and {omitted} more object(s)\n"));
    }
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
                "RENDERED BY",
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
                        r.rendered_by.clone(),
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
