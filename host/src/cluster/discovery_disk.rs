//! Discovery kept on disk between one-shot CLI processes, as kubectl keeps `~/.kube/cache/discovery`:
//! the server version, the served API versions (`.Capabilities`) and the kinds resolved so far
//! (plural and scope), one file per cluster under `<cache>/discovery/`.
//!
//! Without it every CLI process spends its first round trips rediscovering what the last one just
//! learnt. The file is untrusted input all the same: it is read only from a folder that passes the
//! plugin cache's owner checks, capped in size, parsed strictly, every name checked, entries older
//! than [`DISK_TTL`] ignored; anything wrong and the whole file is ignored and refetched (never an
//! error: the server is the authority, the file only saves a round trip). A kind the file does not
//! hold is always asked of the server, so a new CRD resolves at once; what can lag by up to the TTL
//! is `.Capabilities.APIVersions` (an API group added meanwhile), as with kubectl's cache.
//!
//! The file is named by the server's host and port plus a hash of its URL and CA certificates, so
//! two clusters behind the same address (a recreated test cluster) never share entries. The
//! server process does not use it: it keeps discovery in memory (`DiscoveryCache`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::plugin::cache_dir;

/// How long an entry is trusted (kubectl's discovery cache used 10 minutes for years).
pub const DISK_TTL: Duration = Duration::from_secs(600);
/// Larger files are not read: a real cluster's discovery is tens of KiB.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Resolved kinds kept per cluster; the oldest go first.
const MAX_RESOURCES: usize = 1024;
/// Served API versions accepted from the file.
const MAX_API_VERSIONS: usize = 2048;
/// Longest name accepted (a DNS subdomain).
const MAX_NAME: usize = 253;
const FORMAT: u32 = 1;

/// Server version and served API versions, with when they were fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredServed {
    pub fetched_unix: u64,
    pub kube_version: String,
    pub api_versions: Vec<String>,
}

/// One resolved kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoredResource {
    pub fetched_unix: u64,
    pub api_version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// What the file holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: u32,
    pub served: Option<StoredServed>,
    pub resources: Vec<StoredResource>,
}

pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn fresh(fetched_unix: u64, now: u64) -> bool {
    // A time in the future is a clock jump or a forged entry: not fresh.
    fetched_unix <= now && now - fetched_unix < DISK_TTL.as_secs()
}

/// `group/version` or `version`: lower-case DNS labels and dots.
fn valid_api_version(text: &str) -> bool {
    let ok = |part: &str| {
        !part.is_empty()
            && part.len() <= MAX_NAME
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    };
    match text.split_once('/') {
        Some((group, version)) => ok(group) && ok(version) && !version.contains('.'),
        None => ok(text) && !text.contains('.'),
    }
}

fn valid_kind(text: &str) -> bool {
    !text.is_empty() && text.len() <= MAX_NAME && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn valid_plural(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_NAME
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
}

fn valid_version_text(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-+_".contains(&b))
}

impl Snapshot {
    /// Only what is well-formed and fresh; `None` when anything is malformed (the file is then
    /// ignored as a whole: a file with one forged entry is not trusted for the others).
    fn checked(self, now: u64) -> Option<Snapshot> {
        if self.format != FORMAT
            || self.resources.len() > MAX_RESOURCES
            || self
                .served
                .as_ref()
                .is_some_and(|s| s.api_versions.len() > MAX_API_VERSIONS)
        {
            return None;
        }
        if let Some(s) = &self.served
            && (!valid_version_text(&s.kube_version)
                || !s.api_versions.iter().all(|v| valid_api_version(v)))
        {
            return None;
        }
        if !self.resources.iter().all(|r| {
            valid_api_version(&r.api_version) && valid_kind(&r.kind) && valid_plural(&r.plural)
        }) {
            return None;
        }
        Some(Snapshot {
            format: FORMAT,
            served: self.served.filter(|s| fresh(s.fetched_unix, now)),
            resources: self
                .resources
                .into_iter()
                .filter(|r| fresh(r.fetched_unix, now))
                .collect(),
        })
    }
}

/// The discovery file of one cluster.
#[derive(Debug, Clone)]
pub struct DiskDiscovery {
    file: PathBuf,
}

impl DiskDiscovery {
    /// The file for the cluster at `server_url` whose CA certificates are `ca_certs` (DER), in
    /// `dir` (created private if missing). `None` when the folder fails the owner checks: then
    /// discovery is simply not kept (logged at debug; nothing is less safe for it).
    pub fn open(dir: &Path, server_url: &str, ca_certs: &[Vec<u8>]) -> Option<Self> {
        let dir = match cache_dir::prepare(dir) {
            Ok(dir) => dir,
            Err(refusal) => {
                tracing::debug!(reason = %refusal, "not keeping discovery on disk");
                return None;
            }
        };
        Some(DiskDiscovery {
            file: dir.join(file_name(server_url, ca_certs)),
        })
    }

    pub fn path(&self) -> &Path {
        &self.file
    }

    /// The fresh, valid entries; empty when the file is missing, stale or malformed.
    pub fn load(&self) -> Snapshot {
        self.read().unwrap_or_default()
    }

    fn read(&self) -> Option<Snapshot> {
        let file = cache_dir::open_private_file(&self.file).ok()?;
        if let Err(problem) = cache_dir::check_private_file(&file, &self.file) {
            tracing::debug!(file = %self.file.display(), %problem, "ignoring the discovery file");
            return None;
        }
        let mut text = Vec::new();
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut text).ok()?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return None;
        }
        let parsed: Snapshot = serde_json::from_slice(&text).ok()?;
        let checked = parsed.checked(now_unix());
        if checked.is_none() {
            tracing::debug!(file = %self.file.display(), "ignoring a malformed discovery file");
        }
        checked
    }

    /// Replaces the file with `snapshot` (the newest [`MAX_RESOURCES`] kinds). Failing to write
    /// only costs the next process a round trip, so it is logged, not returned.
    pub fn save(&self, mut snapshot: Snapshot) {
        snapshot.format = FORMAT;
        if snapshot.resources.len() > MAX_RESOURCES {
            snapshot
                .resources
                .sort_by_key(|r| std::cmp::Reverse(r.fetched_unix));
            snapshot.resources.truncate(MAX_RESOURCES);
        }
        let written = serde_json::to_vec(&snapshot)
            .map_err(std::io::Error::other)
            .and_then(|bytes| cache_dir::write_private_file_atomically(&self.file, &[&bytes]));
        if let Err(e) = written {
            tracing::debug!(file = %self.file.display(), error = %e, "cannot keep discovery on disk");
        }
    }
}

