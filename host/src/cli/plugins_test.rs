//! `k0rdent-mcp plugins test <component.wasm | plugin folder | *.plugin.json |
//! oci://…>`: the self-test gate a hot swap runs, for a plugin author before
//! publishing. Prints a pass table (or `--json`) and fails when any case does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;

use crate::flags::{PluginTrustArgs, RegistryArgs};
use crate::plugin::manifest::{self, MANIFEST_SUFFIX, MAX_COMPONENT_BYTES};
use crate::plugin::self_test::golden::GoldenBundle;
use crate::plugin::self_test::{self, SelfTestReport};
use crate::plugin::{HostOptions, Limits, Plugin, PluginHost};

#[derive(Debug, Args)]
pub struct TestArgs {
    /// A component (`*.wasm`), a plugin folder (every plugin in it, with its
    /// `selftest/<name>/` golden cases), one `*.plugin.json`, or `oci://…@sha256:…`.
    pub plugin: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub trust: PluginTrustArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// What was tested: each plugin's identity and digest, and every case.
#[derive(Debug, serde::Serialize)]
struct TestReport {
    passed: bool,
    plugins: Vec<TestedPlugin>,
    #[serde(flatten)]
    report: SelfTestReport,
}

#[derive(Debug, serde::Serialize)]
struct TestedPlugin {
    name: String,
    version: String,
    world: String,
    digest: String,
    origin: String,
}

pub fn test(args: TestArgs) -> anyhow::Result<()> {
    let host = PluginHost::new(HostOptions {
        // The server's default limits (`serve --plugin-cpu-ms` and friends):
        // a plugin that passes here passes the same gate in a server.
        limits: Limits {
            cpu: Duration::from_secs(10),
            ..Limits::default()
        },
        cache_dir: crate::defaults::user_cache_base().map(|base| base.join("plugins")),
    })?;
    let mut plugins: Vec<(Plugin, GoldenBundle)> = Vec::new();
    if args.plugin.starts_with("oci://") {
        let pulled = args
            .trust
            .pull(std::slice::from_ref(&args.plugin), &args.registry)?
            .remove(0);
        plugins.push((host.load(&pulled.source)?, pulled.golden));
    } else {
        let path = PathBuf::from(&args.plugin);
        if path.extension().is_some_and(|x| x == "wasm") {
            let bytes = read_component(&path)?;
            let plugin = host.load_bare(bytes, &path.display().to_string())?;
            let golden = GoldenBundle::read_dir(
                path.parent().unwrap_or(Path::new(".")),
                &plugin.manifest().name,
            )
            .map_err(anyhow::Error::msg)?;
            plugins.push((plugin, golden));
        } else {
            let sources = if path.is_file() {
                vec![manifest::read_plugin(&path)?]
            } else {
                manifest::read_plugin_dir(&path)?
            };
            let folder = super::plugins::plugin_folder(&path);
            for source in sources {
                let golden = GoldenBundle::read_dir(folder, &source.manifest.name)
                    .map_err(anyhow::Error::msg)?;
                plugins.push((host.load(&source)?, golden));
            }
        }
    }

    let mut report = SelfTestReport::default();
    for (plugin, golden) in &plugins {
        report.extend(self_test::run(plugin, golden));
    }
    let out = TestReport {
        passed: report.passed(),
        plugins: plugins
            .iter()
            .map(|(p, _)| TestedPlugin {
                name: p.manifest().name.clone(),
                version: p.manifest().version.clone(),
                world: p.world().to_string(),
                digest: format!("sha256:{}", p.manifest().sha256),
                origin: p.origin().to_string(),
            })
            .collect(),
        report,
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        print!("{}", table(&out.report));
    }
    let failed = out.report.cases.iter().filter(|c| !c.passed).count();
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} self-test cases failed: {}",
            out.report.cases.len(),
            out.report.failures()
        );
    }
    if out.report.cases.is_empty() {
        eprintln!(
            "note: no case applies to {}; ship golden cases in selftest/<plugin name>/ (docs/plugin-runtime.md, \"Self-test\")",
            args.plugin
        );
    }
    Ok(())
}

fn read_component(path: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(MAX_COMPONENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() as u64 > MAX_COMPONENT_BYTES {
        anyhow::bail!(
            "{} is larger than {MAX_COMPONENT_BYTES} bytes; is it a plugin component? (plugin folders hold *{MANIFEST_SUFFIX} beside each component)",
            path.display()
        );
    }
    Ok(bytes)
}

/// The pass table: one row a case, failures with their first difference.
fn table(report: &SelfTestReport) -> String {
    let rows: Vec<[String; 6]> = report
        .cases
        .iter()
        .map(|c| {
            [
                c.plugin.clone(),
                c.case.clone(),
                c.kind.to_string(),
                c.call.to_string(),
                if c.passed { "pass" } else { "FAIL" }.to_string(),
                c.millis.to_string(),
            ]
        })
        .collect();
    let header = ["PLUGIN", "CASE", "KIND", "CALL", "RESULT", "MS"].map(String::from);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 6]| {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        format!("{}\n", cells.join("  ").trim_end())
    };
    let mut out = line(&header);
    for (row, case) in rows.iter().zip(&report.cases) {
        out.push_str(&line(row));
        if let Some(detail) = &case.detail {
            out.push_str(&format!("    {detail}\n"));
        }
    }
    let passed = report.cases.iter().filter(|c| c.passed).count();
    out.push_str(&format!("{passed}/{} passed\n", report.cases.len()));
    out
}
