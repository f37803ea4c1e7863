//! The little DER and PEM that certificates and key files need: a writer for the structures Go's
//! `crypto/x509` emits and a reader for walking the ones templates hand back (`genSignedCert`'s CA,
//! `genCAWithKey`'s key).

pub const SEQUENCE: u8 = 0x30;
pub const SET: u8 = 0x31;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const NULL: u8 = 0x05;
pub const OID: u8 = 0x06;
pub const BOOLEAN: u8 = 0x01;

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A constructed value (SEQUENCE, SET, context tags) from already-encoded parts.
pub fn cons(tag: u8, parts: &[&[u8]]) -> Vec<u8> {
    tlv(tag, &parts.concat())
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    cons(SEQUENCE, parts)
}

/// A non-negative INTEGER from big-endian magnitude bytes.
pub fn uint(magnitude: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    tlv(INTEGER, &content)
}

pub fn small_uint(n: u64) -> Vec<u8> {
    uint(&n.to_be_bytes())
}

pub fn oid(arcs: &[u64]) -> Vec<u8> {
    let mut content = Vec::new();
    let first = arcs[0] * 40 + arcs[1];
    for &arc in std::iter::once(&first).chain(&arcs[2..]) {
        let mut groups = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            groups.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        content.extend(groups.iter().rev());
    }
    tlv(OID, &content)
}

pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    tlv(BIT_STRING, &content)
}

pub fn octets(bytes: &[u8]) -> Vec<u8> {
    tlv(OCTET_STRING, bytes)
}

/// One element: its tag, its content and what follows it.
pub struct Element<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    /// The whole encoding (tag, length and content), for copying a Name verbatim.
    pub raw: &'a [u8],
}

/// Reads one element off the front of `input`.
pub fn read(input: &[u8]) -> Result<(Element<'_>, &[u8]), String> {
    let malformed = || "asn1: syntax error: data truncated".to_string();
    let (&tag, rest) = input.split_first().ok_or_else(malformed)?;
    let (&first, rest) = rest.split_first().ok_or_else(malformed)?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return Err(malformed());
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return Err(malformed());
    }
    let header = input.len() - rest.len();
    Ok((
        Element {
            tag,
            content: &rest[..len],
            raw: &input[..header + len],
        },
        &rest[len..],
    ))
}

/// Reads every element inside a constructed value.
pub fn children(content: &[u8]) -> Result<Vec<Element<'_>>, String> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (el, next) = read(rest)?;
        out.push(el);
        rest = next;
    }
    Ok(out)
}

/// Reads exactly one element of the expected tag, with nothing after it.
pub fn read_only(input: &[u8], tag: u8) -> Result<Element<'_>, String> {
    match read(input)? {
        (el, []) if el.tag == tag => Ok(el),
        (_, []) => Err("asn1: structure error: tags don't match".into()),
        _ => Err("asn1: syntax error: trailing data".into()),
    }
}

/// Go's `pem.EncodeToMemory`: base64 in 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let body = crate::funcs::encoding::base64_encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// Go's `pem.Decode` for the first block (headers are not supported): its type and bytes, or
/// `None` when there is no well-formed block.
pub fn pem_decode(text: &str) -> Option<(String, Vec<u8>)> {
    let start = text.find("-----BEGIN ")?;
    let after = &text[start + "-----BEGIN ".len()..];
    let (label, after) = after.split_once("-----")?;
    let end_marker = format!("-----END {label}-----");
    let body_end = after.find(&end_marker)?;
    let body: String = after[..body_end]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if body.contains(':') {
        return None;
    }
    let der = crate::funcs::encoding::base64_decode(&body)?;
    Some((label.to_string(), der))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_go() {
        assert_eq!(
            oid(&[1, 2, 840, 113549, 1, 1, 11]),
            [6, 9, 42, 134, 72, 134, 247, 13, 1, 1, 11]
        );
        assert_eq!(small_uint(0), [2, 1, 0]);
        assert_eq!(small_uint(128), [2, 2, 0, 128]);
        assert_eq!(tlv(4, &[0; 200])[..3], [4, 0x81, 200]);
        let encoded = seq(&[&small_uint(5)]);
        let (el, rest) = read(&encoded).unwrap();
        assert!(rest.is_empty() && el.tag == SEQUENCE && el.content == [2, 1, 5]);
    }

    #[test]
    fn pem_round_trip() {
        let pem = pem_encode("THING", &[1; 100]);
        assert_eq!(pem_decode(&pem), Some(("THING".into(), vec![1; 100])));
        assert_eq!(pem_decode("no pem here"), None);
    }
}
