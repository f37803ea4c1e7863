//! Number literals as Go's `parse.newNumber` reads them: which of int, uint, float and complex a
//! literal can stand for, with Go's `strconv` syntax (base prefixes, `_` separators, hex floats
//! such as `0x1p60`, imaginary `2.5i` and complex `1+2i` literals).

use super::ast::Number;

/// Go's `strconv.ParseInt(s, 0, 64)`: sign, `0x`/`0o`/`0b`/legacy-octal prefixes, `_` separators.
pub fn parse_go_int(text: &str) -> Option<i64> {
    let (neg, body) = split_sign(text);
    let mag = parse_go_uint(body)?;
    if neg {
        (mag <= i64::MAX as u64 + 1).then(|| (mag as i64).wrapping_neg())
    } else {
        i64::try_from(mag).ok()
    }
}

/// Go's `strconv.ParseUint(s, 0, 64)`, which takes no sign.
fn parse_go_uint(text: &str) -> Option<u64> {
    let lower = text.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d, true)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d, true)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d, true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..], true)
    } else {
        (10, lower.as_str(), false)
    };
    // Go literal syntax: `_` only between digits or right after a base prefix.
    if digits.contains('_')
        && (digits.ends_with('_')
            || digits.contains("__")
            || (digits.starts_with('_') && !prefixed))
    {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    if clean.is_empty() || clean.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(&clean, radix).ok()
}

fn split_sign(text: &str) -> (bool, &str) {
    match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    }
}

/// Go's `underscoreOK`: each `_` sits between digits (a base prefix counts as a digit).
fn underscore_ok(text: &str) -> bool {
    let (_, s) = split_sign(text);
    let b = s.as_bytes();
    let (mut i, mut saw, mut hex) = (0, b'^', false);
    if b.len() >= 2 && b[0] == b'0' && matches!(b[1] | 0x20, b'b' | b'o' | b'x') {
        i = 2;
        saw = b'0';
        hex = b[1] | 0x20 == b'x';
    }
    for &c in &b[i..] {
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else if saw == b'_' {
            return false;
        } else {
            saw = b'!';
        }
    }
    saw != b'_'
}

/// Go's `strconv.ParseFloat(s, 64)` for the texts the lexer produces: `None` for bad syntax and
/// for values out of float64's range (Go's `ErrRange`), which `newNumber` treats the same.
pub fn parse_go_float(text: &str) -> Option<f64> {
    if text.contains('_') && !underscore_ok(text) {
        return None;
    }
    let clean: String = text.chars().filter(|c| *c != '_').collect();
    let (neg, body) = split_sign(&clean);
    let magnitude = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(hex) => parse_hex_float(hex)?,
        None => {
            let decimal = body.bytes().any(|c| c.is_ascii_digit())
                && body
                    .bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
            if !decimal {
                return None;
            }
            body.parse::<f64>().ok()?
        }
    };
    if magnitude.is_infinite() {
        return None;
    }
    Some(if neg { -magnitude } else { magnitude })
}

