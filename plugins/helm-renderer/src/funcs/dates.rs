//! Sprig's date functions over Go's `time.Time` ([`crate::gotime`]).
//!
//! `now` is the host's clock, sent with every render; the sandbox has no
//! clock of its own. Sprig's quirks are kept on purpose, because charts
//! depend on them: `date` of anything but a time or an integer formats *now*,
//! `duration` ignores a plain `int`, `durationRound` counts an `int64` as
//! nanoseconds, and `toDate` gives the zero time for text it cannot parse.

use super::{FuncDef, Param::*, fixed, s};
use crate::gotime::{self, GoTime};
use crate::value::Value;

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "now" => fixed(&[], |_| Ok(Value::time(now()))),
        "date" => fixed(&[Str, Any], |a| Ok(format_in_zone(s(a, 0), &a[1]))),
        "htmlDate" => fixed(&[Any], |a| Ok(format_in_zone("2006-01-02", &a[0]))),
        // Without a time zone database every zone is shown as UTC, which is also `Local` in
        // helm's container.
        "dateInZone" | "date_in_zone" => {
            fixed(&[Str, Any, Str], |a| Ok(format_in_zone(s(a, 0), &a[1])))
        }
        "htmlDateInZone" => fixed(&[Any, Str], |a| Ok(format_in_zone("2006-01-02", &a[0]))),
        "dateModify" | "date_modify" => fixed(&[Str, Time], |a| {
            let t = time_arg(&a[1]);
            Ok(Value::time(match gotime::parse_duration(s(a, 0)) {
                Ok(d) => t.add(d),
                Err(_) => t,
            }))
        }),
        "mustDateModify" | "must_date_modify" => fixed(&[Str, Time], |a| {
            let d = gotime::parse_duration(s(a, 0))?;
            Ok(Value::time(time_arg(&a[1]).add(d)))
        }),
        "toDate" => fixed(&[Str, Str], |a| {
            Ok(Value::time(
                gotime::parse(s(a, 0), s(a, 1)).unwrap_or_else(|_| GoTime::zero()),
            ))
        }),
        "mustToDate" => fixed(&[Str, Str], |a| {
            Ok(Value::time(gotime::parse(s(a, 0), s(a, 1))?))
        }),
        "unixEpoch" => fixed(&[Time], |a| {
            Ok(Value::string(time_arg(&a[0]).unix.to_string()))
        }),
        "ago" => fixed(&[Any], |a| {
            let since = instant(&a[0]).since(super::nondeterministic::now());
            Ok(Value::string(gotime::duration_string(round_to_second(
                since,
            ))))
        }),
        "duration" => fixed(&[Any], |a| {
            let seconds = match &a[0] {
                Value::String(text) => text.parse::<i64>().unwrap_or(0),
                Value::Int64(n) => *n,
                _ => 0,
            };
            Ok(Value::string(gotime::duration_string(
                seconds.wrapping_mul(1_000_000_000),
            )))
        }),
        "durationRound" => fixed(&[Any], |a| Ok(Value::string(duration_round(&a[0])))),
        _ => return None,
    })
}

/// What `now` returns: the host's time with a fresh monotonic reading.
fn now() -> GoTime {
    GoTime {
        monotonic: Some(super::nondeterministic::next_monotonic()),
        ..GoTime::utc(super::nondeterministic::now(), 0)
    }
}

fn time_arg(v: &Value) -> GoTime {
    v.as_time().cloned().unwrap_or_else(GoTime::zero)
}

/// Sprig's reading of a date argument: a time, or Unix seconds from an integer; anything
/// else means now.
fn instant(v: &Value) -> GoTime {
    match v {
        Value::Int(n) | Value::Int64(n) => GoTime::utc(*n, 0),
        other => other.as_time().cloned().unwrap_or_else(now),
    }
}

fn format_in_zone(layout: &str, date: &Value) -> Value {
    Value::string(instant(date).in_utc().format(layout))
}

/// `Duration.Round(time.Second)`: halves away from zero.
fn round_to_second(ns: i64) -> i64 {
    const SECOND: i64 = 1_000_000_000;
    let r = ns % SECOND;
    let down = ns - r;
    if r.abs() * 2 < SECOND {
        down
    } else if ns < 0 {
        down.saturating_sub(SECOND)
    } else {
        down.saturating_add(SECOND)
    }
}

/// Sprig's `durationRound`: the largest whole unit, sign dropped.
fn duration_round(v: &Value) -> String {
    let ns: i64 = match v {
        Value::String(text) => gotime::parse_duration(text).unwrap_or(0),
        Value::Int64(n) => *n,
        other => match other.as_time() {
            Some(t) => t.since(super::nondeterministic::now()),
            None => 0,
        },
    };
    let u = ns.unsigned_abs();
    const SECOND: u64 = 1_000_000_000;
    const UNITS: [(u64, &str); 6] = [
        (365 * 24 * 3600 * SECOND, "y"),
        (30 * 24 * 3600 * SECOND, "mo"),
        (24 * 3600 * SECOND, "d"),
        (3600 * SECOND, "h"),
        (60 * SECOND, "m"),
        (SECOND, "s"),
    ];
    UNITS.iter().find(|(unit, _)| u > *unit).map_or_else(
        || "0s".to_string(),
        |(unit, name)| format!("{}{name}", u / unit),
    )
}
