//! Key-based signatures as cosign writes them: a "simple signing" JSON
//! payload naming the signed manifest digest, and an ECDSA P-256 / SHA-256
//! signature (ASN.1 DER, base64) over the payload's exact bytes, checked
//! against public keys in PEM "PUBLIC KEY" (SPKI) form.
//!
//! Signature manifests live at tag `sha256-<hex>.sig` beside what they sign;
//! fetching them is [`super::oci_source`]'s job, this module only judges.

use base64::Engine as _;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

use crate::quote::quote;

/// Media type of the signature layer (the payload).
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// `critical.type` of every cosign payload.
pub const SIMPLE_SIGNING_TYPE: &str = "cosign container image signature";

/// The tag cosign stores the signature of `digest` under.
pub fn signature_tag(digest: &str) -> String {
    digest.replacen(':', "-", 1) + ".sig"
}

/// A public key the operator trusts, with the name it is reported under.
#[derive(Clone)]
pub struct TrustedKey {
    /// Where the key came from (its file), for messages.
    pub label: String,
    /// `sha256:<hex>` of the key's SPKI DER encoding.
    pub fingerprint: String,
    key: VerifyingKey,
}

impl std::fmt::Debug for TrustedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.label, self.fingerprint)
    }
}

impl TrustedKey {
    pub fn from_pem(label: &str, pem: &str) -> Result<Self, String> {
        let key = VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| {
            format!(
                "{label} is not a PEM \"PUBLIC KEY\" holding an ECDSA P-256 key ({e}); \
                 give the .pub file `cosign generate-key-pair` writes"
            )
        })?;
        let der = key
            .to_public_key_der()
            .map_err(|e| format!("{label}: cannot encode the key: {e}"))?;
        Ok(TrustedKey {
            label: label.to_string(),
            fingerprint: format!("sha256:{}", hex::encode(Sha256::digest(der.as_bytes()))),
            key,
        })
    }

    pub fn from_file(path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--plugin-trusted-key {}: {e}", path.display()))?;
        Self::from_pem(&path.display().to_string(), &text)
    }

    fn verifies(&self, payload: &[u8], signature: &Signature) -> bool {
        // Go's ECDSA (cosign) emits high-S signatures half of the time; both
        // forms are valid for the same key and payload.
        let low_s = signature.normalize_s().unwrap_or(*signature);
        self.key.verify(payload, signature).is_ok() || self.key.verify(payload, &low_s).is_ok()
    }

    pub fn describe(&self) -> String {
        format!("{} ({})", self.label, self.fingerprint)
    }
}

/// The payload cosign signs for `digest` in repository `docker_reference`
/// (`host/path`, no tag).
pub fn simple_signing_payload(docker_reference: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": { "docker-reference": docker_reference },
            "image": { "docker-manifest-digest": digest },
            "type": SIMPLE_SIGNING_TYPE,
        },
        "optional": null,
    }))
    .expect("a JSON value serializes")
}

/// Reads a private key (PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" PEM).
pub fn signing_key_from_pem(label: &str, pem: &str) -> Result<SigningKey, String> {
    use p256::elliptic_curve::SecretKey;
    SigningKey::from_pkcs8_pem(pem.trim())
        .or_else(|_| SecretKey::<p256::NistP256>::from_sec1_pem(pem.trim()).map(SigningKey::from))
        .map_err(|_| {
            format!(
                "{label} is not an unencrypted ECDSA P-256 private key in PEM (\"PRIVATE KEY\" or \
                 \"EC PRIVATE KEY\"); create one with `openssl ecparam -name prime256v1 -genkey \
                 -noout | openssl pkcs8 -topk8 -nocrypt`"
            )
        })
}

/// Base64 of the DER signature of `payload`, as the annotation holds it.
pub fn sign(key: &SigningKey, payload: &[u8]) -> String {
    let signature: Signature = key.sign(payload);
    base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes())
}

/// One signature found beside an artifact: the payload bytes and the
/// annotation's value.
pub struct Candidate {
    pub payload: Vec<u8>,
    pub signature_b64: String,
}

/// Why no signature vouches for a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No signature verifies under any trusted key.
    Untrusted { reasons: Vec<String> },
    /// A trusted key signed a payload for another manifest.
    DigestMismatch { key: String, signed: String },
}

