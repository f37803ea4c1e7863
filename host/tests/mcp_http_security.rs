//! Attacks on `serve --http`, each performed against the real binary: a
//! server exposed with no identity checks, cross-origin requests, made-up
//! bearer tokens (checked by a real kube-apiserver, or by JWT checks against
//! a key set this test serves), slow-header clients, a hanging catalog host
//! behind /readyz, and a namespace filter that escapes its anchors.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};
use k0rdent_test_harness::free_port;
use serde_json::{Value, json};

mod support;
use support::{BIN, Server, write_index};

/// A legacy `initialize`, answered with JSON in stateless mode.
fn initialize() -> String {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "mcp_http_security.rs", "version": "0"}}})
    .to_string()
}

fn catalog_list() -> String {
    json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {
        "name": "k0rdent.catalog.serviceTemplates.list", "arguments": {}}})
    .to_string()
}

/// POST /mcp with optional headers; (status, body).
async fn post_mcp(server: &Server, body: String, headers: &[(&str, &str)]) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(server.url("/mcp"))
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// `serve` with these flags must exit by itself, unsuccessfully, within a
/// minute (before the fix it started serving); its stderr.
fn refused_start(args: &[&str], env: &[(&str, &str)]) -> String {
    let work = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("serve")
        .args(args)
        .env("K0RDENT_MCP_PLUGIN_CACHE_DIR", work.path().join("plugins"))
        .env("K0RDENT_MCP_CATALOG_CACHE_DIR", work.path().join("catalog"))
        .env_remove("K0RDENT_MCP_HTTP")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve {args:?} started instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(!status.success(), "serve {args:?} succeeded:\n{stderr}");
    stderr
}

fn catalog_env(work: &std::path::Path) -> Vec<(&'static str, String)> {
    let index = write_index(work, "oci://127.0.0.1:1/charts");
    vec![("K0RDENT_MCP_CATALOG_URL", index.display().to_string())]
}

/// Item 1: DEV_ALLOW_ANY on a network address hands the server's identity to
/// anyone who reaches the port (the Host allowlist is bypassed by sending
/// `Host: localhost`): refused unless asked for by its loud name.
#[tokio::test]
async fn dev_allow_any_on_the_network_needs_the_insecure_flag() {
    let addr = format!("0.0.0.0:{}", free_port());
    let stderr = refused_start(&["--http", &addr], &[]);
    assert!(
        stderr.contains(&format!("--http {addr} listens on {addr}"))
            && stderr.contains("--insecure-allow-any-on-network")
            && stderr.contains("DEV_ALLOW_ANY"),
        "{stderr}"
    );

    // Asked for by name (as the chart's ConfigMap does, through the environment): it serves,
    // and a client elsewhere passes the Host check by naming localhost, which the log admits.
    let work = tempfile::tempdir().unwrap();
    let mut env = catalog_env(work.path());
    env.push((
        "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK",
        "true".to_string(),
    ));
    let server = Server::start_on(work.path(), "0.0.0.0", &[], &env);
    let (status, body) = post_mcp(&server, initialize(), &[("host", "localhost")]).await;
    assert_eq!(status, 200, "{body}");
    let log = server.log_text();
    assert!(log.contains("INSECURE"), "{log}");
    assert!(
        !log.contains("every remote /mcp request would get 403"),
        "the log must not claim remote requests are refused:\n{log}"
    );
}

/// Item 7: OIDC_REQUIRED over plain HTTP on a network address would carry
/// bearer tokens in plaintext: refused unless TLS ends upstream.
#[tokio::test]
async fn oidc_over_plain_http_on_the_network_needs_tls() {
    let addr = format!("0.0.0.0:{}", free_port());
    let stderr = refused_start(&["--http", &addr, "--auth-mode", "OIDC_REQUIRED"], &[]);
    assert!(
        stderr.contains("OIDC_REQUIRED")
            && stderr.contains("unencrypted")
            && stderr.contains("--tls-terminated-upstream"),
        "{stderr}"
    );

    let work = tempfile::tempdir().unwrap();
    let mut env = catalog_env(work.path());
    env.extend([
        ("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".to_string()),
        ("K0RDENT_MCP_TLS_TERMINATED_UPSTREAM", "true".to_string()),
    ]);
    let server = Server::start_on(work.path(), "0.0.0.0", &[], &env);
    let (status, _) = post_mcp(&server, initialize(), &[]).await;
    assert_eq!(status, 401, "no token, no MCP");
}

