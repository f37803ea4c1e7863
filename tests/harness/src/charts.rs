//! Test charts as `.tgz` bytes, well-formed or deliberately hostile, and a
//! push into an OCI registry the way `helm push` stores a chart.

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest, Sha256};

pub const HELM_CONFIG_MEDIA_TYPE: &str = "application/vnd.cncf.helm.config.v1+json";
pub const HELM_CHART_MEDIA_TYPE: &str = "application/vnd.cncf.helm.chart.content.v1.tar+gzip";

/// A gzip'd tar of `files` (path, bytes) as regular files.
pub fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::default()));
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, path, *data).unwrap();
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// A minimal valid chart named `name` at `version`.
pub fn simple_chart(name: &str, version: &str) -> Vec<u8> {
    let chart_yaml =
        format!("apiVersion: v2\nname: {name}\nversion: {version}\ndescription: test chart\n");
    let template = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n";
    tgz(&[
        (&format!("{name}/Chart.yaml"), chart_yaml.as_bytes()),
        (&format!("{name}/values.yaml"), b"key: value\n"),
        (&format!("{name}/templates/cm.yaml"), template.as_bytes()),
    ])
}

/// One raw tar entry, written without the tar crate's path checks, so tests
/// can build archives a careful writer never would.
pub struct RawEntry<'a> {
    pub path: &'a str,
    pub kind: tar::EntryType,
    pub data: &'a [u8],
    pub link: Option<&'a str>,
    /// Size to claim in the header; defaults to the data length.
    pub claimed_size: Option<u64>,
}

pub fn raw_tgz(entries: &[RawEntry<'_>]) -> Vec<u8> {
    let mut tar_bytes = Vec::new();
    for e in entries {
        let mut header = tar::Header::new_old();
        let name = e.path.as_bytes();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        if let Some(link) = e.link {
            header.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        }
        header.set_mode(0o644);
        header.set_entry_type(e.kind);
        header.set_size(e.claimed_size.unwrap_or(e.data.len() as u64));
        header.set_cksum();
        tar_bytes.extend_from_slice(header.as_bytes());
        tar_bytes.extend_from_slice(e.data);
        let pad = (512 - e.data.len() % 512) % 512;
        tar_bytes.extend(std::iter::repeat_n(0u8, pad));
    }
    tar_bytes.extend(std::iter::repeat_n(0u8, 1024));
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&tar_bytes).unwrap();
    gz.finish().unwrap()
}

/// Pushes chart bytes as `helm push` stores them: a Helm config blob and one
/// chart layer. Returns the manifest digest.
pub async fn push_chart(
    registry: &str,
    repository: &str,
    tag: &str,
    chart_tgz: &[u8],
    config_json: &str,
    auth: &oci_client::secrets::RegistryAuth,
    plain_http: bool,
) -> anyhow::Result<String> {
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
    let client = oci_client::Client::new(ClientConfig {
        protocol: if plain_http {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        },
        accept_invalid_certificates: !plain_http,
        ..ClientConfig::default()
    });
    let reference = oci_client::Reference::with_tag(
        registry.to_string(),
        repository.to_string(),
        tag.to_string(),
    );
    let layer = ImageLayer::new(chart_tgz.to_vec(), HELM_CHART_MEDIA_TYPE.to_string(), None);
    let config = Config::new(
        config_json.as_bytes().to_vec(),
        HELM_CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let response = client
        .push(&reference, &[layer], config, auth, None)
        .await?;
    let digest = client.fetch_manifest_digest(&reference, auth).await?;
    let _ = response;
    Ok(digest)
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Packages a chart folder as `helm package` lays it out: every regular file
/// under `<top>/`, in sorted order.
pub fn tgz_from_dir(dir: &std::path::Path, top: &str) -> Vec<u8> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Vec<u8>)>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    let named: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(p, d)| (format!("{top}/{p}"), d))
        .collect();
    let refs: Vec<(&str, &[u8])> = named
        .iter()
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    tgz(&refs)
}

/// `../shared/fixtures/kgst/charts` beside the repository, when present.
pub fn shared_kgst_charts() -> Option<std::path::PathBuf> {
    let dir = kgst_oracle::shared_beside_checkout().join("fixtures/kgst/charts");
    dir.is_dir().then(|| dir.canonicalize().unwrap())
}

/// A piece of an uncompressed stream: bytes as they are, or `count` copies of
/// one byte.
pub enum Piece {
    Bytes(Vec<u8>),
    Run(u8, u64),
}

