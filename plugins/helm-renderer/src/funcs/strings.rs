//! Sprig string functions. Argument order follows Sprig (the subject string
//! comes last so it can be piped).

use std::rc::Rc;

use super::convert::to_string;
use super::{FuncDef, Param::*, fixed, int, s, variadic};
use crate::gofmt;
use crate::value::{Map, Value};

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "trim" => fixed(&[Str], |a| {
            Ok(Value::str(s(a, 0).trim_matches(is_go_space)))
        }),
        "trimAll" | "trimall" => fixed(&[Str, Str], |a| {
            let cut: Vec<char> = s(a, 0).chars().collect();
            Ok(Value::str(s(a, 1).trim_matches(|c| cut.contains(&c))))
        }),
        "trimPrefix" => fixed(&[Str, Str], |a| {
            Ok(Value::str(s(a, 1).strip_prefix(s(a, 0)).unwrap_or(s(a, 1))))
        }),
        "trimSuffix" => fixed(&[Str, Str], |a| {
            Ok(Value::str(s(a, 1).strip_suffix(s(a, 0)).unwrap_or(s(a, 1))))
        }),
        "upper" => fixed(&[Str], |a| Ok(Value::string(s(a, 0).to_uppercase()))),
        "lower" => fixed(&[Str], |a| Ok(Value::string(s(a, 0).to_lowercase()))),
        "title" => fixed(&[Str], |a| {
            Ok(Value::string(map_word_starts(s(a, 0), true)))
        }),
        "untitle" => fixed(&[Str], |a| {
            Ok(Value::string(map_word_starts(s(a, 0), false)))
        }),
        "repeat" => fixed(&[Int, Str], |a| {
            let count = int(a, 0).max(0) as usize;
            check_size(s(a, 1).len().saturating_mul(count))?;
            Ok(Value::string(s(a, 1).repeat(count)))
        }),
        "substr" => fixed(&[Int, Int, Str], |a| {
            Ok(Value::string(substr(int(a, 0), int(a, 1), s(a, 2))?))
        }),
        "nospace" => fixed(&[Str], |a| {
            Ok(Value::string(
                s(a, 0).chars().filter(|c| !c.is_whitespace()).collect(),
            ))
        }),
        "trunc" => fixed(&[Int, Str], |a| {
            Ok(Value::string(trunc(int(a, 0), s(a, 1))))
        }),
        "abbrev" => fixed(&[Int, Str], |a| {
            Ok(Value::string(abbrev(int(a, 0), s(a, 1))))
        }),
        "abbrevboth" => fixed(&[Int, Int, Str], |a| {
            Ok(Value::string(abbrev_both(int(a, 0), int(a, 1), s(a, 2))))
        }),
        "initials" => fixed(&[Str], |a| {
            Ok(Value::string(
                s(a, 0)
                    .split_whitespace()
                    .filter_map(|w| w.chars().next())
                    .collect(),
            ))
        }),
        "wrap" => fixed(&[Int, Str], |a| {
            Ok(Value::string(wrap(s(a, 1), int(a, 0), "\n")))
        }),
        "wrapWith" => fixed(&[Int, Str, Str], |a| {
            Ok(Value::string(wrap(s(a, 2), int(a, 0), s(a, 1))))
        }),
        "contains" => fixed(&[Str, Str], |a| Ok(Value::Bool(s(a, 1).contains(s(a, 0))))),
        "hasPrefix" => fixed(&[Str, Str], |a| {
            Ok(Value::Bool(s(a, 1).starts_with(s(a, 0))))
        }),
        "hasSuffix" => fixed(&[Str, Str], |a| Ok(Value::Bool(s(a, 1).ends_with(s(a, 0))))),
        "quote" => variadic(&[], Any, |a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| gofmt::quote(&to_string(v)))
                .collect();
            Ok(Value::string(parts.join(" ")))
        }),
        "squote" => variadic(&[], Any, |a| {
            let parts: Vec<String> = a
                .iter()
                .filter(|v| !v.is_nil())
                .map(|v| format!("'{}'", to_string(v)))
                .collect();
            Ok(Value::string(parts.join(" ")))
        }),
        "cat" => variadic(&[], Any, |a| {
            let parts: Vec<String> = a.iter().filter(|v| !v.is_nil()).map(to_string).collect();
            Ok(Value::string(parts.join(" ")))
        }),
        "indent" => fixed(&[Int, Str], |a| {
            Ok(Value::string(indent(int(a, 0), s(a, 1))))
        }),
        "nindent" => fixed(&[Int, Str], |a| {
            check_indent(int(a, 0), s(a, 1))?;
            Ok(Value::string(format!("\n{}", indent(int(a, 0), s(a, 1)))))
        }),
        "replace" => fixed(&[Str, Str, Str], |a| {
            Ok(Value::string(go_replace_all(s(a, 2), s(a, 0), s(a, 1))))
        }),
        "plural" => fixed(&[Str, Str, Int], |a| {
            Ok(Value::str(if int(a, 2) == 1 { s(a, 0) } else { s(a, 1) }))
        }),
        "snakecase" => fixed(&[Str], |a| Ok(Value::string(delimited_case(s(a, 0), '_')))),
        "kebabcase" => fixed(&[Str], |a| Ok(Value::string(delimited_case(s(a, 0), '-')))),
        "camelcase" => fixed(&[Str], |a| Ok(Value::string(camel_case(s(a, 0))))),
        "swapcase" => fixed(&[Str], |a| Ok(Value::string(swap_case(s(a, 0))))),
        "split" => fixed(&[Str, Str], |a| {
            Ok(indexed_parts(go_split(s(a, 1), s(a, 0), -1)))
        }),
        "splitn" => fixed(&[Str, Int, Str], |a| {
            Ok(indexed_parts(go_split(s(a, 2), s(a, 0), int(a, 1))))
        }),
        "splitList" => fixed(&[Str, Str], |a| {
            Ok(Value::string_list(go_split(s(a, 1), s(a, 0), -1)))
        }),
        "join" => fixed(&[Str, Any], |a| {
            Ok(Value::string(str_slice(&a[1]).join(s(a, 0))))
        }),
        "sortAlpha" => fixed(&[Any], |a| {
            let mut v = str_slice(&a[0]);
            v.sort();
            Ok(Value::string_list(v))
        }),
        "hello" => fixed(&[], |_| Ok(Value::str("Hello!"))),
        _ => return None,
    })
}

