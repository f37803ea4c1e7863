//! Cancelling a call stops its work at once. The app's chart lives on a registry that accepts connections and
//! never answers (so the pre-flight pull hangs, as it does on a black-holed network, until the HTTP client's
//! own timeout of a minute): a render cancelled over stdio with `notifications/cancelled`, a render over HTTP
//! whose client drops the connection, and an install (against a real apiserver) cancelled during its pull.
//! Each time the server's connections to that registry must close within a second of the cancel, no new one
//! may open, the server must answer the next call at once, and the cancelled install must write nothing.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k0rdent_test_harness::cluster::ControlPlane;
use serde_json::{Value, json};

mod support;
use support::{RawStdio, Server, offline_env, write_index};

/// The goal (issue #15): the work stops within a second of the cancel.
const STOP_WITHIN: Duration = Duration::from_secs(1);

/// One connection the server opened to the registry: when, and when it closed.
#[derive(Clone, Copy, Debug)]
struct Connection {
    opened: Instant,
    closed: Option<Instant>,
}

/// A registry that accepts TCP connections and never says a word: a TLS
/// handshake or an HTTP request to it waits forever.
struct SilentRegistry {
    port: u16,
    connections: Arc<Mutex<Vec<Connection>>>,
}

impl SilentRegistry {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections: Arc<Mutex<Vec<Connection>>> = Arc::default();
        let seen = connections.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let index = {
                    let mut seen = seen.lock().unwrap();
                    seen.push(Connection {
                        opened: Instant::now(),
                        closed: None,
                    });
                    seen.len() - 1
                };
                let seen = seen.clone();
                std::thread::spawn(move || swallow_until_closed(stream, index, &seen));
            }
        });
        SilentRegistry { port, connections }
    }

    fn repository(&self) -> String {
        format!("oci://127.0.0.1:{}/charts", self.port)
    }

    fn snapshot(&self) -> Vec<Connection> {
        self.connections.lock().unwrap().clone()
    }

    /// Waits until the server has connected (its pull is under way).
    fn wait_for_a_connection(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.snapshot().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the server never connected to the registry"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Let the request get well into its wait.
        std::thread::sleep(Duration::from_millis(300));
    }

    /// How long after `cancelled` the last connection closed; panics, naming
    /// the connections, if one is still open after a few seconds or one was
    /// opened after the cancel.
    fn time_to_stop(&self, cancelled: Instant, what: &str) -> Duration {
        let deadline = cancelled + Duration::from_secs(5);
        loop {
            let connections = self.snapshot();
            if connections.iter().all(|c| c.closed.is_some()) {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: a connection to the registry is still open 5 s after the cancel: {connections:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        // A retry would open a new connection; none may.
        std::thread::sleep(Duration::from_millis(1500));
        let connections = self.snapshot();
        let late: Vec<_> = connections
            .iter()
            .filter(|c| c.opened > cancelled + Duration::from_millis(50))
            .collect();
        assert!(
            late.is_empty(),
            "{what}: connections opened after the cancel: {late:?}"
        );
        let last = connections
            .iter()
            .filter_map(|c| c.closed)
            .max()
            .expect("at least one connection");
        let stop = last.saturating_duration_since(cancelled);
        eprintln!("{what}: registry connections closed {stop:?} after the cancel");
        stop
    }
}

fn swallow_until_closed(mut stream: TcpStream, index: usize, seen: &Mutex<Vec<Connection>>) {
    let mut buffer = [0u8; 4096];
    while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
    seen.lock().unwrap()[index].closed = Some(Instant::now());
}

fn initialize() -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "mcp-cancel-test", "version": "1"}}})
    .to_string()
    .into_bytes()
}

fn call(id: u64, tool: &str, arguments: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
    .to_string()
    .into_bytes()
}

fn cancel(id: u64) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": id, "reason": "the user gave up"}})
    .to_string()
    .into_bytes()
}

const RENDER: &str = "k0rdent.mgmt.serviceTemplates.render";
const INSTALL: &str = "k0rdent.mgmt.serviceTemplates.install_from_catalog";
const MINIO: (&str, &str) = ("minio", "14.1.2");

fn minio(extra: Value) -> Value {
    let mut arguments = json!({"app": MINIO.0, "template": MINIO.0, "version": MINIO.1});
    arguments
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    arguments
}

