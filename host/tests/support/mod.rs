//! Shared by the MCP suites: the real clients (Python SDK, Inspector CLI),
//! the kgst fixture, and a registry plus catalog index holding kgst and minio.

// Each suite uses a different subset of these helpers.
#![allow(dead_code)]

pub mod engine;

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use k0rdent_test_harness::free_port;

use k0rdent_test_harness::charts;
use k0rdent_test_harness::registry::Registry;
use oci_client::secrets::RegistryAuth;
use serde_json::{Value, json};

pub const BIN: &str = env!("CARGO_BIN_EXE_k0rdent-mcp");

/// Every tool the server offers, by name.
pub const ALL_TOOLS: [&str; 11] = [
    "k0rdent.catalog.serviceTemplates.list",
    "k0rdent.mgmt.namespaces.list",
    "k0rdent.mgmt.releases.diff",
    "k0rdent.mgmt.releases.history",
    "k0rdent.mgmt.releases.rollback",
    "k0rdent.mgmt.releases.unlock",
    "k0rdent.mgmt.serviceTemplates.install_from_catalog",
    "k0rdent.mgmt.serviceTemplates.list",
    "k0rdent.mgmt.serviceTemplates.render",
    "k0rdent.mgmt.serviceTemplates.uninstall",
    "k0rdent.plugins.list",
];

pub fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// Python with the `mcp` package: `$K0RDENT_MCP_PYTHON` (scripts/test makes a venv).
pub fn python_with_mcp() -> Option<PathBuf> {
    let python = std::env::var_os("K0RDENT_MCP_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache/venv-mcp/bin/python"));
    let ok = Command::new(&python)
        .args(["-c", "import mcp"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        !in_ci(),
        "{} has no `mcp` package; scripts/test installs it",
        python.display()
    );
    eprintln!(
        "SKIPPED: no Python with the mcp SDK at {} (run scripts/test)",
        python.display()
    );
    None
}

/// The MCP Inspector CLI: `$K0RDENT_MCP_INSPECTOR` (scripts/test installs 0.15.0).
pub fn inspector() -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_INSPECTOR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(
                "/var/tmp/k0rdent-mcp-cache/npm-inspector/node_modules/.bin/mcp-inspector",
            )
        });
    if path.is_file() {
        return Some(path);
    }
    assert!(
        !in_ci(),
        "the MCP Inspector CLI is not at {}; scripts/test installs it (ensure_mcp_inspector in scripts/lib.sh)",
        path.display()
    );
    eprintln!(
        "SKIPPED: the MCP Inspector CLI is not at {} (run scripts/test)",
        path.display()
    );
    None
}

pub fn kgst_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/kgst/charts/2.0.2");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        !in_ci(),
        "{} is missing, and CI=true requires it",
        dir.display()
    );
    eprintln!("SKIPPED: {} not found", dir.display());
    None
}

