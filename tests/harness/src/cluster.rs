//! A real Kubernetes control plane for tests: etcd and kube-apiserver v1.20.2
//! (built from Debian's source package by scripts/build-kube-apiserver) on
//! free loopback ports, token authentication, RBAC, and the CRDs the product
//! touches. There are no controllers: tests play them (see the engine suites).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::{Service, free_port, require_program};

/// Bearer token of the test administrator (group system:masters).
pub const ADMIN_TOKEN: &str = "k0rdent-mcp-test-admin-token";

/// Extra identities the token file knows: (token, user, groups). They have no
/// rights until a test binds roles to them.
pub const TEST_IDENTITIES: &[(&str, &str, &str)] = &[
    (
        "k0rdent-mcp-test-alice-token",
        "alice",
        "k0rdent-mcp-testers",
    ),
    ("k0rdent-mcp-test-bob-token", "bob", "k0rdent-mcp-testers"),
    ("k0rdent-mcp-test-nobody-token", "nobody", ""),
];

/// The CRDs the product touches, written for this apiserver (no CEL).
const CRDS: [&str; 2] = [
    include_str!("../crds/helmrepositories.source.toolkit.fluxcd.io.yaml"),
    include_str!("../crds/servicetemplates.k0rdent.mirantis.com.yaml"),
];

pub struct ControlPlane {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// Kubeconfig for the administrator.
    pub kubeconfig: PathBuf,
    /// CA bundle that signs the apiserver's serving certificate.
    pub ca_cert: PathBuf,
    kubectl: PathBuf,
    /// The apiserver's program and arguments, to start it again.
    apiserver_command: (PathBuf, Vec<String>),
    // Field order is drop order: stop the apiserver before etcd.
    apiserver: Service,
    etcd: Service,
}

fn cache_root() -> PathBuf {
    std::env::var_os("K0RDENT_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache"))
}

/// kube-apiserver from `$K0RDENT_MCP_KUBE_APISERVER`, else the build cache.
fn apiserver_binary() -> Option<PathBuf> {
    let path = std::env::var_os("K0RDENT_MCP_KUBE_APISERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_root().join("kube-apiserver-v1.20.2/kube-apiserver"));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing; CI must run scripts/build-kube-apiserver first",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: no kube-apiserver at {} (run scripts/build-kube-apiserver)",
        path.display()
    );
    None
}

/// kubectl from `$K0RDENT_MCP_KUBECTL`, else scripts/install-helm's tools, else PATH.
pub fn kubectl_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("K0RDENT_MCP_KUBECTL") {
        return Some(PathBuf::from(p));
    }
    let cached = cache_root().join("tools/kubectl");
    if cached.is_file() {
        return Some(cached);
    }
    require_program("kubectl", "scripts/install-helm")
}

