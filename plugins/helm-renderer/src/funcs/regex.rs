//! Sprig's regular-expression family. Go's RE2 syntax is matched by
//! `regex-lite` except for Unicode classes (`\pL`), which it lacks.

use regex_lite::Regex;

use super::{FuncDef, FuncImpl, FuncResult, Param::*, fixed, int, s};
use crate::value::Value;

pub fn lookup(name: &str) -> Option<FuncDef> {
    let must = name.starts_with("must");
    Some(match name {
        // Sprig's regexMatch ignores a bad pattern (false); the other non-must
        // forms use `regexp.MustCompile`, whose panic becomes the call's error.
        "regexMatch" => fixed(&[Str, Str], |a| {
            Ok(Value::Bool(re(s(a, 0)).is_ok_and(|r| r.is_match(s(a, 1)))))
        }),
        "mustRegexMatch" => fixed(&[Str, Str], |a| {
            Ok(Value::Bool(re(s(a, 0))?.is_match(s(a, 1))))
        }),
        "regexFind" | "mustRegexFind" => {
            fixed(&[Str, Str], pick(must, find::<false>, find::<true>))
        }
        "regexFindAll" | "mustRegexFindAll" => fixed(
            &[Str, Str, Int],
            pick(must, find_all::<false>, find_all::<true>),
        ),
        "regexReplaceAll" | "mustRegexReplaceAll" => fixed(
            &[Str, Str, Str],
            pick(must, replace::<false>, replace::<true>),
        ),
        "regexReplaceAllLiteral" | "mustRegexReplaceAllLiteral" => fixed(
            &[Str, Str, Str],
            pick(must, literal::<false>, literal::<true>),
        ),
        "regexSplit" | "mustRegexSplit" => {
            fixed(&[Str, Str, Int], pick(must, split::<false>, split::<true>))
        }
        "regexQuoteMeta" => fixed(&[Str], |a| Ok(Value::string(quote_meta(s(a, 0))))),
        _ => return None,
    })
}

/// Go's `regexp.QuoteMeta` (fewer escapes than regex-lite's, e.g. not `-`).
fn quote_meta(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn pick(must: bool, plain: FuncImpl, strict: FuncImpl) -> FuncImpl {
    if must { strict } else { plain }
}

fn find<const MUST: bool>(a: &[Value]) -> FuncResult {
    Ok(Value::str(
        compile::<MUST>(s(a, 0))?
            .find(s(a, 1))
            .map_or("", |m| m.as_str()),
    ))
}

fn find_all<const MUST: bool>(a: &[Value]) -> FuncResult {
    let r = compile::<MUST>(s(a, 0))?;
    let n = int(a, 2);
    let found = r.find_iter(s(a, 1)).map(|m| Value::str(m.as_str()));
    let all: Vec<Value> = if n < 0 {
        found.collect()
    } else {
        found.take(n as usize).collect()
    };
    // Go's FindAllString returns a nil slice when nothing matches.
    Ok(if all.is_empty() {
        Value::Nil
    } else {
        Value::list(all)
    })
}

fn replace<const MUST: bool>(a: &[Value]) -> FuncResult {
    // Go and Rust expand `$1`/`${name}` alike (`$1a` names group `1a` in both).
    Ok(Value::string(
        compile::<MUST>(s(a, 0))?
            .replace_all(s(a, 1), s(a, 2))
            .into_owned(),
    ))
}

fn literal<const MUST: bool>(a: &[Value]) -> FuncResult {
    Ok(Value::string(
        compile::<MUST>(s(a, 0))?
            .replace_all(s(a, 1), regex_lite::NoExpand(s(a, 2)))
            .into_owned(),
    ))
}

fn split<const MUST: bool>(a: &[Value]) -> FuncResult {
    let r = compile::<MUST>(s(a, 0))?;
    let n = int(a, 2);
    let parts: Vec<Value> = if n < 0 {
        r.split(s(a, 1)).map(Value::str).collect()
    } else {
        r.splitn(s(a, 1), n as usize).map(Value::str).collect()
    };
    Ok(Value::list(parts))
}

/// The `must*` forms return Go's compile error; the others panic with
/// `regexp.MustCompile`'s message, which Go reports the same way.
fn compile<const MUST: bool>(pattern: &str) -> Result<Regex, String> {
    if MUST {
        re(pattern)
    } else {
        re(pattern).map_err(|e| {
            let quoted = if pattern.contains('`')
                || pattern.contains(|c: char| c.is_control() && c != '\t')
            {
                crate::gofmt::quote(pattern)
            } else {
                format!("`{pattern}`")
            };
            format!("regexp: Compile({quoted}): {e}")
        })
    }
}

fn re(pattern: &str) -> Result<Regex, String> {
    Regex::new(pattern).map_err(|e| {
        format!(
            "error parsing regexp: {}",
            go_error(pattern, &e.to_string())
        )
    })
}

/// Go's `regexp/syntax` wording for the common mistakes (unbalanced
/// brackets and parentheses); other errors keep regex-lite's text.
fn go_error(pattern: &str, fallback: &str) -> String {
    let bytes = pattern.as_bytes();
    let (mut i, mut open_parens) = (0, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => {
                let start = i;
                i += 1;
                if bytes.get(i) == Some(&b'^') {
                    i += 1;
                }
                if bytes.get(i) == Some(&b']') {
                    i += 1;
                }
                while i < bytes.len() && bytes[i] != b']' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return format!("missing closing ]: `{}`", &pattern[start..]);
                }
            }
            b'(' => open_parens += 1,
            b')' if open_parens == 0 => return format!("unexpected ): `{pattern}`"),
            b')' => open_parens -= 1,
            _ => {}
        }
        i += 1;
    }
    if open_parens > 0 {
        return format!("missing closing ): `{pattern}`");
    }
    fallback.to_string()
}
