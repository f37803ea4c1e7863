//! Go's `time.Time` and `time.Duration` as charts meet them through Sprig:
//! formatting and parsing with Go's reference-time layouts, `Time.String`,
//! `ParseDuration` and `Duration.String`.
//!
//! The sandbox has no time zone database, and `helm template` in a container
//! runs with `Local` = UTC, so the only named zone is UTC; a parsed numeric
//! offset or an unknown abbreviation becomes a fixed zone, as in Go.

use std::fmt::Write as _;

const NANOS_PER_SECOND: i64 = 1_000_000_000;
/// Seconds from 0001-01-01 (Go's zero `Time`) to the Unix epoch.
const ZERO_UNIX: i64 = -62_135_596_800;

/// A Go `time.Time`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoTime {
    /// Seconds since the Unix epoch.
    pub unix: i64,
    pub nanos: u32,
    /// The zone it is shown in: seconds east of UTC.
    pub offset: i32,
    /// The zone's abbreviation (`UTC`, a parsed `MST`), empty for a numeric fixed zone.
    pub zone: String,
    /// Go's monotonic clock reading in nanoseconds: only `now` has one. It prints as ` m=±…`
    /// and takes part in `==`, which is why two calls of `now` never compare equal in Go.
    pub monotonic: Option<i64>,
}

impl GoTime {
    /// Go's zero `Time` (what `toDate` returns for input it cannot parse).
    pub fn zero() -> GoTime {
        GoTime::utc(ZERO_UNIX, 0)
    }

    pub fn utc(unix: i64, nanos: u32) -> GoTime {
        GoTime {
            unix,
            nanos,
            offset: 0,
            zone: "UTC".into(),
            monotonic: None,
        }
    }

    /// `t.In(UTC)`: the same instant shown in UTC.
    pub fn in_utc(&self) -> GoTime {
        GoTime {
            offset: 0,
            zone: "UTC".into(),
            ..self.clone()
        }
    }

    /// `t.Add(d)`.
    pub fn add(&self, d: i64) -> GoTime {
        let total = i128::from(self.unix) * i128::from(NANOS_PER_SECOND)
            + i128::from(self.nanos)
            + i128::from(d);
        let unix = total.div_euclid(i128::from(NANOS_PER_SECOND));
        GoTime {
            unix: i64::try_from(unix).unwrap_or(if d < 0 { i64::MIN } else { i64::MAX }),
            nanos: total.rem_euclid(i128::from(NANOS_PER_SECOND)) as u32,
            // Go drops the monotonic reading when adding overflows it.
            monotonic: self.monotonic.and_then(|m| m.checked_add(d)),
            ..self.clone()
        }
    }

    /// `time.Since(t)` with the render's `now`, in nanoseconds.
    pub fn since(&self, now_unix: i64) -> i64 {
        let ns = (i128::from(now_unix) - i128::from(self.unix)) * i128::from(NANOS_PER_SECOND)
            - i128::from(self.nanos);
        ns.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// `Time.String()`.
    pub fn go_string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.monotonic {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            let _ = write!(s, " m={sign}{}.{:09}", m / 1_000_000_000, m % 1_000_000_000);
        }
        s
    }

    /// `MarshalJSON`'s text: RFC 3339 with nanoseconds, without the quotes.
    pub fn rfc3339_nano(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }

