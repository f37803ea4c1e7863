//! Helm's `--set` syntax: `a.b=c`, `list[0].x=1`, `a={x,y}`, `a\.b=c`,
//! several assignments separated by commas, and Helm's type inference
//! (`true`/`false`/`null`, integers without a leading zero; everything else a
//! string). `--set-string` keeps every value a string.

use serde_json::{Map, Value};

/// Helm refuses list indices above this, so `a[99999999]=x` cannot exhaust memory.
const MAX_INDEX: usize = 65_536;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// `--set`: infer booleans, null and integers.
    Inferred,
    /// `--set-string`: every value is a string.
    Strings,
}

/// Applies one `--set`/`--set-string` argument to `base`.
pub fn parse_into(
    input: &str,
    base: &mut Map<String, Value>,
    typing: Typing,
) -> Result<(), String> {
    let mut p = Parser {
        chars: input.chars().collect(),
        pos: 0,
        typing,
    };
    while p.pos < p.chars.len() {
        p.assignment(base)?;
    }
    Ok(())
}

/// Applies one `--set-json` argument (`key.path=<json>`) to `base`.
pub fn parse_json_into(input: &str, base: &mut Map<String, Value>) -> Result<(), String> {
    let mut p = Parser {
        chars: input.chars().collect(),
        pos: 0,
        typing: Typing::Strings,
    };
    let path = p.key_path()?;
    let json: String = p.chars[p.pos..].iter().collect();
    let value: Value = serde_json::from_str(&json).map_err(|e| {
        format!(
            "key {:?} has an invalid JSON value: {e}",
            display_path(&path)
        )
    })?;
    set_path(base, &path, value)
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn display_path(path: &[Segment]) -> String {
    let mut out = String::new();
    for s in path {
        match s {
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    typing: Typing,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// `path=value` up to the next top-level comma (consumed).
    fn assignment(&mut self, base: &mut Map<String, Value>) -> Result<(), String> {
        let path = self.key_path()?;
        let value = if self.peek() == Some('{') {
            self.pos += 1;
            self.list_value()?
        } else {
            let (text, _) = self.scalar(&[','])?;
            self.typed(text)
        };
        match self.peek() {
            Some(',') => self.pos += 1,
            None => {}
            Some(c) => {
                return Err(format!(
                    "unexpected {c:?} after the value of key {:?}",
                    display_path(&path)
                ));
            }
        }
        set_path(base, &path, value)
    }

    /// Key segments up to and including `=`.
    fn key_path(&mut self) -> Result<Vec<Segment>, String> {
        let mut path = Vec::new();
        let mut key = String::new();
        loop {
            match self.peek() {
                None | Some(',') => {
                    let mut shown = display_path(&path);
                    if !key.is_empty() {
                        if !shown.is_empty() {
                            shown.push('.');
                        }
                        shown.push_str(&key);
                    }
                    return Err(format!("key {shown:?} has no value"));
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => key.push(c),
                        None => return Err("a key ends in an escape character".into()),
                    }
                    self.pos += 1;
                }
                Some('=') => {
                    self.pos += 1;
                    if !key.is_empty() {
                        path.push(Segment::Key(std::mem::take(&mut key)));
                    }
                    if path.is_empty() {
                        return Err("an assignment has an empty key".into());
                    }
                    return Ok(path);
                }
                Some('.') => {
                    self.pos += 1;
                    if !key.is_empty() {
                        path.push(Segment::Key(std::mem::take(&mut key)));
                    } else if !matches!(path.last(), Some(Segment::Index(_))) {
                        return Err(format!(
                            "key {:?} has an empty segment",
                            display_path(&path)
                        ));
                    }
                }
                Some('[') => {
                    self.pos += 1;
                    if !key.is_empty() {
                        path.push(Segment::Key(std::mem::take(&mut key)));
                    }
                    let start = self.pos;
                    while self.peek().is_some_and(|c| c != ']') {
                        self.pos += 1;
                    }
                    let digits: String = self.chars[start..self.pos].iter().collect();
                    if self.peek() != Some(']') {
                        return Err(format!("key {:?} has an unclosed '['", display_path(&path)));
                    }
                    self.pos += 1;
                    let index: usize = digits.parse().map_err(|_| {
                        format!("list index {digits:?} is not a non-negative integer")
                    })?;
                    if index > MAX_INDEX {
                        return Err(format!(
                            "list index {index} is over the maximum of {MAX_INDEX}"
                        ));
                    }
                    path.push(Segment::Index(index));
                }
                Some(c) => {
                    key.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Characters up to an unescaped stop character.
    fn scalar(&mut self, stops: &[char]) -> Result<(String, Option<char>), String> {
        let mut text = String::new();
        while let Some(c) = self.peek() {
            if stops.contains(&c) {
                return Ok((text, Some(c)));
            }
            self.pos += 1;
            if c == '\\' {
                match self.peek() {
                    Some(next) => {
                        text.push(next);
                        self.pos += 1;
                    }
                    None => return Err("a value ends in an escape character".into()),
                }
            } else {
                text.push(c);
            }
        }
        Ok((text, None))
    }

    /// `{a,b,c}` after the opening brace.
    fn list_value(&mut self) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            let (text, stop) = self.scalar(&[',', '}'])?;
            match stop {
                Some(',') => {
                    self.pos += 1;
                    items.push(self.typed(text));
                }
                Some('}') => {
                    self.pos += 1;
                    if !(text.is_empty() && items.is_empty()) {
                        items.push(self.typed(text));
                    }
                    return Ok(Value::Array(items));
                }
                _ => return Err("a list value is missing its closing '}'".into()),
            }
        }
    }

    fn typed(&self, text: String) -> Value {
        if self.typing == Typing::Strings {
            return Value::String(text);
        }
        if text.eq_ignore_ascii_case("true") {
            return Value::Bool(true);
        }
        if text.eq_ignore_ascii_case("false") {
            return Value::Bool(false);
        }
        if text.eq_ignore_ascii_case("null") {
            return Value::Null;
        }
        if text == "0" {
            return Value::from(0i64);
        }
        // Helm reads `0755` and `007` as strings, not numbers.
        if !text.starts_with('0')
            && let Ok(i) = text.parse::<i64>()
        {
            return Value::from(i);
        }
        Value::String(text)
    }
}

fn set_path(base: &mut Map<String, Value>, path: &[Segment], value: Value) -> Result<(), String> {
    let Some(Segment::Key(first)) = path.first() else {
        return Err("a key cannot start with a list index".into());
    };
    let slot = base.entry(first.clone()).or_insert(Value::Null);
    set_in(slot, &path[1..], value);
    Ok(())
}

fn set_in(slot: &mut Value, rest: &[Segment], value: Value) {
    match rest.first() {
        None => *slot = value,
        Some(Segment::Key(k)) => {
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            let child = slot
                .as_object_mut()
                .expect("made an object above")
                .entry(k.clone())
                .or_insert(Value::Null);
            set_in(child, &rest[1..], value);
        }
        Some(Segment::Index(i)) => {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            let list = slot.as_array_mut().expect("made an array above");
            if list.len() <= *i {
                list.resize(*i + 1, Value::Null);
            }
            set_in(&mut list[*i], &rest[1..], value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set(args: &[&str], typing: Typing) -> Value {
        let mut base = Map::new();
        for a in args {
            parse_into(a, &mut base, typing).unwrap();
        }
        Value::Object(base)
    }

    #[test]
    fn infers_types_as_helm_does() {
        let v = set(
            &["a=true,b=FALSE,c=null,d=0,e=42,f=007,g=1.5,h=,i=-3"],
            Typing::Inferred,
        );
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": null, "d": 0, "e": 42, "f": "007", "g": "1.5", "h": "", "i": -3})
        );
        let v = set(&["a=true,e=42"], Typing::Strings);
        assert_eq!(v, json!({"a": "true", "e": "42"}));
    }

    #[test]
    fn nests_keys_lists_and_escapes() {
        let v = set(
            &[
                "repo.spec.url=oci://x/y",
                "list[1].name=b",
                r"a\.b=c",
                r"msg=x\,y",
                "l={1,two}",
            ],
            Typing::Inferred,
        );
        assert_eq!(
            v,
            json!({"repo": {"spec": {"url": "oci://x/y"}}, "list": [null, {"name": "b"}], "a.b": "c", "msg": "x,y", "l": [1, "two"]})
        );
        let v = set(&["chart= minio : 14.1.2 "], Typing::Inferred);
        assert_eq!(v, json!({"chart": " minio : 14.1.2 "}));
    }

    #[test]
    fn later_assignments_merge_into_earlier_ones() {
        let v = set(&["a.b=1", "a.c=2", "a.b=3"], Typing::Inferred);
        assert_eq!(v, json!({"a": {"b": 3, "c": 2}}));
    }

    #[test]
    fn errors_name_the_key() {
        let mut base = Map::new();
        assert_eq!(
            parse_into("chart", &mut base, Typing::Inferred).unwrap_err(),
            "key \"chart\" has no value"
        );
        assert!(
            parse_into("a[x]=1", &mut base, Typing::Inferred)
                .unwrap_err()
                .contains("not a non-negative integer")
        );
        assert!(
            parse_into("a[70000]=1", &mut base, Typing::Inferred)
                .unwrap_err()
                .contains("over the maximum")
        );
        assert!(
            parse_into("=1", &mut base, Typing::Inferred)
                .unwrap_err()
                .contains("empty key")
        );
        assert!(
            parse_into("l={1,2", &mut base, Typing::Inferred)
                .unwrap_err()
                .contains("closing '}'")
        );
    }

    #[test]
    fn set_json_takes_a_json_value() {
        let mut base = Map::new();
        parse_json_into(r#"repo.spec={"url":"oci://a","type":"oci"}"#, &mut base).unwrap();
        assert_eq!(
            Value::Object(base.clone()),
            json!({"repo": {"spec": {"url": "oci://a", "type": "oci"}}})
        );
        assert!(
            parse_json_into("a={bad", &mut base)
                .unwrap_err()
                .contains("invalid JSON")
        );
    }
}
