//! Sprig's crypto functions: keys, certificates, bcrypt/htpasswd, AES and derivePassword.
//!
//! The sandbox has no randomness of its own (WASI random is denied), so every random byte —
//! keys, serial numbers, salts, IVs — comes from a ChaCha20 generator seeded with 32 bytes drawn
//! from the render's entropy stream ([`super::nondeterministic::seed`]): unpredictable when the
//! host sends fresh entropy, reproducible under `template --deterministic`.

mod cert;
mod der;
mod keys;
mod secrets;

use std::net::IpAddr;

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

use super::{FuncDef, FuncResult, Param::*, fixed, int, s};
use crate::value::{Map, Named, Value};
use keys::PrivateKey;

fn rng() -> ChaCha20Rng {
    ChaCha20Rng::from_seed(super::nondeterministic::seed())
}

/// Sprig's `certificate` struct.
fn certificate(cert_pem: String, key_pem: String) -> Value {
    let mut m = Map::new();
    m.insert("Cert".into(), Value::string(cert_pem));
    m.insert("Key".into(), Value::string(key_pem));
    Value::named_map(Named::Certificate, m)
}

fn cert_field(ca: &Value, field: &str) -> String {
    ca.map_get(field)
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

/// Sprig's `getNetIPs`.
fn ips(v: &Value) -> Result<Vec<IpAddr>, String> {
    super::lists::items(v)
        .iter()
        .map(|ip| match ip.as_str() {
            None => Err(format!(
                "error parsing ip: {} is not a string",
                ip.to_go_string()
            )),
            Some(text) => text
                .parse::<IpAddr>()
                .map_err(|_| format!("error parsing ip: {text}")),
        })
        .collect()
}

/// Sprig's `getAlternateDNSStrs`.
fn dns_names(v: &Value) -> Result<Vec<String>, String> {
    super::lists::items(v)
        .iter()
        .map(|name| {
            name.as_str().map(String::from).ok_or_else(|| {
                format!(
                    "error processing alternate dns name: {} is not a string",
                    name.to_go_string()
                )
            })
        })
        .collect()
}

/// A certificate for `key`, self-signed or signed by `ca` (Sprig's `certificate`).
fn issue(
    common_name: &str,
    ips_arg: Option<&Value>,
    names_arg: Option<&Value>,
    days_valid: i64,
    is_ca: bool,
    key: PrivateKey,
    ca: Option<&Value>,
) -> FuncResult {
    // Sprig reads the CA before the template's IPs and names.
    let signer = ca.map(read_ca).transpose()?;
    let req = cert::Request {
        common_name: common_name.to_string(),
        ips: ips_arg.map(ips).transpose()?.unwrap_or_default(),
        dns_names: names_arg.map(dns_names).transpose()?.unwrap_or_default(),
        days_valid,
        is_ca,
        now: super::nondeterministic::now(),
    };
    let der = cert::create(&req, &key, signer.as_ref(), &mut rng())?;
    Ok(certificate(
        der::pem_encode("CERTIFICATE", &der),
        key.to_pem(),
    ))
}

/// `genCA`/`genCAWithKey`: `cn days [key]`.
fn authority(a: &[Value], key: PrivateKey) -> FuncResult {
    issue(s(a, 0), None, None, int(a, 1), true, key, None)
}

/// `genSelfSignedCert`/`genSignedCert` and their `…WithKey` forms: `cn ips names days …`.
fn leaf(a: &[Value], key: PrivateKey, ca: Option<&Value>) -> FuncResult {
    issue(s(a, 0), Some(&a[1]), Some(&a[2]), int(a, 3), false, key, ca)
}

/// The CA's subject, SubjectKeyId and key, with Sprig's errors.
fn read_ca(ca: &Value) -> Result<cert::Issuer, String> {
    let (_, ca_der) =
        der::pem_decode(&cert_field(ca, "Cert")).ok_or("unable to decode certificate")?;
    let (subject, key_id) = keys::parse_certificate(&ca_der)
        .map_err(|e| format!("error parsing certificate: decodedSignerCert.Bytes: {e}"))?;
    let ca_key = keys::parse_pem(&cert_field(ca, "Key"))
        .map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(cert::Issuer {
        subject,
        key_id,
        key: ca_key,
    })
}

/// Sprig's 2048-bit RSA key for the certificate functions without a key argument.
fn rsa_2048() -> Result<PrivateKey, String> {
    PrivateKey::rsa(2048, &mut rng())
}

fn given_key(pem: &str) -> Result<PrivateKey, String> {
    keys::parse_pem(pem).map_err(|e| format!("parsing private key: {e}"))
}

/// `genPrivateKey`: like Sprig, an unknown type is returned as the text, not an error.
fn generate_private_key(kind: &str) -> FuncResult {
    let mut rng = rng();
    let key = match kind {
        "" | "rsa" => PrivateKey::rsa(4096, &mut rng)
            .map_err(|e| format!("failed to generate private key: {e}"))?,
        "ecdsa" => PrivateKey::ecdsa(&mut rng),
        "ed25519" => PrivateKey::ed25519(&mut rng),
        "dsa" => {
            return Err(
                "genPrivateKey \"dsa\" is not supported in the sandboxed renderer (DSA is deprecated; use \"ecdsa\", \"ed25519\" or \"rsa\")"
                    .into(),
            );
        }
        other => return Ok(Value::string(format!("Unknown type {other}"))),
    };
    Ok(Value::string(key.to_pem()))
}

fn bcrypt_hash(password: &str) -> String {
    let mut salt = [0u8; 16];
    rng().fill_bytes(&mut salt);
    secrets::bcrypt(password.as_bytes(), secrets::BCRYPT_COST, salt)
        .unwrap_or_else(|e| format!("failed to encrypt string with bcrypt: {e}"))
}

pub fn lookup(name: &str) -> Option<FuncDef> {
    Some(match name {
        "genPrivateKey" => fixed(&[Str], |a| generate_private_key(s(a, 0))),
        "genCA" => fixed(&[Str, Int], |a| authority(a, rsa_2048()?)),
        "genCAWithKey" => fixed(&[Str, Int, Str], |a| authority(a, given_key(s(a, 2))?)),
        "genSelfSignedCert" => fixed(&[Str, List, List, Int], |a| leaf(a, rsa_2048()?, None)),
        "genSelfSignedCertWithKey" => fixed(&[Str, List, List, Int, Str], |a| {
            leaf(a, given_key(s(a, 4))?, None)
        }),
        "genSignedCert" => fixed(&[Str, List, List, Int, Cert], |a| {
            leaf(a, rsa_2048()?, Some(&a[4]))
        }),
        "genSignedCertWithKey" => fixed(&[Str, List, List, Int, Cert, Str], |a| {
            leaf(a, given_key(s(a, 5))?, Some(&a[4]))
        }),
        "buildCustomCert" => fixed(&[Str, Str], |a| build_custom_cert(s(a, 0), s(a, 1))),
        "bcrypt" => fixed(&[Str], |a| Ok(Value::string(bcrypt_hash(s(a, 0))))),
        "htpasswd" => fixed(&[Str, Str], |a| {
            let user = s(a, 0);
            Ok(Value::string(if user.contains(':') {
                format!("invalid username: {user}")
            } else {
                format!("{user}:{}", bcrypt_hash(s(a, 1)))
            }))
        }),
        "encryptAES" => fixed(&[Str, Str], |a| {
            Ok(Value::string(secrets::encrypt_aes(
                s(a, 0),
                s(a, 1),
                &mut rng(),
            )))
        }),
        "decryptAES" => fixed(&[Str, Str], |a| {
            secrets::decrypt_aes(s(a, 0), s(a, 1)).map(Value::string)
        }),
        "derivePassword" => fixed(&[Uint32, Str, Str, Str, Str], |a| {
            let counter = int(a, 0) as u32;
            Ok(Value::string(secrets::derive_password(
                counter,
                s(a, 1),
                s(a, 2),
                s(a, 3),
                s(a, 4),
            )))
        }),
        _ => return None,
    })
}

/// Sprig's `buildCustomCertificate`: checks both parts and returns them as a `certificate`.
fn build_custom_cert(b64_cert: &str, b64_key: &str) -> FuncResult {
    let cert =
        super::encoding::base64_decode(b64_cert).ok_or("unable to decode base64 certificate")?;
    let key =
        super::encoding::base64_decode(b64_key).ok_or("unable to decode base64 private key")?;
    let (cert_text, key_text) = (
        String::from_utf8_lossy(&cert).into_owned(),
        String::from_utf8_lossy(&key).into_owned(),
    );
    let (_, der) = der::pem_decode(&cert_text).ok_or("unable to decode certificate")?;
    keys::parse_certificate(&der)
        .map_err(|e| format!("error parsing certificate: decodedCert.Bytes: {e}"))?;
    keys::parse_pem(&key_text).map_err(|e| format!("error parsing private key: {e}"))?;
    Ok(certificate(cert_text, key_text))
}