pub async fn push(registry: &Registry, repo: &str, version: &str, tgz: &[u8], name: &str) {
    let config = format!(r#"{{"apiVersion":"v2","name":"{name}","version":"{version}"}}"#);
    charts::push_chart(
        &registry.host(),
        repo,
        version,
        tgz,
        &config,
        &RegistryAuth::Anonymous,
        true,
    )
    .await
    .expect("push");
}

pub fn write_index(work: &Path, repository: &str) -> PathBuf {
    let index = json!({
        "metadata": {"generated": "2026-11-26T00:00:00Z", "version": "test"},
        "addons": [
            {"name": "minio", "description": "Object storage", "supportType": "community",
             "charts": [{"name": "minio", "versions": ["17.0.21", "14.1.2"], "repository": repository}],
             "metadata": {"tags": ["Storage"]}},
            {"name": "valkey", "description": "Key-value store", "supportType": "community",
             "charts": [{"name": "valkey", "versions": ["0.1.0"], "repository": repository}]}
        ]
    });
    let path = work.join("index.json");
    std::fs::write(&path, index.to_string()).unwrap();
    path
}

/// `helm` (`$K0RDENT_MCP_HELM`) against `plane`; panics with its stderr on failure.
pub fn helm(plane: &k0rdent_test_harness::cluster::ControlPlane, args: &[&str]) -> String {
    let helm = std::env::var_os("K0RDENT_MCP_HELM")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm".into());
    run_helm(&helm, plane, args)
}

/// helm v3 (`$K0RDENT_MCP_HELM3`) as [`helm`]; `None` (outside CI) when it is missing.
pub fn helm3(plane: &k0rdent_test_harness::cluster::ControlPlane, args: &[&str]) -> Option<String> {
    let helm = std::env::var_os("K0RDENT_MCP_HELM3")
        .map(PathBuf::from)
        .unwrap_or_else(|| "/var/tmp/k0rdent-mcp-cache/tools/helm3".into());
    if !helm.is_file() {
        assert!(!in_ci(), "no helm v3 at {}", helm.display());
        eprintln!("SKIPPED (helm v3 part): no helm v3 at {}", helm.display());
        return None;
    }
    Some(run_helm(&helm, plane, args))
}

fn run_helm(
    helm: &Path,
    plane: &k0rdent_test_harness::cluster::ControlPlane,
    args: &[&str],
) -> String {
    let out = plane
        .helm_command(helm)
        .args(args)
        .output()
        .expect("running helm");
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        helm.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A chart folder `dir/name` (version 0.1.0) with these values and templates.
pub fn write_chart(dir: &Path, name: &str, values: &str, templates: &[(&str, &str)]) -> PathBuf {
    let chart = dir.join(name);
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\nappVersion: \"1.0\"\n"),
    )
    .unwrap();
    std::fs::write(chart.join("values.yaml"), values).unwrap();
    for (file, text) in templates {
        std::fs::write(chart.join("templates").join(file), text).unwrap();
    }
    chart
}

/// The JSON object a Python MCP client printed last; panics with what it
/// printed when it failed.
pub fn client_json(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().unwrap_or_default())
        .unwrap_or_else(|e| panic!("client printed no JSON ({e}):\n{stdout}"))
}

/// A plain registry with kgst 2.0.2 (from ../shared) and minio 14.1.2 under
/// `charts/`, and a catalog index listing minio 17.0.21 and 14.1.2 there.
pub struct McpFixture {
    pub registry: Registry,
    pub work: tempfile::TempDir,
    /// `oci://<registry>/charts`
    pub repository: String,
    pub index: PathBuf,
}

impl McpFixture {
    pub async fn start(kgst: &Path) -> Option<Self> {
        let registry = Registry::plain()?;
        push(
            &registry,
            "charts/kgst",
            "2.0.2",
            &charts::tgz_from_dir(kgst, "kgst"),
            "kgst",
        )
        .await;
        push(
            &registry,
            "charts/minio",
            "14.1.2",
            &charts::simple_chart("minio", "14.1.2"),
            "minio",
        )
        .await;
        let work = tempfile::tempdir().unwrap();
        let repository = format!("oci://{}/charts", registry.host());
        let index = write_index(work.path(), &repository);
        Some(McpFixture {
            registry,
            work,
            repository,
            index,
        })
    }
}

/// `k0rdent-mcp serve --http` on a free port, killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub log: PathBuf,
}

impl Server {
    /// `work` holds the caches and the log; `env` is the rest of the configuration.
    pub fn start(work: &Path, extra_args: &[&str], env: &[(&str, String)]) -> Self {
        Self::start_on(work, "127.0.0.1", extra_args, env)
    }

    /// As [`Server::start`], listening on `host` (e.g. `0.0.0.0`) at a free port.
    pub fn start_on(work: &Path, host: &str, extra_args: &[&str], env: &[(&str, String)]) -> Self {
        let port = free_port();
        let log = work.join(format!("server-{port}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(BIN);
        command
            .args(["serve", "--http", &format!("{host}:{port}")])
            .args(extra_args)
            .env("K0RDENT_MCP_CHART_CACHE_DIR", work.join("charts"))
            .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.join("catalog"))
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.join("plugins"))
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in env {
            command.env(k, v);
        }
        let child = command.spawn().expect("starting k0rdent-mcp");
        let mut server = Server {
            child: Some(child),
            port,
            log,
        };
        server.wait_listening();
        server
    }

