//! Values YAML (a chart's `values.yaml`, a user's `-f` file) read the way Helm reads it.
//!
//! Helm parses values with go-yaml v2 (YAML 1.1) through sigs.k8s.io/yaml, so
//! `yes`/`no`/`on`/`off`/`y`/`n` are booleans, `0755` is octal and map keys are
//! turned into strings. yaml-rust2 only tokenises here; every plain scalar is
//! resolved by [`resolve_plain`] with those YAML 1.1 rules. Features a values file
//! for kgst never needs (custom tags, merge keys, non-scalar keys) are refused
//! rather than guessed, so a surprising file fails loudly instead of validating
//! different values than Helm would.

use std::collections::HashMap;

use serde_json::{Map, Number, Value};
use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

mod go_error;
mod reindent;

pub use go_error::go_yaml_error;
pub use reindent::reindent_like_go_yaml;

/// Aliases are expanded by copying; this caps the copies so a "billion laughs"
/// file cannot exhaust the plugin's memory.
const MAX_NODES: usize = 100_000;
/// Collections are read recursively; a chart's values file or a rendered
/// manifest nested deeper than any real one could otherwise overflow the
/// host's stack (an abort, not an error). Kubernetes objects nest a few dozen.
const MAX_DEPTH: usize = 256;

/// Parses a values document into a JSON object (an empty or all-comment file is `{}`).
/// Indentation inside flow collections and quoted scalars is free, as in go-yaml.
pub fn parse_values(text: &str) -> Result<Map<String, Value>, String> {
    parse_values_strict(text).or_else(|first| match reindent_like_go_yaml(text) {
        Some(relaxed) => parse_values_strict(&relaxed),
        None => Err(first),
    })
}

fn parse_values_strict(text: &str) -> Result<Map<String, Value>, String> {
    let mut reader = Reader {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
        depth: 0,
    };
    let mut document: Option<Value> = None;
    loop {
        let (event, mark) = reader.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart => {
                let (first, first_mark) = reader.next()?;
                if matches!(first, Event::DocumentEnd) {
                    continue;
                }
                if document.is_some() {
                    return Err(at(first_mark, "the file holds more than one YAML document"));
                }
                document = Some(reader.node(first, first_mark)?);
            }
            other => return Err(at(mark, &format!("unexpected YAML event {other:?}"))),
        }
    }
    match document {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(other) => Err(format!(
            "the file must hold a mapping at the top level, not {}",
            json_kind(&other)
        )),
    }
}

struct Reader<'a> {
    parser: Parser<std::str::Chars<'a>>,
    anchors: HashMap<usize, Value>,
    nodes: usize,
    depth: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> Result<(Event, Marker), String> {
        self.parser
            .next_token()
            .map_err(|e| format!("not valid YAML: {e}"))
    }

    fn node(&mut self, event: Event, mark: Marker) -> Result<Value, String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(at(
                mark,
                "the document expands to too many nodes (alias bomb?)",
            ));
        }
        let collection = matches!(event, Event::SequenceStart(..) | Event::MappingStart(..));
        if collection {
            self.depth += 1;
            if self.depth > MAX_DEPTH {
                return Err(at(
                    mark,
                    &format!("the document nests deeper than {MAX_DEPTH} levels"),
                ));
            }
        }
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                (scalar(&text, style, tag.as_ref(), mark)?, anchor)
            }
            Event::SequenceStart(anchor, tag) => {
                reject_collection_tag(tag.as_ref(), "seq", mark)?;
                let mut items = Vec::new();
                loop {
                    let (event, mark) = self.next()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(event, mark)?);
                }
                (Value::Array(items), anchor)
            }
            Event::MappingStart(anchor, tag) => {
                reject_collection_tag(tag.as_ref(), "map", mark)?;
                let mut map = Map::new();
                loop {
                    let (event, key_mark) = self.next()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(event, key_mark)?;
                    let key =
                        map_key(&key).ok_or_else(|| at(key_mark, "map keys must be scalars"))?;
                    if key == "<<" {
                        return Err(at(key_mark, "YAML merge keys (<<) are not supported"));
                    }
                    let (event, mark) = self.next()?;
                    let value = self.node(event, mark)?;
                    // go-yaml v2 keeps the last of duplicate keys; so does insert.
                    map.insert(key, value);
                }
                (Value::Object(map), anchor)
            }
            Event::Alias(id) => {
                let value = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| at(mark, "alias to an unknown anchor"))?;
                self.nodes += count_nodes(&value);
                return Ok(value);
            }
            other => return Err(at(mark, &format!("unexpected YAML event {other:?}"))),
        };
        if collection {
            self.depth -= 1;
        }
        if anchor != 0 {
            self.anchors.insert(anchor, value.clone());
        }
        Ok(value)
    }
}

