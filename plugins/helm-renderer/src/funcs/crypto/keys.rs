//! Private keys as Sprig makes, prints, reads and signs with them: RSA (PKCS#1 "RSA PRIVATE KEY"),
//! ECDSA P-256 (SEC 1 "EC PRIVATE KEY") and Ed25519 (PKCS#8 "PRIVATE KEY"), the PEM blocks Go's
//! `x509.Marshal…` functions write.

use rand_chacha::ChaCha20Rng;
use rsa::BigUint;
use rsa::traits::{PrivateKeyParts, PublicKeyParts};
use sha2::{Digest, Sha256};

use super::der::{self, INTEGER, OCTET_STRING, SEQUENCE};

const RSA_ENCRYPTION: &[u64] = &[1, 2, 840, 113549, 1, 1, 1];
const SHA256_WITH_RSA: &[u64] = &[1, 2, 840, 113549, 1, 1, 11];
const EC_PUBLIC_KEY: &[u64] = &[1, 2, 840, 10045, 2, 1];
const PRIME256V1: &[u64] = &[1, 2, 840, 10045, 3, 1, 7];
const ECDSA_WITH_SHA256: &[u64] = &[1, 2, 840, 10045, 4, 3, 2];
const ED25519: &[u64] = &[1, 3, 101, 112];

pub enum PrivateKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    Ecdsa(p256::SecretKey),
    Ed25519(ed25519_dalek::SigningKey),
}

impl PrivateKey {
    /// The key is made outside the renderer (see [`generate_rsa_der`]) from a seed drawn from
    /// `rng`, so it is as unpredictable, or as reproducible, as the render's entropy.
    pub fn rsa(bits: u32, rng: &mut ChaCha20Rng) -> Result<PrivateKey, String> {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(rng, &mut seed);
        let der =
            generate_rsa_der(bits, &seed).map_err(|e| format!("error generating rsa key: {e}"))?;
        parse_pkcs1(&der).map_err(|e| format!("error generating rsa key: {e}"))
    }

    pub fn ecdsa(rng: &mut ChaCha20Rng) -> PrivateKey {
        PrivateKey::Ecdsa(p256::SecretKey::random(rng))
    }

    pub fn ed25519(rng: &mut ChaCha20Rng) -> PrivateKey {
        let mut seed = [0u8; 32];
        rand_core::RngCore::fill_bytes(rng, &mut seed);
        PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(&seed))
    }

    /// Sprig's `pemBlockForKey`.
    pub fn to_pem(&self) -> String {
        match self {
            PrivateKey::Rsa(k) => der::pem_encode("RSA PRIVATE KEY", &pkcs1(k)),
            PrivateKey::Ecdsa(k) => der::pem_encode("EC PRIVATE KEY", &sec1(k)),
            PrivateKey::Ed25519(k) => {
                let inner = der::octets(&k.to_bytes());
                let der = der::seq(&[
                    &der::small_uint(0),
                    &der::seq(&[&der::oid(ED25519)]),
                    &der::octets(&inner),
                ]);
                der::pem_encode("PRIVATE KEY", &der)
            }
        }
    }

    /// The public key's SubjectPublicKeyInfo and the bytes inside its BIT STRING.
    pub fn public_key_info(&self) -> (Vec<u8>, Vec<u8>) {
        let (algorithm, bits) = match self {
            PrivateKey::Rsa(k) => (
                der::seq(&[&der::oid(RSA_ENCRYPTION), &[der::NULL, 0]]),
                der::seq(&[
                    &der::uint(&k.n().to_bytes_be()),
                    &der::uint(&k.e().to_bytes_be()),
                ]),
            ),
            PrivateKey::Ecdsa(k) => (
                der::seq(&[&der::oid(EC_PUBLIC_KEY), &der::oid(PRIME256V1)]),
                ec_point(k),
            ),
            PrivateKey::Ed25519(k) => (
                der::seq(&[&der::oid(ED25519)]),
                k.verifying_key().to_bytes().to_vec(),
            ),
        };
        (der::seq(&[&algorithm, &der::bit_string(&bits)]), bits)
    }

    /// The AlgorithmIdentifier Go's `CreateCertificate` picks for this signer.
    pub fn signature_algorithm(&self) -> Vec<u8> {
        match self {
            PrivateKey::Rsa(_) => der::seq(&[&der::oid(SHA256_WITH_RSA), &[der::NULL, 0]]),
            PrivateKey::Ecdsa(_) => der::seq(&[&der::oid(ECDSA_WITH_SHA256)]),
            PrivateKey::Ed25519(_) => der::seq(&[&der::oid(ED25519)]),
        }
    }

    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        use ed25519_dalek::Signer as _;
        match self {
            PrivateKey::Rsa(k) => k
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(message))
                .map_err(|e| format!("error creating certificate: {e}")),
            PrivateKey::Ecdsa(k) => {
                let signer = p256::ecdsa::SigningKey::from(k);
                let sig: p256::ecdsa::Signature = signer.sign(message);
                let (r, s) = sig.split_bytes();
                Ok(der::seq(&[&der::uint(&r), &der::uint(&s)]))
            }
            PrivateKey::Ed25519(k) => Ok(k.sign(message).to_bytes().to_vec()),
        }
    }
}

