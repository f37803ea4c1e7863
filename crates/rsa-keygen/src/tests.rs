use num_bigint_dig::BigUint;
use num_integer::Integer as _;
use rsa::pkcs1::DecodeRsaPrivateKey as _;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

use super::*;

fn never() -> bool {
    false
}

fn key(bits: u32, seed: &[u8]) -> rsa::RsaPrivateKey {
    let der = generate_pkcs1_der(bits, seed, &never).expect("generates");
    rsa::RsaPrivateKey::from_pkcs1_der(&der).expect("a PKCS#1 key the rsa crate parses")
}

#[test]
fn same_seed_same_key_and_other_seeds_other_keys() {
    let a = generate_pkcs1_der(1024, &[1; 32], &never).unwrap();
    let b = generate_pkcs1_der(1024, &[1; 32], &never).unwrap();
    let c = generate_pkcs1_der(1024, &[2; 32], &never).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // The size is part of the stream derivation: a 2048-bit key shares no prime with it.
    let small = key(1024, &[1; 32]);
    let large = key(2048, &[1; 32]);
    assert!(large.primes().iter().all(|p| !small.primes().contains(p)));
}

#[test]
fn keys_are_valid_and_of_exact_size() {
    for (bits, seed) in [(1024u32, [3u8; 32]), (2048, [4; 32]), (1032, [5; 32])] {
        let k = key(bits, &seed);
        let (p, q) = (&k.primes()[0], &k.primes()[1]);
        assert_eq!(k.n().bits(), bits as usize, "{bits}");
        assert_eq!(p.bits(), bits as usize / 2);
        assert_eq!(q.bits(), bits as usize / 2);
        assert_eq!(&(p * q), k.n());
        assert_eq!(k.e(), &BigUint::from(65537u32));
        let one = BigUint::from(1u8);
        let lambda = (p - &one).lcm(&(q - &one));
        assert_eq!((k.d() * k.e()) % &lambda, one, "d·e ≡ 1 mod λ(n)");
        assert_eq!(k.dp().unwrap(), &(k.d() % (p - &one)));
        assert_eq!(k.dq().unwrap(), &(k.d() % (q - &one)));
        let qinv = k.crt_coefficient().unwrap();
        assert_eq!((q * qinv) % p, one);
        k.validate().expect("the rsa crate's own checks");
        // A signature made with the key verifies with its public half.
        let digest = [7u8; 32];
        let scheme = || rsa::Pkcs1v15Sign::new_unprefixed();
        let sig = k.sign(scheme(), &digest).unwrap();
        k.to_public_key().verify(scheme(), &digest, &sig).unwrap();
    }
}

#[test]
fn refuses_sizes_and_seeds_out_of_bounds() {
    for bits in [0, 512, 1016, 1028, 4104, 8192] {
        let err = generate_pkcs1_der(bits, &[0; 32], &never).unwrap_err();
        assert_eq!(err, KeygenError::Bits(bits));
        assert!(err.to_string().contains("from 1024 to 4096"), "{err}");
    }
    let err = generate_pkcs1_der(2048, &[0; 31], &never).unwrap_err();
    assert_eq!(err, KeygenError::Seed(31));
}

#[test]
fn stops_when_cancelled() {
    let err = generate_pkcs1_der(4096, &[9; 32], &|| true).unwrap_err();
    assert_eq!(err, KeygenError::Cancelled);
}
