//! The release payload: Helm's `encodeRelease`/`decodeRelease` of the Secret
//! driver. Write: release JSON → gzip (best compression) → standard base64
//! text. Read: base64 → gunzip only if the bytes start with the gzip magic
//! (releases stored before compression was introduced are plain JSON) → JSON.
//!
//! The payload is the *bytes* of the Secret's `data.release`; the Kubernetes
//! API then base64-encodes those bytes once more in the Secret's JSON form
//! (see `secret.rs`).

use std::io::{Read, Write};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use super::go_json::to_go_json;
use super::record::ReleaseRecord;

/// Largest release JSON accepted when decoding, so a small gzip bomb in a
/// Secret cannot exhaust memory. Real records are kilobytes to a few MiB.
pub const MAX_RELEASE_JSON_BYTES: u64 = 64 * 1024 * 1024;

const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("release payload is not valid base64: {0}")]
    Base64(#[from] base64::DecodeError),
    #[error("release payload is not valid gzip: {0}")]
    Gzip(std::io::Error),
    #[error("release JSON is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("release JSON does not decode as a Helm release: {0}")]
    Json(serde_json::Error),
    #[error("cannot encode release: {0}")]
    Encode(String),
}

/// The release as `json.Marshal` writes it.
pub fn encode_release_json(record: &ReleaseRecord) -> Result<Vec<u8>, CodecError> {
    to_go_json(record).map_err(|e| CodecError::Encode(e.to_string()))
}

pub fn decode_release_json(json: &[u8]) -> Result<ReleaseRecord, CodecError> {
    if json.len() as u64 > MAX_RELEASE_JSON_BYTES {
        return Err(CodecError::TooLarge {
            limit: MAX_RELEASE_JSON_BYTES,
        });
    }
    serde_json::from_slice(json).map_err(CodecError::Json)
}

/// Helm's `encodeRelease`: the text Helm stores as the bytes of `data.release`.
pub fn encode_release_payload(record: &ReleaseRecord) -> Result<String, CodecError> {
    let json = encode_release_json(record)?;
    // flate2 writes the same header as Go (mtime 0, XFL 2 for best, OS 255).
    let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
    gzip.write_all(&json)
        .and_then(|()| gzip.finish())
        .map(|compressed| BASE64.encode(compressed))
        .map_err(|e| CodecError::Encode(format!("gzip: {e}")))
}

/// Helm's `decodeRelease`, bounded by [`MAX_RELEASE_JSON_BYTES`].
pub fn decode_release_payload(payload: &[u8]) -> Result<ReleaseRecord, CodecError> {
    // Go's base64 decoder skips line breaks; do the same.
    let compact: Vec<u8> = payload
        .iter()
        .copied()
        .filter(|b| *b != b'\n' && *b != b'\r')
        .collect();
    let bytes = BASE64.decode(compact)?;
    // Helm tests `len(b) > 3` before looking for the magic.
    if bytes.len() > 3 && bytes.starts_with(&GZIP_MAGIC) {
        decode_release_json(&gunzip_bounded(&bytes)?)
    } else {
        decode_release_json(&bytes)
    }
}

fn gunzip_bounded(compressed: &[u8]) -> Result<Vec<u8>, CodecError> {
    let mut json = Vec::new();
    // Multi-member like Go's gzip.Reader; read one byte past the limit to
    // tell "exactly at the limit" from "over it".
    MultiGzDecoder::new(compressed)
        .take(MAX_RELEASE_JSON_BYTES + 1)
        .read_to_end(&mut json)
        .map_err(CodecError::Gzip)?;
    if json.len() as u64 > MAX_RELEASE_JSON_BYTES {
        return Err(CodecError::TooLarge {
            limit: MAX_RELEASE_JSON_BYTES,
        });
    }
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::release::Status;

    fn sample() -> ReleaseRecord {
        let mut record: ReleaseRecord = serde_json::from_str(
            r#"{"name":"r","info":{"status":"deployed"},"version":3,"namespace":"ns"}"#,
        )
        .unwrap();
        record.manifest = "---\n# Source: c/templates/a.yaml\na: <b>\n".into();
        record
    }

    #[test]
    fn payload_is_base64_of_gzip_with_gos_header() {
        let payload = encode_release_payload(&sample()).unwrap();
        // Go's gzip header for BestCompression, as in Helm's Secrets.
        assert!(payload.starts_with("H4sIAAAAAAAC/"), "{payload}");
        assert_eq!(
            decode_release_payload(payload.as_bytes()).unwrap(),
            sample()
        );
    }

    #[test]
    fn plain_json_payloads_from_before_compression_are_read() {
        let json = encode_release_json(&sample()).unwrap();
        let payload = BASE64.encode(&json);
        let record = decode_release_payload(payload.as_bytes()).unwrap();
        assert_eq!(record.status(), Some(Status::Deployed));
        assert_eq!(record.version, 3);
    }

    #[test]
    fn wrapped_base64_is_accepted_like_go() {
        let payload = encode_release_payload(&sample()).unwrap();
        let wrapped: String = payload
            .as_bytes()
            .chunks(60)
            .map(|c| format!("{}\r\n", std::str::from_utf8(c).unwrap()))
            .collect();
        assert_eq!(
            decode_release_payload(wrapped.as_bytes()).unwrap(),
            sample()
        );
    }

    #[test]
    fn errors_say_which_layer_is_broken() {
        let err = decode_release_payload(b"not base64!").unwrap_err();
        assert!(err.to_string().contains("not valid base64"), "{err}");

        let truncated = BASE64.encode([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 2, 0xff, 1, 2]);
        let err = decode_release_payload(truncated.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("not valid gzip"), "{err}");

        let err = decode_release_payload(BASE64.encode("[1,2]").as_bytes()).unwrap_err();
        assert!(
            err.to_string()
                .contains("does not decode as a Helm release"),
            "{err}"
        );

        let bad_status = BASE64.encode(r#"{"info":{"status":"exploded"}}"#);
        let err = decode_release_payload(bad_status.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("exploded"), "{err}");
    }

    #[test]
    fn a_gzip_bomb_stops_at_the_limit() {
        // 65 MiB of spaces compresses to ~65 KiB.
        let mut gzip = GzEncoder::new(Vec::new(), Compression::best());
        let block = vec![b' '; 1024 * 1024];
        for _ in 0..65 {
            gzip.write_all(&block).unwrap();
        }
        let payload = BASE64.encode(gzip.finish().unwrap());
        let err = decode_release_payload(payload.as_bytes()).unwrap_err();
        assert!(matches!(err, CodecError::TooLarge { .. }), "{err}");
    }
}