/// Gzip of `pieces`, with runs encoded as deflate back-references: a
/// gigabyte of one byte costs about 6 MB and a fraction of a second, the way
/// an attacker builds a bomb. The gzip trailer (CRC-32 and length) is left
/// zero: readers under test must refuse these archives long before it.
pub fn gzip_pieces(pieces: &[Piece]) -> Vec<u8> {
    let mut bits = BitWriter::default();
    // One final block with the fixed Huffman codes (RFC 1951 3.2.6).
    bits.put(1, 1);
    bits.put(1, 2);
    let literal = |bits: &mut BitWriter, byte: u8| {
        let b = u32::from(byte);
        if b < 144 {
            bits.code(0x30 + b, 8);
        } else {
            bits.code(0x190 + b - 144, 9);
        }
    };
    // Length 258 is code 285 (8 bits, no extra); distance 1 is code 0 (5 bits).
    let repeat = reversed(0xc0 + 5, 8) | (reversed(0, 5) << 8);
    for piece in pieces {
        match piece {
            Piece::Bytes(data) => data.iter().for_each(|b| literal(&mut bits, *b)),
            Piece::Run(byte, count) if *count > 0 => {
                literal(&mut bits, *byte);
                let mut left = count - 1;
                while left >= 258 {
                    bits.put(repeat, 13);
                    left -= 258;
                }
                (0..left).for_each(|_| literal(&mut bits, *byte));
            }
            Piece::Run(..) => {}
        }
    }
    bits.code(0, 7);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    out.extend(bits.finish());
    out.extend([0u8; 8]);
    out
}

/// A Huffman code as `put` takes it: deflate sends codes most significant bit first.
fn reversed(code: u32, len: u32) -> u32 {
    (0..len).fold(0, |acc, i| acc | (((code >> i) & 1) << (len - 1 - i)))
}

#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u64,
    bits: u32,
}

impl BitWriter {
    /// `count` bits of `value`, least significant first (deflate's order).
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= u64::from(value) << self.bits;
        self.bits += count;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn code(&mut self, code: u32, len: u32) {
        self.put(reversed(code, len), len);
    }

    fn finish(mut self) -> Vec<u8> {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A 512-byte tar header (GNU layout) with a valid checksum.
pub fn tar_header(name: &str, kind: tar::EntryType, size: u64) -> Vec<u8> {
    let mut header = tar::Header::new_gnu();
    let bytes = name.as_bytes();
    header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    header.set_mode(0o644);
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_cksum();
    header.as_bytes().to_vec()
}

/// Pieces of one regular file entry, padded to the tar block size.
pub fn tar_file(name: &str, data: &[u8]) -> Vec<Piece> {
    let mut bytes = tar_header(name, tar::EntryType::Regular, data.len() as u64);
    bytes.extend_from_slice(data);
    bytes.resize(bytes.len().div_ceil(512) * 512, 0);
    vec![Piece::Bytes(bytes)]
}

/// The kind of oversized header a bomb uses.
#[derive(Clone, Copy, Debug)]
pub enum HeaderBomb {
    /// A GNU `././@LongLink` entry holding a name of that many bytes.
    GnuLongName(u64),
    /// A PAX extended header holding one `path` record of that many bytes.
    PaxPath(u64),
}

/// A chart archive whose first entry is `bomb` (the name is really there,
/// all of it, compressed) followed by an ordinary `<name>/Chart.yaml`.
pub fn header_bomb_chart(name: &str, bomb: HeaderBomb) -> Vec<u8> {
    let mut pieces = Vec::new();
    match bomb {
        HeaderBomb::GnuLongName(len) => {
            pieces.push(Piece::Bytes(tar_header(
                "././@LongLink",
                tar::EntryType::GNULongName,
                len,
            )));
            pieces.push(Piece::Run(b'a', len));
            pieces.push(Piece::Run(0, (512 - len % 512) % 512));
        }
        HeaderBomb::PaxPath(len) => {
            // A record's length counts its own digits.
            let mut total = len + 7;
            while total != len + 7 + total.to_string().len() as u64 {
                total = len + 7 + total.to_string().len() as u64;
            }
            pieces.push(Piece::Bytes(tar_header(
                "PaxHeaders/bomb",
                tar::EntryType::XHeader,
                total,
            )));
            pieces.push(Piece::Bytes(format!("{total} path=").into_bytes()));
            pieces.push(Piece::Run(b'a', len));
            pieces.push(Piece::Bytes(b"\n".to_vec()));
            pieces.push(Piece::Run(0, (512 - total % 512) % 512));
        }
    }
    let chart_yaml = format!("apiVersion: v2\nname: {name}\nversion: 0.1.0\n");
    pieces.extend(tar_file(
        &format!("{name}/Chart.yaml"),
        chart_yaml.as_bytes(),
    ));
    pieces.push(Piece::Run(0, 1024));
    gzip_pieces(&pieces)
}