    /// `t.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        let local = self.unix + i64::from(self.offset);
        let days = local.div_euclid(86_400);
        let secs = local.rem_euclid(86_400);
        let (year, month, day) = civil(days);
        let fields = Fields {
            year,
            month,
            day,
            yday: (days - days_from_civil(year, 1, 1) + 1) as u32,
            weekday: (days + 4).rem_euclid(7) as usize,
            hour: (secs / 3600) as u32,
            minute: (secs % 3600 / 60) as u32,
            second: (secs % 60) as u32,
        };
        let mut out = String::new();
        let mut rest = layout;
        while let Some((prefix, std, len)) = next_chunk(rest) {
            out.push_str(&rest[..prefix]);
            self.append(&mut out, &fields, std);
            rest = &rest[prefix + len..];
        }
        out.push_str(rest);
        out
    }

    fn append(&self, out: &mut String, f: &Fields, std: Std) {
        let hour12 = if f.hour.is_multiple_of(12) {
            12
        } else {
            f.hour % 12
        };
        let _ = match std {
            Std::Year => write!(out, "{:02}", f.year.rem_euclid(100)),
            Std::LongYear => write!(out, "{:04}", f.year),
            Std::Month => write!(out, "{}", &MONTHS[f.month as usize - 1][..3]),
            Std::LongMonth => write!(out, "{}", MONTHS[f.month as usize - 1]),
            Std::NumMonth => write!(out, "{}", f.month),
            Std::ZeroMonth => write!(out, "{:02}", f.month),
            Std::WeekDay => write!(out, "{}", &DAYS[f.weekday][..3]),
            Std::LongWeekDay => write!(out, "{}", DAYS[f.weekday]),
            Std::Day => write!(out, "{}", f.day),
            Std::UnderDay => write!(out, "{:>2}", f.day),
            Std::ZeroDay => write!(out, "{:02}", f.day),
            Std::UnderYearDay => write!(out, "{:>3}", f.yday),
            Std::ZeroYearDay => write!(out, "{:03}", f.yday),
            Std::Hour => write!(out, "{:02}", f.hour),
            Std::Hour12 => write!(out, "{hour12}"),
            Std::ZeroHour12 => write!(out, "{hour12:02}"),
            Std::Minute => write!(out, "{}", f.minute),
            Std::ZeroMinute => write!(out, "{:02}", f.minute),
            Std::Second => write!(out, "{}", f.second),
            Std::ZeroSecond => write!(out, "{:02}", f.second),
            Std::PM => write!(out, "{}", if f.hour >= 12 { "PM" } else { "AM" }),
            Std::Pm => write!(out, "{}", if f.hour >= 12 { "pm" } else { "am" }),
            Std::Tz if !self.zone.is_empty() => write!(out, "{}", self.zone),
            Std::Tz => {
                let minutes = self.offset / 60;
                let sign = if minutes < 0 { '-' } else { '+' };
                let m = minutes.unsigned_abs();
                write!(out, "{sign}{:02}{:02}", m / 60, m % 60)
            }
            Std::Offset(shape) => {
                if shape.z && self.offset == 0 {
                    out.push('Z');
                } else {
                    let sign = if self.offset < 0 { '-' } else { '+' };
                    let abs = self.offset.unsigned_abs();
                    let _ = write!(out, "{sign}{:02}", abs / 3600);
                    if shape.minutes {
                        if shape.colon {
                            out.push(':');
                        }
                        let _ = write!(out, "{:02}", abs / 60 % 60);
                    }
                    if shape.seconds {
                        if shape.colon {
                            out.push(':');
                        }
                        let _ = write!(out, "{:02}", abs % 60);
                    }
                }
                Ok(())
            }
            Std::Frac { digits, trim, sep } => {
                if !(trim && (digits == 0 || self.nanos == 0)) {
                    let all = format!("{:09}", self.nanos);
                    let mut frac = &all[..digits.min(9)];
                    if trim {
                        frac = frac.trim_end_matches('0');
                    }
                    if !(trim && frac.is_empty()) {
                        out.push(sep as char);
                        out.push_str(frac);
                    }
                }
                Ok(())
            }
        };
    }
}

struct Fields {
    year: i64,
    month: u32,
    day: u32,
    yday: u32,
    weekday: usize,
    hour: u32,
    minute: u32,
    second: u32,
}

/// How a numeric zone element is written: `Z` for UTC (`Z07:00`), `:` between parts, which parts.
#[derive(Clone, Copy, Debug, PartialEq)]
struct OffsetShape {
    z: bool,
    colon: bool,
    minutes: bool,
    seconds: bool,
}

