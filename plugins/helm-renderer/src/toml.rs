//! Helm's `toToml`, laid out as BurntSushi/toml v1.5 (the encoder Helm v4 links) writes it:
//! plain keys before tables, both in byte order; every line indented two spaces per table level;
//! a blank line before each top-level `[table]` and each `[[array.table]]` (never at the start);
//! maps inside arrays written inline; nil map values skipped.

use crate::gofmt;
use crate::value::Value;

/// Why encoding stopped. Helm prints the first kind as `toToml`'s output; the second is a Go
/// panic inside the encoder, which text/template reports as a failed call.
#[derive(Debug, PartialEq)]
pub enum TomlError {
    Encoder(&'static str),
    Panic(&'static str),
}

pub fn encode(v: &Value) -> Result<String, TomlError> {
    let v = v.to_plain();
    let mut enc = Encoder::default();
    match &v {
        // reflect.ValueOf(nil) has no type, and the encoder asks for it.
        Value::Nil => return Err(TomlError::Panic(NIL_PANIC)),
        Value::Map(_) | Value::StringMap(_) => enc.table(&[], &v)?,
        Value::List(items) if is_table_array(items)? => return Err(TomlError::Encoder(NO_KEY)),
        other => enc.element(other)?,
    }
    Ok(enc.out)
}

const NIL_PANIC: &str = "reflect: call of reflect.Value.Type on zero Value";
const NO_KEY: &str = "toml: top-level values must be Go maps or structs";
const NIL_ELEMENT: &str = "toml: cannot encode array with nil element";
const COMPLEX: &str = "unsupported type: complex128";

#[derive(Default)]
struct Encoder {
    out: String,
}

fn is_table(v: &Value) -> bool {
    matches!(v, Value::Map(_) | Value::StringMap(_))
}

/// A non-empty array whose elements are all maps; any nil element fails the whole encoding.
fn is_table_array(items: &[Value]) -> Result<bool, TomlError> {
    if items.iter().any(Value::is_nil) {
        return Err(TomlError::Encoder(NIL_ELEMENT));
    }
    for item in items {
        if let Value::List(inner) = item {
            is_table_array(inner)?;
        }
    }
    Ok(!items.is_empty() && items.iter().all(is_table))
}

/// Written under a `[header]` rather than as `key = value`.
fn is_sub_table(v: &Value) -> Result<bool, TomlError> {
    Ok(match v {
        Value::List(items) => is_table_array(items)?,
        other => is_table(other),
    })
}

fn is_bare_key(k: &str) -> bool {
    !k.is_empty()
        && k.bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

fn key_part(k: &str) -> String {
    if is_bare_key(k) {
        k.to_string()
    } else {
        quote(k)
    }
}

/// TOML basic string: only quotes, backslashes and control characters are escaped.
fn quote(s: &str) -> String {
    gofmt::quote_with(s, |c, out| {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            _ => return false,
        }
        true
    })
}

fn float(f: f64) -> String {
    if f.is_nan() {
        return if f.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if f.is_infinite() {
        return if f < 0.0 { "-inf" } else { "inf" }.into();
    }
    let s = gofmt::format_float_g(f);
    // TOML needs a float to look like one; an exponent already does.
    if s.contains(['.', 'e']) { s } else { s + ".0" }
}

fn indent(path_len: usize) -> String {
    "  ".repeat(path_len.saturating_sub(1))
}

impl Encoder {
    /// BurntSushi's `newline()`: nothing before the first byte of output.
    fn newline(&mut self) {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
    }

    fn header(path: &[String]) -> String {
        path.iter()
            .map(|k| key_part(k))
            .collect::<Vec<_>>()
            .join(".")
    }

    fn table(&mut self, path: &[String], v: &Value) -> Result<(), TomlError> {
        if path.len() == 1 {
            self.newline();
        }
        if !path.is_empty() {
            self.out
                .push_str(&format!("{}[{}]", indent(path.len()), Self::header(path)));
            self.newline();
        }
        self.entries(path, v)
    }

    fn entries(&mut self, path: &[String], v: &Value) -> Result<(), TomlError> {
        let (direct, sub) = split_entries(v)?;
        for (k, x) in direct.iter().chain(&sub) {
            if x.is_nil() {
                continue;
            }
            let mut p = path.to_vec();
            p.push(k.clone());
            match x {
                Value::Map(_) | Value::StringMap(_) => self.table(&p, x)?,
                Value::List(items) if is_table_array(items)? => {
                    for item in items.iter() {
                        self.newline();
                        self.out
                            .push_str(&format!("{}[[{}]]", indent(p.len()), Self::header(&p)));
                        self.newline();
                        self.entries(&p, item)?;
                    }
                }
                _ => {
                    self.out
                        .push_str(&format!("{}{} = ", indent(p.len()), key_part(k)));
                    self.element(x)?;
                    self.newline();
                }
            }
        }
        Ok(())
    }

    fn element(&mut self, v: &Value) -> Result<(), TomlError> {
        match v {
            Value::String(s) => self.out.push_str(&quote(s)),
            Value::Float(f) => self.out.push_str(&float(*f)),
            Value::List(items) => {
                is_table_array(items)?;
                self.out.push('[');
                for (i, item) in items.iter().enumerate() {
                    self.element(item)?;
                    if i + 1 != items.len() {
                        self.out.push_str(", ");
                    }
                }
                self.out.push(']');
            }
            Value::Map(_) | Value::StringMap(_) => self.inline_table(v)?,
            Value::Complex(..) => return Err(TomlError::Encoder(COMPLEX)),
            other => self.out.push_str(&other.to_go_string()),
        }
        Ok(())
    }

    /// `{a = 1, b = {c = 2}}`. The separator follows every entry but the map's last, even when
    /// the entries after it are nil and skipped (`{a = 1, }`), as the Go encoder does.
    fn inline_table(&mut self, v: &Value) -> Result<(), TomlError> {
        let (direct, sub) = split_entries(v)?;
        self.out.push('{');
        for (group, trailing) in [(&direct, !sub.is_empty()), (&sub, false)] {
            for (i, (k, x)) in group.iter().enumerate() {
                if x.is_nil() {
                    continue;
                }
                self.out.push_str(&format!("{} = ", key_part(k)));
                self.element(x)?;
                if trailing || i + 1 != group.len() {
                    self.out.push_str(", ");
                }
            }
        }
        self.out.push('}');
        Ok(())
    }
}

type Entries = Vec<(String, Value)>;

/// A map's entries as (plain keys, tables and arrays of tables), each in byte order.
fn split_entries(v: &Value) -> Result<(Entries, Entries), TomlError> {
    let (mut direct, mut sub) = (Vec::new(), Vec::new());
    for (k, x) in v.map_entries().unwrap_or_default() {
        if is_sub_table(&x)? {
            sub.push((k, x));
        } else {
            direct.push((k, x));
        }
    }
    Ok((direct, sub))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    fn map(entries: Vec<(&str, Value)>) -> Value {
        Value::map(
            entries
                .into_iter()
                .map(|(k, v)| (k.into(), v))
                .collect::<Map>(),
        )
    }

    #[test]
    fn nested_tables_indent_by_depth_and_only_top_level_gets_a_blank_line() {
        let v = map(vec![
            ("z", Value::Int(3)),
            (
                "a",
                map(vec![(
                    "b",
                    map(vec![("c", map(vec![("d", Value::Int(1))]))]),
                )]),
            ),
        ]);
        assert_eq!(
            encode(&v).unwrap(),
            "z = 3\n\n[a]\n  [a.b]\n    [a.b.c]\n      d = 1\n"
        );
    }

    #[test]
    fn nil_inside_a_list_is_the_encoders_error_and_top_level_nil_a_panic() {
        let v = map(vec![("l", Value::list(vec![Value::Int(1), Value::Nil]))]);
        assert_eq!(encode(&v), Err(TomlError::Encoder(NIL_ELEMENT)));
        assert_eq!(encode(&Value::Nil), Err(TomlError::Panic(NIL_PANIC)));
    }

    #[test]
    fn floats_keep_a_decimal_point_or_exponent() {
        assert_eq!(float(1.0), "1.0");
        assert_eq!(float(1e6), "1e+06");
        assert_eq!(float(-0.0), "-0.0");
    }
}
