//! What a client sends, checked before rmcp parses it. rmcp drops unparsable
//! stdio lines without a word and answers a bad HTTP body with a plain-text
//! 415, so a client never learns why it got no answer; here every message
//! that cannot be served gets a JSON-RPC error that says what was wrong.
//!
//! JSON-RPC batches (arrays) are refused on every protocol version: only
//! 2025-03-26 had them, and this server does not offer that version (see
//! [`super::server`]'s `supported_protocol_versions`).

use rmcp::model::ClientJsonRpcMessage;
use serde_json::{Value, json};

use crate::quote::quote;

/// JSON-RPC 2.0: the message is not valid JSON.
pub const PARSE_ERROR: i32 = -32700;
/// JSON-RPC 2.0: valid JSON, but not a request, notification or response.
pub const INVALID_REQUEST: i32 = -32600;

/// Why a message is not passed on, as the JSON-RPC error(s) to answer with.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// One error; `id` is the message's id when it could be read, else null.
    One {
        code: i32,
        id: Value,
        message: String,
    },
    /// A batch: one error per request in it, so no request goes unanswered.
    Batch(Vec<Value>),
}

impl Rejection {
    fn one(code: i32, id: Value, message: impl Into<String>) -> Self {
        Rejection::One {
            code,
            id,
            message: message.into(),
        }
    }

    /// The JSON-RPC response to write back (an array for a batch).
    pub fn response(&self) -> Value {
        match self {
            Rejection::One { code, id, message } => error_response(*code, id, message),
            Rejection::Batch(errors) => Value::Array(errors.clone()),
        }
    }

    /// The response as one line of JSON, newline included (stdio framing).
    pub fn line(&self) -> Vec<u8> {
        let mut line = self.response().to_string().into_bytes();
        line.push(b'\n');
        line
    }
}

pub fn error_response(code: i32, id: &Value, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The error for a message longer than `limit` bytes; its id is unknown.
pub fn too_long(limit: usize) -> Rejection {
    Rejection::one(
        INVALID_REQUEST,
        Value::Null,
        format!(
            "message longer than the {limit}-byte limit, not read; fix: send smaller requests (tool arguments are small)"
        ),
    )
}

/// What became of a message that is not rejected.
#[derive(Debug)]
pub enum Accepted {
    Message(Box<ClientJsonRpcMessage>),
    /// A notification that is not an MCP one (an LSP `$/…`, say): it gets
    /// no answer, by JSON-RPC's rules.
    Ignored,
}

/// Parses one message (a stdio line or an HTTP body).
pub fn check(bytes: &[u8]) -> Result<Accepted, Rejection> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Rejection::one(
            PARSE_ERROR,
            Value::Null,
            "parse error: the message is empty; fix: send one JSON-RPC 2.0 object",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        Rejection::one(
            PARSE_ERROR,
            Value::Null,
            format!(
                "parse error: not valid JSON ({e}): {}; fix: send one JSON-RPC 2.0 object as JSON",
                crate::quote::quote_bytes(bytes)
            ),
        )
    })?;
    let object = match value {
        Value::Object(object) => object,
        Value::Array(items) => return Err(batch(&items)),
        other => {
            return Err(Rejection::one(
                INVALID_REQUEST,
                Value::Null,
                format!(
                    "invalid request: a JSON-RPC message is an object, not {}; fix: send {{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": …}}",
                    kind(&other)
                ),
            ));
        }
    };
    let id = match object.get("id") {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    };
    if object.get("jsonrpc") != Some(&json!("2.0")) {
        let got = match object.get("jsonrpc") {
            None => "it is missing".to_string(),
            Some(Value::String(s)) => format!("got {}", quote(s)),
            Some(other) => format!("got {}", kind(other)),
        };
        return Err(Rejection::one(
            INVALID_REQUEST,
            id,
            format!(
                "invalid request: \"jsonrpc\" must be \"2.0\" ({got}); fix: add \"jsonrpc\": \"2.0\""
            ),
        ));
    }
    let is_notification = !object.contains_key("id") && object.contains_key("method");
    let method = object
        .get("method")
        .and_then(Value::as_str)
        .map(str::to_string);
    match serde_json::from_value::<ClientJsonRpcMessage>(Value::Object(object)) {
        Ok(message) => Ok(Accepted::Message(Box::new(message))),
        // JSON-RPC forbids answering a notification; rmcp ignores the ones
        // MCP does not define (LSP bridges send `$/…`), and so do we.
        Err(_) if is_notification => Ok(Accepted::Ignored),
        Err(e) => Err(Rejection::one(
            INVALID_REQUEST,
            id,
            format!(
                "invalid request{}: {}; fix: send a JSON-RPC 2.0 request, notification or response as the MCP specification defines it",
                method
                    .map(|m| format!(" {}", quote(&m)))
                    .unwrap_or_default(),
                quote(&e.to_string()),
            ),
        )),
    }
}

