//! JSON written the way Go's `encoding/json` writes it, so a record we encode
//! is byte-for-byte what Helm would have marshalled (not needed to interoperate,
//! but it makes "decode Helm's bytes, encode, compare" an exact test).
//!
//! Differences from serde_json's default output that matter here:
//! - Go escapes `<`, `>`, `&`, U+2028 and U+2029 in strings (`\u003c`…);
//! - Go writes a float64 without `.0` and switches to exponent form only
//!   below 1e-6 or from 1e21 on, as `1e+21` / `1e-7`.
//!
//! Map keys come out sorted because serde_json's `Map` is a `BTreeMap` here
//! (Go sorts keys); enabling serde_json's `preserve_order` would break that,
//! which the fixture round-trip test would catch.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

pub(super) fn to_go_json<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain_from = 0;
        for (at, ch) in fragment.char_indices() {
            let escape = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            writer.write_all(escape.as_bytes())?;
            plain_from = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }

    fn write_f64<W: ?Sized + Write>(&mut self, writer: &mut W, value: f64) -> io::Result<()> {
        writer.write_all(go_float64(value).as_bytes())
    }
}

/// `strconv.AppendFloat(f, 'f' or 'e', -1, 64)` as `encoding/json` picks it.
fn go_float64(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude == 0.0 || (1e-6..1e21).contains(&magnitude) {
        // Rust's Display is the shortest round-trip digits without exponent,
        // like Go's 'f' with precision -1.
        return format!("{value}");
    }
    // Rust writes `1e21` / `1.5e-7`; Go writes `1e+21` / `1.5e-07`, then
    // encoding/json trims the exponent's leading zero back to `1.5e-7`.
    let text = format!("{value:e}");
    match text.split_once('e') {
        Some((mantissa, exponent)) if !exponent.starts_with('-') => {
            format!("{mantissa}e+{exponent}")
        }
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_html_characters_like_go() {
        let out = to_go_json(&json!({"k<": "a<b>&c\u{2028}d\"e\n"})).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"k\u003c":"a\u003cb\u003e\u0026c\u2028d\"e\n"}"#
        );
    }

    #[test]
    fn formats_floats_like_go() {
        let cases = [
            (1_000_000.0, "1000000"),
            (1.5, "1.5"),
            (0.0, "0"),
            (-0.0, "-0"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-7"),
            (1e-10, "1e-10"),
            (0.000001, "0.000001"),
            (-2.5e22, "-2.5e+22"),
        ];
        for (value, go) in cases {
            assert_eq!(go_float64(value), go, "{value}");
        }
        let out = to_go_json(&json!([1, -2, 3.25, 12345678901234567890u64])).unwrap();
        assert_eq!(out, b"[1,-2,3.25,12345678901234567890]");
    }
}
