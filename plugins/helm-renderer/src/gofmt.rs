//! Go's number formatting (`strconv`, `fmt`, `encoding/json`) and `printf`.
//!
//! Templates print float64 the Go way (`1e+06`, not `1000000`), so every
//! place that turns a number into text goes through here.

use crate::value::Value;

/// Shortest decimal digits of `f` and its decimal exponent: `f = 0.d1d2… × 10^(exp+1)`.
/// Rust's `{:e}` already yields the shortest round-tripping digits, as Go's `-1` precision does.
fn shortest_digits(f: f64) -> (String, i32) {
    let s = format!("{:e}", f.abs());
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    (digits, exp.parse().unwrap_or(0))
}

fn special(f: f64) -> Option<&'static str> {
    if f.is_nan() {
        Some("NaN")
    } else if f == f64::INFINITY {
        Some("+Inf")
    } else if f == f64::NEG_INFINITY {
        Some("-Inf")
    } else {
        None
    }
}

/// Go exponent suffix: at least two digits (`e+06`, `e-07`, `e+21`).
fn exp_suffix(e: i32, upper: bool) -> String {
    let sign = if e < 0 { '-' } else { '+' };
    format!("{}{}{:02}", if upper { 'E' } else { 'e' }, sign, e.abs())
}

/// `strconv.FormatFloat(f, 'g', -1, 64)`, which is also `fmt`'s `%v`.
pub fn format_float_g(f: f64) -> String {
    if let Some(s) = special(f) {
        return s.to_string();
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    let neg = if f < 0.0 { "-" } else { "" };
    let (digits, exp) = shortest_digits(f);
    // Shortest formatting decides between %e and %f with precision 6.
    if !(-4..6).contains(&exp) {
        let mut out = String::from(neg);
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push_str(&exp_suffix(exp, false));
        out
    } else {
        format!("{neg}{}", fixed_from_digits(&digits, exp))
    }
}

/// Places the decimal point in a digit string (no exponent form).
fn fixed_from_digits(digits: &str, exp: i32) -> String {
    let dp = exp + 1;
    if dp <= 0 {
        format!("0.{}{}", "0".repeat((-dp) as usize), digits)
    } else if dp as usize >= digits.len() {
        format!("{}{}", digits, "0".repeat(dp as usize - digits.len()))
    } else {
        format!("{}.{}", &digits[..dp as usize], &digits[dp as usize..])
    }
}

/// Go `encoding/json` float encoding: `%f` style in [1e-6, 1e21), else `1e+21` / `1e-7`.
pub fn format_float_json(f: f64) -> String {
    let abs = f.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let (digits, exp) = shortest_digits(f);
        let mut out = String::from(if f < 0.0 { "-" } else { "" });
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let sign = if exp < 0 { '-' } else { '+' };
        out.push_str(&format!("e{sign}{}", exp.abs()));
        out
    } else {
        // Rust's Display never uses an exponent and is shortest-round-trip.
        let s = format!("{f}");
        if s == "-0" { "-0".into() } else { s }
    }
}

/// `%e` with an explicit precision.
fn format_float_e(f: f64, prec: usize, upper: bool) -> String {
    let s = format!("{:.*e}", prec, f);
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    format!("{mantissa}{}", exp_suffix(exp.parse().unwrap_or(0), upper))
}

/// `%g` with an explicit precision (Go trims trailing zeros).
fn format_float_g_prec(f: f64, prec: usize) -> String {
    let prec = prec.max(1);
    let e = format_float_e(f, prec - 1, false);
    let exp: i32 = e
        .rsplit_once('e')
        .map(|(_, x)| x.parse().unwrap_or(0))
        .unwrap_or(0);
    if exp < -4 || exp >= prec as i32 {
        let (m, x) = e.split_once('e').unwrap_or((&e, ""));
        let m = if m.contains('.') {
            m.trim_end_matches('0').trim_end_matches('.')
        } else {
            m
        };
        format!("{m}e{x}")
    } else {
        let s = format!("{:.*}", (prec as i32 - 1 - exp).max(0) as usize, f);
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    }
}

