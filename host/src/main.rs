//! The `k0rdent-mcp` binary: the MCP server and the CLI that shares its code paths (see `cli/`).

use std::process::ExitCode;

use clap::Parser;

use k0rdent_mcp::cli::{Cli, run};
use k0rdent_mcp::timings;

fn main() -> ExitCode {
    timings::mark_origin();
    let cli = Cli::parse();
    cli.log.init();
    if cli.timings {
        timings::enable();
        timings::record_since("arguments and logging", timings::origin_instant());
    }
    let result = run(cli.command);
    eprint!("{}", timings::report());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