/// One element of a Go layout.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Std {
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    Tz,
    Offset(OffsetShape),
    /// `.000` (exact digits) or `.999` (`trim`: trailing zeros dropped), with `.` or `,`.
    Frac {
        digits: usize,
        trim: bool,
        sep: u8,
    },
}

const OFFSETS: [(&str, bool, bool, bool); 5] = [
    ("070000", false, true, true),
    ("07:00:00", true, true, true),
    ("0700", false, true, false),
    ("07:00", true, true, false),
    ("07", false, false, false),
];

/// Go's `nextStdChunk`: where the next layout element starts, which it is, and its length.
fn next_chunk(layout: &str) -> Option<(usize, Std, usize)> {
    let l = layout.as_bytes();
    let at = |i: usize, s: &str| l[i..].starts_with(s.as_bytes());
    for i in 0..l.len() {
        let found =
            match l[i] {
                b'J' if at(i, "January") => Some((Std::LongMonth, 7)),
                b'J' if at(i, "Jan") => Some((Std::Month, 3)),
                b'M' if at(i, "Monday") => Some((Std::LongWeekDay, 6)),
                b'M' if at(i, "Mon") => Some((Std::WeekDay, 3)),
                b'M' if at(i, "MST") => Some((Std::Tz, 3)),
                b'0' if i + 1 < l.len() && (b'1'..=b'6').contains(&l[i + 1]) => {
                    let std = [
                        Std::ZeroMonth,
                        Std::ZeroDay,
                        Std::ZeroHour12,
                        Std::ZeroMinute,
                        Std::ZeroSecond,
                        Std::Year,
                    ][usize::from(l[i + 1] - b'1')];
                    Some((std, 2))
                }
                b'0' if at(i, "002") => Some((Std::ZeroYearDay, 3)),
                b'1' if at(i, "15") => Some((Std::Hour, 2)),
                b'1' => Some((Std::NumMonth, 1)),
                b'2' if at(i, "2006") => Some((Std::LongYear, 4)),
                b'2' => Some((Std::Day, 1)),
                // `_2006` is a literal `_` and a year.
                b'_' if at(i, "_2006") => return Some((i + 1, Std::LongYear, 4)),
                b'_' if at(i, "_2") => Some((Std::UnderDay, 2)),
                b'_' if at(i, "__2") => Some((Std::UnderYearDay, 3)),
                b'3' => Some((Std::Hour12, 1)),
                b'4' => Some((Std::Minute, 1)),
                b'5' => Some((Std::Second, 1)),
                b'P' if at(i, "PM") => Some((Std::PM, 2)),
                b'p' if at(i, "pm") => Some((Std::Pm, 2)),
                b'-' | b'Z' => OFFSETS.iter().find(|(s, ..)| at(i + 1, s)).map(
                    |&(s, colon, minutes, seconds)| {
                        let shape = OffsetShape {
                            z: l[i] == b'Z',
                            colon,
                            minutes,
                            seconds,
                        };
                        (Std::Offset(shape), s.len() + 1)
                    },
                ),
                b'.' | b',' if i + 1 < l.len() && matches!(l[i + 1], b'0' | b'9') => {
                    let ch = l[i + 1];
                    let mut j = i + 1;
                    while j < l.len() && l[j] == ch {
                        j += 1;
                    }
                    // Only a fractional second when no digit follows the run.
                    (j >= l.len() || !l[j].is_ascii_digit()).then_some((
                        Std::Frac {
                            digits: j - i - 1,
                            trim: ch == b'9',
                            sep: l[i],
                        },
                        j - i,
                    ))
                }
                _ => None,
            };
        if let Some((std, len)) = found {
            return Some((i, std, len));
        }
    }
    None
}

