//! A real OCI registry: Debian's `docker-registry` (CNCF distribution 2.8)
//! with a config of our own, listening on 127.0.0.1 only.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::process::{Service, free_port, require_program};
use crate::tls::TestCa;

pub enum Auth {
    None,
    /// htpasswd (bcrypt) basic auth with one user.
    Basic {
        username: String,
        password: String,
    },
}

pub struct Registry {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The CA to trust when the registry serves TLS.
    pub ca_cert: Option<PathBuf>,
    config: PathBuf,
    service: Service,
}

pub struct RegistryOptions {
    pub auth: Auth,
    pub tls: bool,
}

impl Registry {
    /// `None` when `docker-registry` is missing outside CI.
    pub fn start(options: RegistryOptions) -> Option<Self> {
        let program = require_program("docker-registry", "apt-get install docker-registry")?;
        let dir = tempfile::tempdir().expect("registry dir");
        let port = free_port();
        let mut config = format!(
            "version: 0.1\nlog: {{level: warn, accesslog: {{disabled: true}}}}\nstorage:\n  filesystem: {{rootdirectory: {}}}\n  delete: {{enabled: true}}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: test-only-not-a-secret\n",
            dir.path().join("data").display()
        );
        let mut ca_cert = None;
        if options.tls {
            let ca = TestCa::create(dir.path());
            config.push_str(&format!(
                "  tls: {{certificate: {}, key: {}}}\n",
                ca.server_cert.display(),
                ca.server_key.display()
            ));
            ca_cert = Some(ca.ca_cert);
        }
        if let Auth::Basic { username, password } = &options.auth {
            require_program("htpasswd", "apt-get install apache2-utils")?;
            let htpasswd = dir.path().join("htpasswd");
            let out = Command::new("htpasswd")
                .args(["-Bbc"])
                .arg(&htpasswd)
                .args([username, password])
                .output()
                .expect("running htpasswd");
            assert!(out.status.success(), "htpasswd failed");
            config.push_str(&format!(
                "auth:\n  htpasswd: {{realm: k0rdent-mcp-test, path: {}}}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let service = start_service(&program, &config_path, dir.path(), port);
        Some(Registry {
            port,
            ca_cert,
            config: config_path,
            service,
            dir,
        })
    }

    pub fn plain() -> Option<Self> {
        Self::start(RegistryOptions {
            auth: Auth::None,
            tls: false,
        })
    }

    /// `127.0.0.1:<port>`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Stops the registry (its data stays), to test behaviour while it is down.
    pub fn stop(&mut self) {
        self.service.stop();
    }

    /// Starts it again on the same port with the same data.
    pub fn restart(&mut self) {
        self.service.stop();
        let program =
            require_program("docker-registry", "apt-get install docker-registry").unwrap();
        self.service = start_service(&program, &self.config, self.dir.path(), self.port);
    }
}

fn start_service(
    program: &std::path::Path,
    config: &std::path::Path,
    dir: &std::path::Path,
    port: u16,
) -> Service {
    let mut cmd = Command::new(program);
    cmd.arg("serve").arg(config);
    let mut service = Service::spawn("docker-registry", cmd, &dir.join("registry.log"));
    service.wait_for_port(port, Duration::from_secs(20));
    service
}
