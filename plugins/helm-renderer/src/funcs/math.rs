//! Sprig arithmetic. Integer functions convert every operand with cast's
//! `ToInt64` (so `add 1 2.9` is 3) and return int64; the `…f` family works in
//! float64.

use super::convert::{to_float64, to_int64};
use super::{FuncDef, FuncResult, Param::*, fixed, int, variadic};
use crate::value::Value;

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "add" => variadic(&[], Any, |a| {
            Ok(Value::Int64(
                a.iter().map(to_int64).fold(0i64, i64::wrapping_add),
            ))
        }),
        "add1" => fixed(&[Any], |a| {
            Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1)))
        }),
        "sub" => fixed(&[Any, Any], |a| {
            Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
        }),
        "mul" => variadic(&[Any], Any, |a| {
            Ok(Value::Int64(
                a.iter().map(to_int64).fold(1i64, i64::wrapping_mul),
            ))
        }),
        "div" => fixed(&[Any, Any], |a| {
            int_div(to_int64(&a[0]), to_int64(&a[1]), false)
        }),
        "mod" => fixed(&[Any, Any], |a| {
            int_div(to_int64(&a[0]), to_int64(&a[1]), true)
        }),
        "max" | "biggest" => variadic(&[Any], Any, |a| {
            Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)))
        }),
        "min" => variadic(&[Any], Any, |a| {
            Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
        }),
        "floor" => fixed(&[Any], |a| Ok(Value::Float(to_float64(&a[0]).floor()))),
        "ceil" => fixed(&[Any], |a| Ok(Value::Float(to_float64(&a[0]).ceil()))),
        "round" => variadic(&[Any, Int], Float, |a| {
            let round_on = a.get(2).map_or(0.5, to_float64);
            Ok(Value::Float(round(to_float64(&a[0]), int(a, 1), round_on)))
        }),
        "addf" => variadic(&[], Any, |a| {
            Ok(Value::Float(a.iter().map(to_float64).sum()))
        }),
        "add1f" => fixed(&[Any], |a| Ok(Value::Float(to_float64(&a[0]) + 1.0))),
        "subf" => variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), |x, y| x - y),
            ))
        }),
        "mulf" => variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), |x, y| x * y),
            ))
        }),
        "divf" => variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), |x, y| x / y),
            ))
        }),
        "maxf" => variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), f64::max),
            ))
        }),
        "minf" => variadic(&[Any], Any, |a| {
            Ok(Value::Float(
                a[1..]
                    .iter()
                    .map(to_float64)
                    .fold(to_float64(&a[0]), f64::min),
            ))
        }),
        _ => return None,
    })
}

fn int_div(x: i64, y: i64, modulo: bool) -> FuncResult {
    if y == 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    Ok(Value::Int64(if modulo {
        x.wrapping_rem(y)
    } else {
        x.wrapping_div(y)
    }))
}

/// Sprig `round`: half-away-from-zero at `round_on`, to `places` decimals.
fn round(x: f64, places: i64, round_on: f64) -> f64 {
    let pow = 10f64.powi(places as i32);
    let digit = pow * x;
    let (int_part, frac) = (digit.trunc(), digit.fract());
    let rounded = if x > 0.0 {
        if frac >= round_on {
            int_part + 1.0
        } else {
            int_part
        }
    } else if frac.abs() >= round_on {
        int_part - 1.0
    } else {
        int_part
    };
    rounded / pow
}