impl ControlPlane {
    /// `None` (with a notice) when a part is missing outside CI.
    pub fn start() -> Option<Self> {
        let apiserver_bin = apiserver_binary()?;
        let etcd_bin = require_program("etcd", "apt-get install etcd-server")?;
        let kubectl = kubectl_binary()?;
        require_program("openssl", "apt-get install openssl")?;
        require_program("curl", "apt-get install curl")?;
        let dir = tempfile::tempdir().expect("control plane dir");
        let d = dir.path();

        let (client, peer, metrics) = (free_port(), free_port(), free_port());
        let mut etcd_cmd = Command::new(etcd_bin);
        etcd_cmd
            .arg("--name=test")
            .arg(format!("--data-dir={}", d.join("etcd").display()))
            .arg(format!("--listen-client-urls=http://127.0.0.1:{client}"))
            .arg(format!("--advertise-client-urls=http://127.0.0.1:{client}"))
            .arg(format!("--listen-peer-urls=http://127.0.0.1:{peer}"))
            .arg(format!(
                "--initial-advertise-peer-urls=http://127.0.0.1:{peer}"
            ))
            .arg(format!("--initial-cluster=test=http://127.0.0.1:{peer}"))
            .arg(format!("--listen-metrics-urls=http://127.0.0.1:{metrics}"))
            .arg("--log-level=warn");
        let mut etcd = Service::spawn("etcd", etcd_cmd, &d.join("etcd.log"));
        etcd.wait_for_port(client, Duration::from_secs(30));

        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(d)
                .args(args)
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(&["genrsa", "-out", "sa.key", "2048"]);
        run(&["rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub"]);
        let mut tokens = format!("{ADMIN_TOKEN},admin,1,\"system:masters\"\n");
        for (i, (token, user, groups)) in TEST_IDENTITIES.iter().enumerate() {
            tokens.push_str(&format!("{token},{user},{}", 100 + i));
            if !groups.is_empty() {
                tokens.push_str(&format!(",\"{groups}\""));
            }
            tokens.push('\n');
        }
        std::fs::write(d.join("tokens.csv"), tokens).unwrap();

        let port = free_port();
        let args = vec![
            format!("--etcd-servers=http://127.0.0.1:{client}"),
            "--bind-address=127.0.0.1".into(),
            "--advertise-address=127.0.0.1".into(),
            format!("--secure-port={port}"),
            "--insecure-port=0".into(),
            format!("--cert-dir={}", d.join("certs").display()),
            format!("--token-auth-file={}", d.join("tokens.csv").display()),
            "--authorization-mode=RBAC".into(),
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
            format!("--service-account-key-file={}", d.join("sa.pub").display()),
            format!(
                "--service-account-signing-key-file={}",
                d.join("sa.key").display()
            ),
            "--service-cluster-ip-range=10.0.0.0/24".into(),
            "--disable-admission-plugins=ServiceAccount".into(),
            "--allow-privileged=true".into(),
            // Every request, with who made it and with what user agent: the
            // benchmarks count API requests per client from this log.
            format!(
                "--audit-policy-file={}",
                d.join("audit-policy.yaml").display()
            ),
            format!("--audit-log-path={}", d.join("audit.log").display()),
            "--audit-log-format=json".into(),
            "--audit-log-mode=blocking".into(),
        ];
        std::fs::write(
            d.join("audit-policy.yaml"),
            "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n",
        )
        .unwrap();
        let apiserver_command = (apiserver_bin, args);
        let apiserver = spawn_apiserver(&apiserver_command, d, port);

        let ca_cert = d.join("certs/apiserver.crt");
        let kubeconfig = d.join("kubeconfig");
        write_kubeconfig(&kubeconfig, port, &ca_cert, ADMIN_TOKEN);
        let plane = ControlPlane {
            port,
            apiserver_command,
            kubeconfig,
            ca_cert,
            kubectl,
            apiserver,
            etcd,
            dir,
        };
        plane.install_crds();
        Some(plane)
    }

    /// User agents of the completed API requests so far (from the audit log).
    pub fn request_agents(&self) -> Vec<String> {
        let log = std::fs::read_to_string(self.dir.path().join("audit.log")).unwrap_or_default();
        log.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|event| event["stage"] == "ResponseComplete")
            .map(|event| event["userAgent"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Completed API requests so far whose user agent starts with `agent`,
    /// ignoring case.
    pub fn requests_by(&self, agent: &str) -> usize {
        let agent = agent.to_ascii_lowercase();
        self.request_agents()
            .iter()
            .filter(|ua| ua.to_ascii_lowercase().starts_with(&agent))
            .count()
    }

    /// `helm` (the binary at `helm`) against this control plane, with its
    /// config, cache and data under the plane's folder so runs never share state.
    pub fn helm_command(&self, helm: &Path) -> Command {
        let home = self.dir.path().join("helm-home");
        let mut command = Command::new(helm);
        command
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_DATA_HOME", home.join("data"))
            .arg(format!("--kubeconfig={}", self.kubeconfig.display()));
        command
    }

    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// A kubeconfig for one of [`TEST_IDENTITIES`] (or any token).
    pub fn kubeconfig_for(&self, token: &str) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("kubeconfig-{}", &token[..token.len().min(24)]));
        write_kubeconfig(&path, self.port, &self.ca_cert, token);
        path
    }

    /// Runs kubectl as the administrator; panics with its stderr on failure.
    pub fn kubectl(&self, args: &[&str]) -> String {
        self.kubectl_as(&self.kubeconfig, args)
            .expect("kubectl as admin")
    }

