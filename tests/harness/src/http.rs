//! A tiny HTTP/1.1 server on 127.0.0.1 that serves one body (a test catalog
//! index), answers 404 elsewhere, and can be stopped to simulate an outage.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

pub struct StaticServer {
    pub port: u16,
    path: String,
    body: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    /// Requests served so far.
    pub hits: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl StaticServer {
    pub fn serve(path: &str, body: Vec<u8>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binding the test HTTP server");
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let body = Arc::new(Mutex::new(body));
        let stop = Arc::new(AtomicBool::new(false));
        let hits = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (path, body, stop, hits) =
                (path.to_string(), body.clone(), stop.clone(), hits.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(false).ok();
                            hits.fetch_add(1, Ordering::SeqCst);
                            answer(stream, &path, &body.lock().unwrap());
                        }
                        Err(_) => std::thread::sleep(std::time::Duration::from_millis(5)),
                    }
                }
            })
        };
        StaticServer {
            port,
            path: path.to_string(),
            body,
            stop,
            hits,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}{}", self.port, self.path)
    }

    pub fn set_body(&self, body: Vec<u8>) {
        *self.body.lock().unwrap() = body;
    }

    /// Stops listening; the port refuses connections afterwards.
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Reads one request's line and drains its headers; `None` when the client
/// sent nothing readable.
pub fn read_request_line(stream: &std::net::TcpStream) -> Option<String> {
    let mut reader = BufReader::new(stream.try_clone().expect("cloning the stream"));
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    Some(request_line)
}

fn answer(stream: std::net::TcpStream, path: &str, body: &[u8]) {
    let Some(request_line) = read_request_line(&stream) else {
        return;
    };
    let requested = request_line.split_whitespace().nth(1).unwrap_or("");
    let mut stream = stream;
    if requested == path {
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(body);
    } else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}