/// Go's `time.Parse(layout, value)` with `Local` = UTC, and its error texts.
pub fn parse(layout: &str, value: &str) -> Result<GoTime, String> {
    let fail = |layout_elem: &str, value_elem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            quote(value),
            quote(layout),
            quote(value_elem),
            quote(layout_elem)
        )
    };
    let fail_msg = |message: String| format!("parsing time {}{message}", quote(value));
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut minute, mut second, mut nanos) = (0i64, 0i64, 0i64, 0i64);
    let (mut am, mut pm) = (false, false);
    let mut utc = false;
    let mut zone_offset: Option<i64> = None;
    let mut zone_name = String::new();
    let mut lay = layout;
    let mut val = value;
    loop {
        let chunk = next_chunk(lay);
        let prefix = chunk.map_or(lay, |(p, ..)| &lay[..p]);
        val = skip(val, prefix).map_err(|rest| fail(prefix, rest))?;
        let Some((p, std, len)) = chunk else {
            if !val.is_empty() {
                return Err(fail_msg(format!(": extra text: {}", quote(val))));
            }
            break;
        };
        let std_str = &lay[p..p + len];
        lay = &lay[p + len..];
        let hold = val;
        let mut range_err = "";
        let ok: Option<()> = (|| {
            match std {
                Std::Year => {
                    let d = val
                        .get(..2)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    year = d.parse::<i64>().ok()?;
                    year += if year >= 69 { 1900 } else { 2000 };
                    val = &val[2..];
                }
                Std::LongYear => {
                    let d = val
                        .get(..4)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    year = d.parse().ok()?;
                    val = &val[4..];
                }
                Std::Month | Std::LongMonth => {
                    let names: Vec<&str> = if std == Std::Month {
                        MONTHS.iter().map(|m| &m[..3]).collect()
                    } else {
                        MONTHS.to_vec()
                    };
                    let (i, rest) = lookup(&names, val)?;
                    month = i as i64 + 1;
                    val = rest;
                }
                Std::NumMonth | Std::ZeroMonth => {
                    let (n, rest) = getnum(val, std == Std::ZeroMonth, 2)?;
                    (month, val) = (n, rest);
                    if !(1..=12).contains(&month) {
                        range_err = "month";
                    }
                }
                Std::WeekDay | Std::LongWeekDay => {
                    let names: Vec<&str> = if std == Std::WeekDay {
                        DAYS.iter().map(|d| &d[..3]).collect()
                    } else {
                        DAYS.to_vec()
                    };
                    val = lookup(&names, val)?.1;
                }
                Std::Day | Std::UnderDay | Std::ZeroDay => {
                    if std == Std::UnderDay {
                        val = val.strip_prefix(' ').unwrap_or(val);
                    }
                    (day, val) = getnum(val, std == Std::ZeroDay, 2)?;
                }
                Std::UnderYearDay | Std::ZeroYearDay => {
                    if std == Std::UnderYearDay {
                        for _ in 0..2 {
                            val = val.strip_prefix(' ').unwrap_or(val);
                        }
                    }
                    (yday, val) = getnum(val, std == Std::ZeroYearDay, 3)?;
                }
                Std::Hour => {
                    (hour, val) = getnum(val, false, 2)?;
                    if !(0..24).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Hour12 | Std::ZeroHour12 => {
                    (hour, val) = getnum(val, std == Std::ZeroHour12, 2)?;
                    if !(0..=12).contains(&hour) {
                        range_err = "hour";
                    }
                }
                Std::Minute | Std::ZeroMinute => {
                    (minute, val) = getnum(val, std == Std::ZeroMinute, 2)?;
                    if !(0..60).contains(&minute) {
                        range_err = "minute";
                    }
                }
                Std::Second | Std::ZeroSecond => {
                    (second, val) = getnum(val, std == Std::ZeroSecond, 2)?;
                    if !(0..60).contains(&second) {
                        range_err = "second";
                        return Some(());
                    }
                    // A fractional second in the input that the layout does not name is taken too.
                    let b = val.as_bytes();
                    let next_is_frac = matches!(next_chunk(lay), Some((_, Std::Frac { .. }, _)));
                    if b.len() >= 2
                        && matches!(b[0], b'.' | b',')
                        && b[1].is_ascii_digit()
                        && !next_is_frac
                    {
                        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                        nanos = parse_nanos(&val[..n])?;
                        val = &val[n..];
                    }
                }
                Std::PM | Std::Pm => {
                    let p = val.get(..2)?;
                    let (a, pp) = if std == Std::PM {
                        ("AM", "PM")
                    } else {
                        ("am", "pm")
                    };
                    if p == pp {
                        pm = true;
                    } else if p == a {
                        am = true;
                    } else {
                        return None;
                    }
                    val = &val[2..];
                }
                Std::Offset(shape) => {
                    if shape.z && val.starts_with('Z') {
                        val = &val[1..];
                        utc = true;
                        return Some(());
                    }
                    let b = val.as_bytes();
                    let need = 3
                        + if shape.minutes { 2 } else { 0 }
                        + if shape.seconds { 2 } else { 0 }
                        + if shape.colon {
                            usize::from(shape.minutes) + usize::from(shape.seconds)
                        } else {
                            0
                        };
                    if b.len() < need {
                        return None;
                    }
                    let step = if shape.colon { 3 } else { 2 };
                    if shape.colon && (b[3] != b':' || (shape.seconds && b[6] != b':')) {
                        return None;
                    }
                    let two = |at: usize| getnum(&val[at..at + 2], true, 2).map(|(n, _)| n);
                    let h = two(1)?;
                    let m = if shape.minutes { two(1 + step)? } else { 0 };
                    let s = if shape.seconds { two(1 + 2 * step)? } else { 0 };
                    if h > 24 {
                        range_err = "time zone offset hour";
                    }
                    if m > 60 {
                        range_err = "time zone offset minute";
                    }
                    if s > 60 {
                        range_err = "time zone offset second";
                    }
                    let off = (h * 60 + m) * 60 + s;
                    zone_offset = Some(match b[0] {
                        b'+' => off,
                        b'-' => -off,
                        _ => return None,
                    });
                    val = &val[need..];
                }
                Std::Tz => {
                    if let Some(rest) = val.strip_prefix("UTC") {
                        utc = true;
                        val = rest;
                    } else {
                        let n = zone_abbreviation_len(val)?;
                        zone_name = val[..n].to_string();
                        val = &val[n..];
                    }
                }
                Std::Frac { digits, trim, .. } => {
                    let b = val.as_bytes();
                    if !trim {
                        if b.len() < digits + 1 {
                            return None;
                        }
                        nanos = parse_nanos(&val[..digits + 1])?;
                        val = &val[digits + 1..];
                    } else if b.len() >= 2 && matches!(b[0], b'.' | b',') && b[1].is_ascii_digit() {
                        let n = 1 + b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
                        nanos = parse_nanos(&val[..n])?;
                        val = &val[n..];
                    }
                }
            }
            Some(())
        })();
        if !range_err.is_empty() {
            return Err(fail_msg(format!(": {range_err} out of range")));
        }
        if ok.is_none() {
            return Err(fail(std_str, hold));
        }
    }
    if pm && hour < 12 {
        hour += 12;
    } else if am && hour == 12 {
        hour = 0;
    }
    if yday >= 0 {
        let (mut m, mut d) = (0, 0);
        if is_leap(year) {
            if yday == 31 + 29 {
                (m, d) = (2, 29);
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(fail_msg(": day-of-year out of range".into()));
        }
        if m == 0 {
            m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE[m as usize] < yday {
                m += 1;
            }
            d = yday - DAYS_BEFORE[m as usize - 1];
        }
        if month >= 0 && month != m {
            return Err(fail_msg(": day-of-year does not match month".into()));
        }
        if day >= 0 && day != d {
            return Err(fail_msg(": day-of-year does not match day".into()));
        }
        (month, day) = (m, d);
    } else {
        month = month.max(1);
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(fail_msg(": day out of range".into()));
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let wall = days * 86_400 + hour * 3600 + minute * 60 + second;
    let mut t = GoTime::utc(wall, nanos as u32);
    if utc {
        return Ok(t);
    }
    if let Some(off) = zone_offset {
        t.unix -= off;
        // An offset of zero is the local zone (UTC); any other becomes a fixed zone.
        if off != 0 || !(zone_name.is_empty() || zone_name == "UTC") {
            t.offset = off as i32;
            t.zone = zone_name;
        }
        return Ok(t);
    }
    if !zone_name.is_empty() {
        // Unknown abbreviations get a fixed zone with offset 0, as Go does without tz data.
        t.zone = zone_name;
    }
    Ok(t)
}

/// Go's `skip`: the literal part of the layout must match; spaces match runs of spaces.
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Result<&'a str, &'a str> {
    while let Some(c) = prefix.chars().next() {
        if c == ' ' {
            if !value.is_empty() && !value.starts_with(' ') {
                return Err(value);
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        match value.strip_prefix(c) {
            Some(rest) => value = rest,
            None => return Err(value),
        }
        prefix = &prefix[c.len_utf8()..];
    }
    Ok(value)
}

/// Up to `max` digits; exactly `max` when `fixed`.
fn getnum(s: &str, fixed: bool, max: usize) -> Option<(i64, &str)> {
    let n = s.bytes().take(max).take_while(u8::is_ascii_digit).count();
    if n == 0 || (fixed && n < max) {
        return None;
    }
    Some((s[..n].parse().ok()?, &s[n..]))
}

/// Case-insensitive prefix match against a name table.
fn lookup<'a>(names: &[&str], val: &'a str) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let head = val.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, &val[name.len()..]))
    })
}

