//! `toYaml` with byte parity to Helm (`sigs.k8s.io/yaml.Marshal`: JSON, then
//! go-yaml v2's emitter). The rules reproduced here, from go-yaml's
//! `encode.go`/`emitterc.go`:
//! * map keys in go-yaml's natural order (non-letters before letters, digit
//!   runs compared numerically);
//! * strings that would read back as another YAML 1.1 type are double-quoted,
//!   strings that are not valid plain scalars are single-quoted, strings with
//!   newlines become `|`/`|-`/`|+` literals, non-printable chars force `"…"`;
//! * integral floats below 1e21 print as integers (the JSON round trip),
//!   others in Go's shortest `%g` form (`1e+21`);
//! * block sequences under a mapping key are not indented;
//! * plain and quoted scalars fold at the first space past column 80.

use super::resolve::{Resolved, is_base60_float, resolve_plain};
use crate::gofmt;
use crate::value::Value;

const BEST_WIDTH: usize = 80;
const BEST_INDENT: usize = 2;

/// Marshals like `yaml.Marshal` (ends with a newline).
pub fn to_yaml(v: &Value) -> String {
    let mut e = Emitter::new(false);
    e.root(v);
    e.out
}

/// Helm's `toYamlPretty` (go-yaml v3 encoder, indent 2): sequences are
/// indented under their key. Other v3 differences are not reproduced.
pub fn to_yaml_pretty(v: &Value) -> String {
    let mut e = Emitter::new(true);
    e.root(v);
    e.out
}

struct Emitter {
    out: String,
    /// Characters written on the current line.
    column: usize,
    /// The last character written was whitespace (or nothing yet).
    whitespace: bool,
    /// Only indentation has been written on the current line.
    indention: bool,
    indent_sequences: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
    Literal,
}

/// Keys in go-yaml v2's `keyList.Less` order.
pub fn key_less(a: &str, b: &str) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut i = 0;
    while i < ar.len() && i < br.len() {
        if ar[i] == br[i] {
            i += 1;
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let (mut an, mut bn) = (0i64, 0i64);
        if ar[i] == '0' || br[i] == '0' {
            let mut j = i;
            while j > 0 && ar[j - 1].is_ascii_digit() {
                j -= 1;
                if ar[j] != '0' {
                    an = 1;
                    bn = 1;
                    break;
                }
            }
        }
        let mut ai = i;
        while ai < ar.len() && ar[ai].is_ascii_digit() {
            an = an
                .wrapping_mul(10)
                .wrapping_add(i64::from(ar[ai] as u8 - b'0'));
            ai += 1;
        }
        let mut bi = i;
        while bi < br.len() && br[bi].is_ascii_digit() {
            bn = bn
                .wrapping_mul(10)
                .wrapping_add(i64::from(br[bi] as u8 - b'0'));
            bi += 1;
        }
        if an != bn {
            return an.cmp(&bn);
        }
        if ai != bi {
            return ai.cmp(&bi);
        }
        return ar[i].cmp(&br[i]);
    }
    ar.len().cmp(&br.len())
}

/// go-yaml's `is_printable` on a char.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

struct Analysis {
    multiline: bool,
    block_plain: bool,
    single_quoted: bool,
    block: bool,
}

