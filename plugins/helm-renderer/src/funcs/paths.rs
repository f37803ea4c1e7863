//! Sprig path and URL functions (`path` package semantics; the `os*`
//! variants behave the same because the renderer always uses `/`).

use super::{FuncDef, Param::*, fixed, s};
use crate::value::{Map, Value};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "base" | "osBase" => fixed(&[Str], |a| Ok(Value::string(base(s(a, 0))))),
        "dir" | "osDir" => fixed(&[Str], |a| Ok(Value::string(dir(s(a, 0))))),
        "clean" | "osClean" => fixed(&[Str], |a| Ok(Value::string(clean(s(a, 0))))),
        "ext" | "osExt" => fixed(&[Str], |a| {
            let p = s(a, 0);
            let tail = &p[p.rfind('/').map_or(0, |i| i + 1)..];
            Ok(Value::str(tail.rfind('.').map_or("", |i| &tail[i..])))
        }),
        "isAbs" | "osIsAbs" => fixed(&[Str], |a| Ok(Value::Bool(s(a, 0).starts_with('/')))),
        "urlParse" => fixed(&[Str], |a| Ok(url_parse(s(a, 0)))),
        "urlJoin" => fixed(&[Map], |a| Ok(Value::string(url_join(&a[0])))),
        _ => return None,
    })
}

/// Go's `path.Clean`.
pub fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in p.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// Go's `path.Base`.
pub fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    t[t.rfind('/').map_or(0, |i| i + 1)..].to_string()
}

/// Go's `path.Dir`.
pub fn dir(p: &str) -> String {
    let d = &p[..p.rfind('/').map_or(0, |i| i + 1)];
    clean(d)
}

fn url_parse(u: &str) -> Value {
    let mut m = Map::new();
    let (rest, fragment) = u.split_once('#').map_or((u, ""), |(a, b)| (a, b));
    let (rest, query) = rest.split_once('?').map_or((rest, ""), |(a, b)| (a, b));
    // Go's getScheme: a letter, then letters, digits, `+-.`, up to a colon.
    let scheme_len = rest.find(':').filter(|&i| {
        let sch = &rest[..i];
        sch.starts_with(|c: char| c.is_ascii_alphabetic())
            && sch
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    let (scheme, rest) = match scheme_len {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => ("", rest),
    };
    let mut opaque = "";
    let (authority, path) = if let Some(r) = rest.strip_prefix("//") {
        r.split_at(r.find('/').unwrap_or(r.len()))
    } else if !scheme.is_empty() && !rest.starts_with('/') {
        opaque = rest;
        ("", "")
    } else {
        ("", rest)
    };
    let (userinfo, host) = authority
        .rsplit_once('@')
        .map_or(("", authority), |(a, b)| (a, b));
    m.insert("scheme".into(), Value::str(scheme));
    m.insert("host".into(), Value::str(host));
    m.insert(
        "hostname".into(),
        Value::str(host.rsplit_once(':').map_or(host, |(h, _)| h)),
    );
    m.insert("path".into(), Value::str(path));
    m.insert("query".into(), Value::str(query));
    m.insert("opaque".into(), Value::str(opaque));
    m.insert("fragment".into(), Value::str(fragment));
    m.insert("userinfo".into(), Value::str(userinfo));
    Value::map(m)
}

/// Go's `url.PathEscape`-style escaping of `URL.Path` (`EscapedPath`).
fn escape_path(p: &str) -> String {
    let mut out = String::new();
    for b in p.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~$&+,/:;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn url_join(d: &Value) -> String {
    let get = |k: &str| {
        d.map_get(k)
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default()
    };
    let mut out = String::new();
    if !get("scheme").is_empty() {
        out.push_str(&get("scheme"));
        out.push_str("://");
    }
    if !get("userinfo").is_empty() {
        out.push_str(&get("userinfo"));
        out.push('@');
    }
    out.push_str(&get("host"));
    out.push_str(&escape_path(&get("path")));
    if !get("query").is_empty() {
        out.push('?');
        out.push_str(&get("query"));
    }
    if !get("fragment").is_empty() {
        out.push('#');
        out.push_str(&get("fragment"));
    }
    out
}