/// `<hex digits>[.<hex digits>]p<decimal exponent>`, correctly rounded to nearest even.
fn parse_hex_float(s: &str) -> Option<f64> {
    let (mantissa, exp) = s.split_once(['p', 'P'])?;
    let exp: i64 = match exp.parse::<i64>() {
        Ok(e) => e,
        // A too-long exponent: only its sign matters.
        Err(_) if exp.bytes().skip(1).all(|c| c.is_ascii_digit()) && exp.len() > 1 => {
            if exp.starts_with('-') {
                -1 << 40
            } else {
                1 << 40
            }
        }
        Err(_) => return None,
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let (mut m, mut sticky, mut bin_exp) = (0u128, false, exp);
    for (i, c) in int_part.chars().chain(frac_part.chars()).enumerate() {
        let d = c.to_digit(16)? as u128;
        if i >= int_part.len() {
            bin_exp -= 4;
        }
        if m >> 120 == 0 {
            m = m << 4 | d;
        } else {
            // Past 120 bits only whether anything is non-zero matters for rounding.
            sticky |= d != 0;
            bin_exp += 4;
        }
    }
    Some(round_binary(m, sticky, bin_exp))
}

/// `m * 2^bin_exp` (plus a sticky fraction below `m`) rounded to the nearest float64, ties to even.
fn round_binary(m: u128, sticky: bool, bin_exp: i64) -> f64 {
    if m == 0 {
        return 0.0;
    }
    let bits = 128 - i64::from(m.leading_zeros());
    let top = bin_exp + bits - 1;
    if top > 1023 {
        return f64::INFINITY;
    }
    // Bits kept: 53, fewer for subnormals.
    let precision = if top >= -1022 { 53 } else { 53 - (-1022 - top) };
    if precision < 0 {
        return 0.0;
    }
    let shift = bits - precision;
    let (q, low_exp) = if shift <= 0 {
        (m, bin_exp)
    } else {
        let shift = shift as u32;
        let q = if shift >= 128 { 0 } else { m >> shift };
        let rest = if shift >= 128 {
            m
        } else {
            m & ((1u128 << shift) - 1)
        };
        let half = 1u128 << (shift - 1);
        let round_up = rest > half || (rest == half && (sticky || q & 1 == 1));
        (q + u128::from(round_up), bin_exp + i64::from(shift))
    };
    if q == 0 {
        return 0.0;
    }
    // Exact steps: q fits in 54 bits and the result is representable.
    let mut v = q as f64;
    let mut e = low_exp;
    while e > 0 {
        let step = e.min(1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    while e < 0 {
        let step = e.max(-1000);
        v *= 2f64.powi(step as i32);
        e -= step;
    }
    v
}

/// The value of a character constant such as `'a'` or `'\n'`.
fn parse_char_const(text: &str) -> Option<i64> {
    let inner = text.strip_prefix('\'')?.strip_suffix('\'')?;
    let val = if inner.starts_with('\\') {
        super::lex::unquote(&format!("\"{}\"", inner.replace("\\'", "'")))?
    } else {
        inner.to_string()
    };
    let mut chars = val.chars();
    let c = chars.next()?;
    if chars.next().is_some() {
        return None;
    }
    Some(c as i64)
}

/// `1+2i`, `-0x1p1-2i`: the real part ends at the last sign that does not start an exponent.
fn parse_complex(text: &str) -> Option<(f64, f64)> {
    let body = text.strip_suffix('i')?;
    let hex_real = split_sign(body).1.to_ascii_lowercase().starts_with("0x");
    let b = body.as_bytes();
    let split = (1..b.len()).rev().find(|&i| {
        matches!(b[i], b'+' | b'-')
            && !(matches!(b[i - 1] | 0x20, b'p') || (!hex_real && b[i - 1] | 0x20 == b'e'))
    })?;
    Some((
        parse_go_float(&body[..split])?,
        parse_go_float(&body[split..])?,
    ))
}

/// Go's `newNumber`: what a literal can be used as, or the parse error's message.
pub fn parse_number(text: &str, complex_literal: bool) -> Result<Number, String> {
    let illegal = || format!("illegal number syntax: {}", crate::gofmt::quote(text));
    let mut n = Number {
        text: text.to_string(),
        int: None,
        uint: None,
        float: None,
        complex: None,
    };
    if text.starts_with('\'') {
        let c = parse_char_const(text)
            .ok_or_else(|| format!("malformed character constant: {text}"))?;
        n.int = Some(c);
        n.uint = Some(c as u64);
        n.float = Some(c as f64);
        return Ok(n);
    }
    if complex_literal {
        // Go hands complex literals to fmt.Sscan, whose error this is.
        let c = parse_complex(text).ok_or("syntax error scanning complex number")?;
        return Ok(simplify_complex(n, c));
    }
    if let Some(imag) = text.strip_suffix('i').and_then(parse_go_float) {
        return Ok(simplify_complex(n, (0.0, imag)));
    }
    n.uint = parse_go_uint(text);
    n.int = parse_go_int(text);
    if n.int == Some(0) {
        n.uint = Some(0);
    }
    if let Some(i) = n.int {
        n.float = Some(i as f64);
    } else if let Some(u) = n.uint {
        n.float = Some(u as f64);
    } else if let Some(f) = parse_go_float(text) {
        // Parsed as a float but written as an integer: too large for any integer type.
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", crate::gofmt::quote(text)));
        }
        n.float = Some(f);
        n.int = (f.fract() == 0.0
            && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f))
        .then_some(f as i64);
        n.uint = (f.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&f))
            .then_some(f as u64);
    }
    if n.int.is_none() && n.uint.is_none() && n.float.is_none() {
        return Err(illegal());
    }
    Ok(n)
}