/// go-yaml's `yaml_emitter_analyze_scalar` (block context only).
fn analyze(value: &str) -> Analysis {
    if value.is_empty() {
        return Analysis {
            multiline: false,
            block_plain: true,
            single_quoted: true,
            block: false,
        };
    }
    let chars: Vec<char> = value.chars().collect();
    let mut block_indicators = value.starts_with("---") || value.starts_with("...");
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break, mut trailing_space, mut trailing_break) =
        (false, false, false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut prev_space, mut prev_break) = (false, false);
    let mut preceded_by_ws = true;
    let is_blank = |c: char| {
        c == ' '
            || c == '\t'
            || c == '\n'
            || c == '\r'
            || c == '\u{85}'
            || c == '\u{2028}'
            || c == '\u{2029}'
    };
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_ws = i + 1 >= chars.len() || is_blank(chars[i + 1]);
        if i == 0 {
            match c {
                '#' | ',' | '[' | ']' | '{' | '}' | '&' | '*' | '!' | '|' | '>' | '\'' | '"'
                | '%' | '@' | '`' => block_indicators = true,
                '?' | ':' | '-' if followed_by_ws => block_indicators = true,
                _ => {}
            }
        } else {
            match c {
                ':' if followed_by_ws => block_indicators = true,
                '#' if preceded_by_ws => block_indicators = true,
                _ => {}
            }
        }
        if !is_printable(c) {
            special = true;
        }
        let is_break = matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}');
        if c == ' ' {
            if i == 0 {
                leading_space = true;
            }
            if i + 1 == chars.len() {
                trailing_space = true;
            }
            if prev_break {
                break_space = true;
            }
            prev_space = true;
            prev_break = false;
        } else if is_break {
            line_breaks = true;
            if i == 0 {
                leading_break = true;
            }
            if i + 1 == chars.len() {
                trailing_break = true;
            }
            if prev_space {
                space_break = true;
            }
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_by_ws = is_blank(c);
    }
    let mut a = Analysis {
        multiline: line_breaks,
        block_plain: true,
        single_quoted: true,
        block: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.block_plain = false;
    }
    if trailing_space {
        a.block = false;
    }
    if break_space {
        a.block_plain = false;
        a.single_quoted = false;
    }
    if space_break || special {
        a.block_plain = false;
        a.single_quoted = false;
        a.block = false;
    }
    if line_breaks || block_indicators {
        a.block_plain = false;
    }
    a
}

/// Style go-yaml picks for a string (encoder choice, then emitter downgrades).
fn string_style(s: &str, simple_key: bool) -> Style {
    let can_plain = resolve_plain(s) == Resolved::Str && !is_base60_float(s);
    let mut style = if s.contains('\n') {
        Style::Literal
    } else if can_plain {
        Style::Plain
    } else {
        Style::Double
    };
    let a = analyze(s);
    if simple_key && a.multiline {
        style = Style::Double;
    }
    if style == Style::Plain && (!a.block_plain || (s.is_empty() && simple_key)) {
        style = Style::Single;
    }
    if style == Style::Single && !a.single_quoted {
        style = Style::Double;
    }
    if style == Style::Literal && (!a.block || simple_key) {
        style = Style::Double;
    }
    style
}

/// What a value becomes after the JSON round trip.
enum Node<'a> {
    Scalar(String, Style),
    Seq(Vec<Value>),
    Map(Vec<(String, Value)>),
    EmptyFlow(&'static str),
    Str(&'a str),
}

fn classify(v: &Value) -> Node<'_> {
    match v {
        Value::Nil => Node::Scalar("null".into(), Style::Plain),
        Value::Bool(b) => Node::Scalar(b.to_string(), Style::Plain),
        Value::Int(i) | Value::Int64(i) => Node::Scalar(i.to_string(), Style::Plain),
        Value::Float(f) => Node::Scalar(float_text(*f), Style::Plain),
        // The template functions refuse complex values before emitting (Helm goes through JSON).
        Value::Complex(..) => Node::Scalar(v.to_go_string(), Style::Plain),
        Value::String(s) => Node::Str(s),
        Value::List(l) if l.is_empty() => Node::EmptyFlow("[]"),
        Value::List(l) => Node::Seq(l.to_vec()),
        Value::Map(_) | Value::StringMap(_) => {
            let mut entries = v.map_entries().unwrap_or_default();
            if entries.is_empty() {
                return Node::EmptyFlow("{}");
            }
            entries.sort_by(|a, b| key_less(&a.0, &b.0));
            Node::Map(entries)
        }
        Value::Object(_) => match v.to_plain() {
            Value::Object(_) => Node::Scalar("null".into(), Style::Plain),
            plain => match classify(&plain) {
                Node::Str(s) => Node::Scalar(s.to_string(), string_style(s, false)),
                Node::Scalar(s, st) => Node::Scalar(s, st),
                Node::Seq(x) => Node::Seq(x),
                Node::Map(x) => Node::Map(x),
                Node::EmptyFlow(x) => Node::EmptyFlow(x),
            },
        },
    }
}

/// float64 → JSON text → go-yaml number → go-yaml output.
fn float_text(f: f64) -> String {
    if f.is_nan() || f.is_infinite() {
        // json.Marshal fails on these; Helm's toYaml then yields "".
        return String::new();
    }
    if f.fract() == 0.0 && f.abs() < 1e21 {
        if f.abs() < 9.2e18 {
            return (f as i64).to_string();
        }
        if f > 0.0 && f < 1.8e19 {
            return (f as u64).to_string();
        }
    }
    gofmt::format_float_g(f)
}