/// Item 1: the MCP transport spec requires 403 for a present Origin the
/// server does not expect (a web page driving a local server).
#[tokio::test]
async fn a_foreign_origin_gets_403() {
    let work = tempfile::tempdir().unwrap();
    let env = catalog_env(work.path());
    let server = Server::start(work.path(), &[], &env);
    for (origin, expected) in [
        (Some("http://evil.example"), 403),
        (Some("https://localhost.evil.example"), 403),
        (Some("null"), 403),
        (Some("http://localhost:6274"), 200),
        (Some("https://127.0.0.1"), 200),
        (None, 200),
    ] {
        let headers: Vec<(&str, &str)> = origin.map(|o| ("origin", o)).into_iter().collect();
        let (status, body) = post_mcp(&server, initialize(), &headers).await;
        assert_eq!(status, expected, "Origin {origin:?}: {body}");
    }

    let named = Server::start(
        work.path(),
        &["--http-allowed-origins", "https://ui.example"],
        &env,
    );
    let (status, _) = post_mcp(&named, initialize(), &[("origin", "https://ui.example")]).await;
    assert_eq!(status, 200);
    let (status, _) = post_mcp(&named, initialize(), &[("origin", "http://localhost:6274")]).await;
    assert_eq!(status, 403, "only the named origins");

    let stderr = refused_start(
        &["--http", "1", "--http-allowed-origins", "ui.example"],
        &[],
    );
    assert!(
        stderr.contains("--http-allowed-origins entry \"ui.example\" is not an origin"),
        "{stderr}"
    );
}

/// One raw connection that sends a request line and then trickles header
/// lines, never finishing the headers. Returns when the server closes it.
fn slow_client(
    port: u16,
    give_up: Instant,
    connected: std::sync::mpsc::Sender<()>,
) -> Option<Duration> {
    let started = Instant::now();
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let wrote = tcp.write_all(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    let _ = connected.send(());
    if wrote.is_err() {
        return Some(started.elapsed());
    }
    let mut buf = [0u8; 512];
    while Instant::now() < give_up {
        match tcp.read(&mut buf) {
            // Closed, or a last answer (408) before closing: either way cut off.
            Ok(_) => return Some(started.elapsed()),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return Some(started.elapsed()),
        }
        if tcp.write_all(b"X-Slow: 1\r\n").is_err() {
            return Some(started.elapsed());
        }
    }
    None
}

/// Item 8: slowloris. Clients that never finish their headers are closed
/// after the header timeout; connections over the limit are closed on
/// arrival; a normal client is served meanwhile and afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_header_clients_are_cut_off_and_bounded() {
    let work = tempfile::tempdir().unwrap();
    let env = catalog_env(work.path());
    let server = Server::start(
        work.path(),
        &[
            // Long enough that the slots are still held while the checks below run
            // on a loaded machine; short enough to keep the test quick.
            "--http-header-timeout-seconds",
            "5",
            "--http-max-connections",
            "8",
        ],
        &env,
    );
    let port = server.port;
    let give_up = Instant::now() + Duration::from_secs(30);
    let (connected, slow_ready) = std::sync::mpsc::channel();
    let slow: Vec<_> = (0..6)
        .map(|_| {
            let connected = connected.clone();
            std::thread::spawn(move || slow_client(port, give_up, connected))
        })
        .collect();
    // Every slow client holds its slot before the checks (a loaded machine may start threads late).
    for _ in 0..6 {
        slow_ready.recv_timeout(Duration::from_secs(30)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));

    // Six slow clients hold six of eight slots: a normal client is still served.
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    // Fill the slots: connections over the limit are closed at once.
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    for _ in 0..3 {
        let mut extra = TcpStream::connect(("127.0.0.1", port)).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(1)))
            .unwrap();
        let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        let mut buf = [0u8; 64];
        match extra.read(&mut buf) {
            Ok(0) => {}
            Err(e) => assert!(
                !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
                "a connection over the limit was kept waiting: {e}"
            ),
            Ok(n) => panic!(
                "a connection over the limit was served: {}",
                String::from_utf8_lossy(&buf[..n])
            ),
        }
    }

    // Every slow client is cut off shortly after the 5 s header timeout.
    for client in slow {
        let closed_after = client
            .join()
            .unwrap()
            .expect("a slow client was still connected after 30 s");
        assert!(closed_after < Duration::from_secs(10), "{closed_after:?}");
    }
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    let health = http.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let metrics = http
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let refused: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("k0rdent_mcp_http_connections_refused_total "))
        .unwrap_or_else(|| panic!("no refused-connections counter:\n{metrics}"))
        .parse()
        .unwrap();
    assert!(refused >= 3.0, "{refused}");
}

/// How [`TestHost`] answers the next requests.
#[derive(Clone, Copy)]
enum Answer {
    Now,
    /// One request at a time, each after this long: a slow host.
    After(Duration),
    /// Accept the connection and never answer: a hung host.
    Never,
}

