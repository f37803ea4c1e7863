//! Helm's own template functions (besides `include`/`tpl`, which need the
//! executor, and the YAML/JSON/TOML helpers in `encoding`).

use super::{FuncDef, Param::*, fixed, s};
use crate::value::{Map, Value};

/// Helm wraps `fail`/`required` messages in these markers and later reports the
/// text between them as `execution error at (<file:line:col>): <message>`.
pub const WARN_START: &str = "HELM_ERR_START";
pub const WARN_END: &str = "HELM_ERR_END";

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "fail" => fixed(&[Str], |a| {
            Err(format!("{WARN_START}{}{WARN_END}", s(a, 0)))
        }),
        "required" => fixed(&[Str, Any], |a| match &a[1] {
            Value::Nil => Err(format!("{WARN_START}{}{WARN_END}", s(a, 0))),
            Value::String(v) if v.is_empty() => Err(format!("{WARN_START}{}{WARN_END}", s(a, 0))),
            v => Ok(v.clone()),
        }),
        // No cluster is reachable from a renderer: Helm's `helm template` behaviour.
        "lookup" => fixed(&[Str, Str, Str, Str], |_| Ok(Value::map(Map::new()))),
        // DNS is never enabled in the sandbox (Helm without --enable-dns).
        "getHostByName" => fixed(&[Str], |_| Ok(Value::str(""))),
        _ => return None,
    })
}
