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
