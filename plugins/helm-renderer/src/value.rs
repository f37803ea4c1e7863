//! The dynamic value model templates operate on.
//!
//! It mirrors the Go types Helm's templates actually see: values parsed from
//! YAML/JSON (`nil`, `bool`, `float64`, `string`, `[]interface{}`,
//! `map[string]interface{}`), `int`/`int64` from literals and `--set`, the
//! `map[string]string` that Sprig's `split` returns, and a few Helm objects
//! with methods (`.Files`, `.Capabilities.*`).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::files::Files;
use crate::gofmt;
use crate::gotime::GoTime;

/// Map with Go's iteration order for string keys (byte order).
pub type Map = BTreeMap<String, Value>;

#[derive(Clone, Debug, Default)]
pub enum Value {
    /// Go's untyped nil / a nil `interface{}`.
    #[default]
    Nil,
    Bool(bool),
    /// Go `int`: literals, `len`, `atoi`, `int`, `.Release.Revision`.
    Int(i64),
    /// Go `int64`: integers from `--set` and what Sprig's integer math returns. Go keeps it apart
    /// from `int`: `typeOf` says so, and a function taking `int` refuses it.
    Int64(i64),
    Float(f64),
    /// complex128, only ever made by imaginary/complex literals (`2i`, `1+2i`).
    Complex(f64, f64),
    String(Rc<str>),
    /// A Go slice: `[]interface{}`, or `[]string` from `splitList`/`toStrings`/`sortAlpha`.
    List(Rc<Slice>),
    /// `map[string]interface{}` or Helm's `common.Values`: a missing key reads as nil. Shared and
    /// mutable, because Sprig's `set`/`unset`/`merge` mutate in place and
    /// templates rely on that (`$_ := set $d "k" "v"`).
    Map(Rc<MapCell>),
    /// `map[string]string` (Sprig `split`/`splitn`): a missing key reads as `""`.
    StringMap(Rc<Map>),
    /// Helm objects that carry methods.
    Object(Rc<Object>),
}

/// A slice's elements and its Go element type. Templates read the elements alike; the type shows
/// in `typeOf`/`printf "%T"`, and Sprig functions that build a new slice by reflection
/// (`append`, `rest`, …) always return `[]interface {}`.
#[derive(Debug)]
pub struct Slice {
    items: Vec<Value>,
    strings: bool,
}

impl Slice {
    pub fn is_strings(&self) -> bool {
        self.strings
    }
}

impl std::ops::Deref for Slice {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.items
    }
}

/// A map's entries and the Go type Helm gives it. Templates read fields of all of them alike.
#[derive(Debug)]
pub struct MapCell {
    /// Shared between cells that view one Go map as different types, as a Go conversion
    /// (`common.Values(m)`) shares the map: a subchart's `.Values` and its parent's
    /// `.Values.<subchart>` are one map.
    entries: Rc<RefCell<Map>>,
    named: Named,
}

/// Go types Helm hands to templates that the engine holds as maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// `map[string]interface {}`.
    Plain,
    /// `common.Values`, every chart's `.Values`: Go passes it where a `map[string]interface{}` is
    /// expected (same underlying type), but Sprig's type assertion in `dig` refuses it.
    HelmValues,
    /// `*common.Capabilities`: a struct pointer, so map functions refuse it.
    Capabilities,
    /// `version.BuildInfo` (`.Capabilities.HelmVersion`): a struct.
    BuildInfo,
    /// Sprig's `certificate` struct (`Cert`, `Key`) from `genCA` and friends.
    Certificate,
}

impl Named {
    pub fn go_type(self) -> &'static str {
        match self {
            Named::Plain => "map[string]interface {}",
            Named::HelmValues => "common.Values",
            Named::Capabilities => "*common.Capabilities",
            Named::BuildInfo => "version.BuildInfo",
            Named::Certificate => "sprig.certificate",
        }
    }

    /// `reflect.Kind` name.
    pub fn kind(self) -> &'static str {
        match self {
            Named::Plain | Named::HelmValues => "map",
            Named::Capabilities => "ptr",
            Named::BuildInfo | Named::Certificate => "struct",
        }
    }

    /// Whether Go assigns it to a `map[string]interface {}` parameter.
    pub fn is_map(self) -> bool {
        matches!(self, Named::Plain | Named::HelmValues)
    }
}

impl std::ops::Deref for MapCell {
    type Target = RefCell<Map>;
    fn deref(&self) -> &RefCell<Map> {
        &self.entries
    }
}

impl MapCell {
    pub fn named(&self) -> Named {
        self.named
    }

    /// Whether both are the very same Go map (whatever type each views it as).
    pub fn same_map(&self, other: &MapCell) -> bool {
        Rc::ptr_eq(&self.entries, &other.entries)
    }
}

