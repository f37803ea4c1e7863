//! JSON encoding as Go's `encoding/json` writes `interface{}` values: sorted
//! keys, `<`/`>`/`&` escaped unless raw, Go float formatting.

use crate::gofmt;
use crate::value::Value;

/// encoding/json's error for the one kind of value templates can make but JSON cannot hold.
pub const UNSUPPORTED_COMPLEX: &str = "json: unsupported type: complex128";

/// Encodes `v`; `indent` gives `json.MarshalIndent` output.
pub fn encode(v: &Value, escape_html: bool, indent: Option<&str>) -> Result<String, &'static str> {
    let v = v.to_plain();
    if v.contains_complex() {
        return Err(UNSUPPORTED_COMPLEX);
    }
    let mut out = String::new();
    write(&v, escape_html, indent, 0, &mut out);
    Ok(out)
}

fn newline(out: &mut String, indent: Option<&str>, level: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(ind);
        }
    }
}

fn write(v: &Value, escape_html: bool, indent: Option<&str>, level: usize, out: &mut String) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&gofmt::format_float_json(*f)),
        // Not reached: `encode` refuses complex values before writing anything.
        Value::Complex(..) => out.push_str(&v.to_go_string()),
        Value::String(s) => write_str(s, escape_html, out),
        Value::List(l) => {
            out.push('[');
            for (i, item) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write(&item.to_plain(), escape_html, indent, level + 1, out);
            }
            if !l.is_empty() {
                newline(out, indent, level);
            }
            out.push(']');
        }
        Value::Map(_) | Value::StringMap(_) => {
            let entries = v.map_entries().unwrap_or_default();
            out.push('{');
            for (i, (k, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_str(k, escape_html, out);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write(&item.to_plain(), escape_html, indent, level + 1, out);
            }
            if !entries.is_empty() {
                newline(out, indent, level);
            }
            out.push('}');
        }
        Value::Object(_) => write(&v.to_plain(), escape_html, indent, level, out),
    }
}

fn write_str(s: &str, escape_html: bool, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if escape_html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}