impl Emitter {
    fn new(indent_sequences: bool) -> Emitter {
        Emitter {
            out: String::new(),
            column: 0,
            whitespace: true,
            indention: true,
            indent_sequences,
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        if c == '\n' {
            self.column = 0;
        } else {
            self.column += 1;
        }
    }

    fn put_str(&mut self, s: &str) {
        for c in s.chars() {
            self.put(c);
        }
    }

    fn write_indent(&mut self, indent: usize) {
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put('\n');
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    /// go-yaml's `write_indicator`.
    fn indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        self.put_str(ind);
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn root(&mut self, v: &Value) {
        self.node(v, None, false, false);
        if !self.out.ends_with('\n') {
            self.put('\n');
        }
    }

    /// Emits a node; `indent` is the parent's block indent (None at the root).
    fn node(&mut self, v: &Value, indent: Option<usize>, mapping_value: bool, simple_key: bool) {
        let scalar_indent = indent.map_or(BEST_INDENT, |i| i + BEST_INDENT);
        match classify(v) {
            Node::Scalar(text, style) => self.scalar(&text, style, scalar_indent, simple_key),
            Node::Str(s) => {
                let style = string_style(s, simple_key);
                self.scalar(s, style, scalar_indent, simple_key)
            }
            Node::EmptyFlow(t) => self.indicator(t, true, false, false),
            Node::Seq(items) => {
                let seq_indent = match indent {
                    None => 0,
                    Some(i) if mapping_value && !self.indention && !self.indent_sequences => i,
                    Some(i) => i + BEST_INDENT,
                };
                for item in &items {
                    self.write_indent(seq_indent);
                    self.indicator("-", true, false, true);
                    self.node(item, Some(seq_indent), false, false);
                }
            }
            Node::Map(entries) => {
                let map_indent = indent.map_or(0, |i| i + BEST_INDENT);
                for (k, val) in &entries {
                    self.write_indent(map_indent);
                    let key = Value::str(k);
                    self.node(&key, Some(map_indent), false, true);
                    self.indicator(":", false, false, false);
                    self.node(val, Some(map_indent), true, false);
                }
            }
        }
    }

    fn scalar(&mut self, text: &str, style: Style, indent: usize, simple_key: bool) {
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => {
                if !self.whitespace {
                    self.put(' ');
                }
                let chars: Vec<char> = text.chars().collect();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.write_indent(indent);
                        } else {
                            self.put(c);
                        }
                        spaces = true;
                    } else {
                        self.put(c);
                        spaces = false;
                    }
                }
                self.whitespace = false;
                self.indention = false;
            }
            Style::Single => {
                self.indicator("'", true, false, false);
                let chars: Vec<char> = text.chars().collect();
                let mut spaces = false;
                for (i, &c) in chars.iter().enumerate() {
                    if c == ' ' {
                        if allow_breaks
                            && !spaces
                            && self.column > BEST_WIDTH
                            && i > 0
                            && i < chars.len() - 1
                            && chars.get(i + 1) != Some(&' ')
                        {
                            self.write_indent(indent);
                        } else {
                            self.put(c);
                        }
                        spaces = true;
                    } else {
                        if c == '\'' {
                            self.put('\'');
                        }
                        self.put(c);
                        spaces = false;
                    }
                }
                self.indicator("'", false, false, false);
            }
            Style::Double => self.double_quoted(text, indent, allow_breaks),
            Style::Literal => self.literal(text, indent),
        }
    }

    fn double_quoted(&mut self, text: &str, indent: usize, allow_breaks: bool) {
        self.indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            if !is_printable(c)
                || c == '\u{FEFF}'
                || matches!(c, '\n' | '\r' | '\u{85}' | '\u{2028}' | '\u{2029}')
                || c == '"'
                || c == '\\'
            {
                self.put('\\');
                let esc = match c {
                    '\0' => Some('0'),
                    '\u{7}' => Some('a'),
                    '\u{8}' => Some('b'),
                    '\t' => Some('t'),
                    '\n' => Some('n'),
                    '\u{b}' => Some('v'),
                    '\u{c}' => Some('f'),
                    '\r' => Some('r'),
                    '\u{1b}' => Some('e'),
                    '"' => Some('"'),
                    '\\' => Some('\\'),
                    '\u{85}' => Some('N'),
                    '\u{a0}' => Some('_'),
                    '\u{2028}' => Some('L'),
                    '\u{2029}' => Some('P'),
                    _ => None,
                };
                match esc {
                    Some(e) => self.put(e),
                    None => {
                        let u = c as u32;
                        let s = if u <= 0xFF {
                            format!("x{u:02X}")
                        } else if u <= 0xFFFF {
                            format!("u{u:04X}")
                        } else {
                            format!("U{u:08X}")
                        };
                        self.put_str(&s);
                    }
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks
                    && !spaces
                    && self.column > BEST_WIDTH
                    && i != 0
                    && i != chars.len() - 1
                {
                    self.write_indent(indent);
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.indicator("\"", false, false, false);
        self.whitespace = false;
        self.indention = false;
    }

    fn literal(&mut self, text: &str, indent: usize) {
        self.indicator("|", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        if chars.first().is_some_and(|c| *c == ' ' || *c == '\n') {
            self.put_str(&BEST_INDENT.to_string());
        }
        let is_break = |c: &char| *c == '\n';
        let chomp = match chars.last() {
            None => "-",
            Some(c) if !is_break(c) => "-",
            Some(_) if chars.len() == 1 => "+",
            Some(_) if is_break(&chars[chars.len() - 2]) => "+",
            Some(_) => "",
        };
        self.put_str(chomp);
        self.put('\n');
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in chars {
            if c == '\n' {
                self.put('\n');
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent(indent);
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
        self.whitespace = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Map;

    fn m(pairs: &[(&str, Value)]) -> Value {
        Value::map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Map>(),
        )
    }

    #[test]
    fn scalars_quote_like_go_yaml() {
        let cases = [
            ("true", "\"true\""),
            ("yes", "\"yes\""),
            ("y", "\"y\""),
            ("1", "\"1\""),
            ("1.0", "\"1.0\""),
            ("0x10", "\"0x10\""),
            ("2020-01-01", "\"2020-01-01\""),
            ("", "\"\""),
            ("&x", "'&x'"),
            ("-", "'-'"),
            ("a: b", "'a: b'"),
            (" lead", "' lead'"),
            ("a:b", "a:b"),
            ("14.1.2", "14.1.2"),
            ("it's", "it's"),
            ("a\tb", "\"a\\tb\""),
            ("12:30", "\"12:30\""),
            ("oci://ghcr.io/x", "oci://ghcr.io/x"),
        ];
        for (input, want) in cases {
            assert_eq!(
                to_yaml(&m(&[("k", Value::str(input))])),
                format!("k: {want}\n"),
                "input {input:?}"
            );
        }
    }

    #[test]
    fn structure_and_numbers() {
        let v = m(&[
            (
                "list",
                Value::list(vec![
                    Value::str("a"),
                    m(&[("x", Value::Int(1)), ("y", Value::Nil)]),
                ]),
            ),
            ("empty", Value::map(Map::new())),
            ("n", Value::Float(1e6)),
            ("big", Value::Float(1e21)),
            ("f", Value::Float(1.5)),
            ("multi", Value::str("a\nb\n")),
            ("_u", Value::Bool(true)),
            ("a10", Value::Int(1)),
            ("a2", Value::Int(2)),
        ]);
        // `y` and `n` read back as booleans in YAML 1.1, so go-yaml quotes them.
        let want = "_u: true\na2: 2\na10: 1\nbig: 1e+21\nempty: {}\nf: 1.5\nlist:\n- a\n- x: 1\n  \"y\": null\nmulti: |\n  a\n  b\n\"n\": 1000000\n";
        assert_eq!(to_yaml(&v), want);
    }

    #[test]
    fn long_plain_scalars_fold_at_80() {
        let long = "word ".repeat(30).trim_end().to_string();
        let out = to_yaml(&m(&[("k", Value::string(long))]));
        let first = out.lines().next().unwrap();
        assert!(first.len() > 80 && first.len() < 90, "{out}");
        assert!(out.lines().nth(1).unwrap().starts_with("  word"));
    }
}
