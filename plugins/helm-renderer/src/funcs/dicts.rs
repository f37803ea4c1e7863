//! Sprig dictionary functions. `set`, `unset`, `merge*` mutate their first
//! argument in place and return it, as Sprig does. Go iterates maps in random
//! order for `keys`/`values`; we return key-sorted order (deterministic, and
//! one of the orders Helm could produce).

use super::convert::{empty, to_string};
use super::{FuncDef, FuncResult, Param::*, arg, fixed, s, variadic};
use crate::value::{Map, Named, Value};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "dict" => variadic(&[], Any, dict),
        "get" => fixed(&[Map, Str], |a| {
            Ok(a[0]
                .map_get(s(a, 1))
                .filter(|_| has_key(&a[0], s(a, 1)))
                .unwrap_or_else(|| Value::str("")))
        }),
        "set" => fixed(&[Map, Str, Any], |a| {
            if contains_map(&a[2], &a[0]) {
                // Go would build a cycle that hangs every later encoder; refuse it.
                return Err("set: the value contains the dictionary itself".into());
            }
            if let Value::Map(m) = &a[0] {
                m.borrow_mut().insert(s(a, 1).to_string(), arg(a, 2));
            }
            Ok(non_nil_map(&a[0]))
        }),
        "unset" => fixed(&[Map, Str], |a| {
            if let Value::Map(m) = &a[0] {
                m.borrow_mut().remove(s(a, 1));
            }
            Ok(non_nil_map(&a[0]))
        }),
        "hasKey" => fixed(&[Map, Str], |a| Ok(Value::Bool(has_key(&a[0], s(a, 1))))),
        "pluck" => variadic(&[Str], Map, |a| {
            let key = s(a, 0);
            Ok(Value::list(
                a[1..]
                    .iter()
                    .filter(|d| has_key(d, key))
                    .filter_map(|d| d.map_get(key))
                    .collect(),
            ))
        }),
        "dig" => variadic(&[], Any, dig),
        "merge" | "mustMerge" => variadic(&[Map], Map, |a| merge_into(a, false)),
        "mergeOverwrite" | "mustMergeOverwrite" => variadic(&[Map], Map, |a| merge_into(a, true)),
        "keys" => variadic(&[], Map, |a| {
            let mut out = Vec::new();
            for d in a {
                out.extend(
                    d.map_entries()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, _)| Value::string(k)),
                );
            }
            Ok(Value::list(out))
        }),
        "values" => fixed(&[Map], |a| {
            Ok(Value::list(
                a[0].map_entries()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
            ))
        }),
        "pick" => variadic(&[Map], Str, |a| {
            let keep: Vec<&str> = a[1..].iter().filter_map(Value::as_str).collect();
            let m: Map = a[0]
                .map_entries()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| keep.contains(&k.as_str()))
                .collect();
            Ok(Value::map(m))
        }),
        "omit" => variadic(&[Map], Str, |a| {
            let drop: Vec<&str> = a[1..].iter().filter_map(Value::as_str).collect();
            let m: Map = a[0]
                .map_entries()
                .unwrap_or_default()
                .into_iter()
                .filter(|(k, _)| !drop.contains(&k.as_str()))
                .collect();
            Ok(Value::map(m))
        }),
        "deepCopy" | "mustDeepCopy" => fixed(&[Any], |a| Ok(a[0].deep_copy())),
        _ => return None,
    })
}

fn has_key(d: &Value, key: &str) -> bool {
    d.with_map(|m| m.contains_key(key)).unwrap_or(false)
}

fn non_nil_map(v: &Value) -> Value {
    match v {
        Value::Nil => Value::map(Map::new()),
        other => other.clone(),
    }
}

fn dict(a: &[Value]) -> FuncResult {
    let mut m = Map::new();
    for pair in a.chunks(2) {
        let key = to_string(&pair[0]);
        m.insert(key, pair.get(1).cloned().unwrap_or_else(|| Value::str("")));
    }
    Ok(Value::map(m))
}

/// Sprig `dig "a" "b" default dict`.
fn dig(a: &[Value]) -> FuncResult {
    if a.len() < 3 {
        return Err(format!(
            "dig needs at least three arguments, got {}",
            a.len()
        ));
    }
    let dict = &a[a.len() - 1];
    let default = &a[a.len() - 2];
    // Sprig asserts the plain map type: Helm's named `common.Values` fails the assertion.
    if !matches!(dict, Value::Map(m) if m.named() == Named::Plain) {
        return Err(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            super::convert::type_of(dict)
        ));
    }
    let mut cur = dict.clone();
    for key in &a[..a.len() - 2] {
        let Some(k) = key.as_str() else {
            return Err(format!(
                "interface conversion: interface {{}} is {}, not string",
                super::convert::type_of(key)
            ));
        };
        match cur.with_map(|m| m.get(k).cloned()) {
            Some(Some(v)) => cur = v,
            _ => return Ok(default.clone()),
        }
    }
    Ok(cur)
}

/// mergo-style deep merge of every source into the first map.
fn merge_into(a: &[Value], overwrite: bool) -> FuncResult {
    let dst = non_nil_map(&a[0]);
    for src in &a[1..] {
        merge_maps(&dst, src, overwrite);
    }
    Ok(dst)
}

fn merge_maps(dst: &Value, src: &Value, overwrite: bool) {
    let (Value::Map(d), Some(entries)) = (dst, src.map_entries()) else {
        return;
    };
    for (k, sv) in entries {
        // mergo: a nil source value only lands when overwriting.
        if matches!(sv, Value::Nil) {
            if overwrite {
                d.borrow_mut().insert(k, Value::Nil);
            }
            continue;
        }
        let dv = d.borrow().get(&k).cloned();
        match dv {
            Some(dv @ Value::Map(_)) if matches!(sv, Value::Map(_)) => {
                merge_maps(&dv, &sv, overwrite)
            }
            Some(dv) if !empty(&dv) => {
                // Overwriting copies empty scalars too, but never an empty list.
                if overwrite && !(matches!(sv, Value::List(_)) && empty(&sv)) {
                    let copy = sv.deep_copy();
                    d.borrow_mut().insert(k, copy);
                }
            }
            _ => {
                let copy = sv.deep_copy();
                d.borrow_mut().insert(k, copy);
            }
        }
    }
}

/// Does `haystack` contain (or is it) the very map `needle`?
fn contains_map(haystack: &Value, needle: &Value) -> bool {
    let Value::Map(target) = needle else {
        return false;
    };
    match haystack {
        Value::Map(m) => m.same_map(target) || m.borrow().values().any(|v| contains_map(v, needle)),
        Value::List(l) => l.iter().any(|v| contains_map(v, needle)),
        _ => false,
    }
}
