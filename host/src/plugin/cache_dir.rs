//! The precompiled cache's directory and private files: who may own them and
//! who may write them.
//!
//! The directory must belong to this process's user and be closed to group
//! and others, and so must every directory above it up to `/`, with two
//! allowances that cannot let anyone else swap what is below: a directory may
//! belong to root, and a directory others may write is accepted when it is
//! sticky (like `/tmp`) and its entry on the path is ours or root's, since
//! then no one else can rename or remove that entry.

use std::fs::{File, Metadata, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const KEY_FILE: &str = "cache.key";
const GROUP_OTHER_WRITE: u32 = 0o022;
const GROUP_OTHER_ANY: u32 = 0o077;
const STICKY: u32 = 0o1000;

/// Why a cache directory is not used. The host then compiles in memory.
#[derive(Debug, thiserror::Error)]
#[error("plugin cache {}: {problem}; fix it, or choose another --plugin-cache-dir (`none` disables the cache)", dir.display())]
pub struct CacheRefusal {
    pub dir: PathBuf,
    pub problem: String,
}

fn refuse(dir: &Path, problem: String) -> CacheRefusal {
    CacheRefusal {
        dir: dir.to_path_buf(),
        problem,
    }
}

fn euid() -> u32 {
    rustix::process::geteuid().as_raw()
}

/// Creates `dir` (mode 0700) if it is missing, then checks it and every
/// directory above it. Returns its canonical path.
pub fn prepare(dir: &Path) -> Result<PathBuf, CacheRefusal> {
    let uid = euid();
    let absolute = std::path::absolute(dir)
        .map_err(|e| refuse(dir, format!("cannot resolve the path: {e}")))?;
    // Check where it will hang before creating anything, so nothing is
    // written below a directory others control.
    let mut missing = Vec::new();
    let mut existing = absolute.as_path();
    while std::fs::symlink_metadata(existing).is_err() {
        missing.push(existing.to_path_buf());
        existing = existing
            .parent()
            .ok_or_else(|| refuse(dir, "no part of the path exists".into()))?;
    }
    if !missing.is_empty() {
        let base = existing
            .canonicalize()
            .map_err(|e| refuse(dir, format!("cannot resolve {}: {e}", existing.display())))?;
        check_ancestors(&base, uid, true).map_err(|p| refuse(dir, p))?;
        for path in missing.iter().rev() {
            match std::fs::DirBuilder::new().mode(0o700).create(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(refuse(
                        dir,
                        format!("cannot create {}: {e}", path.display()),
                    ));
                }
            }
        }
    }
    let canonical = absolute
        .canonicalize()
        .map_err(|e| refuse(dir, format!("cannot resolve the path: {e}")))?;
    let meta = std::fs::symlink_metadata(&canonical)
        .map_err(|e| refuse(dir, format!("cannot stat: {e}")))?;
    if !meta.is_dir() {
        return Err(refuse(dir, "is not a directory".into()));
    }
    check_private(&canonical, &meta, uid, GROUP_OTHER_WRITE).map_err(|p| refuse(dir, p))?;
    if let Some(parent) = canonical.parent() {
        check_ancestors(parent, uid, true).map_err(|p| refuse(dir, p))?;
    }
    Ok(canonical)
}

/// `what` must belong to `uid` and have none of the `forbidden` mode bits.
fn check_private(what: &Path, meta: &Metadata, uid: u32, forbidden: u32) -> Result<(), String> {
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to uid {}, not to this process's uid {uid}",
            what.display(),
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & forbidden != 0 {
        return Err(format!(
            "{} is open to group or others (mode {mode:o}); run `chmod go-rwx {}`",
            what.display(),
            what.display()
        ));
    }
    Ok(())
}

