//! An HTTP/1.1 proxy between a process under test and the apiserver that
//! SIGKILLs the process at one chosen write: the crash-point harness.
//! Nothing in the product knows about it; the process just has a kubeconfig
//! whose server is this proxy (plain HTTP on loopback, so the proxy reads
//! the requests), and the proxy talks TLS to the apiserver, trusting the
//! test CA (kube-apiserver v1.20 no longer serves plain HTTP). The client's
//! bearer token passes through: the apiserver authenticates as usual.
//!
//! Every request is read whole (head, then a `Content-Length` or chunked
//! body) before it is forwarded, so requests on a keep-alive connection are
//! told apart. Mutating requests (POST, PUT, PATCH, DELETE) are offered to
//! a classifier that names the write points (it may leave some out, such as
//! dry runs or timer-driven lease renewals, whose position is not
//! deterministic). At write point `n`:
//!
//! - [`KillMode::Before`]: the process is killed before the request leaves;
//!   the apiserver never sees it.
//! - [`KillMode::After`]: the request is forwarded and the process is killed
//!   as soon as the apiserver's answer starts to arrive: the write is
//!   committed, the process never learns it.
//!
//! Then every connection is dropped. Without a kill point the proxy only
//! records the write points: that is how a test enumerates them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// A request head may not be larger than this; a body, not larger than
/// [`MAX_BODY`]. Beyond them the proxy fails loudly instead of guessing.
const MAX_HEAD: usize = 64 * 1024;
const MAX_BODY: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillMode {
    /// Kill before forwarding the write.
    Before,
    /// Forward the write, kill when its answer starts.
    After,
}

impl KillMode {
    pub fn as_str(self) -> &'static str {
        match self {
            KillMode::Before => "before",
            KillMode::After => "after",
        }
    }
}

