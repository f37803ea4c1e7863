//! `.Values` coalescing (Helm's `chartutil.CoalesceValues`): user values win
//! over chart defaults, a user `null` deletes a defaulted key, maps merge
//! deeply, subcharts get their own scope plus the parent's `global`.

use crate::chart::Chart;
use crate::value::{Map, Value};

const GLOBAL: &str = "global";

/// Coalesces `user` (already merged `-f`/`--set` values) with the chart tree's defaults.
pub fn coalesce(chart: &Chart, user: Map) -> Map {
    let mut dest = user;
    coalesce_chart(chart, &mut dest, false);
    dest
}

fn coalesce_chart(chart: &Chart, dest: &mut Map, merge: bool) {
    coalesce_values(chart, dest, merge);
    coalesce_deps(chart, dest, merge);
}

fn take_map(v: Option<Value>) -> Option<Map> {
    match v {
        Some(Value::Map(m)) => Some(m.borrow().clone()),
        _ => None,
    }
}

/// Chart defaults fill in what the user did not set.
fn coalesce_values(chart: &Chart, dest: &mut Map, merge: bool) {
    for (key, default) in &chart.values {
        match dest.get(key).cloned() {
            Some(Value::Nil) if !merge => {
                dest.remove(key);
            }
            Some(user @ Value::Map(_)) => {
                if let Value::Map(_) = default {
                    let child_merge = merge || chart.dependencies.iter().any(|d| &d.name == key);
                    let mut dst = take_map(Some(user)).unwrap_or_default();
                    coalesce_tables(&mut dst, &default.deep_copy(), child_merge);
                    dest.insert(key.clone(), Value::map(dst));
                }
            }
            Some(_) => {}
            None => {
                dest.insert(key.clone(), default.deep_copy());
            }
        }
    }
}

/// `coalesceTablesFullKey`: fills `dst` from `src` recursively; `dst` wins.
fn coalesce_tables(dst: &mut Map, src: &Value, merge: bool) {
    for (key, val) in src.map_entries().unwrap_or_default() {
        match dst.get(&key).cloned() {
            // A user null removes a chart default; null over null stays (Helm v4).
            Some(Value::Nil) if !merge && !val.is_nil() => {
                dst.remove(&key);
            }
            None => {
                dst.insert(key, val);
            }
            Some(dv @ Value::Map(_)) => {
                if let Value::Map(_) = val {
                    let mut inner = take_map(Some(dv)).unwrap_or_default();
                    coalesce_tables(&mut inner, &val, merge);
                    dst.insert(key, Value::map(inner));
                }
            }
            Some(_) => {}
        }
    }
}

fn coalesce_deps(chart: &Chart, dest: &mut Map, merge: bool) {
    for sub in &chart.dependencies {
        let mut sub_vals = match dest.get(&sub.name) {
            None => Map::new(),
            Some(Value::Map(m)) => m.borrow().clone(),
            // Helm errors on a non-table here; keep the user's value untouched.
            Some(_) => continue,
        };
        coalesce_globals(&mut sub_vals, dest);
        coalesce_chart(sub, &mut sub_vals, merge);
        dest.insert(sub.name.clone(), Value::map(sub_vals));
    }
}

/// Copies the parent's `global` into a subchart's values; the subchart's own
/// globals win for scalars, tables merge top-down.
fn coalesce_globals(dest: &mut Map, src: &Map) {
    let mut dg = match dest.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Map(m)) => m.borrow().clone(),
        Some(_) => return,
    };
    let sg = match src.get(GLOBAL) {
        None => Map::new(),
        Some(Value::Map(m)) => m.borrow().clone(),
        Some(_) => return,
    };
    for (key, val) in sg {
        match (&val, dg.get(&key)) {
            (Value::Map(_), None) => {
                dg.insert(key, val.deep_copy());
            }
            (Value::Map(_), Some(dv @ Value::Map(_))) => {
                let mut vv = take_map(Some(val.deep_copy())).unwrap_or_default();
                coalesce_tables(&mut vv, dv, true);
                dg.insert(key, Value::map(vv));
            }
            (Value::Map(_), Some(_)) => {}
            (_, Some(Value::Map(_))) => {}
            _ => {
                dg.insert(key, val);
            }
        }
    }
    dest.insert(GLOBAL.into(), Value::map(dg));
}

/// Looks up a dotted path (`a.b.enabled`) in a values map.
pub fn path_value(values: &Map, path: &str) -> Option<Value> {
    let mut parts = path.split('.');
    let mut cur = values.get(parts.next()?)?.clone();
    for p in parts {
        cur = cur.with_map(|m| m.get(p).cloned())??;
    }
    Some(cur)
}

/// Helm's `ProcessDependencies` enablement: a dependency listed in Chart.yaml
/// is disabled by its first `condition` path that resolves to a bool, else
/// by its `tags` (any true tag enables). Returns the names to drop.
pub fn disabled_dependencies(chart: &Chart, coalesced: &Map) -> Vec<String> {
    let Some(Value::List(deps)) = chart.raw_metadata.map_get("dependencies") else {
        return Vec::new();
    };
    let mut disabled = Vec::new();
    for dep in deps.iter() {
        let name = dep
            .map_get("alias")
            .and_then(|a| a.as_str().map(String::from))
            .filter(|a| !a.is_empty());
        let Some(name) = name.or_else(|| {
            dep.map_get("name")
                .and_then(|n| n.as_str().map(String::from))
        }) else {
            continue;
        };
        let mut enabled = true;
        let mut decided = false;
        if let Some(Value::String(cond)) = dep.map_get("condition") {
            for path in cond.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if let Some(Value::Bool(b)) = path_value(coalesced, path) {
                    enabled = b;
                    decided = true;
                    break;
                }
            }
        }
        if !decided && let Some(Value::List(tags)) = dep.map_get("tags") {
            let values: Vec<bool> = tags
                .iter()
                .filter_map(|t| {
                    t.as_str()
                        .and_then(|t| path_value(coalesced, &format!("tags.{t}")))
                })
                .filter_map(|v| {
                    if let Value::Bool(b) = v {
                        Some(b)
                    } else {
                        None
                    }
                })
                .collect();
            if !values.is_empty() {
                enabled = values.iter().any(|b| *b);
            }
        }
        if !enabled {
            disabled.push(name);
        }
    }
    disabled
}