/// An HTTP host on 127.0.0.1 that answers every path with one body, as told.
struct TestHost {
    port: u16,
    body: Arc<Mutex<Vec<u8>>>,
    answer: Arc<Mutex<Answer>>,
    hits: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl TestHost {
    fn serve(body: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let host = TestHost {
            port: listener.local_addr().unwrap().port(),
            body: Arc::new(Mutex::new(body)),
            answer: Arc::new(Mutex::new(Answer::Now)),
            hits: Arc::new(AtomicUsize::new(0)),
            stop: Arc::new(AtomicBool::new(false)),
        };
        let (body, answer, hits, stop) = (
            host.body.clone(),
            host.answer.clone(),
            host.hits.clone(),
            host.stop.clone(),
        );
        std::thread::spawn(move || {
            let mut hung = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let Ok((stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                stream.set_nonblocking(false).unwrap();
                hits.fetch_add(1, Ordering::SeqCst);
                let how = *answer.lock().unwrap();
                match how {
                    Answer::Never => {
                        hung.push(stream);
                        continue;
                    }
                    Answer::After(delay) => std::thread::sleep(delay),
                    Answer::Now => {}
                }
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let body = body.lock().unwrap().clone();
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(&body);
            }
        });
        host
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn answer(&self, how: Answer) {
        *self.answer.lock().unwrap() = how;
    }

    fn set_body(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// Item 11e: /readyz answers from the last catalog read, promptly, while a
/// new read hangs on the catalog host.
#[tokio::test]
async fn readyz_answers_promptly_while_the_catalog_host_hangs() {
    let work = tempfile::tempdir().unwrap();
    let index = std::fs::read(write_index(work.path(), "oci://127.0.0.1:1/charts")).unwrap();
    let catalog = TestHost::serve(index);
    let location = catalog.url("/index.json");
    let server = Server::start(
        work.path(),
        &[],
        &[
            ("K0RDENT_MCP_CATALOG_URL", location.clone()),
            ("K0RDENT_MCP_CATALOG_TTL_SECONDS", "1".to_string()),
        ],
    );
    let http = reqwest::Client::new();
    let ready = |http: reqwest::Client, url: String| async move {
        let started = Instant::now();
        let response = http.get(url).send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
        (status, body, started.elapsed())
    };
    let (status, body, _) = ready(http.clone(), server.url("/readyz")).await;
    assert_eq!(status, 200, "{body}");

    catalog.answer(Answer::Never);
    std::thread::sleep(Duration::from_millis(1500));
    for _ in 0..3 {
        let (status, body, took) = ready(http.clone(), server.url("/readyz")).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["catalog"]["location"], location.as_str(), "{body}");
        assert!(took < Duration::from_secs(2), "/readyz took {took:?}");
    }
}

/// Item 11f: `x)|(.*` wrapped as `^(?:x)|(.*)$` would allow every namespace.
#[test]
fn a_namespace_filter_that_escapes_its_anchors_is_refused_at_start() {
    let stderr = refused_start(&["--namespace-filter", "x)|(.*"], &[]);
    assert!(
        stderr.contains("--namespace-filter \"x)|(.*\" is not a regular expression on its own")
            && stderr.contains("kcm-system|team-.*"),
        "{stderr}"
    );
}

/// SelfSubjectAccessReviews the audit log saw from `user`.
fn reviews_by(plane: &ControlPlane, user: &str) -> usize {
    let log = std::fs::read_to_string(plane.dir.path().join("audit.log")).unwrap_or_default();
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| {
            e["stage"] == "ResponseComplete"
                && e["objectRef"]["resource"] == "selfsubjectaccessreviews"
                && e["user"]["username"] == user
        })
        .count()
}

/// Item 6: OIDC_REQUIRED without --oidc-issuer once let any bearer string
/// call the tools that need no cluster (render pulls with the server's
/// registry credentials). Now the API server authenticates every token first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn made_up_tokens_are_refused_before_any_tool_runs() {
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let mut env = catalog_env(work.path());
    env.extend([
        ("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".to_string()),
        (
            "K0RDENT_MCP_KUBECONFIG",
            plane.kubeconfig.display().to_string(),
        ),
    ]);
    let server = Server::start(work.path(), &[], &env);
    let made_up = "Bearer not-a-token-of-this-cluster";
    for body in [initialize(), catalog_list()] {
        let (status, text) = post_mcp(&server, body, &[("authorization", made_up)]).await;
        assert_eq!(status, 401, "{text}");
        assert!(text.contains("does not accept this bearer token"), "{text}");
    }

    // A token the API server knows: served, and reviewed once for several calls.
    let (alice, user, _) = TEST_IDENTITIES[0];
    let bearer = format!("Bearer {alice}");
    for _ in 0..3 {
        let (status, text) = post_mcp(&server, catalog_list(), &[("authorization", &bearer)]).await;
        assert_eq!(status, 200, "{text}");
        assert!(text.contains("minio"), "{text}");
    }
    // The audit log is written as requests complete; give it a moment.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(reviews_by(&plane, user), 1);

    let log = server.log_text();
    assert!(!log.contains(alice) && !log.contains("not-a-token-of-this-cluster"));
}

/// A test identity provider: an RSA key made with openssl, its key set
/// served over HTTP, and tokens signed with it.
struct TestIdp {
    key: jsonwebtoken::EncodingKey,
    jwks: TestHost,
    modulus: String,
}

const ISSUER: &str = "https://idp.test.invalid";

impl TestIdp {
    fn start(dir: &std::path::Path) -> Option<Self> {
        k0rdent_test_harness::require_program("openssl", "apt-get install openssl")?;
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .current_dir(dir)
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "openssl {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        openssl(&["genrsa", "-traditional", "-out", "idp.pem", "2048"]);
        // PKCS#1 DER, the form jsonwebtoken signs with.
        openssl(&[
            "rsa",
            "-in",
            "idp.pem",
            "-traditional",
            "-outform",
            "DER",
            "-out",
            "idp.der",
        ]);
        let text = openssl(&["rsa", "-noout", "-modulus", "-in", "idp.pem"]);
        let hex_modulus = text.trim().strip_prefix("Modulus=").unwrap();
        use base64::Engine as _;
        let modulus = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(hex::decode(hex_modulus).unwrap());
        let key =
            jsonwebtoken::EncodingKey::from_rsa_der(&std::fs::read(dir.join("idp.der")).unwrap());
        let jwks = TestHost::serve(Vec::new());
        let idp = TestIdp { key, jwks, modulus };
        idp.publish("k1");
        Some(idp)
    }

    /// Serves the key set with the key under `kid`.
    fn publish(&self, kid: &str) {
        let set = json!({"keys": [{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": self.modulus, "e": "AQAB"}]});
        self.jwks.set_body(set.to_string().into_bytes());
    }

    fn token(&self, kid: &str, extra: Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({"iss": ISSUER, "sub": "agent", "iat": now, "exp": now + 600});
        for (k, v) in extra.as_object().unwrap() {
            claims[k] = v.clone();
        }
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(kid.to_string());
        jsonwebtoken::encode(&header, &claims, &self.key).unwrap()
    }
}

/// Item 6 with an issuer: a token for another service (it names an audience
/// while the server has none configured), a token not yet valid (`nbf`), and
/// a burst of tokens with an unknown key id, which must cause one key-set
/// fetch, not one per request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_checks_honour_audience_nbf_and_fetch_keys_once() {
    let work = tempfile::tempdir().unwrap();
    let Some(idp) = TestIdp::start(work.path()) else {
        return;
    };
    let mut env = catalog_env(work.path());
    env.extend([
        ("K0RDENT_MCP_AUTH_MODE", "OIDC_REQUIRED".to_string()),
        ("K0RDENT_MCP_OIDC_ISSUER", ISSUER.to_string()),
        ("K0RDENT_MCP_OIDC_JWKS_URL", idp.jwks.url("/jwks")),
    ]);
    let server = Server::start(work.path(), &[], &env);
    let call = |token: String| {
        let bearer = format!("Bearer {token}");
        let server = &server;
        async move {
            post_mcp(
                server,
                catalog_list(),
                &[("authorization", bearer.as_str())],
            )
            .await
        }
    };

    let (status, body) = call(idp.token("k1", json!({}))).await;
    assert_eq!(status, 200, "a token without an audience passes: {body}");

    let (status, body) = call(idp.token("k1", json!({"aud": "some-other-service"}))).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("--oidc-audience"), "{body}");

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (status, body) = call(idp.token("k1", json!({"nbf": now + 3600}))).await;
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("ImmatureSignature"), "{body}");

    // Sixteen requests at once with a key id the set lacks, from an issuer
    // that takes a second per answer: one fetch, not sixteen.
    std::thread::sleep(Duration::from_secs(11));
    idp.jwks.answer(Answer::After(Duration::from_secs(1)));
    let before = idp.jwks.hits();
    let burst = (0..16).map(|_| call(idp.token("k2", json!({}))));
    for (status, body) in futures::future::join_all(burst).await {
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("not in the issuer's key set"), "{body}");
    }
    assert_eq!(idp.jwks.hits() - before, 1);

    // Rotated: the new key id is published, and accepted once the set is refetched.
    idp.publish("k2");
    std::thread::sleep(Duration::from_secs(11));
    let (status, body) = call(idp.token("k2", json!({}))).await;
    assert_eq!(status, 200, "{body}");
}
