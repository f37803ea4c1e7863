//! The `k0rdent-mcp` binary: the MCP server and the CLI that shares its code paths (see `cli/`).

use std::process::ExitCode;

use clap::Parser;

use k0rdent_mcp::cli::{Cli, run};

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
