//! Reads YAML the way Helm does (`sigs.k8s.io/yaml` → go-yaml v2 → JSON):
//! YAML 1.1 scalars, every number as float64, map keys turned into strings,
//! anchors/aliases and `<<` merge keys, first document only.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, ScanError, TScalarStyle};

use super::resolve::{Resolved, resolve_plain};
use crate::gofmt;
use crate::value::{Map, Value};

struct Collector {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Collector {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.events.push((ev, mark));
    }
}

/// yaml-rust2's events for `text`, or its error.
fn events(text: &str) -> Result<Vec<(Event, Marker)>, ScanError> {
    let mut collector = Collector { events: Vec::new() };
    Parser::new_from_str(text).load(&mut collector, false)?;
    Ok(collector.events)
}

/// Parses the first document of `src` (empty input is nil). Flow collections
/// and quoted scalars may be indented freely, as go-yaml allows; syntax errors
/// read as go-yaml's.
pub fn parse_document(src: &str) -> Result<Value, String> {
    let events = events(src)
        .or_else(|first| match helm_yaml::reindent_like_go_yaml(src) {
            Some(relaxed) => events(&relaxed).map_err(|e| (e, relaxed)),
            None => Err((first, src.to_string())),
        })
        .map_err(|(e, text)| {
            format!(
                "error converting YAML to JSON: {}",
                helm_yaml::go_yaml_error(&text, &e)
            )
        })?;
    let mut b = Builder {
        events: &events,
        idx: 0,
        anchors: HashMap::new(),
        depth: 0,
        nodes: 0,
    };
    // Skip StreamStart / DocumentStart.
    while b.idx < b.events.len()
        && matches!(b.events[b.idx].0, Event::StreamStart | Event::DocumentStart)
    {
        b.idx += 1;
    }
    if b.idx >= b.events.len() || matches!(b.events[b.idx].0, Event::StreamEnd | Event::DocumentEnd)
    {
        return Ok(Value::Nil);
    }
    b.node()
}

struct Builder<'a> {
    events: &'a [(Event, Marker)],
    idx: usize,
    /// Anchored value and its node count (aliases count as full copies).
    anchors: HashMap<usize, (Value, usize)>,
    depth: usize,
    /// Nodes produced so far, alias expansions included.
    nodes: usize,
}

/// Node budget per document: a "billion laughs" file is refused here rather
/// than exploding later when values are copied or printed.
const MAX_NODES: usize = 250_000;

/// Deeply nested documents are refused rather than overflowing the stack.
const MAX_DEPTH: usize = 512;

impl Builder<'_> {
    fn node(&mut self) -> Result<Value, String> {
        let (ev, mark) = self
            .events
            .get(self.idx)
            .cloned()
            .ok_or("unexpected end of YAML")?;
        self.idx += 1;
        self.depth += 1;
        let nodes_before = self.nodes;
        self.nodes += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "yaml: line {}: document nested too deeply",
                mark.line()
            ));
        }
        let v = match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let v = scalar(
                    &text,
                    style,
                    tag.as_ref()
                        .map(|t| format!("{}{}", t.handle, t.suffix))
                        .as_deref(),
                );
                self.remember(anchor, &v, self.nodes - nodes_before);
                v
            }
            Event::Alias(id) => {
                let (v, size) = self.anchors.get(&id).cloned().ok_or_else(|| {
                    format!("yaml: line {}: unknown anchor referenced", mark.line())
                })?;
                self.nodes += size;
                v
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                while !matches!(
                    self.events.get(self.idx).map(|e| &e.0),
                    Some(Event::SequenceEnd) | None
                ) {
                    items.push(self.node()?);
                }
                self.idx += 1;
                let v = Value::list(items);
                self.remember(anchor, &v, self.nodes - nodes_before);
                v
            }
            Event::MappingStart(anchor, _) => {
                let mut m = Map::new();
                while !matches!(
                    self.events.get(self.idx).map(|e| &e.0),
                    Some(Event::MappingEnd) | None
                ) {
                    let is_merge = matches!(&self.events[self.idx].0, Event::Scalar(k, TScalarStyle::Plain, _, None) if k == "<<");
                    let key = self.node()?;
                    let val = self.node()?;
                    if is_merge {
                        merge_into(&mut m, &val);
                    } else {
                        m.insert(key_string(&key), val);
                    }
                }
                self.idx += 1;
                let v = Value::map(m);
                self.remember(anchor, &v, self.nodes - nodes_before);
                v
            }
            other => return Err(format!("unexpected YAML event {other:?}")),
        };
        if self.nodes > MAX_NODES {
            return Err(format!(
                "yaml: document has more than {MAX_NODES} nodes (aliases included)"
            ));
        }
        self.depth -= 1;
        Ok(v)
    }

    fn remember(&mut self, anchor: usize, v: &Value, size: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, (v.clone(), size));
        }
    }
}

