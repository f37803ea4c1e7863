//! Fast tests of the engine's logic (hook order, failure and roll-back paths, pruning, lock handling)
//! over [`memory_apiserver::MemoryApiserver`]: the real engine, the real sandboxed renderer and a real
//! `kube::Client`, with only the HTTP service behind the client swapped. The same behaviours against a
//! real kube-apiserver and the real `helm` are in `tests/e2e/tests/release_*.rs` and
//! `host/tests/release_*.rs`.

mod memory_apiserver;
mod scenarios;

use std::path::Path;
use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::chart::{ArchiveLimits, Chart, load_chart_dir};
use crate::cluster::Cluster;
use crate::plugin::selection::PluginSet;
use crate::plugin::{HostOptions, Limits, PluginHost, embedded};
use crate::release::{Revision, Status};

use super::{Control, EngineOptions, InstallMode, InstallRequest, ReleaseEngine};
use memory_apiserver::MemoryApiserver;

const NS: &str = "team";
const SECRETS: &str = "/api/v1/namespaces/team/secrets";
const CONFIGMAPS: &str = "/api/v1/namespaces/team/configmaps";

/// Pre-install/upgrade hooks of two weights, normal objects of three kinds (written in Helm's kind
/// order, not file order), and one object the chart asks to keep.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "templates/z-deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  replicas: 1\n",
    ),
    (
        "templates/configmap.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  value: {{ .Values.value | quote }}\n",
    ),
    (
        "templates/kept.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  annotations:\n    helm.sh/resource-policy: keep\n",
    ),
    (
        "templates/serviceaccount.yaml",
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n",
    ),
    (
        "templates/hook-job.yaml",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: {{ .Values.job }}\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"0\"\n    helm.sh/hook-delete-policy: before-hook-creation\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: c\n        image: busybox\n",
    ),
    (
        "templates/hook-config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook-config\n  annotations:\n    helm.sh/hook: pre-install,pre-upgrade\n    helm.sh/hook-weight: \"-5\"\n    helm.sh/hook-delete-policy: before-hook-creation\n",
    ),
];

fn chart() -> Chart {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let file = dir.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    };
    write("Chart.yaml", "apiVersion: v2\nname: demo\nversion: 0.1.0\n");
    write("values.yaml", "value: one\njob: migrate\n");
    for (path, text) in TEMPLATES {
        write(path, text);
    }
    load(dir.path())
}

fn load(dir: &Path) -> Chart {
    load_chart_dir(dir, &ArchiveLimits::default()).unwrap()
}

/// The embedded plugins, compiled once per test binary (through the user's precompiled cache).
fn plugins() -> &'static PluginSet {
    static PLUGINS: OnceLock<(PluginHost, PluginSet)> = OnceLock::new();
    &PLUGINS
        .get_or_init(|| {
            let host = PluginHost::new(HostOptions {
                limits: Limits::default(),
                cache_dir: crate::defaults::user_cache_base().map(|b| b.join("plugins")),
            })
            .unwrap();
            let set = PluginSet::load(&host, &embedded::sources()).unwrap();
            (host, set)
        })
        .1
}

fn values(pairs: &[(&str, &str)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// One engine over one in-memory API.
struct Bench {
    api: MemoryApiserver,
    cluster: Cluster,
    options: EngineOptions,
    chart: Chart,
}

impl Bench {
    fn new() -> Self {
        let api = MemoryApiserver::default();
        let cluster = Cluster::new(api.client());
        Bench {
            api,
            cluster,
            options: EngineOptions {
                validation_timeout: std::time::Duration::from_secs(5),
                ..EngineOptions::default()
            },
            chart: chart(),
        }
    }

    fn engine(&self) -> ReleaseEngine<'_> {
        ReleaseEngine::new(&self.cluster, plugins(), self.options.clone())
    }

    async fn upgrade_install(
        &self,
        values: Map<String, Value>,
    ) -> Result<super::ReleaseOutcome, super::EngineError> {
        let request = InstallRequest {
            release: "demo".into(),
            namespace: NS.into(),
            chart: &self.chart,
            values,
            mode: InstallMode::UpgradeInstall,
        };
        self.engine()
            .upgrade_install(request, &Control::default())
            .await
    }

    /// (revision, status) of every stored revision, oldest first.
    async fn statuses(&self) -> Vec<(u32, Status)> {
        self.engine()
            .history("demo", NS)
            .await
            .unwrap()
            .iter()
            .map(|r| (r.revision(), r.record.status().unwrap()))
            .collect()
    }

    fn configmap_value(&self, name: &str) -> Option<String> {
        self.api.object(CONFIGMAPS, name).and_then(|o| {
            o.pointer("/data/value")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
    }

    /// `plural/name` of every write since log index `from`, in order (dry runs left out).
    fn writes_since(&self, from: usize) -> Vec<String> {
        self.api.log()[from..]
            .iter()
            .filter(|l| l.is_write())
            .map(|l| l.target.clone())
            .collect()
    }
}