/// Helm values that are Go structs with methods rather than plain maps.
#[derive(Debug)]
pub enum Object {
    /// `.Files` (and the result of `.Files.Glob`).
    Files(Files),
    /// `.Capabilities.KubeVersion`: prints as its normalized version
    /// (`v1.33.4` for a git version `v1.33.4-gke.1`).
    KubeVersion {
        version: String,
        normalized: String,
        major: String,
        minor: String,
    },
    /// `.Capabilities.APIVersions` with its `Has` method.
    VersionSet(Vec<String>),
    /// A Go `time.Time` (`now`, `toDate`, `dateModify`).
    Time(GoTime),
}

impl Value {
    pub fn time(t: GoTime) -> Value {
        Value::Object(Rc::new(Object::Time(t)))
    }

    /// The `time.Time` inside, if this is one.
    pub fn as_time(&self) -> Option<&GoTime> {
        match self {
            Value::Object(o) => match &**o {
                Object::Time(t) => Some(t),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn str(s: &str) -> Value {
        Value::String(Rc::from(s))
    }

    pub fn string(s: String) -> Value {
        Value::String(Rc::from(s))
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(Slice {
            items,
            strings: false,
        }))
    }

    /// A Go `[]string`.
    pub fn string_list(items: Vec<String>) -> Value {
        Value::List(Rc::new(Slice {
            items: items.into_iter().map(Value::string).collect(),
            strings: true,
        }))
    }

    pub fn map(m: Map) -> Value {
        Value::named_map(Named::Plain, m)
    }

    /// A map that Helm gives a named Go type.
    pub fn named_map(named: Named, m: Map) -> Value {
        Value::Map(Rc::new(MapCell {
            entries: Rc::new(RefCell::new(m)),
            named,
        }))
    }

    /// The same map viewed as another Go type (a Go type conversion); other values unchanged.
    pub fn converted(&self, named: Named) -> Value {
        match self {
            Value::Map(m) => Value::Map(Rc::new(MapCell {
                entries: m.entries.clone(),
                named,
            })),
            other => other.clone(),
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// Runs `f` on either Go map kind a template can index by string.
    pub fn with_map<T>(&self, f: impl FnOnce(&Map) -> T) -> Option<T> {
        match self {
            Value::Map(m) => Some(f(&m.borrow())),
            Value::StringMap(m) => Some(f(m)),
            _ => None,
        }
    }

    /// A snapshot of a map's entries (keys in Go's sorted order).
    pub fn map_entries(&self) -> Option<Vec<(String, Value)>> {
        self.with_map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }

    /// Whether a complex128 sits anywhere inside: encoding/json refuses the whole value then.
    pub fn contains_complex(&self) -> bool {
        match self {
            Value::Complex(..) => true,
            Value::List(items) => items.iter().any(Value::contains_complex),
            Value::Map(_) | Value::StringMap(_) => self
                .map_entries()
                .unwrap_or_default()
                .iter()
                .any(|(_, v)| v.contains_complex()),
            _ => false,
        }
    }

    /// The elements of any Go slice a template can hold: `[]interface{}` or Helm's
    /// `VersionSet` (a `[]string` with a `Has` method), which Sprig's reflection treats alike.
    pub fn slice_items(&self) -> Option<Rc<Slice>> {
        match self {
            Value::List(l) => Some(l.clone()),
            Value::Object(o) => match &**o {
                Object::VersionSet(v) => Some(Rc::new(Slice {
                    items: v.iter().map(|s| Value::str(s)).collect(),
                    strings: true,
                })),
                _ => None,
            },
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Go's `text/template` truth: zero values and empty containers are false.
    pub fn is_true(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Int64(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(re, im) => *re != 0.0 || *im != 0.0,
            Value::String(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.borrow().is_empty(),
            Value::StringMap(m) => !m.is_empty(),
            Value::Object(_) => true,
        }
    }

    /// The Go type name used in error messages (`reflect.Type.String()`).
    pub fn go_type(&self) -> &'static str {
        match self {
            Value::Nil => "interface {}",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Int64(_) => "int64",
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::String(_) => "string",
            Value::List(l) if l.strings => "[]string",
            Value::List(_) => "[]interface {}",
            Value::Map(m) => m.named.go_type(),
            Value::StringMap(_) => "map[string]string",
            Value::Object(o) => match **o {
                Object::Files(_) => "engine.files",
                Object::KubeVersion { .. } => "common.KubeVersion",
                Object::VersionSet(_) => "common.VersionSet",
                Object::Time(_) => "time.Time",
            },
        }
    }

    /// Map lookup with Go's `missingkey=zero` result for the map's element type.
    pub fn map_get(&self, key: &str) -> Option<Value> {
        match self {
            Value::Map(m) => Some(m.borrow().get(key).cloned().unwrap_or(Value::Nil)),
            Value::StringMap(m) => Some(m.get(key).cloned().unwrap_or_else(|| Value::str(""))),
            _ => None,
        }
    }

    /// `fmt.Sprint`-style rendering (`%v`), as `{{ . }}` and `print` show values.
    pub fn to_go_string(&self) -> String {
        let mut out = String::new();
        self.write_go(&mut out);
        out
    }

    pub fn write_go(&self, out: &mut String) {
        match self {
            Value::Nil => out.push_str("<nil>"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) | Value::Int64(i) => out.push_str(&i.to_string()),
            Value::Float(f) => out.push_str(&gofmt::format_float_g(*f)),
            Value::Complex(re, im) => {
                // Go's %v: `(1+2i)`, the imaginary part always signed.
                let im = gofmt::format_float_g(*im);
                let sign = if im.starts_with(['-', '+']) { "" } else { "+" };
                out.push_str(&format!("({}{sign}{im}i)", gofmt::format_float_g(*re)));
            }
            Value::String(s) => out.push_str(s),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_go(out);
                }
                out.push(']');
            }
            Value::Map(_) | Value::StringMap(_) => {
                out.push_str("map[");
                for (i, (k, v)) in self.map_entries().unwrap_or_default().iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    out.push_str(k);
                    out.push(':');
                    v.write_go(out);
                }
                out.push(']');
            }
            Value::Object(o) => match &**o {
                Object::Files(files) => {
                    out.push_str("map[");
                    for (i, (name, data)) in files.iter().enumerate() {
                        if i > 0 {
                            out.push(' ');
                        }
                        out.push_str(name);
                        out.push_str(":[");
                        let bytes: Vec<String> = data.iter().map(|b| b.to_string()).collect();
                        out.push_str(&bytes.join(" "));
                        out.push(']');
                    }
                    out.push(']');
                }
                Object::KubeVersion { normalized, .. } => out.push_str(normalized),
                Object::VersionSet(v) => {
                    out.push('[');
                    out.push_str(&v.join(" "));
                    out.push(']');
                }
                Object::Time(t) => out.push_str(&t.go_string()),
            },
        }
    }

    /// A deep copy that shares nothing mutable with `self` and keeps Go types (copystructure's).
    pub fn deep_copy(&self) -> Value {
        match self {
            Value::List(l) => Value::List(Rc::new(Slice {
                items: l.iter().map(Value::deep_copy).collect(),
                strings: l.strings,
            })),
            Value::Map(m) => Value::Map(Rc::new(MapCell {
                entries: Rc::new(RefCell::new(
                    m.borrow()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.deep_copy()))
                        .collect(),
                )),
                named: m.named,
            })),
            other => other.clone(),
        }
    }

    /// Plain data view of the value (objects become maps/lists), for encoders.
    pub fn to_plain(&self) -> Value {
        match self {
            Value::Object(o) => match &**o {
                Object::Files(files) => {
                    let m = files
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                Value::string(String::from_utf8_lossy(v).into_owned()),
                            )
                        })
                        .collect();
                    Value::map(m)
                }
                Object::KubeVersion {
                    version,
                    major,
                    minor,
                    ..
                } => {
                    let mut m = Map::new();
                    m.insert("Version".into(), Value::str(version));
                    m.insert("Major".into(), Value::str(major));
                    m.insert("Minor".into(), Value::str(minor));
                    Value::map(m)
                }
                Object::VersionSet(v) => Value::list(v.iter().map(|s| Value::str(s)).collect()),
                // encoding/json marshals a time as its RFC 3339 text.
                Object::Time(t) => Value::string(t.rfc3339_nano()),
            },
            other => other.clone(),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::str(s)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::string(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

/// Converts parsed JSON. Integral numbers without a fraction or exponent become
/// `Int64` (Helm's `--set` yields int64); all other numbers are `float64`.
pub fn from_json(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int64(i),
            None => Value::Float(n.as_f64().unwrap_or(0.0)),
        },
        serde_json::Value::String(s) => Value::str(s),
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Value::map(o.iter().map(|(k, v)| (k.clone(), from_json(v))).collect())
        }
    }
}

/// Like [`from_json`] but every number is `float64`, as Go's `encoding/json`
/// decodes into `interface{}` (used by `fromJson`).
pub fn from_json_go(v: &serde_json::Value) -> Value {
    match v {
        serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::Array(a) => Value::list(a.iter().map(from_json_go).collect()),
        serde_json::Value::Object(o) => Value::map(
            o.iter()
                .map(|(k, v)| (k.clone(), from_json_go(v)))
                .collect(),
        ),
        other => from_json(other),
    }
}

/// Deep equality used by Sprig list helpers (`has`, `uniq`, `without`),
/// which compare with Go's `reflect.DeepEqual` semantics.
pub fn deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) | (Value::Int64(x), Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Complex(a, b), Value::Complex(c, d)) => a == c && b == d,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q))
        }
        (Value::Map(_), Value::Map(_)) | (Value::StringMap(_), Value::StringMap(_)) => {
            let (x, y) = (
                a.map_entries().unwrap_or_default(),
                b.map_entries().unwrap_or_default(),
            );
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && deep_equal(v1, v2))
        }
        _ => false,
    }
}
