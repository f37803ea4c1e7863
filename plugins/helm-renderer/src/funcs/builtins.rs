//! Go `text/template` builtins (`and`/`or` live in the executor because they
//! short-circuit). Sprig replaces Go's `slice`, so that one is in `lists`.

use super::{FuncDef, FuncResult, Param::*, fixed, variadic};
use crate::gofmt;
use crate::value::Value;

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "not" => fixed(&[Any], |a| Ok(Value::Bool(!a[0].is_true()))),
        "len" => fixed(&[Any], len),
        "index" => variadic(&[Any], Any, index),
        "print" => variadic(&[], Any, |a| Ok(Value::string(gofmt::sprint(a)))),
        "printf" => variadic(&[Str], Any, |a| {
            Ok(Value::string(gofmt::sprintf(super::s(a, 0), &a[1..])))
        }),
        "println" => variadic(&[], Any, |a| Ok(Value::string(gofmt::sprintln(a)))),
        "html" => variadic(&[], Any, |a| {
            Ok(Value::string(html_escape(&gofmt::sprint(a))))
        }),
        "js" => variadic(&[], Any, |a| {
            Ok(Value::string(js_escape(&gofmt::sprint(a))))
        }),
        "urlquery" => variadic(&[], Any, |a| {
            Ok(Value::string(query_escape(&gofmt::sprint(a))))
        }),
        "call" => variadic(&[Any], Any, |_| Err("call of nil".into())),
        "eq" => variadic(&[Any], Any, eq),
        "ne" => fixed(&[Any, Any], |a| eq(a).map(|v| Value::Bool(!v.is_true()))),
        "lt" => fixed(&[Any, Any], |a| lt(&a[0], &a[1]).map(Value::Bool)),
        "le" => fixed(&[Any, Any], |a| le(&a[0], &a[1]).map(Value::Bool)),
        "gt" => fixed(&[Any, Any], |a| le(&a[0], &a[1]).map(|b| Value::Bool(!b))),
        "ge" => fixed(&[Any, Any], |a| lt(&a[0], &a[1]).map(|b| Value::Bool(!b))),
        _ => return None,
    })
}

fn len(a: &[Value]) -> FuncResult {
    match &a[0] {
        Value::Nil => Err("len of nil pointer".into()),
        Value::String(s) => Ok(Value::Int(s.len() as i64)),
        Value::List(l) => Ok(Value::Int(l.len() as i64)),
        Value::Map(_) | Value::StringMap(_) => {
            Ok(Value::Int(a[0].with_map(|m| m.len()).unwrap_or(0) as i64))
        }
        Value::Object(_) if a[0].as_time().is_some() => Err("len of type time.Time".into()),
        Value::Object(_) => match a[0].to_plain() {
            m @ Value::Map(_) => Ok(Value::Int(m.with_map(|m| m.len()).unwrap_or(0) as i64)),
            Value::List(l) => Ok(Value::Int(l.len() as i64)),
            other => Err(format!("len of type {}", other.go_type())),
        },
        other => Err(format!("len of type {}", other.go_type())),
    }
}

fn index(a: &[Value]) -> FuncResult {
    let mut item = a[0].to_plain();
    if item.is_nil() {
        return Err("index of untyped nil".into());
    }
    for idx in &a[1..] {
        item = match &item {
            Value::Nil => return Err("index of nil pointer".into()),
            Value::List(l) => l[index_arg(idx, l.len())?].clone(),
            Value::String(s) => Value::Int(s.as_bytes()[index_arg(idx, s.len())?] as i64),
            Value::Map(_) | Value::StringMap(_) => match idx {
                Value::String(k) => item.map_get(k).unwrap_or_default(),
                Value::Nil => return Err("value is nil; should be of type string".into()),
                other => {
                    return Err(format!(
                        "value has type {}; should be string",
                        other.go_type()
                    ));
                }
            },
            other => return Err(format!("can't index item of type {}", other.go_type())),
        };
    }
    Ok(item)
}

fn index_arg(idx: &Value, len: usize) -> Result<usize, String> {
    let x = match idx {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.go_type()
            ));
        }
    };
    if x < 0 || x as usize >= len {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Invalid,
    Bool,
    Int,
    Float,
    Complex,
    String,
    Other,
}

fn basic_kind(v: &Value) -> Kind {
    match v {
        Value::Nil => Kind::Invalid,
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Int64(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Complex(..) => Kind::Complex,
        Value::String(_) => Kind::String,
        _ => Kind::Other,
    }
}

/// Go's `eq`: true if the first argument equals any of the others.
pub fn eq(a: &[Value]) -> FuncResult {
    let first = &a[0];
    if a.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(first);
    for other in &a[1..] {
        let k2 = basic_kind(other);
        let truth = if k1 != k2 {
            if k1 != Kind::Invalid && k2 != Kind::Invalid {
                return Err(format!(
                    "incompatible types for comparison: {} and {}",
                    first.go_type(),
                    other.go_type()
                ));
            }
            false
        } else {
            match (first, other) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
                (Value::String(x), Value::String(y)) => x == y,
                (Value::Nil, Value::Nil) => true,
                // Go compares the struct: instant, zone and monotonic reading.
                (Value::Object(_), Value::Object(_))
                    if first.as_time().is_some() && other.as_time().is_some() =>
                {
                    first.as_time() == other.as_time()
                }
                _ if first.go_type() == other.go_type() => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        other.to_go_string(),
                        other.go_type()
                    ));
                }
                _ => {
                    return Err(format!(
                        "non-comparable types {}: {}, {}: {}",
                        first.to_go_string(),
                        first.go_type(),
                        other.go_type(),
                        other.to_go_string()
                    ));
                }
            }
        };
        if truth {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn lt(x: &Value, y: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(x), basic_kind(y));
    let unordered = |k| matches!(k, Kind::Invalid | Kind::Complex | Kind::Other);
    if unordered(k1) || unordered(k2) {
        return Err("invalid type for comparison".into());
    }
    if k1 != k2 {
        return Err(format!(
            "incompatible types for comparison: {} and {}",
            x.go_type(),
            y.go_type()
        ));
    }
    Ok(match (x, y) {
        (Value::Int(a) | Value::Int64(a), Value::Int(b) | Value::Int64(b)) => a < b,
        (Value::Float(a), Value::Float(b)) => a < b,
        (Value::String(a), Value::String(b)) => a < b,
        _ => return Err("invalid type for comparison".into()),
    })
}

fn le(x: &Value, y: &Value) -> Result<bool, String> {
    if lt(x, y)? {
        return Ok(true);
    }
    eq(&[x.clone(), y.clone()]).map(|v| v.is_true())
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            '\0' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Go's `url.QueryEscape`.
pub fn query_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