/// Checks `start` and each directory above it. `child_protected` says
/// whether the entry below `start` on the path is ours or root's.
fn check_ancestors(start: &Path, uid: u32, mut child_protected: bool) -> Result<(), String> {
    for dir in start.ancestors() {
        let meta = std::fs::symlink_metadata(dir)
            .map_err(|e| format!("cannot stat {}: {e}", dir.display()))?;
        let owner = meta.uid();
        if owner != uid && owner != 0 {
            return Err(format!(
                "{} belongs to uid {owner}, who could replace what is below it",
                dir.display()
            ));
        }
        let mode = meta.mode() & 0o7777;
        let shared = mode & GROUP_OTHER_WRITE != 0;
        if shared && !(mode & STICKY != 0 && child_protected) {
            return Err(format!(
                "{} is writable by group or others (mode {mode:o}), who could replace what is below it",
                dir.display()
            ));
        }
        child_protected = true;
    }
    Ok(())
}

/// Opens a file for reading without following a symlink in its last component.
pub fn open_private_file(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
}

/// An entry must be a regular file of ours that no one else can write.
pub fn check_private_file(file: &File, path: &Path) -> Result<(), String> {
    let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    check_private(path, &meta, euid(), GROUP_OTHER_WRITE)
}

/// The host's MAC key from `dir/cache.key`, created (32 random bytes, mode
/// 0600) on first use. A key file someone else owns or can read is refused.
pub fn load_or_create_key(dir: &Path) -> Result<[u8; 32], CacheRefusal> {
    let path = dir.join(KEY_FILE);
    let mut fresh = [0u8; 32];
    getrandom::fill(&mut fresh)
        .map_err(|e| refuse(dir, format!("no randomness for a cache key: {e}")))?;
    // Publish with a hard link, which fails if the name exists: concurrent
    // starts agree on one key and no one ever reads a half-written file.
    match write_private_file(&path, &[&fresh], |tmp, path| std::fs::hard_link(tmp, path)) {
        Ok(()) => return Ok(fresh),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(refuse(dir, format!("cannot create {KEY_FILE}: {e}"))),
    }
    let read = || -> Result<[u8; 32], String> {
        let mut file = open_private_file(&path).map_err(|e| format!("cannot open: {e}"))?;
        let meta = file.metadata().map_err(|e| format!("cannot stat: {e}"))?;
        if !meta.is_file() || meta.len() != 32 {
            return Err("is not a 32-byte file".into());
        }
        check_private(Path::new(KEY_FILE), &meta, euid(), GROUP_OTHER_ANY)?;
        let mut key = [0u8; 32];
        std::io::Read::read_exact(&mut file, &mut key).map_err(|e| format!("cannot read: {e}"))?;
        Ok(key)
    };
    read().map_err(|p| refuse(dir, format!("{KEY_FILE}: {p}")))
}

/// Writes `parts` to `path` through a private temporary file in the same
/// directory and a rename, so a reader never sees a partial entry.
pub fn write_private_file_atomically(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    write_private_file(path, parts, |tmp, path| std::fs::rename(tmp, path))
}

fn write_private_file(
    path: &Path,
    parts: &[&[u8]],
    publish: impl FnOnce(&Path, &Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut nonce = [0u8; 8];
    getrandom::fill(&mut nonce).map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("entry"),
        std::process::id(),
        hex::encode(nonce)
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.sync_all()?;
        publish(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_sticky_shared_parent_is_fine_when_our_entry_is_protected() {
        let dir = tempfile::tempdir().unwrap();
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let cache = shared.join("cache");
        assert!(prepare(&cache).is_ok());
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
        let refusal = prepare(&cache).unwrap_err().to_string();
        assert!(refusal.contains("writable by group or others"), "{refusal}");
    }

    #[test]
    fn a_key_others_can_read_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let cache = prepare(&dir.path().join("c")).unwrap();
        let first = load_or_create_key(&cache).unwrap();
        assert_eq!(load_or_create_key(&cache).unwrap(), first);
        std::fs::set_permissions(cache.join(KEY_FILE), std::fs::Permissions::from_mode(0o644))
            .unwrap();
        let refusal = load_or_create_key(&cache).unwrap_err().to_string();
        assert!(refusal.contains("open to group or others"), "{refusal}");
    }
}