/// Largest string a single function may build; keeps hostile templates
/// from exhausting memory before the output limit is reached.
const MAX_RESULT_BYTES: usize = 32 << 20;

fn check_size(bytes: usize) -> Result<(), String> {
    if bytes > MAX_RESULT_BYTES {
        return Err(format!(
            "result of {bytes} bytes exceeds the limit of {MAX_RESULT_BYTES} bytes"
        ));
    }
    Ok(())
}

fn check_indent(spaces: i64, v: &str) -> Result<(), String> {
    let lines = v.matches('\n').count() + 1;
    check_size(
        v.len()
            .saturating_add(lines.saturating_mul(spaces.max(0) as usize)),
    )
}

/// Go's `unicode.IsSpace`, which `strings.TrimSpace` uses.
pub fn is_go_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{85}' | '\u{a0}'
    ) || (c as u32 > 0xff && c.is_whitespace())
}

/// Sprig `strslice`: lists become their elements' strings (nil entries of
/// `[]interface{}` dropped), a scalar becomes a one-element slice.
pub fn str_slice(v: &Value) -> Vec<String> {
    if let Some(items) = v.slice_items() {
        return items
            .iter()
            .filter(|x| !x.is_nil())
            .map(to_string)
            .collect();
    }
    match v {
        Value::Nil => Vec::new(),
        other => vec![to_string(other)],
    }
}

/// Go's `strings.SplitN` (n < 0: all; n == 0: none; empty sep: per UTF-8 char).
pub fn go_split(s: &str, sep: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if sep.is_empty() {
        let chars: Vec<String> = s.chars().map(String::from).collect();
        if n > 0 && chars.len() > n as usize {
            let mut head: Vec<String> = chars[..n as usize - 1].to_vec();
            head.push(chars[n as usize - 1..].concat());
            return head;
        }
        return chars;
    }
    if n < 0 {
        s.split(sep).map(String::from).collect()
    } else {
        s.splitn(n as usize, sep).map(String::from).collect()
    }
}

/// `map[string]string` keyed `_0`, `_1`, … as Sprig's `split` returns.
fn indexed_parts(parts: Vec<String>) -> Value {
    let m: Map = parts
        .into_iter()
        .enumerate()
        .map(|(i, p)| (format!("_{i}"), Value::string(p)))
        .collect();
    Value::StringMap(Rc::new(m))
}

/// Go's `strings.ReplaceAll` (an empty `old` inserts `new` around every char).
fn go_replace_all(src: &str, old: &str, new: &str) -> String {
    if old.is_empty() {
        let mut out = String::from(new);
        for c in src.chars() {
            out.push(c);
            out.push_str(new);
        }
        return out;
    }
    src.replace(old, new)
}

