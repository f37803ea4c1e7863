//! `/mcp` POST bodies checked before rmcp reads them: rmcp answers a body
//! that is not a JSON-RPC message with a plain-text 415, which no client
//! can tell from a wrong Content-Type. Here such a body gets 400 and a
//! JSON-RPC error ([`crate::mcp::wire`]); good bodies pass on unchanged.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::MAX_REQUEST_BODY_BYTES;
use crate::mcp::wire::{self, Accepted, Rejection};

pub async fn check(request: Request, next: Next) -> Response {
    // A wrong Content-Type keeps rmcp's 415: that one is about the header.
    if request.method() != Method::POST || !is_json(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    // The outer RequestBodyLimitLayer refuses a too-long Content-Length;
    // this bound also stops a chunked body that never ends.
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_REQUEST_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return reply(
                StatusCode::PAYLOAD_TOO_LARGE,
                &wire::too_long(MAX_REQUEST_BODY_BYTES),
            );
        }
    };
    match wire::check(&bytes) {
        Ok(Accepted::Message(_)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        // JSON-RPC gives a notification no answer; 202 is what MCP's
        // streamable HTTP sends for an accepted one.
        Ok(Accepted::Ignored) => StatusCode::ACCEPTED.into_response(),
        Err(rejection) => reply(StatusCode::BAD_REQUEST, &rejection),
    }
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

fn reply(status: StatusCode, rejection: &Rejection) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        rejection.response().to_string(),
    )
        .into_response()
}