    /// Runs kubectl with `kubeconfig`; `Err(stderr)` on failure.
    pub fn kubectl_as(&self, kubeconfig: &Path, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.kubectl)
            .arg(format!("--kubeconfig={}", kubeconfig.display()))
            .args(args)
            .output()
            .expect("running kubectl");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Applies YAML given on stdin as the administrator.
    pub fn apply(&self, yaml: &str) -> String {
        let file = self.dir.path().join(format!(
            "apply-{}.yaml",
            crate::charts::sha256_digest(yaml.as_bytes()).split_at(15).1
        ));
        std::fs::write(&file, yaml).unwrap();
        self.kubectl(&[
            "apply",
            "--validate=false",
            "-f",
            &file.display().to_string(),
        ])
    }

    fn install_crds(&self) {
        // Embedded, not read from this crate's build-time folder: build caches
        // are shared between clones, and that folder may be another clone's.
        for crd in CRDS {
            self.apply(crd);
        }
        self.kubectl(&[
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            "crd/helmrepositories.source.toolkit.fluxcd.io",
            "crd/servicetemplates.k0rdent.mirantis.com",
        ]);
    }

    /// Plays the missing Job and ServiceTemplate controllers until dropped;
    /// see [`crate::controllers`].
    pub fn play_controllers(&self, fail_marker: &str) -> crate::controllers::PlayedControllers {
        self.play_controllers_with(fail_marker, fail_marker)
    }

    /// As [`Self::play_controllers`], with separate markers for failing Jobs
    /// and invalid ServiceTemplates.
    pub fn play_controllers_with(
        &self,
        job_marker: &str,
        template_marker: &str,
    ) -> crate::controllers::PlayedControllers {
        crate::controllers::play(
            self.kubectl.clone(),
            self.kubeconfig.clone(),
            job_marker,
            template_marker,
        )
    }

    /// Kills the apiserver process; etcd, the data and the ports stay.
    pub fn stop_apiserver(&mut self) {
        self.apiserver.stop();
    }

    /// Starts the apiserver again on the same ports and etcd, and waits
    /// until it is ready.
    pub fn start_apiserver(&mut self) {
        self.apiserver.stop();
        self.apiserver = spawn_apiserver(&self.apiserver_command, self.dir.path(), self.port);
    }

    /// A kubeconfig for a client that reaches the apiserver at `server`
    /// (e.g. a test proxy in front of the plain-HTTP port).
    pub fn kubeconfig_at(&self, file: &str, server: &str) -> PathBuf {
        let path = self.dir.path().join(file);
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {server}\nusers:\n- name: test\n  user:\n    token: {ADMIN_TOKEN}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test\n"
        );
        std::fs::write(&path, config).unwrap();
        path
    }

    pub fn pids(&self) -> (Option<u32>, Option<u32>) {
        (self.etcd.pid(), self.apiserver.pid())
    }
}

fn spawn_apiserver(command: &(PathBuf, Vec<String>), dir: &Path, port: u16) -> Service {
    let mut cmd = Command::new(&command.0);
    cmd.args(&command.1);
    // Appended, so a restart keeps the first run's log.
    let log = dir.join("apiserver.log");
    let mut apiserver = Service::spawn_appending("kube-apiserver", cmd, &log);
    apiserver.wait_for_port(port, Duration::from_secs(60));
    wait_ready(port, &mut apiserver);
    apiserver
}

fn wait_ready(port: u16, apiserver: &mut Service) {
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let out = Command::new("curl")
            .args(["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
            .arg(format!("Authorization: Bearer {ADMIN_TOKEN}"))
            .arg(format!("https://127.0.0.1:{port}/readyz"))
            .output()
            .expect("curl");
        if String::from_utf8_lossy(&out.stdout) == "200" {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    apiserver.stop();
    panic!(
        "kube-apiserver was not ready within 90 s; log tail:\n{}",
        std::fs::read_to_string(&apiserver.log)
            .unwrap_or_default()
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn write_kubeconfig(path: &Path, port: u16, ca: &Path, token: &str) {
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority: {}\nusers:\n- name: test\n  user:\n    token: {token}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n    namespace: default\ncurrent-context: test\n",
        ca.display()
    );
    std::fs::write(path, config).unwrap();
}
