//! Sprig list functions. Sprig panics on non-list input in the plain variants
//! and returns an error in the `must*` ones; Go's template engine turns both
//! into the same `error calling …` failure, so both share one implementation.

use super::convert::{empty, to_int64};
use super::{FuncDef, FuncResult, Param::*, arg, fixed, int, variadic};
use crate::value::{Value, deep_equal};

pub fn lookup(name: &str) -> Option<FuncDef> {
    let base = name.strip_prefix("must").map(|rest| {
        let mut c = rest.chars();
        c.next()
            .map(|f| f.to_lowercase().collect::<String>() + c.as_str())
            .unwrap_or_default()
    });
    let key = base.as_deref().unwrap_or(name);
    Some(match key {
        "list" | "tuple" if base.is_none() => variadic(&[], Any, |a| Ok(Value::list(a.to_vec()))),
        "first" => fixed(&[Any], |a| {
            with_list(&a[0], "first", |l| {
                Ok(l.first().cloned().unwrap_or(Value::Nil))
            })
        }),
        "last" => fixed(&[Any], |a| {
            with_list(&a[0], "last", |l| {
                Ok(l.last().cloned().unwrap_or(Value::Nil))
            })
        }),
        "rest" => fixed(&[Any], |a| {
            with_list(&a[0], "rest", |l| {
                Ok(if l.is_empty() {
                    Value::Nil
                } else {
                    Value::list(l[1..].to_vec())
                })
            })
        }),
        "initial" => fixed(&[Any], |a| {
            with_list(&a[0], "initial", |l| {
                Ok(if l.is_empty() {
                    Value::Nil
                } else {
                    Value::list(l[..l.len() - 1].to_vec())
                })
            })
        }),
        "append" | "push" => fixed(&[Any, Any], |a| {
            with_list(&a[0], "append", |l| {
                let mut v = l.to_vec();
                v.push(arg(a, 1));
                Ok(Value::list(v))
            })
        }),
        "prepend" => fixed(&[Any, Any], |a| {
            with_list(&a[0], "prepend", |l| {
                let mut v = vec![arg(a, 1)];
                v.extend_from_slice(l);
                Ok(Value::list(v))
            })
        }),
        "concat" if base.is_none() => variadic(&[], Any, |a| {
            let mut out = Vec::new();
            for l in a {
                match l {
                    Value::List(items) => out.extend(items.iter().cloned()),
                    Value::Nil => {}
                    other => {
                        return Err(format!(
                            "Cannot concat type {} as list",
                            super::convert::kind_of(other)
                        ));
                    }
                }
            }
            Ok(Value::list(out))
        }),
        "reverse" => fixed(&[Any], |a| {
            with_list(&a[0], "reverse", |l| {
                Ok(Value::list(l.iter().rev().cloned().collect()))
            })
        }),
        "uniq" => fixed(&[Any], |a| {
            with_list(&a[0], "uniq", |l| {
                let mut out: Vec<Value> = Vec::new();
                for v in l {
                    if !out.iter().any(|o| deep_equal(o, v)) {
                        out.push(v.clone());
                    }
                }
                Ok(Value::list(out))
            })
        }),
        "without" => variadic(&[Any], Any, |a| {
            with_list(&a[0], "without", |l| {
                Ok(Value::list(
                    l.iter()
                        .filter(|v| !a[1..].iter().any(|o| deep_equal(o, v)))
                        .cloned()
                        .collect(),
                ))
            })
        }),
        "has" => fixed(&[Any, Any], |a| match &a[1] {
            Value::Nil => Ok(Value::Bool(false)),
            hay => with_list(hay, "has", |l| {
                Ok(Value::Bool(l.iter().any(|v| deep_equal(v, &a[0]))))
            }),
        }),
        "compact" => fixed(&[Any], |a| {
            with_list(&a[0], "compact", |l| {
                Ok(Value::list(
                    l.iter().filter(|v| !empty(v)).cloned().collect(),
                ))
            })
        }),
        "slice" => variadic(&[Any], Any, slice),
        "chunk" => fixed(&[Int, Any], |a| {
            let size = int(a, 0);
            with_list(&a[1], "chunk", |l| {
                if size <= 0 {
                    return Ok(Value::list(Vec::new()));
                }
                Ok(Value::list(
                    l.chunks(size as usize)
                        .map(|c| Value::list(c.to_vec()))
                        .collect(),
                ))
            })
        }),
        "until" if base.is_none() => fixed(&[Int], |a| {
            step_range(0, int(a, 0), if int(a, 0) < 0 { -1 } else { 1 })
        }),
        "untilStep" if base.is_none() => fixed(&[Int, Int, Int], |a| {
            step_range(int(a, 0), int(a, 1), int(a, 2))
        }),
        "seq" if base.is_none() => variadic(&[], Int, seq),
        _ => return None,
    })
}

/// Elements of a list value, or nothing for non-lists.
pub fn items(v: &Value) -> Vec<Value> {
    match v {
        Value::List(l) => l.to_vec(),
        _ => Vec::new(),
    }
}

fn with_list(v: &Value, op: &str, f: impl FnOnce(&[Value]) -> FuncResult) -> FuncResult {
    if let Some(items) = v.slice_items() {
        return f(&items);
    }
    match v {
        Value::Nil => Ok(Value::Nil),
        other => Err(format!(
            "Cannot find {op} on type {}",
            super::convert::kind_of(other)
        )),
    }
}

fn slice(a: &[Value]) -> FuncResult {
    match &a[0] {
        Value::List(l) => {
            if l.is_empty() {
                return Ok(Value::Nil);
            }
            let start = a.get(1).map_or(0, to_int64);
            let end = a.get(2).map_or(l.len() as i64, to_int64);
            if start < 0 || end < start || end as usize > l.len() {
                return Err("reflect.Value.Slice: slice index out of bounds".into());
            }
            Ok(Value::list(l[start as usize..end as usize].to_vec()))
        }
        other => Err(format!(
            "list should be type of slice or array but {}",
            super::convert::kind_of(other)
        )),
    }
}

/// Capped so a huge `until` cannot exhaust memory.
const MAX_GENERATED: i64 = 1_000_000;

fn step_range(start: i64, stop: i64, step: i64) -> FuncResult {
    let mut out = Vec::new();
    if step == 0 {
        return Ok(Value::list(out));
    }
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        if out.len() as i64 >= MAX_GENERATED {
            return Err(format!("sequence longer than {MAX_GENERATED} elements"));
        }
        out.push(Value::Int(i));
        i += step;
    }
    Ok(Value::list(out))
}

/// Sprig `seq`, modelled on the Unix command: `seq 3`, `seq 2 5`, `seq 0 2 10`.
fn seq(a: &[Value]) -> FuncResult {
    let n: Vec<i64> = a.iter().map(to_int64).collect();
    // Sprig: untilStep(start, end±1, step), the sign of ±1 following end < start.
    let (start, step, end) = match n.as_slice() {
        [] => return Ok(Value::str("")),
        [end] => (1, if *end < 1 { -1 } else { 1 }, *end),
        [start, end] => (*start, if end < start { -1 } else { 1 }, *end),
        [start, step, end, ..] => {
            if (end < start && *step > 0) || (end >= start && *step < 0) {
                return Ok(Value::str(""));
            }
            (*start, *step, *end)
        }
    };
    let stop = if end < start { end - 1 } else { end + 1 };
    let list = step_range(start, stop, step)?;
    let parts: Vec<String> = items(&list).iter().map(|v| v.to_go_string()).collect();
    Ok(Value::string(parts.join(" ")))
}