fn count_nodes(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(count_nodes).sum::<usize>(),
        Value::Object(map) => 1 + map.values().map(count_nodes).sum::<usize>(),
        _ => 1,
    }
}

fn at(mark: Marker, what: &str) -> String {
    format!("line {} column {}: {what}", mark.line(), mark.col() + 1)
}

fn reject_collection_tag(tag: Option<&Tag>, allowed: &str, mark: Marker) -> Result<(), String> {
    match tag {
        None => Ok(()),
        Some(t) if t.handle == "tag:yaml.org,2002:" && t.suffix == allowed => Ok(()),
        Some(t) => Err(at(
            mark,
            &format!("unsupported YAML tag {}{}", t.handle, t.suffix),
        )),
    }
}

fn scalar(
    text: &str,
    style: TScalarStyle,
    tag: Option<&Tag>,
    mark: Marker,
) -> Result<Value, String> {
    let Some(tag) = tag else {
        return match style {
            TScalarStyle::Plain => resolve_plain(text).map_err(|e| at(mark, &e)),
            _ => Ok(Value::String(text.to_string())),
        };
    };
    let standard = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    match (standard, tag.suffix.as_str()) {
        (true, "str") => Ok(Value::String(text.to_string())),
        (true, "null" | "bool" | "int" | "float") => {
            let value = resolve_plain(text).map_err(|e| at(mark, &e))?;
            let fits = match tag.suffix.as_str() {
                "null" => value.is_null(),
                "bool" => value.is_boolean(),
                "int" => value.is_i64() || value.is_u64(),
                _ => value.is_number(),
            };
            if fits {
                Ok(value)
            } else {
                Err(at(
                    mark,
                    &format!("cannot read {text:?} as !!{}", tag.suffix),
                ))
            }
        }
        _ => Err(at(
            mark,
            &format!("unsupported YAML tag {}{}", tag.handle, tag.suffix),
        )),
    }
}

/// sigs.k8s.io/yaml turns every key into a string the way Go prints it.
fn map_key(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Null => Some("null".into()),
        _ => None,
    }
}

/// Resolves an untagged plain scalar with go-yaml v2's YAML 1.1 rules.
pub fn resolve_plain(text: &str) -> Result<Value, String> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" => {
            return Ok(Value::Bool(true));
        }
        "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Ok(Value::Bool(false));
        }
        _ => {}
    }
    let first = text.as_bytes()[0];
    if !(first.is_ascii_digit() || matches!(first, b'+' | b'-' | b'.')) {
        return Ok(Value::String(text.to_string()));
    }
    let lower = text.to_ascii_lowercase();
    if matches!(lower.trim_start_matches(['+', '-']), ".inf" | ".nan") {
        // JSON has no infinities; Helm itself fails to convert these values.
        return Err(format!(
            "{text:?} (infinity/NaN) cannot be represented in JSON values"
        ));
    }
    let plain = text.replace('_', "");
    if let Some(n) = parse_go_int(&plain) {
        return Ok(Value::Number(n));
    }
    if is_yaml_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
        && let Some(n) = Number::from_f64(f)
    {
        return Ok(Value::Number(n));
    }
    if let Some(date) = date_only(text) {
        return Ok(Value::String(date));
    }
    Ok(Value::String(text.to_string()))
}

/// Go's `strconv.ParseInt(s, 0, 64)` then `ParseUint`: optional sign, `0x`,
/// `0o`, `0b` or a leading `0` (octal) prefix.
fn parse_go_int(s: &str) -> Option<Number> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if body.is_empty() || !body.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u64::from_str_radix(body, radix).ok()?;
    if negative {
        let value = 0i64.checked_sub_unsigned(magnitude)?;
        Some(Number::from(value))
    } else {
        Some(Number::from(magnitude))
    }
}

