//! The PKCS#1 `RSAPrivateKey` DER encoding (RFC 8017 A.1.2), two-prime form.

use num_bigint_dig::BigUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

const INTEGER: u8 = 0x02;
const SEQUENCE: u8 = 0x30;

pub fn pkcs1(key: &rsa::RsaPrivateKey) -> Vec<u8> {
    let primes = key.primes();
    let zero = BigUint::default();
    let qinv = key.crt_coefficient().unwrap_or_default();
    let fields = [
        &zero,
        key.n(),
        key.e(),
        key.d(),
        &primes[0],
        &primes[1],
        key.dp().unwrap_or(&zero),
        key.dq().unwrap_or(&zero),
        &qinv,
    ];
    let body: Vec<u8> = fields.iter().flat_map(|n| integer(n)).collect();
    tlv(SEQUENCE, &body)
}

fn integer(n: &BigUint) -> Vec<u8> {
    let mut bytes = n.to_bytes_be();
    // An INTEGER is signed: a set high bit needs a leading zero to stay positive.
    if bytes[0] & 0x80 != 0 {
        bytes.insert(0, 0);
    }
    tlv(INTEGER, &bytes)
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let len_bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | len_bytes.len() as u8);
        out.extend(len_bytes);
    }
    out.extend_from_slice(content);
    out
}