    pub fn wait_listening(&mut self) {
        // Loading and (first time) compiling the plugins takes a few seconds on a loaded machine.
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("k0rdent-mcp exited with {status}:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("k0rdent-mcp did not listen:\n{}", self.log_text());
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// SIGTERM, then the exit status (the process must stop by itself).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut child = self.child.take().unwrap();
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("k0rdent-mcp ignored SIGTERM for 20 s:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Configuration that needs no registry or cluster: these tests stop
/// before either would be reached, and a kubeconfig that does not exist
/// makes sure no real cluster is.
pub fn offline_env(work: &Path) -> Vec<(&'static str, String)> {
    vec![
        (
            "K0RDENT_MCP_PLUGIN_CACHE_DIR",
            work.join("plugins").display().to_string(),
        ),
        (
            "K0RDENT_MCP_CATALOG_CACHE_DIR",
            work.join("catalog").display().to_string(),
        ),
        (
            "K0RDENT_MCP_CATALOG_URL",
            work.join("no-index.json").display().to_string(),
        ),
        (
            "K0RDENT_MCP_KUBECONFIG",
            work.join("no-kubeconfig").display().to_string(),
        ),
    ]
}

/// The binary over stdio, spoken to in raw lines.
pub struct RawStdio {
    child: Child,
    stdin: ChildStdin,
    replies: mpsc::Receiver<Value>,
}

impl RawStdio {
    pub fn start(work: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(BIN)
            .arg("serve")
            .args(args)
            .envs(offline_env(work))
            .env_remove("K0RDENT_MCP_HTTP")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { return };
                let value = serde_json::from_str(&line).unwrap_or_else(|e| {
                    panic!("the server wrote a line that is not JSON ({e}): {line}")
                });
                if tx.send(value).is_err() {
                    return;
                }
            }
        });
        RawStdio {
            child,
            stdin,
            replies,
        }
    }

    pub fn send(&mut self, line: &[u8]) {
        self.stdin.write_all(line).unwrap();
        self.stdin.write_all(b"\n").unwrap();
        self.stdin.flush().unwrap();
    }

    /// The next line the server writes; the first waits for plugin loading.
    pub fn reply(&self) -> Value {
        self.replies
            .recv_timeout(Duration::from_secs(120))
            .expect("the server answered nothing")
    }

    /// The next line the server writes within `wait`, if any.
    pub fn try_reply(&self, wait: Duration) -> Option<Value> {
        self.replies.recv_timeout(wait).ok()
    }

    pub fn ask(&mut self, line: &[u8]) -> Value {
        self.send(line);
        self.reply()
    }
}

impl Drop for RawStdio {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The binary's release commands (`upgrade`, `diff`, `history`, …) against a
/// control plane, with a private plugin cache.
pub struct Cli<'a> {
    pub plane: &'a k0rdent_test_harness::cluster::ControlPlane,
    pub cache: PathBuf,
    /// More `K0RDENT_MCP_*` settings, e.g. `("K0RDENT_MCP_VALIDATION_TIMEOUT", "20s")`.
    pub env: Vec<(&'static str, &'static str)>,
}

impl Cli<'_> {
    pub fn run(&self, args: &[&str]) -> Result<String, String> {
        let out = Command::new(BIN)
            .args(args)
            .arg(format!("--kubeconfig={}", self.plane.kubeconfig.display()))
            .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", self.cache.join("plugins"))
            .envs(self.env.iter().copied())
            .output()
            .expect("running k0rdent-mcp");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// `args -o json`, parsed; panics with the error text on failure.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["-o", "json"]);
        let text = self.run(&all).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {text}"))
    }
}