/// go-yaml v2's `yamlStyleFloat`: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

/// go-yaml v2 reads an unquoted `2024-03-21` as a timestamp, which reaches the
/// values as the RFC 3339 string `2024-03-21T00:00:00Z`.
fn date_only(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape.then(|| format!("{s}T00:00:00Z"))
}

/// A JSON value's kind, for messages.
pub fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Value {
        Value::Object(parse_values(text).unwrap())
    }

    #[test]
    fn yaml_1_1_booleans_and_nulls_resolve_like_helm() {
        let v = parse("a: yes\nb: off\nc: ~\nd:\ne: \"yes\"\ny: 1\n");
        assert_eq!(
            v,
            json!({"a": true, "b": false, "c": null, "d": null, "e": "yes", "true": 1})
        );
    }

    #[test]
    fn numbers_follow_go_parse_rules() {
        let v = parse(
            "oct: 0755\nhex: 0x10\nneg: -3\nfloat: 1.5\nexp: 1e3\nver: 14.1.2\nunder: 1_000\n",
        );
        assert_eq!(v["oct"], json!(493));
        assert_eq!(v["hex"], json!(16));
        assert_eq!(v["neg"], json!(-3));
        assert_eq!(v["float"], json!(1.5));
        assert_eq!(v["exp"], json!(1000.0));
        assert_eq!(v["ver"], json!("14.1.2"));
        assert_eq!(v["under"], json!(1000));
    }

    #[test]
    fn kgst_style_file_with_comments_and_empty_values() {
        let v = parse(
            "repo:\n  # c\n  name: \"k0rdent-catalog\"\n  secretRef:\n  spec:\n    url: oci://x/y\nlist: []\nprefix: \"\"\n",
        );
        assert_eq!(
            v,
            json!({"repo": {"name": "k0rdent-catalog", "secretRef": null, "spec": {"url": "oci://x/y"}}, "list": [], "prefix": ""})
        );
    }

    #[test]
    fn empty_file_is_an_empty_map_and_scalars_are_refused() {
        assert_eq!(parse("# nothing\n"), json!({}));
        assert!(parse_values("just a string\n").is_err());
    }

    #[test]
    fn flows_and_quoted_scalars_are_indented_freely_as_in_go_yaml() {
        // openstack-manila-csi's container command, as the host reads the rendered manifest.
        let v = parse(
            "spec:\n  containers:\n    - command: [\"/bin/sh\", \"-c\",\n        '/bin/plugin\n        -v=2'\n    ]\n      name: p\n",
        );
        assert_eq!(
            v["spec"]["containers"][0],
            json!({"command": ["/bin/sh", "-c", "/bin/plugin -v=2"], "name": "p"})
        );
        assert!(parse_values("a:\n  b: [1,\n2]\n c: 3\n").is_err());
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // yaml-rust2 bounds flow nesting itself; block nesting is ours to bound.
        let err = parse_values(&format!("a: {}1\n", "[".repeat(5000))).unwrap_err();
        assert!(err.contains("recursion limit exceeded"), "{err}");
        let err = parse_values(&format!("a:\n{}1\n", "- ".repeat(5000))).unwrap_err();
        assert!(err.contains("deeper than 256 levels"), "{err}");
        let ok = format!("a: {}1{}\n", "[".repeat(200), "]".repeat(200));
        assert!(parse_values(&ok).is_ok());
    }

    #[test]
    fn anchors_expand_and_bad_yaml_is_reported() {
        let v = parse("a: &x {k: v}\nb: *x\n");
        assert_eq!(v["b"], json!({"k": "v"}));
        assert!(
            parse_values("a: [unclosed\n")
                .unwrap_err()
                .contains("not valid YAML")
        );
        assert!(
            parse_values("a: !custom x\n")
                .unwrap_err()
                .contains("unsupported YAML tag")
        );
        assert!(
            parse_values("<<: {a: 1}\n")
                .unwrap_err()
                .contains("merge keys")
        );
    }

    #[test]
    fn dates_and_infinities_follow_helm() {
        assert_eq!(parse("d: 2024-03-21\n")["d"], json!("2024-03-21T00:00:00Z"));
        assert!(parse_values("f: .inf\n").is_err());
    }
}