/// `s` in double quotes, each character written by `escape` or, when it returns false, as is.
pub fn quote_with(s: &str, escape: impl Fn(char, &mut String) -> bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if !escape(c, &mut out) {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.Quote`.
pub fn quote(s: &str) -> String {
    quote_with(s, |c, out| {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    out.push_str(&format!("\\u{:04x}", c as u32))
                } else {
                    out.push_str(&format!("\\U{:08x}", c as u32))
                }
            }
            _ => return false,
        }
        true
    })
}

/// Largest printf width/precision honoured.
const MAX_WIDTH: usize = 1 << 20;

#[derive(Default, Clone, Copy)]
struct Spec {
    minus: bool,
    plus: bool,
    sharp: bool,
    zero: bool,
    space: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

fn pad(s: String, spec: &Spec, numeric: bool) -> String {
    let Some(width) = spec.width else { return s };
    let len = s.chars().count();
    if len >= width {
        return s;
    }
    let fill = width - len;
    if spec.minus {
        format!("{s}{}", " ".repeat(fill))
    } else if spec.zero && numeric {
        // Zero padding goes after the sign.
        let (sign, rest) = match s.chars().next() {
            Some(c @ ('-' | '+' | ' ')) => (c.to_string(), s[1..].to_string()),
            _ => (String::new(), s),
        };
        format!("{sign}{}{rest}", "0".repeat(fill))
    } else {
        format!("{}{s}", " ".repeat(fill))
    }
}

fn bad_verb(verb: char, v: &Value) -> String {
    match v {
        Value::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", v.go_type(), v.to_go_string()),
    }
}

fn sign_prefix(neg: bool, spec: &Spec) -> &'static str {
    if neg {
        "-"
    } else if spec.plus {
        "+"
    } else if spec.space {
        " "
    } else {
        ""
    }
}

fn format_int(i: i64, verb: char, spec: &Spec) -> String {
    let neg = i < 0;
    let mag = i.unsigned_abs();
    let body = match verb {
        'd' | 'v' => mag.to_string(),
        'x' => format!("{}{:x}", if spec.sharp { "0x" } else { "" }, mag),
        'X' => format!("{}{:X}", if spec.sharp { "0X" } else { "" }, mag),
        'o' => format!("{}{:o}", if spec.sharp { "0" } else { "" }, mag),
        'O' => format!("0o{mag:o}"),
        'b' => format!("{mag:b}"),
        _ => unreachable_verb(),
    };
    let body = match spec.prec {
        Some(p) if body.len() < p => format!("{}{body}", "0".repeat(p - body.len())),
        _ => body,
    };
    pad(format!("{}{body}", sign_prefix(neg, spec)), spec, true)
}

fn unreachable_verb() -> String {
    String::new()
}

fn format_float(f: f64, verb: char, spec: &Spec) -> String {
    let body = match verb {
        'v' | 'g' => match spec.prec {
            Some(p) => format_float_g_prec(f, p),
            None => format_float_g(f),
        },
        'G' => format_float_g(f).to_uppercase(),
        'f' | 'F' => match special(f) {
            Some(s) => s.to_string(),
            None => format!("{:.*}", spec.prec.unwrap_or(6), f),
        },
        'e' | 'E' => format_float_e(f, spec.prec.unwrap_or(6), verb == 'E'),
        _ => return bad_verb(verb, &Value::Float(f)),
    };
    let body = if !body.starts_with('-') && !body.starts_with('+') {
        format!("{}{body}", sign_prefix(false, spec))
    } else {
        body
    };
    pad(body, spec, true)
}

fn format_string(s: &str, verb: char, spec: &Spec) -> String {
    let body = match verb {
        'v' | 's' => match spec.prec {
            Some(p) => s.chars().take(p).collect(),
            None => s.to_string(),
        },
        'q' => quote(s),
        'x' | 'X' => {
            let sep = if spec.space { " " } else { "" };
            let hex: Vec<String> = s
                .bytes()
                .map(|b| match verb {
                    'x' => format!("{b:02x}"),
                    _ => format!("{b:02X}"),
                })
                .collect();
            hex.join(sep)
        }
        _ => return bad_verb(verb, &Value::str(s)),
    };
    pad(body, spec, false)
}

/// Go's `%#v` (Go-syntax representation) for template values.
fn go_syntax(v: &Value) -> String {
    match v {
        Value::Nil => "<nil>".into(),
        Value::String(s) => quote(s),
        Value::Float(f) => format_float_g(*f),
        Value::List(items) => {
            let inner: Vec<String> = items.iter().map(go_syntax).collect();
            format!("{}{{{}}}", v.go_type(), inner.join(", "))
        }
        Value::Map(_) | Value::StringMap(_) => {
            let inner: Vec<String> = v
                .map_entries()
                .unwrap_or_default()
                .iter()
                .map(|(k, x)| format!("{}:{}", quote(k), go_syntax(x)))
                .collect();
            format!("{}{{{}}}", v.go_type(), inner.join(", "))
        }
        _ => v.to_go_string(),
    }
}

fn format_value(v: &Value, verb: char, spec: &Spec) -> String {
    if verb == 'T' {
        let t = if matches!(v, Value::Nil) {
            "<nil>"
        } else {
            v.go_type()
        };
        return pad(t.to_string(), spec, false);
    }
    if verb == 'v' && spec.sharp {
        return pad(go_syntax(v), spec, false);
    }
    match v {
        Value::Nil => match verb {
            'v' => pad("<nil>".into(), spec, false),
            _ => bad_verb(verb, v),
        },
        Value::Bool(b) => match verb {
            'v' | 't' => pad(b.to_string(), spec, false),
            _ => bad_verb(verb, v),
        },
        Value::Int(i) | Value::Int64(i) => match verb {
            'd' | 'v' | 'x' | 'X' | 'o' | 'O' | 'b' => format_int(*i, verb, spec),
            'c' => pad(
                char::from_u32(*i as u32).unwrap_or('\u{FFFD}').to_string(),
                spec,
                false,
            ),
            'U' => pad(format!("U+{:04X}", *i), spec, false),
            'q' => pad(
                format!("'{}'", char::from_u32(*i as u32).unwrap_or('\u{FFFD}')),
                spec,
                false,
            ),
            'e' | 'E' | 'f' | 'F' | 'g' | 'G' => bad_verb(verb, v),
            _ => bad_verb(verb, v),
        },
        Value::Float(f) => format_float(*f, verb, spec),
        // Go's fmtComplex: both parts with the float verb, the imaginary one always signed,
        // the width applying to each part.
        Value::Complex(re, im) => match verb {
            'v' | 'b' | 'g' | 'G' | 'x' | 'X' | 'f' | 'F' | 'e' | 'E' => {
                let signed = Spec {
                    plus: true,
                    ..*spec
                };
                format!(
                    "({}{}i)",
                    format_float(*re, verb, spec),
                    format_float(*im, verb, &signed)
                )
            }
            _ => bad_verb(verb, v),
        },
        Value::String(s) => format_string(s, verb, spec),
        Value::List(items) => {
            let inner: Vec<String> = items
                .iter()
                .map(|i| format_value(i, verb, &Spec::default()))
                .collect();
            pad(format!("[{}]", inner.join(" ")), spec, false)
        }
        Value::Map(_) | Value::StringMap(_) => {
            let inner: Vec<String> = v
                .map_entries()
                .unwrap_or_default()
                .iter()
                .map(|(k, x)| {
                    format!(
                        "{}:{}",
                        format_string(k, verb, &Spec::default()),
                        format_value(x, verb, &Spec::default())
                    )
                })
                .collect();
            pad(format!("map[{}]", inner.join(" ")), spec, false)
        }
        Value::Object(_) => pad(v.to_go_string(), spec, false),
    }
}

/// Go's `%[n]` explicit argument index: the next operand is argument `n`.
fn explicit_index(
    chars: &mut std::iter::Peekable<std::str::Chars>,
    arg_index: &mut usize,
    reordered: &mut bool,
) {
    if chars.next_if_eq(&'[').is_none() {
        return;
    }
    let digits: String = std::iter::from_fn(|| chars.next_if(char::is_ascii_digit)).collect();
    chars.next_if_eq(&']');
    if let Ok(n) = digits.parse::<usize>() {
        *arg_index = n.saturating_sub(1);
        *reordered = true;
    }
}

/// Go's `fmt.Sprintf` for the verbs templates use, including Go's `%!verb(…)`
/// markers for mismatched, missing and extra arguments.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::new();
    let mut arg_index = 0;
    let mut reordered = false;
    let mut chars = format.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut spec = Spec::default();
        while let Some(&f) = chars.peek() {
            match f {
                '-' => spec.minus = true,
                '+' => spec.plus = true,
                '#' => spec.sharp = true,
                '0' => spec.zero = true,
                ' ' => spec.space = true,
                _ => break,
            }
            chars.next();
        }
        explicit_index(&mut chars, &mut arg_index, &mut reordered);
        let mut read_num = |chars: &mut std::iter::Peekable<std::str::Chars>| -> Option<usize> {
            let mut n: Option<usize> = None;
            while let Some(&d) = chars.peek() {
                if let Some(v) = d.to_digit(10) {
                    // Capped: a width must not allocate unbounded padding.
                    n = Some((n.unwrap_or(0) * 10 + v as usize).min(MAX_WIDTH));
                    chars.next();
                } else if d == '*' && n.is_none() {
                    chars.next();
                    let w = match args.get(arg_index) {
                        Some(Value::Int(i)) => Some(((*i).max(0) as usize).min(MAX_WIDTH)),
                        _ => None,
                    };
                    arg_index += 1;
                    return w;
                } else {
                    break;
                }
            }
            n
        };
        spec.width = read_num(&mut chars);
        if chars.peek() == Some(&'.') {
            chars.next();
            spec.prec = Some(read_num(&mut chars).unwrap_or(0));
        }
        explicit_index(&mut chars, &mut arg_index, &mut reordered);
        let Some(verb) = chars.next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            out.push('%');
            continue;
        }
        match args.get(arg_index) {
            None => out.push_str(&format!("%!{verb}(MISSING)")),
            Some(arg) => out.push_str(&format_value(arg, verb, &spec)),
        }
        arg_index += 1;
    }
    if !reordered && arg_index < args.len() {
        let extra: Vec<String> = args[arg_index..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                _ => format!("{}={}", a.go_type(), a.to_go_string()),
            })
            .collect();
        out.push_str(&format!("%!(EXTRA {})", extra.join(", ")));
    }
    out
}

