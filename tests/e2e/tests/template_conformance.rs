//! `k0rdent-mcp template` against real helm's own output: every kgst version ×
//! every oracle case in ../shared/fixtures/kgst/oracle, through the embedded
//! validator and renderer plugins in the sandbox (the same path the server uses).
//!
//! Successes must match helm v4.1.4's stdout; failures must fail, and where the
//! renderer (not the stricter validator) rejects, with helm's message.

use std::path::Path;

use clap::Parser;
use k0rdent_mcp::cli::template::{TemplateArgs, template_text};
use kgst_oracle::OracleCase;

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: TemplateArgs,
}

/// Cases where the kgst validator deliberately refuses what helm renders,
/// because the result could never work in a cluster. See docs/validator.md.
const STRICTER_THAN_HELM: &[(&str, &str)] = &[
    ("chart-uppercase", "MinIO is not a valid Kubernetes name"),
    ("chart-whitespace", "spaces in chart name and version"),
    ("chart-with-slash", "a repository prefix in the chart name"),
    (
        "https-url-without-type",
        "Flux refuses type oci with an https URL",
    ),
];

#[derive(Default, Debug)]
struct Tally {
    identical: usize,
    semantic: usize,
    failed_like_helm: usize,
    rejected_by_validator: usize,
    stricter: usize,
    mismatches: Vec<String>,
}

/// The argv for `k0rdent-mcp template`: helm's, with the chart folder and
/// value files resolved against the fixtures.
fn template_argv(fixtures: &Path, case: &OracleCase) -> Vec<String> {
    let mut argv: Vec<String> = vec!["k0rdent-mcp".into()];
    for a in case.args.iter().skip(2) {
        argv.push(match a.as_str() {
            "." => kgst_oracle::chart_dir(fixtures, &case.version)
                .display()
                .to_string(),
            other if other.starts_with("../_values/") => kgst_oracle::values_dir(fixtures)
                .join(&other["../_values/".len()..])
                .display()
                .to_string(),
            other => other.to_string(),
        });
    }
    argv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_matches_helm_for_every_kgst_version_and_case() {
    let Some(fixtures) = kgst_oracle::fixtures() else {
        return;
    };
    let (_host, plugins) =
        load_plugins(&Cli::parse_from(["t", "x", "--plugin-cache-dir", "none"]).args);
    let mut tally = Tally::default();
    for case in kgst_oracle::all_cases(&fixtures) {
        let outcome = template_text(
            Cli::parse_from(template_argv(&fixtures, &case)).args,
            &plugins,
        )
        .await;
        let label = case.label();
        match (case.rc, outcome) {
            (0, Ok(out)) if out == case.stdout => tally.identical += 1,
            (0, Ok(out)) if same_yaml(&out, &case.stdout) => tally.semantic += 1,
            (0, Ok(out)) => tally.mismatches.push(format!(
                "{label}: output differs\n--- ours\n{out}\n--- helm\n{}",
                case.stdout
            )),
            (0, Err(e)) => {
                if STRICTER_THAN_HELM.iter().any(|(c, _)| *c == case.name) {
                    tally.stricter += 1;
                } else {
                    tally
                        .mismatches
                        .push(format!("{label}: helm renders it, we failed: {e:#}"));
                }
            }
            (_, Ok(_)) => tally.mismatches.push(format!(
                "{label}: helm fails ({}), we rendered",
                case.helm_error()
            )),
            (_, Err(e)) => {
                let ours = format!("{e:#}");
                if ours.starts_with("values for chart") {
                    tally.rejected_by_validator += 1;
                } else if ours == case.helm_error() {
                    tally.failed_like_helm += 1;
                } else {
                    tally.mismatches.push(format!(
                        "{label}: message differs\n  ours: {ours}\n  helm: {}",
                        case.helm_error()
                    ));
                }
            }
        }
    }
    println!(
        "kgst template conformance: {} byte-identical, {} semantically identical, {} failed with helm's message, \
         {} rejected earlier by the validator (helm also fails), {} deliberately stricter, {} mismatches",
        tally.identical,
        tally.semantic,
        tally.failed_like_helm,
        tally.rejected_by_validator,
        tally.stricter,
        tally.mismatches.len()
    );
    assert!(
        tally.mismatches.is_empty(),
        "{}",
        tally.mismatches.join("\n\n")
    );
    assert!(tally.identical > 100, "too few cases compared: {tally:?}");
}

/// The renderer alone, still in the sandbox: every failure that is the
/// template's (not the release name's, not the schema's) must carry helm's text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandboxed_renderer_alone_fails_with_helms_messages() {
    use k0rdent_mcp::plugin::selection::PluginSet;
    use k0rdent_mcp::plugin::{HostOptions, PluginHost, World, embedded};
    let Some(fixtures) = kgst_oracle::fixtures() else {
        return;
    };
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let renderers: Vec<_> = embedded::sources()
        .into_iter()
        .filter(|s| s.manifest.world == World::Renderer)
        .collect();
    let mut plugins = PluginSet::load(&host, &renderers).unwrap();
    // kgst is otherwise never rendered without its validator.
    plugins.insecure_allow_unvalidated_charts();
    let (mut identical, mut template_errors, mut not_the_renderers) = (0, 0, 0);
    let mut mismatches = Vec::new();
    for case in kgst_oracle::all_cases(&fixtures) {
        let helm = case.helm_error();
        let outcome = template_text(
            Cli::parse_from(template_argv(&fixtures, &case)).args,
            &plugins,
        )
        .await;
        match (case.rc, outcome) {
            (0, Ok(out)) if out == case.stdout => identical += 1,
            (_, _)
                if helm.starts_with("release name check failed")
                    || helm.starts_with("values don't meet the specifications") =>
            {
                not_the_renderers += 1
            }
            (rc, Err(e)) if rc != 0 && format!("{e:#}") == helm => template_errors += 1,
            (_, outcome) => mismatches.push(format!(
                "{}: ours {:?}, helm rc {} {helm}",
                case.label(),
                outcome.map(|_| "rendered"),
                case.rc
            )),
        }
    }
    println!(
        "sandboxed renderer alone: {identical} byte-identical, {template_errors} template errors with helm's text, \
         {not_the_renderers} not the renderer's (release name, schema), {} mismatches",
        mismatches.len()
    );
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert!(template_errors > 50, "too few template errors compared");
}

