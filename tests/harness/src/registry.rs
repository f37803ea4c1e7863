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

/// What a [`HostileServer`] answers to one request.
pub enum Answer {
    /// A status, extra headers and a body sent with its `Content-Length`.
    Fixed {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// `200` and a chunked body that does not end: it stops only when the
    /// client hangs up (or, to keep the test bounded, after 4 GiB).
    Endless { headers: Vec<(String, String)> },
}

/// A registry (or catalog) that lies: an HTTP/1.1 server on 127.0.0.1 that
/// answers each request with whatever the test's function says, including
/// what no real registry would send. One thread per connection, so an
/// endless answer does not block the next request.
pub struct HostileServer {
    pub port: u16,
    /// `METHOD /path` of every request, in order.
    pub requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HostileServer {
    pub fn start(answer: impl Fn(&str, &str) -> Answer + Send + Sync + 'static) -> Self {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("binding 127.0.0.1");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let answer = Arc::new(answer);
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok((stream, _)) = listener.accept() else {
                        std::thread::sleep(Duration::from_millis(5));
                        continue;
                    };
                    let (answer, requests, stop) = (answer.clone(), requests.clone(), stop.clone());
                    std::thread::spawn(move || serve_one(stream, &*answer, &requests, &stop));
                }
            })
        };
        HostileServer {
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    /// `127.0.0.1:<port>`
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_one(
    stream: std::net::TcpStream,
    answer: &(dyn Fn(&str, &str) -> Answer + Send + Sync),
    requests: &std::sync::Mutex<Vec<String>>,
    stop: &std::sync::atomic::AtomicBool,
) {
    use std::io::Write;
    stream.set_nonblocking(false).ok();
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(request_line) = crate::http::read_request_line(&stream) else {
        return;
    };
    let mut parts = request_line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    requests.lock().unwrap().push(format!("{method} {path}"));
    let mut stream = stream;
    let head = |status: u16, headers: &[(String, String)], framing: String| {
        let mut text = format!("HTTP/1.1 {status} X\r\nConnection: close\r\n{framing}\r\n");
        for (k, v) in headers {
            text.push_str(&format!("{k}: {v}\r\n"));
        }
        text.push_str("\r\n");
        text
    };
    match answer(method, path) {
        Answer::Fixed {
            status,
            headers,
            body,
        } => {
            let _ = stream.write_all(
                head(status, &headers, format!("Content-Length: {}", body.len())).as_bytes(),
            );
            if method != "HEAD" {
                let _ = stream.write_all(&body);
            }
        }
        Answer::Endless { headers } => {
            if stream
                .write_all(head(200, &headers, "Transfer-Encoding: chunked".into()).as_bytes())
                .is_err()
            {
                return;
            }
            let chunk = vec![b'{'; 64 * 1024];
            let framed = [
                format!("{:x}\r\n", chunk.len()).into_bytes(),
                chunk,
                b"\r\n".to_vec(),
            ]
            .concat();
            for _ in 0..(4u64 << 30) / (64 * 1024) {
                if stop.load(std::sync::atomic::Ordering::SeqCst)
                    || stream.write_all(&framed).is_err()
                {
                    return;
                }
            }
        }
    }
}