/// A mutating request as the classifier sees it.
#[derive(Debug, Clone)]
pub struct WriteRequest {
    pub method: String,
    /// Path and query, as sent.
    pub target: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl WriteRequest {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    pub fn query(&self) -> &str {
        self.target
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or_default()
    }
}

/// Names a write point, or `None` for a mutating request that is not one.
pub type Classifier = Box<dyn Fn(&WriteRequest) -> Option<String> + Send + Sync>;

/// Where the proxy forwards to.
#[derive(Debug, Clone)]
pub enum Upstream {
    Plain(SocketAddr),
    /// TLS to `addr`, trusting the PEM certificates in `ca`.
    Tls {
        addr: SocketAddr,
        ca: PathBuf,
    },
}

trait Duplex: Read + Write + Send {}
impl<T: Read + Write + Send> Duplex for T {}

/// Reads wake up this often to let the request side write: both sides share
/// one (TLS) stream.
const READ_SLICE: Duration = Duration::from_millis(5);

impl Upstream {
    /// The connection and its raw socket (to shut it down).
    fn connect(&self) -> Result<(Box<dyn Duplex>, TcpStream), String> {
        let addr = match self {
            Upstream::Plain(a) | Upstream::Tls { addr: a, .. } => *a,
        };
        let mut tcp = TcpStream::connect(addr).map_err(|e| format!("connecting to {addr}: {e}"))?;
        let raw = tcp.try_clone().map_err(|e| e.to_string())?;
        let Upstream::Tls { ca, .. } = self else {
            tcp.set_read_timeout(Some(READ_SLICE))
                .map_err(|e| e.to_string())?;
            return Ok((Box::new(tcp), raw));
        };
        use rustls::pki_types::pem::PemObject;
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca)
            .map_err(|e| format!("reading {}: {e}", ca.display()))?
        {
            roots
                .add(cert.map_err(|e| format!("a certificate in {}: {e}", ca.display()))?)
                .map_err(|e| e.to_string())?;
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
        let mut connection =
            rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
        // Handshake now, blocking: later reads time out to share the stream.
        while connection.is_handshaking() {
            connection
                .complete_io(&mut tcp)
                .map_err(|e| format!("TLS handshake with {addr}: {e}"))?;
        }
        tcp.set_read_timeout(Some(READ_SLICE))
            .map_err(|e| e.to_string())?;
        Ok((Box::new(rustls::StreamOwned::new(connection, tcp)), raw))
    }
}

struct State {
    upstream: Upstream,
    classify: Classifier,
    kill_at: Option<(usize, KillMode)>,
    pid: Mutex<Option<u32>>,
    pid_set: Condvar,
    /// Names of the write points seen, in order.
    writes: Mutex<Vec<String>>,
    /// The write point the process was killed at.
    killed_at: Mutex<Option<String>>,
    dead: AtomicBool,
    /// The proxy was dropped: the accept loop ends.
    closed: AtomicBool,
    /// Open sockets (both sides), shut down when the process is killed.
    sockets: Mutex<Vec<TcpStream>>,
}

pub struct KillProxy {
    pub port: u16,
    state: Arc<State>,
}

impl KillProxy {
    /// Listens on 127.0.0.1 (plain HTTP) and forwards to `upstream`. With
    /// `kill_at` = `(n, mode)` the process set by [`Self::target`] is killed
    /// at write point `n` (1-based).
    pub fn start(
        upstream: Upstream,
        kill_at: Option<(usize, KillMode)>,
        classify: Classifier,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the kill proxy");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State {
            upstream,
            classify,
            kill_at,
            pid: Mutex::new(None),
            pid_set: Condvar::new(),
            writes: Mutex::new(Vec::new()),
            killed_at: Mutex::new(None),
            dead: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            sockets: Mutex::new(Vec::new()),
        });
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if shared.dead.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    if shared.closed.load(Ordering::SeqCst) {
                        return;
                    }
                    continue;
                }
                let state = shared.clone();
                std::thread::spawn(move || {
                    if let Err(e) = serve(&state, client)
                        && !state.dead.load(Ordering::SeqCst)
                    {
                        eprintln!("kill proxy: {e}");
                    }
                });
            }
        });
        KillProxy { port, state }
    }

    /// The process to kill (the one that talks through the proxy).
    pub fn target(&self, pid: u32) {
        *self.state.pid.lock().unwrap() = Some(pid);
        self.state.pid_set.notify_all();
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The write points seen so far, in order.
    pub fn writes(&self) -> Vec<String> {
        self.state.writes.lock().unwrap().clone()
    }

    /// The write point the process was killed at, once it was.
    pub fn killed_at(&self) -> Option<String> {
        self.state.killed_at.lock().unwrap().clone()
    }
}

