//! Serialization and digests: Helm's YAML/JSON/TOML helpers and Sprig's
//! base64/base32/hash functions. Helm's non-`must` encoders swallow errors
//! (returning `""` or an `Error` key) — mirrored here.

use sha2::Digest;

use super::{FuncDef, Param::*, fixed, s};
use crate::value::{Map, Value};
use crate::{json, toml, yaml};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        // Helm marshals through encoding/json, which refuses complex numbers.
        "toYaml" => fixed(&[Any], |a| {
            Ok(Value::string(if a[0].contains_complex() {
                String::new()
            } else {
                yaml::to_yaml(&a[0]).trim_end_matches('\n').to_string()
            }))
        }),
        "mustToYaml" => fixed(&[Any], |a| {
            if a[0].contains_complex() {
                return Err(format!(
                    "error marshaling into JSON: {}",
                    json::UNSUPPORTED_COMPLEX
                ));
            }
            Ok(Value::string(
                yaml::to_yaml(&a[0]).trim_end_matches('\n').to_string(),
            ))
        }),
        "toYamlPretty" => fixed(&[Any], |a| {
            if a[0].contains_complex() {
                return Err("cannot marshal type: complex128".into());
            }
            Ok(Value::string(
                yaml::to_yaml_pretty(&a[0])
                    .trim_end_matches('\n')
                    .to_string(),
            ))
        }),
        "fromYaml" => fixed(&[Str], |a| {
            Ok(match yaml::parse_document(s(a, 0)) {
                Ok(Value::Map(m)) => Value::Map(m),
                Ok(Value::Nil) => Value::map(Map::new()),
                Ok(other) => error_map(&format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&other)
                )),
                Err(e) => error_map(&e),
            })
        }),
        "fromYamlArray" => fixed(&[Str], |a| {
            Ok(match yaml::parse_document(s(a, 0)) {
                Ok(Value::List(l)) => Value::List(l),
                Ok(Value::Nil) => Value::list(Vec::new()),
                Ok(other) => Value::list(vec![Value::string(format!(
                    "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {} into Go value of type []interface {{}}",
                    json_kind(&other)
                ))]),
                Err(e) => Value::list(vec![Value::string(e)]),
            })
        }),
        // Sprig's toJson/toPrettyJson print "" when encoding fails; the must- forms and Helm's
        // own toRawJson fail the call.
        "toJson" => fixed(&[Any], |a| {
            Ok(Value::string(
                json::encode(&a[0], true, None).unwrap_or_default(),
            ))
        }),
        "toPrettyJson" => fixed(&[Any], |a| {
            Ok(Value::string(
                json::encode(&a[0], true, Some("  ")).unwrap_or_default(),
            ))
        }),
        "mustToJson" => fixed(&[Any], |a| {
            Ok(Value::string(json::encode(&a[0], true, None)?))
        }),
        "toRawJson" | "mustToRawJson" => fixed(&[Any], |a| {
            Ok(Value::string(json::encode(&a[0], false, None)?))
        }),
        "mustToPrettyJson" => fixed(&[Any], |a| {
            Ok(Value::string(json::encode(&a[0], true, Some("  "))?))
        }),
        "fromJson" | "mustFromJson" => fixed(&[Str], |a| {
            Ok(match serde_json::from_str::<serde_json::Value>(s(a, 0)) {
                Ok(v @ serde_json::Value::Object(_)) => crate::value::from_json_go(&v),
                Ok(other) => error_map(&format!(
                    "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                    json_kind(&crate::value::from_json_go(&other))
                )),
                Err(e) => error_map(&e.to_string()),
            })
        }),
        "fromJsonArray" => fixed(&[Str], |a| {
            Ok(match serde_json::from_str::<serde_json::Value>(s(a, 0)) {
                Ok(v @ serde_json::Value::Array(_)) => crate::value::from_json_go(&v),
                Ok(_) => Value::list(vec![Value::str(
                    "json: cannot unmarshal object into Go value of type []interface {}",
                )]),
                Err(e) => Value::list(vec![Value::string(e.to_string())]),
            })
        }),
        "toToml" => fixed(&[Any], |a| {
            // Helm returns the encoder's error as the output text; only a panic fails the call.
            match toml::encode(&a[0]) {
                Ok(text) => Ok(Value::string(text)),
                Err(toml::TomlError::Encoder(text)) => Ok(Value::str(text)),
                Err(toml::TomlError::Panic(msg)) => Err(msg.into()),
            }
        }),
        "fromToml" => fixed(&[Str], |_| {
            Ok(error_map("fromToml is not supported by this renderer"))
        }),
        "b64enc" => fixed(&[Str], |a| {
            Ok(Value::string(base64_encode(s(a, 0).as_bytes())))
        }),
        "b64dec" => fixed(&[Str], |a| {
            Ok(Value::string(match base64_decode(s(a, 0)) {
                Some(b) => String::from_utf8_lossy(&b).into_owned(),
                None => "illegal base64 data at input byte 0".into(),
            }))
        }),
        "b32enc" => fixed(&[Str], |a| {
            Ok(Value::string(base32_encode(s(a, 0).as_bytes())))
        }),
        "b32dec" => fixed(&[Str], |a| {
            Ok(Value::string(match base32_decode(s(a, 0)) {
                Some(b) => String::from_utf8_lossy(&b).into_owned(),
                None => "illegal base32 data at input byte 0".into(),
            }))
        }),
        "sha256sum" => fixed(&[Str], |a| {
            Ok(Value::string(hex(&sha2::Sha256::digest(
                s(a, 0).as_bytes(),
            ))))
        }),
        "sha512sum" => fixed(&[Str], |a| {
            Ok(Value::string(hex(&sha2::Sha512::digest(
                s(a, 0).as_bytes(),
            ))))
        }),
        "sha1sum" => fixed(&[Str], |a| {
            Ok(Value::string(hex(&sha1(s(a, 0).as_bytes()))))
        }),
        "adler32sum" => fixed(&[Str], |a| {
            Ok(Value::string(adler32(s(a, 0).as_bytes()).to_string()))
        }),
        _ => return None,
    })
}