/// Go's `fmt.Sprint`: spaces only between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_string = matches!(a, Value::String(_));
        if i > 0 && !is_string && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        a.write_go(&mut out);
    }
    out
}

/// Go's `fmt.Sprintln`: always space-separated, newline-terminated.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(Value::to_go_string).collect();
    format!("{}\n", parts.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_go() {
        assert_eq!(format_float_g(1e6), "1e+06");
        assert_eq!(format_float_g(123456.0), "123456");
        assert_eq!(format_float_g(1.5), "1.5");
        assert_eq!(format_float_g(0.0001), "0.0001");
        assert_eq!(format_float_g(0.00001), "1e-05");
        assert_eq!(format_float_g(1e21), "1e+21");
        assert_eq!(format_float_g(-2.0), "-2");
        assert_eq!(format_float_json(1e21), "1e+21");
        assert_eq!(format_float_json(1e6), "1000000");
        assert_eq!(format_float_json(1e-7), "1e-7");
    }

    #[test]
    fn printf_matches_go() {
        assert_eq!(sprintf("%s-%d", &[Value::str("a"), Value::Int(3)]), "a-3");
        assert_eq!(sprintf("%s", &[Value::Nil]), "%!s(<nil>)");
        assert_eq!(sprintf("%d", &[Value::str("x")]), "%!d(string=x)");
        assert_eq!(sprintf("%v %v", &[Value::Int(1)]), "1 %!v(MISSING)");
        assert_eq!(
            sprintf("%05.1f|%-4s|", &[Value::Float(2.25), Value::str("ab")]),
            "002.2|ab  |"
        );
        assert_eq!(sprintf("%q", &[Value::str("a\"b")]), "\"a\\\"b\"");
        assert_eq!(
            sprint(&[Value::Int(1), Value::Int(2), Value::str("a")]),
            "1 2a"
        );
    }
}
