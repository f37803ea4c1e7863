//! The command line: one file per verb (`serve`, `template`, the release verbs, `chart`, `plugins`) and the
//! flag groups they share in `crate::flags`. The MCP server never imports from here (it shares only `crate::flags`); `serve` builds its
//! start-up state and hands it over.

pub mod chart;
pub mod plugins;
pub mod plugins_test;
pub mod release;
pub mod serve;
pub mod template;

use clap::{Parser, Subcommand};

use crate::engine::InstallMode;
use crate::flags::LogArgs;

#[derive(Debug, Parser)]
#[command(name = "k0rdent-mcp", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub log: LogArgs,
    /// Print to stderr, when the command ends, how long each phase took (plugin load, cluster
    /// client, discovery, chart pull, validate and render, plan, hooks, apply, record) and how
    /// many Kubernetes API requests were sent.
    #[arg(long, env = "K0RDENT_MCP_TIMINGS", global = true)]
    pub timings: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve MCP over stdio (the transport MCP clients spawn), or over HTTP with --http.
    Serve(Box<serve::ServeArgs>),
    /// Inspect the sandboxed plugins; push and pull them as OCI artifacts.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Render a chart like `helm template`, through the sandboxed validator and renderer plugins.
    Template(Box<template::TemplateArgs>),
    /// Install a chart as a new release (helm install).
    Install(Box<release::InstallArgs>),
    /// Upgrade a release; with --install, install it when missing (helm upgrade [--install]).
    Upgrade(Box<release::InstallArgs>),
    /// Roll a release back to an earlier revision (helm rollback).
    Rollback(Box<release::RollbackArgs>),
    /// Remove a release; objects the chart keeps stay and are listed (helm uninstall).
    Uninstall(Box<release::UninstallArgs>),
    /// Recover a release from a stuck operation: mark it failed, then roll back (or remove a
    /// failed first install's objects). Refuses a live lock of another process unless --force.
    Unlock(Box<release::UnlockArgs>),
    /// With a chart: what `upgrade --install` would change (server-side-apply dry runs, nothing
    /// written). Without: the release's drift from its last deployed revision (--ignore POINTER).
    Diff(Box<release::DiffArgs>),
    /// A release's revisions, oldest first (helm history).
    History(Box<release::HistoryArgs>),
    /// Releases and their latest revision (helm list).
    List(Box<release::ListArgs>),
    /// Work with Helm charts in OCI registries.
    Chart {
        #[command(subcommand)]
        command: ChartCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChartCommand {
    /// Pull a chart into the content-addressed cache; prints its digest and cache location as JSON.
    Pull(chart::PullArgs),
}

#[derive(Debug, Subcommand)]
pub enum PluginsCommand {
    /// Load every plugin (embedded, --plugin-dir and --plugin), verify it, and print what loaded as JSON.
    List(Box<plugins::ListArgs>),
    /// Push a plugin folder as an OCI artifact (optionally signing it); prints its digest as JSON.
    Push(Box<plugins::PushArgs>),
    /// Pull and verify an OCI plugin as the server would, and write it out in the --plugin-dir layout.
    Pull(Box<plugins::PullArgs>),
    /// Run a plugin's self-test (its golden cases and the host's smoke cases) and print a pass table.
    Test(Box<plugins_test::TestArgs>),
}

/// Runs one parsed command to completion.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve::serve(&args),
        Command::Plugins {
            command: PluginsCommand::List(args),
        } => {
            let (_host, set) = args.plugins.load(&args.registry)?;
            let list = crate::mcp::plugins_list(&set);
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(())
        }
        Command::Plugins {
            command: PluginsCommand::Push(args),
        } => runtime()?.block_on(plugins::push(*args)),
        Command::Plugins {
            command: PluginsCommand::Pull(args),
        } => plugins::pull(*args),
        Command::Plugins {
            command: PluginsCommand::Test(args),
        } => plugins_test::test(*args),
        Command::Template(args) => runtime()?.block_on(template::template(*args)),
        Command::Chart {
            command: ChartCommand::Pull(args),
        } => tokio::runtime::Runtime::new()?.block_on(chart::pull(args)),
        Command::Install(args) => {
            runtime()?.block_on(release::install(*args, InstallMode::Install))
        }
        Command::Upgrade(args) => {
            runtime()?.block_on(release::install(*args, InstallMode::Upgrade))
        }
        Command::Rollback(args) => runtime()?.block_on(release::rollback(*args)),
        Command::Uninstall(args) => runtime()?.block_on(release::uninstall(*args)),
        Command::Unlock(args) => runtime()?.block_on(release::unlock(*args)),
        Command::Diff(args) => runtime()?.block_on(release::diff(*args)),
        Command::History(args) => runtime()?.block_on(release::history(*args)),
        Command::List(args) => runtime()?.block_on(release::list(*args)),
    }
}

/// Multi-threaded: plugin calls run in `block_in_place`.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let _phase = crate::timings::phase(|| "async runtime start");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    /// Clap checks flag names and ids only when a command is built; this
    /// builds every subcommand, so a clash fails here and not at run time.
    #[test]
    fn every_command_line_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
