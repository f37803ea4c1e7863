//! One random prime: a sieved window after a random start, then probabilistic tests.

use std::sync::OnceLock;

use num_bigint_dig::BigUint;
use num_bigint_dig::prime::probably_prime;
use num_traits::ToPrimitive;
use rand_core::RngCore;

use super::KeygenError;

/// Trial division by the odd primes below this bound rejects about 88% of odd candidates
/// before any modular exponentiation.
const SIEVE_PRIME_BOUND: usize = 1 << 14;
/// Odd candidates per window. A 1024-bit prime is about 355 odd numbers from the previous one
/// on average, so a window of 4096 is almost never exhausted; when it is, a new start is drawn.
const WINDOW: usize = 4096;
/// Random-base Miller-Rabin rounds on top of the base-2 round and the strong Lucas test that
/// `probably_prime` always runs (Baillie-PSW, which has no known counterexample).
const EXTRA_ROUNDS: usize = 4;

/// A prime of exactly `bits` bits with its top two bits set, `p mod e != 1` (so that e is
/// invertible modulo p-1), drawn from `rng`.
pub fn random_prime(
    bits: usize,
    e: u32,
    rng: &mut impl RngCore,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<BigUint, KeygenError> {
    loop {
        let start = random_start(bits, rng);
        let composite = sieve_window(&start);
        for (k, _) in composite.iter().enumerate().filter(|(_, c)| !**c) {
            if cancelled() {
                return Err(KeygenError::Cancelled);
            }
            let candidate = &start + BigUint::from(2 * k as u64);
            if candidate.bits() != bits {
                break;
            }
            let rem = (&candidate % e).to_u32().expect("below e");
            if rem != 1 && probably_prime(&candidate, EXTRA_ROUNDS) {
                return Ok(candidate);
            }
        }
    }
}

/// An odd number of `bits` bits whose top two bits are set.
fn random_start(bits: usize, rng: &mut impl RngCore) -> BigUint {
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    rng.fill_bytes(&mut bytes);
    let excess = bytes.len() * 8 - bits;
    bytes[0] &= 0xff >> excess;
    let top_two = BigUint::from(3u8) << (bits - 2);
    BigUint::from_bytes_be(&bytes) | top_two | BigUint::from(1u8)
}

/// `composite[k]` is true when `start + 2k` has a factor among the small primes.
fn sieve_window(start: &BigUint) -> Vec<bool> {
    let mut composite = vec![false; WINDOW];
    for &p in small_primes() {
        let r = (start % p).to_u32().expect("below p") as u64;
        let p = p as u64;
        // start + 2k ≡ 0 (mod p)  ⇔  k ≡ -r · 2⁻¹ (mod p), and 2⁻¹ = (p + 1) / 2 for odd p.
        let first = ((p - r) % p) * p.div_ceil(2) % p;
        let mut k = first as usize;
        while k < WINDOW {
            composite[k] = true;
            k += p as usize;
        }
    }
    composite
}

/// The odd primes below [`SIEVE_PRIME_BOUND`].
fn small_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let mut is_composite = vec![false; SIEVE_PRIME_BOUND];
        let mut primes = Vec::new();
        for n in 3..SIEVE_PRIME_BOUND {
            if n % 2 == 0 || is_composite[n] {
                continue;
            }
            primes.push(n as u32);
            for multiple in (n * n..SIEVE_PRIME_BOUND).step_by(2 * n) {
                is_composite[multiple] = true;
            }
        }
        primes
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sieve_marks_exactly_the_candidates_with_small_factors() {
        let start = BigUint::from(1_000_001u32);
        let composite = sieve_window(&start);
        for (k, &marked) in composite.iter().enumerate().take(200) {
            let n = 1_000_001u64 + 2 * k as u64;
            let has_small_factor = small_primes()
                .iter()
                .any(|&p| n.is_multiple_of(p as u64) && n != p as u64);
            assert_eq!(marked, has_small_factor, "n = {n}");
        }
    }

    #[test]
    fn small_primes_are_the_odd_primes() {
        let primes = small_primes();
        assert_eq!(&primes[..6], &[3, 5, 7, 11, 13, 17]);
        assert_eq!(primes.len(), 1899, "odd primes below 16384");
    }
}
