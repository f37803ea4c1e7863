//! The `k0rdent-mcp` binary: the MCP server and the CLI that shares its code paths.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use rmcp::ServiceExt;

use k0rdent_mcp::cli_release;
use k0rdent_mcp::config::LogArgs;
use k0rdent_mcp::mcp::{Context, K0rdentMcp, ServeArgs, shutdown_signal};
use k0rdent_mcp::release::engine::InstallMode;

#[derive(Debug, Parser)]
#[command(name = "k0rdent-mcp", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve MCP over stdio (the transport MCP clients spawn), or over HTTP with --http.
    Serve(Box<ServeArgs>),
    /// Inspect the sandboxed plugins; push and pull them as OCI artifacts.
    Plugins {
        #[command(subcommand)]
        command: PluginsCommand,
    },
    /// Render a chart like `helm template`, through the sandboxed validator and renderer plugins.
    Template(Box<k0rdent_mcp::cli_template::TemplateArgs>),
    /// Install a chart as a new release (helm install).
    Install(Box<k0rdent_mcp::cli_release::InstallArgs>),
    /// Upgrade a release; with --install, install it when missing (helm upgrade [--install]).
    Upgrade(Box<k0rdent_mcp::cli_release::InstallArgs>),
    /// Roll a release back to an earlier revision (helm rollback).
    Rollback(Box<k0rdent_mcp::cli_release::RollbackArgs>),
    /// Remove a release; objects the chart keeps stay and are listed (helm uninstall).
    Uninstall(Box<k0rdent_mcp::cli_release::UninstallArgs>),
    /// Recover a release from a stuck operation: mark it failed, then roll back (or remove a
    /// failed first install's objects). Refuses a live lock of another process unless --force.
    Unlock(Box<k0rdent_mcp::cli_release::UnlockArgs>),
    /// With a chart: what `upgrade --install` would change (server-side-apply dry runs, nothing
    /// written). Without: the release's drift from its last deployed revision (--ignore POINTER).
    Diff(Box<k0rdent_mcp::cli_release::DiffArgs>),
    /// A release's revisions, oldest first (helm history).
    History(Box<k0rdent_mcp::cli_release::HistoryArgs>),
    /// Releases and their latest revision (helm list).
    List(Box<k0rdent_mcp::cli_release::ListArgs>),
    /// Work with Helm charts in OCI registries.
    Chart {
        #[command(subcommand)]
        command: ChartCommand,
    },
}

#[derive(Debug, Subcommand)]
enum ChartCommand {
    /// Pull a chart into the content-addressed cache; prints its digest and cache location as JSON.
    Pull(k0rdent_mcp::cli_chart::PullArgs),
}

#[derive(Debug, Subcommand)]
enum PluginsCommand {
    /// Load every plugin (embedded, --plugin-dir and --plugin), verify it, and print what loaded as JSON.
    List(Box<k0rdent_mcp::cli_plugins::ListArgs>),
    /// Push a plugin folder as an OCI artifact (optionally signing it); prints its digest as JSON.
    Push(Box<k0rdent_mcp::cli_plugins::PushArgs>),
    /// Pull and verify an OCI plugin as the server would, and write it out in the --plugin-dir layout.
    Pull(Box<k0rdent_mcp::cli_plugins::PullArgs>),
    /// Run a plugin's self-test (its golden cases and the host's smoke cases) and print a pass table.
    Test(Box<k0rdent_mcp::cli_plugins_test::TestArgs>),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.log.init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => {
            args.check()?;
            let runtime = tokio::runtime::Runtime::new()?;
            let server = K0rdentMcp::new(Context::from_args(&args)?);
            match args.http.listen {
                Some(_) => runtime.block_on(k0rdent_mcp::mcp::http::serve(server, &args.http)),
                None => runtime.block_on(serve_stdio(server)),
            }
        }
        Command::Plugins {
            command: PluginsCommand::List(args),
        } => {
            let (_host, set) = args.plugins.load(&args.registry)?;
            let list = k0rdent_mcp::mcp::plugins_list(&set);
            println!("{}", serde_json::to_string_pretty(&list)?);
            Ok(())
        }
        Command::Plugins {
            command: PluginsCommand::Push(args),
        } => runtime()?.block_on(k0rdent_mcp::cli_plugins::push(*args)),
        Command::Plugins {
            command: PluginsCommand::Pull(args),
        } => k0rdent_mcp::cli_plugins::pull(*args),
        Command::Plugins {
            command: PluginsCommand::Test(args),
        } => k0rdent_mcp::cli_plugins_test::test(*args),
        Command::Template(args) => {
            tokio::runtime::Runtime::new()?.block_on(k0rdent_mcp::cli_template::template(*args))
        }
        Command::Chart {
            command: ChartCommand::Pull(args),
        } => tokio::runtime::Runtime::new()?.block_on(k0rdent_mcp::cli_chart::pull(args)),
        Command::Install(args) => {
            runtime()?.block_on(cli_release::install(*args, InstallMode::Install))
        }
        Command::Upgrade(args) => {
            runtime()?.block_on(cli_release::install(*args, InstallMode::Upgrade))
        }
        Command::Rollback(args) => runtime()?.block_on(cli_release::rollback(*args)),
        Command::Uninstall(args) => runtime()?.block_on(cli_release::uninstall(*args)),
        Command::Unlock(args) => runtime()?.block_on(cli_release::unlock(*args)),
        Command::Diff(args) => runtime()?.block_on(cli_release::diff(*args)),
        Command::History(args) => runtime()?.block_on(cli_release::history(*args)),
        Command::List(args) => runtime()?.block_on(cli_release::list(*args)),
    }
}

async fn serve_stdio(server: K0rdentMcp) -> anyhow::Result<()> {
    tracing::info!("serving MCP on stdio");
    let running = server.serve(k0rdent_mcp::mcp::stdio::transport()).await?;
    tokio::select! {
        quit = running.waiting() => { quit?; }
        _ = shutdown_signal() => { tracing::info!("shutting down on signal"); }
    }
    Ok(())
}

/// Multi-threaded: plugin calls run in `block_in_place`.
fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
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