/// A complex literal with a zero imaginary part also serves as a float (and maybe an integer),
/// though as a bare operand it stays complex128.
fn simplify_complex(mut n: Number, (re, im): (f64, f64)) -> Number {
    n.complex = Some((re, im));
    if im == 0.0 {
        n.float = Some(re);
        if re.fract() == 0.0 && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&re)
        {
            n.int = Some(re as i64);
        }
        if re.fract() == 0.0 && (0.0..1.844_674_407_370_955_2e19).contains(&re) {
            n.uint = Some(re as u64);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_floats_round_like_strconv() {
        assert_eq!(parse_go_float("0x1p60"), Some(1152921504606846976.0));
        assert_eq!(parse_go_float("0x1.8p1"), Some(3.0));
        assert_eq!(parse_go_float("-0x1p3"), Some(-8.0));
        assert_eq!(parse_go_float("0x1.fffffffffffffp1023"), Some(f64::MAX));
        assert_eq!(parse_go_float("0x1p-1074"), Some(5e-324));
        assert_eq!(parse_go_float("0x1p-1080"), Some(0.0));
        assert_eq!(parse_go_float("0x1p2000"), None);
        assert_eq!(parse_go_float("0x1.8"), None);
        // 0x1.00000000000008p0 is exactly half an ulp above 1: ties go to even (1).
        assert_eq!(parse_go_float("0x1.00000000000008p0"), Some(1.0));
        assert_eq!(
            parse_go_float("0x1.00000000000018p0"),
            Some(1.0 + 2.0 * f64::EPSILON)
        );
    }

    #[test]
    fn decimal_floats_follow_go_underscore_and_range_rules() {
        assert_eq!(parse_go_float("1_0.2_5"), Some(10.25));
        assert_eq!(parse_go_float("1e1_0"), Some(1e10));
        assert_eq!(parse_go_float("1__0"), None);
        assert_eq!(parse_go_float("1e400"), None);
    }

    #[test]
    fn imaginary_and_complex_literals() {
        let n = parse_number("2.5i", false).unwrap();
        assert_eq!(n.complex, Some((0.0, 2.5)));
        assert_eq!(n.float, None);
        let n = parse_number("0i", false).unwrap();
        assert_eq!((n.complex, n.int), (Some((0.0, 0.0)), Some(0)));
        let n = parse_number("-0x1p1-2i", true).unwrap();
        assert_eq!(n.complex, Some((-2.0, -2.0)));
        assert!(parse_number("0x10i", false).is_err());
    }

    #[test]
    fn integer_overflow_and_uint_only_literals() {
        assert_eq!(
            parse_number("99999999999999999999", false).unwrap_err(),
            "integer overflow: \"99999999999999999999\""
        );
        let n = parse_number("18446744073709551615", false).unwrap();
        assert_eq!((n.int, n.uint), (None, Some(u64::MAX)));
        assert!(parse_number("08", false).is_err());
        assert_eq!(parse_number("09.5", false).unwrap().float, Some(9.5));
    }
}