/// In wasm the host generates the key natively (`k0rdent:chart/keys`): a 2048-bit key takes
/// tens of milliseconds there and over half a second in wasm.
#[cfg(target_family = "wasm")]
fn generate_rsa_der(bits: u32, seed: &[u8; 32]) -> Result<Vec<u8>, String> {
    crate::component::k0rdent::chart::keys::generate_rsa_key(bits, seed)
}

/// Native builds (the engine's tests) call the host's implementation directly.
#[cfg(not(target_family = "wasm"))]
fn generate_rsa_der(bits: u32, seed: &[u8; 32]) -> Result<Vec<u8>, String> {
    rsa_keygen::generate_pkcs1_der(bits, seed, &|| false).map_err(|e| e.to_string())
}

fn pkcs1(k: &rsa::RsaPrivateKey) -> Vec<u8> {
    let primes = k.primes();
    let int = |n: &BigUint| der::uint(&n.to_bytes_be());
    let zero = BigUint::default();
    let (dp, dq) = (k.dp().unwrap_or(&zero), k.dq().unwrap_or(&zero));
    let qinv = k.crt_coefficient().unwrap_or_default();
    der::seq(&[
        &der::small_uint(0),
        &int(k.n()),
        &int(k.e()),
        &int(k.d()),
        &int(&primes[0]),
        &int(&primes[1]),
        &int(dp),
        &int(dq),
        &int(&qinv),
    ])
}

fn ec_point(k: &p256::SecretKey) -> Vec<u8> {
    use p256::elliptic_curve::sec1::ToEncodedPoint as _;
    k.public_key().to_encoded_point(false).as_bytes().to_vec()
}

fn sec1(k: &p256::SecretKey) -> Vec<u8> {
    der::seq(&[
        &der::small_uint(1),
        &der::octets(&k.to_bytes()),
        &der::cons(0xa0, &[&der::oid(PRIME256V1)]),
        &der::cons(0xa1, &[&der::bit_string(&ec_point(k))]),
    ])
}

/// Sprig's `parsePrivateKeyPEM`, with its error texts.
pub fn parse_pem(text: &str) -> Result<PrivateKey, String> {
    let (label, der) = der::pem_decode(text).ok_or("no PEM data in input")?;
    if label == "PRIVATE KEY" {
        return parse_pkcs8(&der).map_err(|e| format!("decoding PEM as PKCS#8: {e}"));
    }
    let Some(kind) = label.strip_suffix(" PRIVATE KEY") else {
        return Err(format!("no private key data in PEM block of type {label}"));
    };
    match kind {
        "RSA" => parse_pkcs1(&der).map_err(|e| format!("decoding PEM as PKCS#1: {e}")),
        "EC" => parse_sec1(&der).map_err(|e| format!("decoding PEM as EC: {e}")),
        _ => Err(format!("invalid private key type {label}")),
    }
}

fn ints(der: &[u8]) -> Result<Vec<BigUint>, String> {
    let outer = der::read_only(der, SEQUENCE)?;
    der::children(outer.content)?
        .iter()
        .map(|el| match el.tag {
            INTEGER => Ok(BigUint::from_bytes_be(el.content)),
            _ => Err("asn1: structure error: tags don't match".to_string()),
        })
        .collect()
}

