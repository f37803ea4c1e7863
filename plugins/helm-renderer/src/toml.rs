//! A small TOML encoder for Helm's `toToml` (BurntSushi/toml layout: plain
//! keys first, then `[tables]`, arrays of tables as `[[name]]`).

use crate::gofmt;
use crate::value::Value;

pub fn encode(v: &Value) -> Result<String, String> {
    let v = v.to_plain();
    if v.with_map(|_| ()).is_none() {
        return Err("toml: top-level values must be Go maps or structs".into());
    }
    let mut out = String::new();
    table(&v, &[], &mut out, 0);
    Ok(out)
}

fn key(k: &str) -> String {
    if !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        k.to_string()
    } else {
        gofmt::quote(k)
    }
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_) | Value::StringMap(_))
}

fn is_table_array(v: &Value) -> bool {
    matches!(v, Value::List(l) if !l.is_empty() && l.iter().all(is_table))
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => gofmt::quote(s),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => format!("{f:.1}"),
        Value::Float(f) => gofmt::format_float_g(*f),
        Value::List(l) => format!("[{}]", l.iter().map(scalar).collect::<Vec<_>>().join(", ")),
        Value::Map(_) | Value::StringMap(_) => {
            let parts: Vec<String> = v
                .map_entries()
                .unwrap_or_default()
                .iter()
                .map(|(k, x)| format!("{} = {}", key(k), scalar(x)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
        other => other.to_go_string(),
    }
}

fn table(v: &Value, path: &[String], out: &mut String, depth: usize) {
    let entries = v.map_entries().unwrap_or_default();
    let pad = "  ".repeat(depth.saturating_sub(1));
    for (k, x) in &entries {
        if x.is_nil() || is_table(x) || is_table_array(x) {
            continue;
        }
        out.push_str(&format!("{pad}{} = {}\n", key(k), scalar(x)));
    }
    for (k, x) in &entries {
        let mut p = path.to_vec();
        p.push(key(k));
        if is_table(x) {
            out.push_str(&format!("\n{}[{}]\n", "  ".repeat(depth), p.join(".")));
            table(x, &p, out, depth + 1);
        } else if is_table_array(x) {
            for item in x.as_list().unwrap_or_default() {
                out.push_str(&format!("\n{}[[{}]]\n", "  ".repeat(depth), p.join(".")));
                table(item, &p, out, depth + 1);
            }
        }
    }
}