/// Sprig `indent`: every line (including a trailing empty one) gets the pad.
pub fn indent(spaces: i64, v: &str) -> String {
    let pad = " ".repeat(spaces.clamp(0, 1 << 16) as usize);
    format!("{pad}{}", v.replace('\n', &format!("\n{pad}")))
}

/// Sprig's byte-offset `substring`, including Go's slice-bounds panics.
fn substr(start: i64, end: i64, s: &str) -> Result<String, String> {
    let len = s.len() as i64;
    let (lo, hi) = if start < 0 {
        if end < 0 || end > len {
            return Err(format!(
                "runtime error: slice bounds out of range [:{end}] with length {len}"
            ));
        }
        (0, end)
    } else if end < 0 || end > len {
        if start > len {
            return Err(format!(
                "runtime error: slice bounds out of range [{start}:{len}]"
            ));
        }
        (start, len)
    } else {
        if start > end {
            return Err(format!(
                "runtime error: slice bounds out of range [{start}:{end}]"
            ));
        }
        (start, end)
    };
    Ok(String::from_utf8_lossy(&s.as_bytes()[lo as usize..hi as usize]).into_owned())
}

fn trunc(c: i64, s: &str) -> String {
    let len = s.len() as i64;
    if c < 0 && len + c > 0 {
        return String::from_utf8_lossy(&s.as_bytes()[(len + c) as usize..]).into_owned();
    }
    if c >= 0 && len > c {
        return String::from_utf8_lossy(&s.as_bytes()[..c as usize]).into_owned();
    }
    s.to_string()
}

fn abbrev(width: i64, s: &str) -> String {
    if width < 4 || s.len() as i64 <= width {
        return s.to_string();
    }
    format!("{}...", byte_slice(s, 0, (width - 3) as usize))
}

/// Byte-range slice as Go does it, without panicking inside a UTF-8 sequence.
fn byte_slice(s: &str, start: usize, end: usize) -> String {
    let b = s.as_bytes();
    let (start, end) = (start.min(b.len()), end.min(b.len()));
    String::from_utf8_lossy(&b[start.min(end)..end]).into_owned()
}

fn abbrev_both(left: i64, right: i64, s: &str) -> String {
    if right < 4 || (left > 0 && right < 7) {
        return s.to_string();
    }
    let len = s.len() as i64;
    if len <= right {
        return s.to_string();
    }
    let mut offset = left.clamp(0, len);
    if len - offset < right - 3 {
        offset = len - (right - 3);
    }
    if offset <= 4 {
        return format!("{}...", byte_slice(s, 0, (right - 3) as usize));
    }
    if offset + right - 3 < len {
        return format!(
            "...{}",
            abbrev(right - 3, &byte_slice(s, offset as usize, s.len()))
        );
    }
    format!(
        "...{}",
        byte_slice(s, (len - (right - 3)) as usize, s.len())
    )
}

/// goutils `WrapCustom` with long words wrapped.
fn wrap(s: &str, width: i64, sep: &str) -> String {
    let width = width.max(1) as usize;
    let mut out: Vec<String> = Vec::new();
    for line in s.split('\n') {
        let mut current = String::new();
        for word in line.split(' ') {
            let mut word: Vec<char> = word.chars().collect();
            while word.len() > width && current.is_empty() {
                out.push(word[..width].iter().collect());
                word = word[width..].to_vec();
            }
            let word: String = word.into_iter().collect();
            if current.is_empty() {
                current = word;
            } else if current.chars().count() + 1 + word.chars().count() <= width {
                current.push(' ');
                current.push_str(&word);
            } else {
                out.push(std::mem::take(&mut current));
                current = word;
            }
        }
        out.push(current);
    }
    out.join(sep)
}

/// `strings.Title` / Sprig `untitle`: change the first letter of each word.
fn map_word_starts(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_sep = true;
    for c in s.chars() {
        if prev_sep && c.is_alphabetic() {
            if upper {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            out.push(c);
        }
        prev_sep = !(c.is_alphanumeric() || c == '_' || c == '\'');
    }
    out
}

/// Splits camel case / separated words the way xstrings does for snake/kebab case.
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c == '_' || c == '-' || c.is_whitespace() || c == '.' {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn delimited_case(s: &str, sep: char) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join(&sep.to_string())
}

fn camel_case(s: &str) -> String {
    let mut out = String::new();
    for part in s.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_uppercase() {
                c.to_lowercase().collect::<String>()
            } else if c.is_lowercase() {
                c.to_uppercase().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}