/// A batch is refused request by request: each request in it gets its own
/// error under its own id, so a client waiting on one is answered.
fn batch(items: &[Value]) -> Rejection {
    let message = "invalid request: JSON-RPC batches are not supported (MCP 2025-06-18 and later removed them, \
                   and this server does not offer 2025-03-26); fix: send each message on its own";
    let errors: Vec<Value> = items
        .iter()
        .filter_map(|item| match item.get("id") {
            Some(id @ (Value::String(_) | Value::Number(_))) => {
                Some(error_response(INVALID_REQUEST, id, message))
            }
            _ => None,
        })
        .collect();
    if errors.is_empty() {
        // An empty batch, or one of notifications only: JSON-RPC answers a
        // single error, and silence would hide the refusal.
        return Rejection::one(INVALID_REQUEST, Value::Null, message);
    }
    Rejection::Batch(errors)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(bytes: &[u8]) -> (i32, Value, String) {
        match check(bytes) {
            Err(Rejection::One { code, id, message }) => (code, id, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unparsable_and_empty_messages_are_parse_errors() {
        for bad in [
            &b""[..],
            b"  ",
            b"{",
            b"{\"jsonrpc\": \"2.0\",}",
            b"\xff\xfe",
        ] {
            let (code, id, message) = rejected(bad);
            assert_eq!((code, id), (PARSE_ERROR, Value::Null), "{bad:?}");
            assert!(message.contains("fix:"), "{message}");
        }
    }

    #[test]
    fn values_that_are_not_messages_are_invalid_requests() {
        for (bad, says) in [
            (&b"42"[..], "not a number"),
            (b"\"x\"", "not a string"),
            (b"null", "not null"),
            (b"{\"id\": 7, \"method\": \"ping\"}", "it is missing"),
            (
                b"{\"jsonrpc\": \"1.0\", \"id\": 7, \"method\": \"ping\"}",
                "got \"1.0\"",
            ),
        ] {
            let (code, _, message) = rejected(bad);
            assert_eq!(code, INVALID_REQUEST, "{message}");
            assert!(message.contains(says), "{message}");
        }
        let (_, id, _) = rejected(b"{\"jsonrpc\": \"1.0\", \"id\": 7, \"method\": \"ping\"}");
        assert_eq!(id, json!(7), "the id is answered when it can be read");
    }

    #[test]
    fn a_batch_answers_every_request_in_it() {
        let batch = br#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"notifications/initialized"},{"jsonrpc":"2.0","id":"b","method":"ping"}]"#;
        let Err(Rejection::Batch(errors)) = check(batch) else {
            panic!()
        };
        let ids: Vec<&Value> = errors.iter().map(|e| &e["id"]).collect();
        assert_eq!(ids, [&json!(1), &json!("b")]);
        assert_eq!(errors[0]["error"]["code"], INVALID_REQUEST);
        let (code, id, message) = rejected(b"[]");
        assert_eq!((code, id), (INVALID_REQUEST, Value::Null));
        assert!(message.contains("batches are not supported"), "{message}");
    }

    #[test]
    fn good_messages_pass_and_errors_stay_short() {
        assert!(matches!(
            check(b"\xEF\xBB\xBF{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\r\n"),
            Ok(Accepted::Message(_))
        ));
        let huge = format!(
            "{{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": {{\"x\": \"{}\"",
            "a".repeat(100_000)
        );
        let (_, _, message) = rejected(huge.as_bytes());
        assert!(message.len() < 600, "{}", message.len());
        let line = too_long(10).line();
        assert!(line.ends_with(b"\n"));
    }
}