/// The trusted key (described) that signed `digest`, or why none did.
pub fn verify(
    candidates: &[Candidate],
    keys: &[TrustedKey],
    digest: &str,
) -> Result<String, Rejection> {
    let mut reasons = Vec::new();
    let mut mismatch = None;
    for candidate in candidates {
        let signature = match base64::engine::general_purpose::STANDARD
            .decode(candidate.signature_b64.trim())
            .ok()
            .and_then(|der| Signature::from_der(&der).ok())
        {
            Some(s) => s,
            None => {
                reasons.push(format!(
                    "signature {} is not base64 of an ASN.1 DER ECDSA signature",
                    quote(&candidate.signature_b64)
                ));
                continue;
            }
        };
        let Some(key) = keys
            .iter()
            .find(|k| k.verifies(&candidate.payload, &signature))
        else {
            reasons.push("a signature verifies under none of the trusted keys".into());
            continue;
        };
        match signed_digest(&candidate.payload) {
            Ok(signed) if signed == digest => return Ok(key.describe()),
            Ok(signed) => {
                mismatch = Some(Rejection::DigestMismatch {
                    key: key.describe(),
                    signed,
                })
            }
            Err(why) => reasons.push(format!(
                "a payload signed by {} is unusable: {why}",
                key.describe()
            )),
        }
    }
    Err(mismatch.unwrap_or(Rejection::Untrusted { reasons }))
}

/// The manifest digest a simple-signing payload vouches for.
fn signed_digest(payload: &[u8]) -> Result<String, String> {
    let doc: serde_json::Value =
        serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
    let critical = &doc["critical"];
    let kind = critical["type"].as_str().unwrap_or_default();
    if kind != SIMPLE_SIGNING_TYPE {
        return Err(format!(
            "critical.type is {}, expected {SIMPLE_SIGNING_TYPE:?}",
            quote(kind)
        ));
    }
    critical["image"]["docker-manifest-digest"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "critical.image.docker-manifest-digest is missing".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::pkcs8::LineEnding;

    fn key_pair(seed: u8) -> (SigningKey, TrustedKey) {
        let signing = SigningKey::from_slice(&[seed; 32]).unwrap();
        let pem = signing
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        (signing, TrustedKey::from_pem("test.pub", &pem).unwrap())
    }

    fn candidate(key: &SigningKey, digest: &str) -> Candidate {
        let payload = simple_signing_payload("127.0.0.1:5000/plugins/x", digest);
        Candidate {
            signature_b64: sign(key, &payload),
            payload,
        }
    }

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn a_trusted_signature_over_the_digest_verifies() {
        let (sk, trusted) = key_pair(7);
        assert!(verify(&[candidate(&sk, D1)], &[trusted], D1).is_ok());
    }

    #[test]
    fn other_keys_other_digests_and_changed_payloads_are_refused() {
        let (sk, trusted) = key_pair(7);
        let (other, _) = key_pair(9);
        let untrusted =
            verify(&[candidate(&other, D1)], std::slice::from_ref(&trusted), D1).unwrap_err();
        assert!(matches!(untrusted, Rejection::Untrusted { .. }));
        let replayed =
            verify(&[candidate(&sk, D2)], std::slice::from_ref(&trusted), D1).unwrap_err();
        assert_eq!(
            replayed,
            Rejection::DigestMismatch {
                key: trusted.describe(),
                signed: D2.into()
            }
        );
        let mut changed = candidate(&sk, D1);
        changed.payload.push(b' ');
        assert!(verify(&[changed], &[trusted], D1).is_err());
    }

    #[test]
    fn high_s_signatures_from_go_signers_verify() {
        let (sk, trusted) = key_pair(7);
        let payload = simple_signing_payload("r/x", D1);
        let low: Signature = sk.sign(&payload);
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        let c = Candidate {
            payload,
            signature_b64: base64::engine::general_purpose::STANDARD
                .encode(high.to_der().as_bytes()),
        };
        assert!(verify(&[c], &[trusted], D1).is_ok());
    }

    #[test]
    fn the_signature_tag_is_cosigns() {
        assert_eq!(signature_tag(D1), format!("sha256-{}.sig", "1".repeat(64)));
    }
}