/// Sends `request` (id 2), cancels it once its pull hangs, and checks that the
/// work stopped and that the server answers the next call (id 3) at once.
fn cancel_over_stdio(stdio: &mut RawStdio, registry: &SilentRegistry, request: &[u8], what: &str) {
    stdio.send(request);
    // The call must reach the pull; an early answer means it never did.
    let deadline = Instant::now() + Duration::from_secs(60);
    while registry.snapshot().is_empty() {
        if let Some(reply) = stdio.try_reply(Duration::from_millis(20)) {
            panic!("{what}: answered before it reached the registry: {reply}");
        }
        assert!(
            Instant::now() < deadline,
            "{what}: the server never connected to the registry"
        );
    }
    registry.wait_for_a_connection();
    let cancelled = Instant::now();
    stdio.send(&cancel(2));
    let stop = registry.time_to_stop(cancelled, what);
    assert!(
        stop < STOP_WITHIN,
        "{what}: stopped {stop:?} after the cancel"
    );

    let asked = Instant::now();
    stdio.send(&call(3, "k0rdent.plugins.list", json!({})));
    loop {
        let reply = stdio.reply();
        if reply["id"] == 3 {
            assert!(
                reply["result"]["structuredContent"]["plugins"].is_array(),
                "{reply}"
            );
            break;
        }
        // A cancelled request may still be answered; it must then say so.
        if reply["id"] == 2 {
            let text = reply.to_string();
            assert!(text.contains("cancelled"), "{what}: {text}");
        }
    }
    let answered = asked.elapsed();
    assert!(
        answered < Duration::from_secs(5),
        "{what}: the next call took {answered:?}"
    );
}

#[test]
fn a_cancelled_render_stops_pulling_at_once_over_stdio() {
    let work = tempfile::tempdir().unwrap();
    let registry = SilentRegistry::start();
    let index = write_index(work.path(), &registry.repository());
    let mut stdio = RawStdio::start(work.path(), &["--catalog-url", index.to_str().unwrap()]);
    stdio.ask(&initialize());
    stdio.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    cancel_over_stdio(
        &mut stdio,
        &registry,
        &call(2, RENDER, minio(json!({}))),
        "render over stdio",
    );
}

#[test]
fn a_render_whose_http_client_hangs_up_stops_pulling_at_once() {
    let work = tempfile::tempdir().unwrap();
    let registry = SilentRegistry::start();
    let index = write_index(work.path(), &registry.repository());
    let mut env = offline_env(work.path());
    env.push(("K0RDENT_MCP_CATALOG_URL", index.display().to_string()));
    let server = Server::start(work.path(), &[], &env);

    let connection = post(server.port, &call(2, RENDER, minio(json!({}))));
    registry.wait_for_a_connection();
    let hung_up = Instant::now();
    connection.shutdown(std::net::Shutdown::Both).unwrap();
    drop(connection);
    let stop = registry.time_to_stop(hung_up, "render over HTTP, client hung up");
    assert!(stop < STOP_WITHIN, "stopped {stop:?} after the hang-up");

    // The server still answers at once.
    let asked = Instant::now();
    let mut connection = post(server.port, &call(3, "k0rdent.plugins.list", json!({})));
    let mut reply = String::new();
    connection.read_to_string(&mut reply).unwrap();
    assert!(reply.contains("kgst-validator"), "{reply}");
    assert!(asked.elapsed() < Duration::from_secs(5));
}

/// A stateless MCP POST of `body` on a connection of its own, left open.
fn post(port: u16, body: &[u8]) -> TcpStream {
    let mut connection = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        connection,
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n\
         accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-11-25\r\n\
         connection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    connection.write_all(body).unwrap();
    connection
}

#[test]
fn an_install_cancelled_during_its_pull_writes_nothing() {
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let registry = SilentRegistry::start();
    let index = write_index(work.path(), &registry.repository());
    let mut stdio = RawStdio::start(
        work.path(),
        &[
            "--catalog-url",
            index.to_str().unwrap(),
            "--kubeconfig",
            plane.kubeconfig.to_str().unwrap(),
            "--namespace-filter",
            "default",
        ],
    );
    stdio.ask(&initialize());
    stdio.send(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    cancel_over_stdio(
        &mut stdio,
        &registry,
        &call(2, INSTALL, minio(json!({"namespace": "default"}))),
        "install over stdio",
    );
    let written = plane.kubectl(&[
        "get",
        "secrets,helmrepositories,servicetemplates,jobs",
        "-n",
        "default",
        "-o",
        "name",
    ]);
    let ours: Vec<&str> = written
        .lines()
        .filter(|l| !l.contains("default-token"))
        .collect();
    assert!(ours.is_empty(), "the cancelled install wrote: {ours:?}");
}
