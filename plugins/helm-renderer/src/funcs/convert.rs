//! Type conversion, type inspection and defaulting (Sprig `defaults.go`,
//! `numeric.go` conversions, `reflect.go`). Conversions follow spf13/cast as
//! Sprig uses it: unparsable input silently becomes zero.

use super::{FuncDef, Param::*, arg, fixed, s, variadic};
use crate::value::{Value, deep_equal};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "toString" => fixed(&[Any], |a| Ok(Value::string(to_string(&a[0])))),
        "toStrings" => fixed(&[Any], |a| {
            Ok(Value::string_list(
                // Sprig's strslice drops nil elements.
                super::lists::items(&a[0])
                    .iter()
                    .filter(|v| !matches!(v, Value::Nil))
                    .map(to_string)
                    .collect(),
            ))
        }),
        "int" => fixed(&[Any], |a| Ok(Value::Int(to_int64(&a[0])))),
        "int64" => fixed(&[Any], |a| Ok(Value::Int64(to_int64(&a[0])))),
        "float64" => fixed(&[Any], |a| Ok(Value::Float(to_float64(&a[0])))),
        "atoi" => fixed(&[Str], |a| {
            Ok(Value::Int(s(a, 0).parse::<i64>().unwrap_or(0)))
        }),
        "toDecimal" => fixed(&[Any], |a| {
            Ok(Value::Int(
                i64::from_str_radix(&to_string(&a[0]), 8).unwrap_or(0),
            ))
        }),
        "typeOf" => fixed(&[Any], |a| Ok(Value::str(type_of(&a[0])))),
        "typeIs" => fixed(&[Str, Any], |a| Ok(Value::Bool(s(a, 0) == type_of(&a[1])))),
        "typeIsLike" => fixed(&[Str, Any], |a| {
            let t = type_of(&a[1]);
            Ok(Value::Bool(s(a, 0) == t || format!("*{}", s(a, 0)) == t))
        }),
        "kindOf" => fixed(&[Any], |a| Ok(Value::str(kind_of(&a[0])))),
        "kindIs" => fixed(&[Str, Any], |a| Ok(Value::Bool(s(a, 0) == kind_of(&a[1])))),
        "default" => variadic(&[Any], Any, |a| {
            let given = a.get(1);
            Ok(match given {
                Some(v) if !empty(v) => v.clone(),
                _ => arg(a, 0),
            })
        }),
        "empty" => fixed(&[Any], |a| Ok(Value::Bool(empty(&a[0])))),
        "coalesce" => variadic(&[], Any, |a| {
            Ok(a.iter().find(|v| !empty(v)).cloned().unwrap_or(Value::Nil))
        }),
        "all" => variadic(&[], Any, |a| Ok(Value::Bool(a.iter().all(|v| !empty(v))))),
        "any" => variadic(&[], Any, |a| Ok(Value::Bool(a.iter().any(|v| !empty(v))))),
        "ternary" => fixed(&[Any, Any, Bool], |a| {
            Ok(if matches!(a[2], Value::Bool(true)) {
                arg(a, 0)
            } else {
                arg(a, 1)
            })
        }),
        "deepEqual" => fixed(&[Any, Any], |a| Ok(Value::Bool(deep_equal(&a[0], &a[1])))),
        _ => return None,
    })
}

/// Sprig `empty`: the same zero test as template truth.
pub fn empty(v: &Value) -> bool {
    !v.is_true()
}

/// Sprig `strval`: strings as-is, everything else via `%v` (nil → `<nil>`).
pub fn to_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        other => other.to_go_string(),
    }
}

/// spf13/cast `ToInt64`: floats truncate, strings parse (base prefixes allowed,
/// a zero decimal part tolerated), failures are 0.
pub fn to_int64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i,
        Value::Float(f) => *f as i64,
        Value::Bool(b) => i64::from(*b),
        Value::String(s) => {
            let trimmed = trim_zero_decimal(s);
            crate::template::parse_go_int(trimmed).unwrap_or(0)
        }
        _ => 0,
    }
}

fn trim_zero_decimal(s: &str) -> &str {
    match s.split_once('.') {
        Some((int, frac))
            if !int.is_empty() && !frac.is_empty() && frac.bytes().all(|b| b == b'0') =>
        {
            int
        }
        _ => s,
    }
}

/// spf13/cast `ToFloat64`.
pub fn to_float64(v: &Value) -> f64 {
    match v {
        Value::Int(i) | Value::Int64(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        Value::String(s) => s.trim().parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// Go's `%T`.
pub fn type_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        other => other.go_type(),
    }
}

/// Go's `reflect.Kind` name.
pub fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Nil => "invalid",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Int64(_) => "int64",
        Value::Float(_) => "float64",
        Value::Complex(..) => "complex128",
        Value::String(_) => "string",
        Value::List(_) => "slice",
        Value::Map(m) => m.named().kind(),
        Value::StringMap(_) => "map",
        Value::Object(_) if v.slice_items().is_some() => "slice",
        Value::Object(_) => "struct",
    }
}
