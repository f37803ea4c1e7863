//! Functions that need a clock, randomness or crypto key material.
//!
//! The sandbox has neither a clock nor real randomness; the host sends both
//! with every render (`entropy` and `now` in the render input, see
//! [`crate::RenderEnvironment`]):
//! * time: `now` is the host's time (see [`super::dates`]);
//! * random strings/ints/UUIDs/`shuffle`: SHA-256 in counter mode keyed by
//!   the render's entropy, so values are unpredictable unless the host chose
//!   deterministic mode (a fixed seed), where the same input renders the same;
//! * certificates, keys, bcrypt/htpasswd, AES: in [`super::crypto`], from a
//!   ChaCha20 generator seeded by this stream.

use std::cell::{Cell, RefCell};

use sha2::{Digest, Sha256};

use super::{FuncDef, Param::*, fixed, int, s};
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
    static NOW_CALLS: Cell<i64> = const { Cell::new(0) };
}

/// Starts a render: keys the generator with the host's entropy and sets the
/// time `now` reports.
pub fn begin_render(entropy: &[u8], now_unix_seconds: i64) {
    RNG.with(|r| *r.borrow_mut() = Generator::keyed(entropy));
    NOW.with(|n| n.set(now_unix_seconds));
    NOW_CALLS.with(|n| n.set(0));
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

/// A fresh monotonic reading for one call of `now`: in Go every call reads the clock anew, so two
/// `now`s never compare equal.
pub(crate) fn next_monotonic() -> i64 {
    NOW_CALLS.with(|n| {
        n.set(n.get() + 1);
        n.get()
    })
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