/// `<host>_<port>-<16 hex of sha256(url, CA certificates)>.json`, the host reduced to safe bytes.
fn file_name(server_url: &str, ca_certs: &[Vec<u8>]) -> String {
    let mut hash = Sha256::new();
    hash.update(server_url.as_bytes());
    for cert in ca_certs {
        hash.update((cert.len() as u64).to_be_bytes());
        hash.update(cert);
    }
    let digest = hex::encode(hash.finalize());
    let host: String = server_url
        .split("://")
        .last()
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    format!("{host}-{}.json", &digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(now: u64) -> Snapshot {
        Snapshot {
            format: FORMAT,
            served: Some(StoredServed {
                fetched_unix: now,
                kube_version: "v1.20.2".into(),
                api_versions: vec!["v1".into(), "k0rdent.mirantis.com/v1beta1".into()],
            }),
            resources: vec![StoredResource {
                fetched_unix: now,
                api_version: "k0rdent.mirantis.com/v1beta1".into(),
                kind: "ServiceTemplate".into(),
                plural: "servicetemplates".into(),
                namespaced: true,
            }],
        }
    }

    #[test]
    fn a_saved_snapshot_loads_back_while_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskDiscovery::open(&dir.path().join("d"), "https://127.0.0.1:6443", &[])
            .expect("a private folder is used");
        assert_eq!(disk.load(), Snapshot::default());
        let now = now_unix();
        disk.save(snapshot(now));
        assert_eq!(disk.load(), snapshot(now));

        let mut old = snapshot(now);
        old.served.as_mut().unwrap().fetched_unix = now - DISK_TTL.as_secs() - 1;
        old.resources[0].fetched_unix = now + 3600;
        disk.save(old);
        let loaded = disk.load();
        assert_eq!((loaded.served, loaded.resources.len()), (None, 0));
    }

    #[test]
    fn forged_or_corrupt_files_are_ignored_whole() {
        let dir = tempfile::tempdir().unwrap();
        let disk = DiskDiscovery::open(dir.path(), "https://h:1", &[]).unwrap();
        let now = now_unix();
        let mut forged = snapshot(now);
        forged.resources.push(StoredResource {
            plural: "../../secrets".into(),
            ..forged.resources[0].clone()
        });
        disk.save(forged);
        assert_eq!(disk.load(), Snapshot::default());
        std::fs::write(disk.path(), b"{not json").unwrap();
        assert_eq!(disk.load(), Snapshot::default());
        std::fs::write(disk.path(), vec![b' '; MAX_FILE_BYTES as usize + 2]).unwrap();
        assert_eq!(disk.load(), Snapshot::default());
    }

    #[test]
    fn clusters_behind_one_address_get_separate_files() {
        let a = file_name("https://127.0.0.1:6443", &[b"ca one".to_vec()]);
        let b = file_name("https://127.0.0.1:6443", &[b"ca two".to_vec()]);
        assert_ne!(a, b);
        assert!(a.starts_with("127.0.0.1_6443-"), "{a}");
        assert!(!file_name("https://../..:1/x", &[]).contains('/'));
    }

    #[test]
    fn a_folder_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(DiskDiscovery::open(&open.join("d"), "https://h:1", &[]).is_none());
    }
}
