//! What the engine suites (release_engine, release_lifecycle) share: a control plane with the kgst chart and
//! the embedded plugins, real helm, and kubectl reads.

use std::path::PathBuf;

use clap::Parser;
use k0rdent_mcp::chart::{ArchiveLimits, Chart, load_chart_path};
use k0rdent_mcp::cluster::{Cluster, ClusterSource, connect};
use k0rdent_mcp::engine::{Control, EngineOptions, InstallMode, InstallRequest, ReleaseEngine};
use k0rdent_mcp::flags::PluginArgs;
use k0rdent_mcp::release::secret_name;
use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Map, Value, json};

pub const NS: &str = "kcm-system";

#[derive(Parser)]
pub struct Cli {
    #[command(flatten)]
    pub plugins: PluginArgs,
    #[command(flatten)]
    pub registry: k0rdent_mcp::flags::RegistryArgs,
}

pub fn values(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

pub fn kgst_chart() -> Option<(PathBuf, Chart)> {
    let dir = kgst_oracle::fixtures()?.join("charts/2.0.2");
    let chart = load_chart_path(&dir, &ArchiveLimits::default()).expect("kgst 2.0.2 loads");
    Some((dir, chart))
}

pub fn helm_binary() -> Option<PathBuf> {
    tool("helm")
}

/// helm v3.17.2 (scripts/install-helm).
pub fn helm3_binary() -> Option<PathBuf> {
    tool("helm3")
}

fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache"))
        .join("tools")
        .join(name);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("SKIPPED (helm parts): no helm at {}", path.display());
        None
    }
}

/// Real helm v4 with the control plane's kubeconfig and private state dirs.
pub fn helm(plane: &ControlPlane, args: &[&str]) -> Result<String, String> {
    run_helm(helm_binary(), plane, args)
}

/// Real helm v3.17.2, as [`helm`].
pub fn helm3(plane: &ControlPlane, args: &[&str]) -> Result<String, String> {
    run_helm(helm3_binary(), plane, args)
}

fn run_helm(
    binary: Option<PathBuf>,
    plane: &ControlPlane,
    args: &[&str],
) -> Result<String, String> {
    let Some(helm) = binary else {
        return Err("no helm".into());
    };
    let out = plane
        .helm_command(&helm)
        .args(args)
        .output()
        .expect("running helm");
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

pub fn get_json(plane: &ControlPlane, args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["-n", NS, "-o", "json", "--show-managed-fields"]);
    plane
        .kubectl_as(&plane.kubeconfig, &all)
        .ok()
        .map(|t| serde_json::from_str(&t).unwrap())
}

pub fn release_secret_status(plane: &ControlPlane, release: &str, revision: u32) -> Option<String> {
    get_json(plane, &["secret", &secret_name(release, revision)]).map(|s| {
        s.pointer("/metadata/labels/status")
            .and_then(Value::as_str)
            .unwrap()
            .to_string()
    })
}

pub const ST: &str = "servicetemplates.k0rdent.mirantis.com";
pub const HR: &str = "helmrepositories.source.toolkit.fluxcd.io";

pub fn assert_owned_by_helm(object: &Value, release: &str) {
    assert_eq!(
        object.pointer("/metadata/labels/app.kubernetes.io~1managed-by"),
        Some(&json!("Helm")),
        "{object}"
    );
    assert_eq!(
        object.pointer("/metadata/annotations/meta.helm.sh~1release-name"),
        Some(&json!(release))
    );
    assert_eq!(
        object.pointer("/metadata/annotations/meta.helm.sh~1release-namespace"),
        Some(&json!(NS))
    );
    let managers: Vec<(&str, &str)> = object
        .pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["manager"].as_str().unwrap(),
                m["operation"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(managers.contains(&("helm", "Apply")), "{managers:?}");
}

pub struct Env {
    pub plane: ControlPlane,
    pub cluster: Cluster,
    pub plugins: k0rdent_mcp::plugin::selection::PluginSet,
    pub _host: k0rdent_mcp::plugin::PluginHost,
    pub chart_dir: PathBuf,
    pub chart: Chart,
}

pub async fn start() -> Option<Env> {
    let (chart_dir, chart) = kgst_chart()?;
    let plane = ControlPlane::start()?;
    plane.kubectl(&["create", "namespace", NS]);
    let client = connect(&ClusterSource::Kubeconfig(plane.kubeconfig.clone()), None)
        .await
        .expect("client from the harness kubeconfig");
    let cli = Cli::parse_from(["test", "--plugin-cache-dir", "none"]);
    let (host, plugins) = cli
        .plugins
        .load(&cli.registry)
        .expect("embedded plugins load");
    Some(Env {
        plane,
        cluster: Cluster::new(client),
        plugins,
        _host: host,
        chart_dir,
        chart,
    })
}

impl Env {
    pub fn engine(&self) -> ReleaseEngine<'_> {
        self.engine_with(EngineOptions {
            validation_timeout: std::time::Duration::from_secs(20),
            ..EngineOptions::default()
        })
    }

    pub fn engine_with(&self, options: EngineOptions) -> ReleaseEngine<'_> {
        ReleaseEngine::new(&self.cluster, &self.plugins, options)
    }

    pub fn request(&self, release: &str, chart_value: &str) -> InstallRequest<'_> {
        InstallRequest {
            release: release.into(),
            namespace: NS.into(),
            chart: &self.chart,
            values: values(json!({ "chart": chart_value })),
            mode: InstallMode::UpgradeInstall,
        }
    }
}

/// No progress sink, never cancelled.
pub fn quiet() -> Control {
    Control::default()
}