fn error_map(msg: &str) -> Value {
    let mut m = Map::new();
    m.insert("Error".into(), Value::str(msg));
    Value::map(m)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "string",
        Value::Bool(_) => "bool",
        Value::Int(_) | Value::Int64(_) | Value::Float(_) => "number",
        Value::List(_) => "array",
        _ => "object",
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `base64.StdEncoding`).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

pub(crate) fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches(['\r', '\n']);
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    for chunk in s.as_bytes().chunks(4) {
        let mut n = 0u32;
        let mut pad = 0;
        for &c in chunk {
            let v = match c {
                b'=' => {
                    pad += 1;
                    0
                }
                _ if pad > 0 => return None,
                _ => B64.iter().position(|x| *x == c)? as u32,
            };
            n = (n << 6) | v;
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad.min(2)]);
    }
    Some(out)
}

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    for chunk in data.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let n = buf.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
        let chars = [2, 4, 5, 7, 8][chunk.len() - 1];
        for i in 0..8 {
            if i < chars {
                out.push(B32[((n >> (35 - i * 5)) & 31) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn base32_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(8) {
        return None;
    }
    let mut out = Vec::new();
    for chunk in s.as_bytes().chunks(8) {
        let data: Vec<u8> = chunk.iter().copied().take_while(|c| *c != b'=').collect();
        let mut n = 0u64;
        for (i, c) in chunk.iter().enumerate() {
            let v = if i < data.len() {
                B32.iter().position(|x| x == c)? as u64
            } else {
                0
            };
            n = (n << 5) | v;
        }
        let bytes = match data.len() {
            8 => 5,
            7 => 4,
            5 => 3,
            4 => 2,
            2 => 1,
            _ => return None,
        };
        for i in 0..bytes {
            out.push((n >> (32 - i * 8)) as u8);
        }
    }
    Some(out)
}

fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for &d in data {
        a = (a + u32::from(d)) % 65521;
        b = (b + a) % 65521;
    }
    (b << 16) | a
}

/// SHA-1 (RFC 3174); only Sprig's `sha1sum` needs it, not worth a dependency.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut msg = data.to_vec();
    let bit_len = (data.len() as u64).wrapping_mul(8);
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&bit_len.to_be_bytes());
    for block in msg.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes([
                block[i * 4],
                block[i * 4 + 1],
                block[i * 4 + 2],
                block[i * 4 + 3],
            ]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_and_bases() {
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(base64_encode(b"hello"), "aGVsbG8=");
        assert_eq!(base64_decode("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(base32_encode(b"hello"), "NBSWY3DP");
        assert_eq!(base32_decode("NBSWY3DP").unwrap(), b"hello");
        assert_eq!(adler32(b"Wikipedia"), 300286872);
    }
}