impl Drop for KillProxy {
    fn drop(&mut self) {
        self.state.closed.store(true, Ordering::SeqCst);
        self.state.dead.store(true, Ordering::SeqCst);
        shut_all(&self.state);
        // Wakes the accept loop so it sees `closed` and ends.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn shut_all(state: &State) {
    for socket in state.sockets.lock().unwrap().drain(..) {
        let _ = socket.shutdown(Shutdown::Both);
    }
}

/// SIGKILLs the target, then drops every connection.
fn kill(state: &State, at: &str) {
    let pid = {
        let mut pid = state.pid.lock().unwrap();
        while pid.is_none() {
            let (guard, timeout) = state
                .pid_set
                .wait_timeout(pid, Duration::from_secs(30))
                .unwrap();
            pid = guard;
            assert!(
                !timeout.timed_out() || pid.is_some(),
                "kill proxy: no target process was set"
            );
        }
        pid.unwrap()
    };
    // Recorded first: whoever reaps the process may ask right after it dies.
    *state.killed_at.lock().unwrap() = Some(at.to_string());
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("running kill");
    assert!(status.success(), "kill -9 {pid} failed");
    // Only now: connections close once the process cannot see them close
    // (else it could fail on a dropped connection before the signal lands).
    state.dead.store(true, Ordering::SeqCst);
    shut_all(state);
}

/// Proxies one client connection: requests are parsed and forwarded by this
/// thread, answers copied back by another.
fn serve(state: &Arc<State>, client: TcpStream) -> Result<(), String> {
    let (upstream, raw_upstream) = state.upstream.connect()?;
    let upstream = Arc::new(Mutex::new(upstream));
    {
        let mut sockets = state.sockets.lock().unwrap();
        sockets.push(client.try_clone().map_err(|e| e.to_string())?);
        sockets.push(raw_upstream.try_clone().map_err(|e| e.to_string())?);
    }
    // Set when the request just forwarded is the `After` kill point.
    let kill_on_answer: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let answers = {
        let from = upstream.clone();
        let mut to = client.try_clone().map_err(|e| e.to_string())?;
        let (state, pending) = (state.clone(), kill_on_answer.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 16 * 1024];
            loop {
                if state.dead.load(Ordering::SeqCst) {
                    break;
                }
                let read = from.lock().unwrap().read(&mut buf);
                let n = match read {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        // Let the request side have the stream.
                        std::thread::sleep(Duration::from_millis(1));
                        continue;
                    }
                    Err(_) => break,
                };
                if let Some(at) = pending.lock().unwrap().take() {
                    kill(&state, &at);
                    return;
                }
                if state.dead.load(Ordering::SeqCst) || to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Both);
        })
    };
    let mut reader = BufReader::new(client.try_clone().map_err(|e| e.to_string())?);
    while let Some(request) = read_request(&mut reader)? {
        if state.dead.load(Ordering::SeqCst) {
            break;
        }
        let mut kill_after = None;
        if let Some(name) = request.write().and_then(|w| (state.classify)(&w)) {
            let number = {
                let mut writes = state.writes.lock().unwrap();
                writes.push(name.clone());
                writes.len()
            };
            match state.kill_at {
                Some((n, KillMode::Before)) if n == number => {
                    kill(state, &name);
                    break;
                }
                Some((n, KillMode::After)) if n == number => kill_after = Some(name),
                _ => {}
            }
        }
        // Armed before the first byte leaves: the answer cannot come earlier.
        if let Some(name) = kill_after {
            *kill_on_answer.lock().unwrap() = Some(name);
        }
        let sent = write_fully(&mut **upstream.lock().unwrap(), &request.raw);
        if sent.is_err() {
            break;
        }
    }
    let _ = raw_upstream.shutdown(Shutdown::Both);
    let _ = client.shutdown(Shutdown::Both);
    let _ = answers.join();
    Ok(())
}

/// `write_all` and flush, retrying what the shared stream's read timeout
/// may make a TLS write report.
fn write_fully(to: &mut dyn Duplex, mut bytes: &[u8]) -> std::io::Result<()> {
    let retry = |e: &std::io::Error| {
        matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock
                | std::io::ErrorKind::TimedOut
                | std::io::ErrorKind::Interrupted
        )
    };
    while !bytes.is_empty() {
        match to.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if retry(&e) => continue,
            Err(e) => return Err(e),
        }
    }
    loop {
        match to.flush() {
            Err(e) if retry(&e) => continue,
            other => return other,
        }
    }
}

#[derive(Debug)]
struct Request {
    method: String,
    target: String,
    content_type: String,
    /// Head and body exactly as received.
    raw: Vec<u8>,
    body: Vec<u8>,
}

impl Request {
    fn write(&self) -> Option<WriteRequest> {
        matches!(self.method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE").then(|| WriteRequest {
            method: self.method.clone(),
            target: self.target.clone(),
            content_type: self.content_type.clone(),
            body: self.body.clone(),
        })
    }
}