fn load_plugins(
    args: &TemplateArgs,
) -> (
    k0rdent_mcp::plugin::PluginHost,
    k0rdent_mcp::plugin::selection::PluginSet,
) {
    args.plugins
        .load(&args.registry)
        .expect("the embedded plugins load")
}

/// Same YAML documents, ignoring formatting.
fn same_yaml(a: &str, b: &str) -> bool {
    let docs = |text: &str| -> Vec<serde_json::Value> {
        text.split("\n---\n")
            .map(|d| {
                let body: String = d
                    .lines()
                    .filter(|l| !l.starts_with("# Source:") && *l != "---")
                    .collect::<Vec<_>>()
                    .join("\n");
                serde_json::Value::Object(helm_yaml::parse_values(&body).unwrap_or_default())
            })
            .collect()
    };
    docs(a) == docs(b)
}

/// `template` takes an oci:// reference like helm does: kgst pulled from a real
/// registry renders exactly as from its folder.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_renders_an_oci_chart_like_helm() {
    use k0rdent_test_harness::charts;
    use k0rdent_test_harness::registry::Registry;
    let Some(fixtures) = kgst_oracle::fixtures() else {
        return;
    };
    let Some(registry) = Registry::plain() else {
        return;
    };
    let tgz = charts::tgz_from_dir(&kgst_oracle::chart_dir(&fixtures, "2.0.2"), "kgst");
    charts::push_chart(
        &registry.host(),
        "charts/kgst",
        "2.0.2",
        &tgz,
        r#"{"apiVersion":"v2","name":"kgst","version":"2.0.2"}"#,
        &oci_client::secrets::RegistryAuth::Anonymous,
        true,
    )
    .await
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let reference = format!("oci://{}/charts/kgst", registry.host());
    let cache_dir = cache.path().display().to_string();
    let argv = [
        "k0rdent-mcp",
        "kgst-release",
        &reference,
        "--version",
        "2.0.2",
        "-n",
        "kcm-system",
        "--set",
        "chart=minio:14.1.2",
        "--plain-http",
        &registry.host(),
        "--chart-cache-dir",
        &cache_dir,
        "--plugin-cache-dir",
        "none",
    ];
    let args = Cli::parse_from(argv).args;
    let (_host, plugins) = load_plugins(&args);
    let out = template_text(args, &plugins).await.unwrap();
    let minio = kgst_oracle::cases(&fixtures, "2.0.2")
        .into_iter()
        .find(|c| c.name == "minio")
        .unwrap();
    assert_eq!(out, minio.stdout);
}
