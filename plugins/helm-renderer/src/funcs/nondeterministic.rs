//! Functions that need a clock, randomness or crypto key material.
//!
//! The sandbox has neither a clock nor real randomness; the host sends both
//! with every render (`entropy` and `now` in the render input, see
//! [`crate::RenderEnvironment`]):
//! * time: `now` is the host's time as Unix seconds; `date`-style formatting
//!   works on Unix seconds with Go layouts;
//! * random strings/ints/UUIDs/`shuffle`: SHA-256 in counter mode keyed by
//!   the render's entropy, so values are unpredictable unless the host chose
//!   deterministic mode (a fixed seed), where the same input renders the same;
//! * certificates, keys, bcrypt/htpasswd, AES: in [`super::crypto`], from a
//!   ChaCha20 generator seeded by this stream.

use std::cell::{Cell, RefCell};

use sha2::{Digest, Sha256};

use super::{FuncDef, Param::*, fixed, int, s, variadic};
use crate::value::Value;

/// A generator whose output cannot be predicted without its key: every
/// block is SHA-256(key ‖ counter). (A fast non-cryptographic generator would
/// let one random value printed by a chart reveal its generated password.)
struct Generator {
    key: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl Generator {
    fn keyed(entropy: &[u8]) -> Generator {
        let mut hasher = Sha256::new();
        hasher.update(b"helm-renderer random v1\0");
        hasher.update(entropy);
        Generator {
            key: hasher.finalize().into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn next_u64(&mut self) -> u64 {
        if self.used + 8 > self.block.len() {
            let mut hasher = Sha256::new();
            hasher.update(self.key);
            hasher.update(self.counter.to_le_bytes());
            self.block = hasher.finalize().into();
            self.counter += 1;
            self.used = 0;
        }
        let bytes = &self.block[self.used..self.used + 8];
        self.used += 8;
        u64::from_le_bytes(bytes.try_into().expect("8 bytes"))
    }
}

thread_local! {
    static RNG: RefCell<Generator> = RefCell::new(Generator::keyed(&[]));
    static NOW: Cell<i64> = const { Cell::new(0) };
}

/// Starts a render: keys the generator with the host's entropy and sets the
/// time `now` reports.
pub fn begin_render(entropy: &[u8], now_unix_seconds: i64) {
    RNG.with(|r| *r.borrow_mut() = Generator::keyed(entropy));
    NOW.with(|n| n.set(now_unix_seconds));
}

fn next_u64() -> u64 {
    RNG.with(|r| r.borrow_mut().next_u64())
}

/// 32 bytes from the render's stream, to seed the crypto functions' own generator.
pub(crate) fn seed() -> [u8; 32] {
    let mut out = [0u8; 32];
    for chunk in out.chunks_mut(8) {
        chunk.copy_from_slice(&next_u64().to_le_bytes());
    }
    out
}

/// The render's `now`, as Unix seconds.
pub(crate) fn now() -> i64 {
    NOW.with(Cell::get)
}

/// Uniform in `0..n` (rejection sampling, so no value is favoured).
fn below(n: u64) -> u64 {
    let limit = (u64::MAX / n) * n;
    loop {
        let x = next_u64();
        if x < limit {
            return x % n;
        }
    }
}

fn rand_from(alphabet: &[u8], n: i64) -> Value {
    let n = n.clamp(0, 1 << 16) as usize;
    Value::string(
        (0..n)
            .map(|_| alphabet[below(alphabet.len() as u64) as usize] as char)
            .collect(),
    )
}

const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const NUM: &[u8] = b"0123456789";

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "now" => fixed(&[], |_| Ok(Value::Int(NOW.with(Cell::get)))),
        "unixEpoch" => fixed(&[Any], |a| {
            Ok(Value::string(super::to_int64(&a[0]).to_string()))
        }),
        "date" | "htmlDate" | "dateInZone" | "date_in_zone" | "htmlDateInZone" | "mustToDate"
        | "toDate" | "dateModify" | "date_modify" | "mustDateModify" | "must_date_modify"
        | "ago" | "duration" | "durationRound" => time_func(name)?,
        "randAlpha" => fixed(&[Int], |a| Ok(rand_from(ALPHA, int(a, 0)))),
        "randAlphaNum" => fixed(&[Int], |a| Ok(rand_from(ALNUM, int(a, 0)))),
        "randNumeric" => fixed(&[Int], |a| Ok(rand_from(NUM, int(a, 0)))),
        "randAscii" => fixed(&[Int], |a| {
            Ok(rand_from(&(32u8..127).collect::<Vec<u8>>(), int(a, 0)))
        }),
        "randBytes" => fixed(&[Int], |a| {
            let bytes: Vec<u8> = (0..int(a, 0).clamp(0, 1 << 16))
                .map(|_| next_u64() as u8)
                .collect();
            Ok(Value::string(super::encoding::base64_encode(&bytes)))
        }),
        "randInt" => fixed(&[Int, Int], |a| {
            let (lo, hi) = (int(a, 0), int(a, 1));
            if hi <= lo {
                return Err("invalid argument to Int63n".into());
            }
            Ok(Value::Int(lo.wrapping_add(below(hi.abs_diff(lo)) as i64)))
        }),
        "uuidv4" => fixed(&[], |_| {
            let (a, b) = (next_u64(), next_u64());
            let b = (b & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000;
            let a = (a & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000;
            let h = format!("{a:016x}{b:016x}");
            Ok(Value::string(format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )))
        }),
        "shuffle" => fixed(&[Str], |a| {
            let mut chars: Vec<char> = s(a, 0).chars().collect();
            for i in (1..chars.len()).rev() {
                let j = below(i as u64 + 1) as usize;
                chars.swap(i, j);
            }
            Ok(Value::string(chars.into_iter().collect()))
        }),
        _ => return None,
    })
}

fn time_func(name: &str) -> Option<FuncDef> {
    Some(match name {
        "date" | "htmlDate" | "dateInZone" | "date_in_zone" | "htmlDateInZone" => {
            variadic(&[], Any, |a| {
                let (layout, t) = match a {
                    [t] => ("2006-01-02".to_string(), t),
                    [layout, t, ..] => (super::to_string(layout), t),
                    [] => return Err("wrong number of args".into()),
                };
                Ok(Value::string(format_go_time(&layout, super::to_int64(t))))
            })
        }
        "toDate" | "mustToDate" => fixed(&[Str, Str], |_| Ok(Value::Int(0))),
        "dateModify" | "date_modify" | "mustDateModify" | "must_date_modify" => {
            fixed(&[Str, Any], |a| Ok(Value::Int(super::to_int64(&a[1]))))
        }
        "ago" => fixed(&[Any], |_| Ok(Value::str("0s"))),
        "duration" => fixed(&[Any], |a| {
            Ok(Value::string(go_duration(super::to_int64(&a[0]))))
        }),
        "durationRound" => fixed(&[Any], |a| {
            Ok(Value::string(go_duration(super::to_int64(&a[0]))))
        }),
        _ => return None,
    })
}

/// Go `time.Duration` String for whole seconds.
fn go_duration(secs: i64) -> String {
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
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
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
];

/// Formats Unix seconds (UTC) with a Go reference-time layout.
pub fn format_go_time(layout: &str, unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (y, mo, d) = civil(days);
    let (h, mi, se) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let wd = DAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[mo as usize - 1];
    let tokens: [(&str, String); 24] = [
        ("January", month.to_string()),
        ("Monday", wd.to_string()),
        ("2006", format!("{y:04}")),
        ("Z07:00", "Z".into()),
        ("-07:00", "+00:00".into()),
        ("-0700", "+0000".into()),
        ("Z0700", "Z".into()),
        ("MST", "UTC".into()),
        ("Jan", month[..3].to_string()),
        ("Mon", wd[..3].to_string()),
        (".000000000", ".000000000".into()),
        (".000000", ".000000".into()),
        (".000", ".000".into()),
        ("01", format!("{mo:02}")),
        ("02", format!("{d:02}")),
        ("_2", format!("{d:>2}")),
        ("15", format!("{h:02}")),
        (
            "03",
            format!("{:02}", if h % 12 == 0 { 12 } else { h % 12 }),
        ),
        ("04", format!("{mi:02}")),
        ("05", format!("{se:02}")),
        ("06", format!("{:02}", y % 100)),
        ("PM", if h >= 12 { "PM".into() } else { "AM".into() }),
        ("pm", if h >= 12 { "pm".into() } else { "am".into() }),
        ("-07", "+00".into()),
    ];
    let single: [(&str, String); 5] = [
        ("1", mo.to_string()),
        ("2", d.to_string()),
        ("3", (if h % 12 == 0 { 12 } else { h % 12 }).to_string()),
        ("4", mi.to_string()),
        ("5", se.to_string()),
    ];
    let mut out = String::new();
    let mut rest = layout;
    'outer: while !rest.is_empty() {
        for (tok, val) in tokens.iter().chain(single.iter()) {
            if let Some(r) = rest.strip_prefix(tok) {
                out.push_str(val);
                rest = r;
                continue 'outer;
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}