/// One whole request, or `None` at a clean end of the connection.
fn read_request(reader: &mut impl BufRead) -> Result<Option<Request>, String> {
    let mut raw = Vec::new();
    loop {
        let before = raw.len();
        let n = reader
            .read_until(b'\n', &mut raw)
            .map_err(|e| format!("reading a request head: {e}"))?;
        if n == 0 {
            return if raw.is_empty() {
                Ok(None)
            } else {
                Err("the connection ended inside a request head".into())
            };
        }
        if raw.len() > MAX_HEAD {
            return Err(format!("a request head exceeds {MAX_HEAD} bytes"));
        }
        if &raw[before..] == b"\r\n" && before > 0 {
            break;
        }
    }
    let head = String::from_utf8_lossy(&raw).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default().to_string(),
        parts.next().unwrap_or_default().to_string(),
    );
    let (mut length, mut chunked, mut content_type) = (None, false, String::new());
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| format!("bad Content-Length {value:?}"))?,
                )
            }
            "transfer-encoding" => {
                if !value.eq_ignore_ascii_case("chunked") {
                    return Err(format!("unsupported Transfer-Encoding {value:?}"));
                }
                chunked = true;
            }
            "content-type" => content_type = value.to_string(),
            "expect" => return Err(format!("unsupported Expect: {value}")),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        read_chunked(reader, &mut raw, &mut body)?;
    } else if let Some(length) = length {
        if length > MAX_BODY {
            return Err(format!(
                "a request body of {length} bytes exceeds {MAX_BODY}"
            ));
        }
        body.resize(length, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| format!("reading a request body: {e}"))?;
        raw.extend_from_slice(&body);
    }
    Ok(Some(Request {
        method,
        target,
        content_type,
        raw,
        body,
    }))
}

/// A chunked body: its raw bytes go to `raw`, the decoded ones to `body`.
fn read_chunked(
    reader: &mut impl BufRead,
    raw: &mut Vec<u8>,
    body: &mut Vec<u8>,
) -> Result<(), String> {
    let line = |reader: &mut dyn BufRead, raw: &mut Vec<u8>| -> Result<String, String> {
        let mut buf = Vec::new();
        reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| format!("reading a chunk: {e}"))?;
        if !buf.ends_with(b"\r\n") {
            return Err("the connection ended inside a chunked body".into());
        }
        raw.extend_from_slice(&buf);
        Ok(String::from_utf8_lossy(&buf[..buf.len() - 2]).into_owned())
    };
    loop {
        let size_line = line(reader, raw)?;
        let size = usize::from_str_radix(size_line.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_line:?}"))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !line(reader, raw)?.is_empty() {}
            return Ok(());
        }
        if body.len() + size > MAX_BODY {
            return Err(format!("a chunked request body exceeds {MAX_BODY} bytes"));
        }
        let mut chunk = vec![0u8; size + 2];
        reader
            .read_exact(&mut chunk)
            .map_err(|e| format!("reading a chunk: {e}"))?;
        if !chunk.ends_with(b"\r\n") {
            return Err("a chunk does not end with CRLF".into());
        }
        raw.extend_from_slice(&chunk);
        body.extend_from_slice(&chunk[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_alive_requests_are_split_by_content_length_and_chunks() {
        let wire =
            b"PUT /a HTTP/1.1\r\nContent-Length: 3\r\nContent-Type: application/json\r\n\r\nabc\
GET /b HTTP/1.1\r\n\r\n\
POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n2\r\n12\r\n0\r\n\r\n";
        let mut reader = BufReader::new(&wire[..]);
        let first = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(
            (first.method.as_str(), first.body.as_slice()),
            ("PUT", &b"abc"[..])
        );
        assert_eq!(first.content_type, "application/json");
        let second = read_request(&mut reader).unwrap().unwrap();
        assert_eq!((second.target.as_str(), second.body.len()), ("/b", 0));
        assert!(second.write().is_none());
        let third = read_request(&mut reader).unwrap().unwrap();
        assert_eq!(third.body, b"xyz12");
        assert!(third.raw.ends_with(b"0\r\n\r\n"));
        assert!(read_request(&mut reader).unwrap().is_none());
    }

    #[test]
    fn truncated_or_unsupported_requests_fail_loudly() {
        let mut cut = BufReader::new(&b"PUT /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"[..]);
        assert!(read_request(&mut cut).is_err());
        let mut gzip = BufReader::new(&b"POST /a HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"[..]);
        assert!(read_request(&mut gzip).unwrap_err().contains("gzip"));
    }
}
