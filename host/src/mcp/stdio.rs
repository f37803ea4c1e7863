//! MCP over stdio with our own line framing in front of rmcp's service.
//!
//! rmcp's stdio reader skips lines that are not JSON and long lines without
//! a reply, and ends the whole server when a notification comes before
//! `initialize`. This transport reads bounded lines itself, answers every
//! message it cannot pass on with a JSON-RPC error ([`super::wire`]), and
//! answers a request sent before `initialize` with an error that says so.

use std::sync::Arc;

use rmcp::RoleServer;
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, GetMeta, ProtocolVersion, ServerJsonRpcMessage,
};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;

use super::wire::{self, Accepted, Rejection};
use crate::quote::quote;

/// Longest line read: the same bound as an HTTP request body.
pub const MAX_LINE_BYTES: usize = super::http::MAX_REQUEST_BODY_BYTES;

/// The transport on the process's own stdin and stdout.
pub fn transport() -> LineTransport<tokio::io::Stdin, tokio::io::Stdout> {
    LineTransport::new(tokio::io::stdin(), tokio::io::stdout(), MAX_LINE_BYTES)
}

pub struct LineTransport<R, W> {
    read: BufReader<R>,
    /// The line read so far. It lives here, not in `receive`, because rmcp
    /// polls `receive` inside a `select!` and may drop it mid-line.
    line: Vec<u8>,
    /// Dropping the rest of a line that was already too long.
    discarding: bool,
    max_line: usize,
    write: Arc<Mutex<W>>,
    started: bool,
}

enum Read {
    Line,
    TooLong,
    Eof,
}