fn parse_pkcs1(der: &[u8]) -> Result<PrivateKey, String> {
    let v = ints(der)?;
    if v.len() < 9 {
        return Err("x509: failed to parse private key".into());
    }
    let key = rsa::RsaPrivateKey::from_components(
        v[1].clone(),
        v[2].clone(),
        v[3].clone(),
        vec![v[4].clone(), v[5].clone()],
    )
    .map_err(|e| format!("x509: invalid RSA private key: {e}"))?;
    Ok(PrivateKey::Rsa(Box::new(key)))
}

fn parse_sec1(der: &[u8]) -> Result<PrivateKey, String> {
    let outer = der::read_only(der, SEQUENCE)?;
    let fields = der::children(outer.content)?;
    let scalar = fields
        .iter()
        .find(|el| el.tag == OCTET_STRING)
        .ok_or("x509: failed to parse EC private key")?;
    let curve_ok = fields
        .iter()
        .find(|el| el.tag == 0xa0)
        .is_none_or(|params| params.content == der::oid(PRIME256V1).as_slice());
    if !curve_ok {
        return Err("x509: unknown elliptic curve (only P-256 is supported here)".into());
    }
    p256::SecretKey::from_slice(scalar.content)
        .map(PrivateKey::Ecdsa)
        .map_err(|_| "x509: invalid elliptic curve private key value".into())
}

fn parse_pkcs8(der: &[u8]) -> Result<PrivateKey, String> {
    let outer = der::read_only(der, SEQUENCE)?;
    let fields = der::children(outer.content)?;
    let (Some(alg), Some(key)) = (fields.get(1), fields.get(2)) else {
        return Err("x509: failed to parse private key".into());
    };
    let alg_fields = der::children(alg.content)?;
    let alg_oid = alg_fields.first().map(|el| el.raw).unwrap_or_default();
    if key.tag != OCTET_STRING {
        return Err("asn1: structure error: tags don't match".into());
    }
    if alg_oid == der::oid(RSA_ENCRYPTION).as_slice() {
        parse_pkcs1(key.content)
    } else if alg_oid == der::oid(EC_PUBLIC_KEY).as_slice() {
        parse_sec1(key.content)
    } else if alg_oid == der::oid(ED25519).as_slice() {
        let seed = der::read_only(key.content, OCTET_STRING)?;
        let bytes: [u8; 32] = seed
            .content
            .try_into()
            .map_err(|_| "x509: invalid Ed25519 private key length".to_string())?;
        Ok(PrivateKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
            &bytes,
        )))
    } else {
        Err("x509: PKCS#8 wrapping contained private key with unknown algorithm".into())
    }
}

/// Reads what a certificate needs from its parent: the subject Name (verbatim) and the
/// SubjectKeyId, if it has one.
pub fn parse_certificate(der: &[u8]) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let malformed = |_| "x509: malformed certificate".to_string();
    let cert = der::read_only(der, SEQUENCE).map_err(malformed)?;
    let parts = der::children(cert.content).map_err(malformed)?;
    let tbs = parts
        .first()
        .filter(|el| el.tag == SEQUENCE && parts.len() == 3)
        .ok_or("x509: malformed certificate")?;
    let mut fields = der::children(tbs.content).map_err(malformed)?;
    if fields.first().is_some_and(|el| el.tag == 0xa0) {
        fields.remove(0);
    }
    // serial, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional parts.
    if fields.len() < 6 || fields[4].tag != SEQUENCE || fields[5].tag != SEQUENCE {
        return Err("x509: malformed certificate".into());
    }
    let subject = fields[4].raw.to_vec();
    let ski_oid = der::oid(&[2, 5, 29, 14]);
    let mut ski = None;
    if let Some(exts) = fields.iter().find(|el| el.tag == 0xa3) {
        let list = der::read_only(exts.content, SEQUENCE).map_err(malformed)?;
        for ext in der::children(list.content).map_err(malformed)? {
            let items = der::children(ext.content).map_err(malformed)?;
            if items.first().is_some_and(|el| el.raw == ski_oid.as_slice()) {
                let value = items.last().ok_or("x509: malformed extension")?;
                let id = der::read_only(value.content, OCTET_STRING).map_err(malformed)?;
                ski = Some(id.content.to_vec());
            }
        }
    }
    Ok((subject, ski))
}

/// Go's SubjectKeyId for a generated CA: the first 160 bits of SHA-256 of the public key bits
/// (Go 1.25, which Helm v4.1.4 is built with).
pub fn subject_key_id(public_key_bits: &[u8]) -> Vec<u8> {
    Sha256::digest(public_key_bits)[..20].to_vec()
}