fn merge_into(m: &mut Map, src: &Value) {
    match src {
        Value::Map(_) => {
            for (k, v) in src.map_entries().unwrap_or_default() {
                m.insert(k, v);
            }
        }
        // A list of maps merges in order, earlier maps winning.
        Value::List(l) => {
            for item in l.iter().rev() {
                merge_into(m, item);
            }
        }
        _ => {}
    }
}

/// sigs.k8s.io/yaml's key stringification.
fn key_string(k: &Value) -> String {
    match k {
        Value::Nil => "null".into(),
        Value::Float(f) => gofmt::format_float_g(*f as f32 as f64),
        other => other.to_go_string(),
    }
}

fn scalar(text: &str, style: TScalarStyle, tag: Option<&str>) -> Value {
    match tag {
        Some("tag:yaml.org,2002:str") | Some("!!str") => return Value::str(text),
        Some("tag:yaml.org,2002:int")
        | Some("!!int")
        | Some("tag:yaml.org,2002:float")
        | Some("!!float") => {
            if let Resolved::Int(i) = resolve_plain(text) {
                return Value::Float(i as f64);
            }
            return text
                .parse::<f64>()
                .map_or_else(|_| Value::str(text), Value::Float);
        }
        Some("tag:yaml.org,2002:bool") | Some("!!bool") => {
            if let Resolved::Bool(b) = resolve_plain(text) {
                return Value::Bool(b);
            }
        }
        Some("tag:yaml.org,2002:null") | Some("!!null") => return Value::Nil,
        _ => {}
    }
    if style != TScalarStyle::Plain {
        return Value::str(text);
    }
    match resolve_plain(text) {
        Resolved::Null => Value::Nil,
        Resolved::Bool(b) => Value::Bool(b),
        // Through JSON every number becomes float64.
        Resolved::Int(i) => Value::Float(i as f64),
        Resolved::Uint(u) => Value::Float(u as f64),
        Resolved::Float(f) => Value::Float(f),
        Resolved::Timestamp | Resolved::Str => Value::str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml11_scalars_and_numbers() {
        let v = parse_document("a: yes\nb: 1000000\nc: \"1\"\nd: ~\ny: x\ne: 0x10\nf: 1.5\ng: 2020-01-01\nh: [1, two]\n").unwrap();
        assert!(matches!(v.map_get("a"), Some(Value::Bool(true))));
        assert!(matches!(v.map_get("b"), Some(Value::Float(f)) if f == 1e6));
        assert_eq!(v.map_get("c").unwrap().as_str(), Some("1"));
        assert!(v.map_get("d").unwrap().is_nil());
        assert_eq!(v.map_get("true").unwrap().as_str(), Some("x"));
        assert!(matches!(v.map_get("e"), Some(Value::Float(f)) if f == 16.0));
        assert_eq!(v.map_get("g").unwrap().as_str(), Some("2020-01-01"));
        assert_eq!(v.map_get("h").unwrap().to_go_string(), "[1 two]");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut doc = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            doc.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n", p = i - 1));
        }
        assert!(parse_document(&doc).unwrap_err().contains("more than"));
    }

    #[test]
    fn anchors_and_merge() {
        let v = parse_document("base: &b {p: 1, q: 2}\nderived:\n  <<: *b\n  q: 3\n").unwrap();
        assert_eq!(v.map_get("derived").unwrap().to_go_string(), "map[p:1 q:3]");
    }
}