impl<R, W> LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    pub fn new(read: R, write: W, max_line: usize) -> Self {
        LineTransport {
            read: BufReader::new(read),
            line: Vec::new(),
            discarding: false,
            max_line,
            write: Arc::new(Mutex::new(write)),
            started: false,
        }
    }

    /// One `\n`-terminated line into `self.line`, which never grows past
    /// `max_line`: the check comes before each append.
    async fn read_line(&mut self) -> std::io::Result<Read> {
        loop {
            let available = self.read.fill_buf().await?;
            if available.is_empty() {
                return Ok(Read::Eof);
            }
            let newline = available.iter().position(|b| *b == b'\n');
            let take = newline.map_or(available.len(), |at| at + 1);
            let mut outcome = None;
            if self.discarding {
                if newline.is_some() {
                    self.discarding = false;
                }
            } else if self.line.len() + take > self.max_line {
                self.line.clear();
                self.discarding = newline.is_none();
                outcome = Some(Read::TooLong);
            } else {
                self.line.extend_from_slice(&available[..take]);
                if newline.is_some() {
                    outcome = Some(Read::Line);
                }
            }
            self.read.consume(take);
            if let Some(outcome) = outcome {
                return Ok(outcome);
            }
        }
    }

    /// Writes an error reply from a task of its own: `receive` may be
    /// dropped at any await, and half a line on stdout would break framing.
    fn reply(&self, rejection: &Rejection) {
        let line = rejection.line();
        let write = self.write.clone();
        tokio::spawn(async move {
            let mut write = write.lock().await;
            if let Err(e) = async {
                write.write_all(&line).await?;
                write.flush().await
            }
            .await
            {
                tracing::warn!("cannot write an error reply to stdout: {e}");
            }
        });
    }

    /// Before the lifecycle starts, only `initialize`, `ping`,
    /// `server/discover` and requests that carry the 2026-07-28 per-request
    /// metadata are served; rmcp would answer others with an error about
    /// `_meta` and end the server on a notification.
    fn admit(&mut self, message: &ClientJsonRpcMessage) -> Result<bool, Rejection> {
        if self.started {
            return Ok(true);
        }
        let ClientJsonRpcMessage::Request(request) = message else {
            tracing::warn!("ignored a notification or response sent before initialize");
            return Ok(false);
        };
        match &request.request {
            ClientRequest::InitializeRequest(_) => self.started = true,
            ClientRequest::PingRequest(_) | ClientRequest::DiscoverRequest(_) => {}
            other => {
                let meta = other.get_meta();
                let inline = meta.protocol_version().is_some()
                    && meta
                        .missing_required_keys(&ProtocolVersion::V_2026_07_28)
                        .is_empty();
                if !inline {
                    return Err(Rejection::One {
                        code: wire::INVALID_REQUEST,
                        id: serde_json::to_value(&request.id).unwrap_or(Value::Null),
                        message: format!(
                            "{} was sent before initialize: send an `initialize` request first and wait for \
                             its result (protocol 2026-07-28 instead carries the protocol version, client \
                             info and capabilities in every request's _meta)",
                            quote(other.method())
                        ),
                    });
                }
                self.started = true;
            }
        }
        Ok(true)
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let write = self.write.clone();
        async move {
            let mut line = serde_json::to_vec(&item)?;
            line.push(b'\n');
            let mut write = write.lock().await;
            write.write_all(&line).await?;
            write.flush().await
        }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            match self.read_line().await {
                Ok(Read::Line) => {}
                Ok(Read::TooLong) => {
                    tracing::warn!(
                        limit = self.max_line,
                        "refused a message over the line limit"
                    );
                    self.reply(&wire::too_long(self.max_line));
                    continue;
                }
                Ok(Read::Eof) => return None,
                Err(e) => {
                    tracing::error!("cannot read stdin: {e}");
                    return None;
                }
            }
            let line = std::mem::take(&mut self.line);
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            // A blank line carries no message: newline-delimited framing
            // tolerates them, as rmcp does.
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let checked = wire::check(text).and_then(|accepted| match accepted {
                Accepted::Message(message) => Ok(self.admit(&message)?.then_some(*message)),
                Accepted::Ignored => Ok(None),
            });
            match checked {
                Ok(Some(message)) => return Some(message),
                Ok(None) => {}
                Err(rejection) => {
                    tracing::info!(reply = %rejection.response(), "answered a message that cannot be served");
                    self.reply(&rejection);
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.write.lock().await.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    /// Feeds `input` and returns what was passed on and what was answered.
    async fn run(input: &[u8], max_line: usize) -> (Vec<String>, Vec<Value>) {
        let (mut client, server_out) = tokio::io::duplex(1 << 20);
        let mut transport =
            LineTransport::new(std::io::Cursor::new(input.to_vec()), server_out, max_line);
        let mut passed = Vec::new();
        while let Some(message) = transport.receive().await {
            passed.push(match message {
                ClientJsonRpcMessage::Request(r) => r.request.method().to_string(),
                _ => "other".to_string(),
            });
        }
        // Let the reply tasks finish, then close the write side.
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        drop(transport);
        let mut out = String::new();
        client.read_to_string(&mut out).await.unwrap();
        let replies = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (passed, replies)
    }

    #[tokio::test]
    async fn bad_lines_are_answered_and_good_ones_pass() {
        let init = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
        let input = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\"}}\n{{oops\n\n{init}\n{}\n{{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}}\n",
            "x".repeat(400)
        );
        let (passed, replies) = run(input.as_bytes(), 300).await;
        assert_eq!(passed, ["initialize", "tools/list"]);
        let codes: Vec<(&Value, &Value)> = replies
            .iter()
            .map(|r| (&r["id"], &r["error"]["code"]))
            .collect();
        assert_eq!(
            codes,
            [
                (&Value::from(9), &Value::from(wire::INVALID_REQUEST)),
                (&Value::Null, &Value::from(wire::PARSE_ERROR)),
                (&Value::Null, &Value::from(wire::INVALID_REQUEST)),
            ]
        );
        assert!(
            replies[0]["error"]["message"]
                .as_str()
                .unwrap()
                .contains("before initialize")
        );
    }
}