/// `.123` (or `,123`) as nanoseconds: digits past the ninth are dropped.
fn parse_nanos(s: &str) -> Option<i64> {
    let digits = &s[1..s.len().min(10)];
    let n: i64 = digits.parse().ok()?;
    Some(n * 10i64.pow(9 - digits.len() as u32))
}

/// How many bytes of `val` read as a zone abbreviation (Go's `parseTimeZone`, without `GMT±h`).
fn zone_abbreviation_len(val: &str) -> Option<usize> {
    let b = val.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if val.starts_with("ChST") || val.starts_with("MeST") {
        return Some(4);
    }
    if val.starts_with("GMT") {
        return Some(3);
    }
    let upper = b.iter().take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        3 => Some(3),
        4 if b[3] == b'T' || val.starts_with("WITA") => Some(4),
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `time.ParseDuration`, in nanoseconds, with its error texts.
pub fn parse_duration(orig: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s.starts_with('.') || s.as_bytes()[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for b in s[..int_len].bytes() {
            if v > (1 << 63) / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(b - b'0');
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        s = &s[int_len..];
        let (mut frac, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for b in rest[..n].bytes() {
                if overflow {
                    continue;
                }
                if frac > (1 << 63) / 10 {
                    overflow = true;
                    continue;
                }
                let y = frac * 10 + u64::from(b - b'0');
                if y > 1 << 63 {
                    overflow = true;
                    continue;
                }
                frac = y;
                scale *= 10.0;
            }
            post = n > 0;
            s = &rest[n..];
        }
        if int_len == 0 && !post {
            return Err(invalid());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        if unit_len == 0 {
            return Err(format!("time: missing unit in duration {}", quote(orig)));
        }
        let unit_name = &s[..unit_len];
        s = &s[unit_len..];
        let unit: u64 = match unit_name {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    quote(unit_name),
                    quote(orig)
                ));
            }
        };
        if v > (1 << 63) / unit {
            return Err(invalid());
        }
        v *= unit;
        if frac > 0 {
            v += (frac as f64 * (unit as f64 / scale)) as u64;
            if v > 1 << 63 {
                return Err(invalid());
            }
        }
        total += v;
        if total > 1 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        return Ok((total as i64).wrapping_neg());
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// Go's `Duration.String()`.
pub fn duration_string(d: i64) -> String {
    let neg = d < 0;
    let mut u = d.unsigned_abs();
    let mut out = String::new();
    if u < 1_000_000_000 {
        let (prec, unit) = match u {
            0 => return "0s".into(),
            1..1_000 => (0, "ns"),
            1_000..1_000_000 => (3, "µs"),
            _ => (6, "ms"),
        };
        let (frac, whole) = fraction(u, prec);
        let _ = write!(out, "{whole}{frac}{unit}");
    } else {
        let (frac, secs) = fraction(u, 9);
        u = secs;
        let s = format!("{}{frac}s", u % 60);
        u /= 60;
        if u > 0 {
            let m = u % 60;
            u /= 60;
            if u > 0 {
                let _ = write!(out, "{u}h");
            }
            let _ = write!(out, "{m}m");
        }
        out.push_str(&s);
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / 10^prec` and its fraction as `.ddd` without trailing zeros (empty when zero).
fn fraction(v: u64, prec: u32) -> (String, u64) {
    let div = 10u64.pow(prec);
    let frac = v % div;
    if frac == 0 {
        return (String::new(), v / div);
    }
    let digits = format!("{frac:0width$}", width = prec as usize);
    (format!(".{}", digits.trim_end_matches('0')), v / div)
}

/// Go's `time.quote`: the value in double quotes, `"` and `\` escaped.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn days_in(month: i64, year: i64) -> i64 {
    if month == 2 && is_leap(year) {
        return 29;
    }
    DAYS_BEFORE[month as usize] - DAYS_BEFORE[month as usize - 1]
}

/// Civil date from days since the epoch (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since the epoch of a civil date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_go() {
        let t = GoTime::utc(1_234_567_890, 120_000_000);
        assert_eq!(
            t.format("Mon Jan _2 15:04:05 MST 2006"),
            "Fri Feb 13 23:31:30 UTC 2009"
        );
        assert_eq!(t.format("03:04:05PM .000 -0700"), "11:31:30PM .120 +0000");
        assert_eq!(t.go_string(), "2009-02-13 23:31:30.12 +0000 UTC");
        assert_eq!(t.rfc3339_nano(), "2009-02-13T23:31:30.12Z");
        assert_eq!(t.format("002 __2 Z07:00"), "044  44 Z");
        assert_eq!(GoTime::zero().go_string(), "0001-01-01 00:00:00 +0000 UTC");
    }

    #[test]
    fn parses_like_go() {
        let t = parse("2006-01-02T15:04:05Z07:00", "2024-03-05T10:20:30+02:00").unwrap();
        assert_eq!(t.unix, 1_709_626_830);
        assert_eq!(t.go_string(), "2024-03-05 10:20:30 +0200 +0200");
        assert_eq!(
            parse("2006-01-02", "bad").unwrap_err(),
            r#"parsing time "bad" as "2006-01-02": cannot parse "bad" as "2006""#
        );
        assert_eq!(
            parse("2006-01-02", "2024-02-30").unwrap_err(),
            r#"parsing time "2024-02-30": day out of range"#
        );
        assert_eq!(
            parse("2006-01-02", "2024-13-01").unwrap_err(),
            r#"parsing time "2024-13-01": month out of range"#
        );
        assert_eq!(
            parse("2006-01-02", "2024-01-01x").unwrap_err(),
            r#"parsing time "2024-01-01x": extra text: "x""#
        );
        assert_eq!(
            parse("2006-01-02 15:04:05", "2024-01-01 10:11:12.5")
                .unwrap()
                .nanos,
            500_000_000
        );
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(parse_duration("1.5h").unwrap(), 5_400_000_000_000);
        assert_eq!(parse_duration("-1m30s").unwrap(), -90_000_000_000);
        assert_eq!(
            parse_duration("bad").unwrap_err(),
            r#"time: invalid duration "bad""#
        );
        assert_eq!(
            parse_duration("10").unwrap_err(),
            r#"time: missing unit in duration "10""#
        );
        assert_eq!(
            parse_duration("3d").unwrap_err(),
            r#"time: unknown unit "d" in duration "3d""#
        );
        assert_eq!(duration_string(5_400_000_000_000), "1h30m0s");
        assert_eq!(duration_string(1_500_000), "1.5ms");
        assert_eq!(duration_string(-90_000_000_000), "-1m30s");
        assert_eq!(duration_string(0), "0s");
    }
}
