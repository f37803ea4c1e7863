//! RSA key generation as a pure function of `(bits, seed)`, fast enough to run natively for the
//! renderer plugin (wit `keys` interface) instead of inside wasm.
//!
//! p and q come from two ChaCha20 streams derived from the seed, so they are searched on two
//! threads and the key is still the same for the same seed whatever the scheduling. Each prime
//! is found as Go's and OpenSSL's generators do: a random odd start with its top two bits set
//! (so `n` has exactly `bits` bits), a sieve over the following window by the primes below
//! 2^14, then Miller-Rabin rounds and a strong Lucas test (Baillie-PSW) on the survivors.

mod sieve;

use std::ops::RangeInclusive;

use num_bigint_dig::BigUint;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use sha2::{Digest, Sha256};

/// Key sizes a caller may ask for. Sprig asks for 2048 (certificates) and 4096
/// (`genPrivateKey`); below 1024 is insecure and above 4096 costs seconds per key.
pub const ALLOWED_BITS: RangeInclusive<u32> = 1024..=4096;
/// The seed is one ChaCha20 key.
pub const SEED_BYTES: usize = 32;
/// Go's and Sprig's public exponent.
const PUBLIC_EXPONENT: u32 = 65537;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeygenError {
    #[error(
        "an RSA key of {0} bits is not supported; ask for a multiple of 8 bits from {min} to {max}",
        min = ALLOWED_BITS.start(),
        max = ALLOWED_BITS.end()
    )]
    Bits(u32),
    #[error("an RSA key seed must be {SEED_BYTES} bytes, got {0}")]
    Seed(usize),
    #[error("RSA key generation was cancelled")]
    Cancelled,
    #[error("RSA key assembly failed: {0}")]
    Assembly(String),
}

/// A PKCS#1 `RSAPrivateKey` (DER) of exactly `bits` bits, e = 65537, determined by `seed` alone.
/// `cancelled` is polled between prime candidates on both threads; once it returns true the
/// search stops with [`KeygenError::Cancelled`].
pub fn generate_pkcs1_der(
    bits: u32,
    seed: &[u8],
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Vec<u8>, KeygenError> {
    if !ALLOWED_BITS.contains(&bits) || !bits.is_multiple_of(8) {
        return Err(KeygenError::Bits(bits));
    }
    let seed: &[u8; SEED_BYTES] = seed.try_into().map_err(|_| KeygenError::Seed(seed.len()))?;
    let half = bits as usize / 2;
    let (p, (mut q, mut q_stream)) = std::thread::scope(|scope| {
        let p_search = scope.spawn(|| {
            let mut stream = stream(seed, bits, b'p');
            sieve::random_prime(half, PUBLIC_EXPONENT, &mut stream, cancelled)
        });
        let q = {
            let mut stream = stream(seed, bits, b'q');
            sieve::random_prime(half, PUBLIC_EXPONENT, &mut stream, cancelled).map(|q| (q, stream))
        };
        let p = p_search.join().expect("the prime search does not panic");
        Ok::<_, KeygenError>((p?, q?))
    })?;
    // FIPS 186-5 B.3.1: p and q must differ in their top 100 bits. Practically never true for
    // random primes, but cheap to keep deterministic: q's own stream supplies the next one.
    let too_close = BigUint::from(1u8) << (half - 100);
    while abs_diff(&p, &q) <= too_close {
        q = sieve::random_prime(half, PUBLIC_EXPONENT, &mut q_stream, cancelled)?;
    }
    let key = rsa::RsaPrivateKey::from_p_q(p, q, BigUint::from(PUBLIC_EXPONENT))
        .map_err(|e| KeygenError::Assembly(e.to_string()))?;
    let der = rsa::pkcs1::EncodeRsaPrivateKey::to_pkcs1_der(&key)
        .map_err(|e| KeygenError::Assembly(e.to_string()))?;
    Ok(der.as_bytes().to_vec())
}

/// The ChaCha20 stream for one prime, domain-separated by its label and the key size.
fn stream(seed: &[u8; SEED_BYTES], bits: u32, label: u8) -> ChaCha20Rng {
    let mut hasher = Sha256::new();
    hasher.update(b"k0rdent rsa-keygen v1\0");
    hasher.update(bits.to_be_bytes());
    hasher.update([label]);
    hasher.update(seed);
    ChaCha20Rng::from_seed(hasher.finalize().into())
}

fn abs_diff(a: &BigUint, b: &BigUint) -> BigUint {
    if a > b { a - b } else { b - a }
}

#[cfg(test)]
mod tests;
