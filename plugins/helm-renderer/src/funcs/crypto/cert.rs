//! X.509 certificates as Sprig's `getBaseCertTemplate` + Go's `x509.CreateCertificate` make them:
//! v3, a 128-bit random serial, CN-only subject, validity from the render's `now`, key usage
//! digitalSignature|keyEncipherment (plus certSign for a CA), extended usage serverAuth|clientAuth,
//! basic constraints, SubjectKeyId for a CA, AuthorityKeyId from the parent, DNS/IP SANs.

use std::net::IpAddr;

use rand_core::RngCore;

use super::der::{self, SEQUENCE};
use super::keys::{self, PrivateKey};
use crate::gotime::GoTime;

/// What the template asked for.
pub struct Request {
    pub common_name: String,
    pub ips: Vec<IpAddr>,
    pub dns_names: Vec<String>,
    pub days_valid: i64,
    pub is_ca: bool,
    pub now: i64,
}

/// The parent a certificate is signed by: its subject Name (DER), SubjectKeyId and key.
pub struct Issuer {
    pub subject: Vec<u8>,
    pub key_id: Option<Vec<u8>>,
    pub key: PrivateKey,
}

/// Go's `CreateCertificate`; `issuer` None means self-signed by `key`.
pub fn create(
    req: &Request,
    key: &PrivateKey,
    issuer: Option<&Issuer>,
    rng: &mut impl RngCore,
) -> Result<Vec<u8>, String> {
    let mut serial = [0u8; 16];
    rng.fill_bytes(&mut serial);
    let subject = name(&req.common_name);
    let (spki, public_bits) = key.public_key_info();
    let own_key_id = req.is_ca.then(|| keys::subject_key_id(&public_bits));
    let (issuer_subject, issuer_key_id, signer) = match issuer {
        Some(i) => (i.subject.clone(), i.key_id.clone(), &i.key),
        None => (subject.clone(), own_key_id.clone(), key),
    };
    // Go names the parent's key only when someone else signs.
    let authority_key_id = issuer_key_id.filter(|_| issuer_subject != subject);
    let not_after = req
        .now
        .saturating_add(req.days_valid.saturating_mul(86_400));
    let signature_algorithm = signer.signature_algorithm();
    let tbs = der::seq(&[
        &der::cons(0xa0, &[&der::small_uint(2)]),
        &der::uint(&serial),
        &signature_algorithm,
        &issuer_subject,
        &der::seq(&[&time(req.now), &time(not_after)]),
        &subject,
        &spki,
        &der::cons(
            0xa3,
            &[&extensions(
                req,
                own_key_id,
                authority_key_id,
                subject.len() == 2,
            )],
        ),
    ]);
    let signature = signer.sign(&tbs)?;
    Ok(der::seq(&[
        &tbs,
        &signature_algorithm,
        &der::bit_string(&signature),
    ]))
}

/// A Name holding only the common name, as PrintableString when Go's asn1 allows it.
fn name(common_name: &str) -> Vec<u8> {
    if common_name.is_empty() {
        return der::seq(&[]);
    }
    let printable = common_name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b" '()+,-./:=?*&".contains(&b));
    let value = der::tlv(if printable { 0x13 } else { 0x0c }, common_name.as_bytes());
    let attribute = der::seq(&[&der::oid(&[2, 5, 4, 3]), &value]);
    der::seq(&[&der::cons(der::SET, &[&attribute])])
}

/// UTCTime for 1950–2049, GeneralizedTime otherwise (RFC 5280, as Go does).
fn time(unix: i64) -> Vec<u8> {
    let t = GoTime::utc(unix, 0);
    let year: i64 = t.format("2006").parse().unwrap_or(0);
    if (1950..2050).contains(&year) {
        der::tlv(0x17, t.format("060102150405Z").as_bytes())
    } else {
        der::tlv(0x18, t.format("20060102150405Z").as_bytes())
    }
}

fn extension(id: &[u64], critical: bool, value: &[u8]) -> Vec<u8> {
    let critical_flag: &[u8] = if critical {
        &[der::BOOLEAN, 1, 0xff]
    } else {
        &[]
    };
    der::seq(&[&der::oid(id), critical_flag, &der::octets(value)])
}

fn extensions(
    req: &Request,
    key_id: Option<Vec<u8>>,
    authority_key_id: Option<Vec<u8>>,
    empty_subject: bool,
) -> Vec<u8> {
    // digitalSignature (bit 0) | keyEncipherment (bit 2) | keyCertSign (bit 5), first bit highest.
    let key_usage: &[u8] = if req.is_ca {
        &[der::BIT_STRING, 2, 2, 0xa4]
    } else {
        &[der::BIT_STRING, 2, 5, 0xa0]
    };
    let server_auth = der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 1]);
    let client_auth = der::oid(&[1, 3, 6, 1, 5, 5, 7, 3, 2]);
    let basic: &[u8] = if req.is_ca {
        &[SEQUENCE, 3, der::BOOLEAN, 1, 0xff]
    } else {
        &[SEQUENCE, 0]
    };
    let mut out = vec![
        extension(&[2, 5, 29, 15], true, key_usage),
        extension(
            &[2, 5, 29, 37],
            false,
            &der::seq(&[&server_auth, &client_auth]),
        ),
        extension(&[2, 5, 29, 19], true, basic),
    ];
    if let Some(id) = key_id {
        out.push(extension(&[2, 5, 29, 14], false, &der::octets(&id)));
    }
    if let Some(id) = authority_key_id {
        out.push(extension(
            &[2, 5, 29, 35],
            false,
            &der::seq(&[&der::tlv(0x80, &id)]),
        ));
    }
    if !req.dns_names.is_empty() || !req.ips.is_empty() {
        let mut names: Vec<Vec<u8>> = req
            .dns_names
            .iter()
            .map(|n| der::tlv(0x82, n.as_bytes()))
            .collect();
        names.extend(req.ips.iter().map(|ip| match ip {
            IpAddr::V4(v4) => der::tlv(0x87, &v4.octets()),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => der::tlv(0x87, &v4.octets()),
                None => der::tlv(0x87, &v6.octets()),
            },
        }));
        let refs: Vec<&[u8]> = names.iter().map(Vec::as_slice).collect();
        out.push(extension(&[2, 5, 29, 17], empty_subject, &der::seq(&refs)));
    }
    let refs: Vec<&[u8]> = out.iter().map(Vec::as_slice).collect();
    der::seq(&refs)
}
