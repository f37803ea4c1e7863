//! `k0rdent-mcp chart …`: the chart source from the command line.

use clap::Args;

use crate::flags::RegistryArgs;
use crate::oci::ChartRef;

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Chart reference: oci://registry/path/chart[:tag|@sha256:digest]
    pub reference: String,
    /// Chart version (the OCI tag).
    #[arg(long)]
    pub version: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

pub async fn pull(args: PullArgs) -> anyhow::Result<()> {
    let chart = ChartRef::parse(&args.reference, args.version.as_deref())?;
    let source = args.registry.source(&chart.registry)?;
    let pulled = source.pull(&chart).await?;
    let report = serde_json::json!({
        "reference": pulled.reference.to_string(),
        "digest": pulled.manifest_digest,
        "chart_layer_digest": pulled.layer_digest,
        "size": pulled.bytes.len(),
        "cache_path": pulled.cache_path,
        "origin": pulled.origin,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
