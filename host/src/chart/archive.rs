//! Reading a chart `.tgz` without trusting it: bounded sizes and counts, and
//! no entry that could escape the chart (absolute paths, `..`, links,
//! devices). Charts are never written to disk; they become in-memory files.

use super::ChartError;
use super::tar_stream::{Kind, MAX_PATH_BYTES, TarStream};
use crate::quote::quote;

/// Bounds on what one chart archive may contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchiveLimits {
    /// Size of the `.tgz` itself.
    pub compressed_bytes: u64,
    /// Sum of all file sizes once decompressed, subcharts included.
    pub uncompressed_bytes: u64,
    /// Largest single file.
    pub file_bytes: u64,
    /// Number of files, subcharts included.
    pub files: usize,
    /// How deep `charts/*.tgz` may nest.
    pub subchart_depth: usize,
}

impl Default for ArchiveLimits {
    fn default() -> Self {
        // Helm itself caps a decompressed chart at 100 MiB and a file at 5 MiB;
        // a catalog chart is a few KiB, so these are generous and still safe.
        ArchiveLimits {
            compressed_bytes: 16 * 1024 * 1024,
            uncompressed_bytes: 64 * 1024 * 1024,
            file_bytes: 5 * 1024 * 1024,
            files: 5_000,
            subchart_depth: 5,
        }
    }
}

/// One regular file of the archive, path as stored (normalised, relative).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveFile {
    pub path: String,
    pub data: Vec<u8>,
}

/// Running totals across an archive and the subcharts nested in it.
#[derive(Debug, Default)]
pub(super) struct Budget {
    pub files: usize,
    pub bytes: u64,
}

/// Reads every regular file of a gzip'd tar, enforcing `limits`.
pub fn read_chart_archive(
    tgz: &[u8],
    limits: &ArchiveLimits,
) -> Result<Vec<ArchiveFile>, ChartError> {
    read_archive_with_budget(tgz, limits, &mut Budget::default())
}

pub(super) fn read_archive_with_budget(
    tgz: &[u8],
    limits: &ArchiveLimits,
    budget: &mut Budget,
) -> Result<Vec<ArchiveFile>, ChartError> {
    if tgz.len() as u64 > limits.compressed_bytes {
        return Err(ChartError::Archive(format!(
            "archive is {} bytes, over the limit of {} bytes",
            tgz.len(),
            limits.compressed_bytes
        )));
    }
    // Helm's Go reader reads every gzip member; so must we, to see the same files.
    let mut tar = TarStream::new(
        flate2::read::MultiGzDecoder::new(tgz),
        tar_stream_limit(limits),
    );
    let mut files = Vec::new();
    while let Some(entry) = tar.next_entry()? {
        let raw_path = String::from_utf8_lossy(&entry.path).into_owned();
        let offending =
            |why: &str| ChartError::Archive(format!("entry {} {why}", quote(&raw_path)));
        match entry.kind {
            Kind::Directory => continue,
            Kind::File => {}
            Kind::Other(what) => {
                return Err(offending(&format!(
                    "is a {what}, and charts may only contain regular files"
                )));
            }
        }
        let path = normalise(&raw_path).map_err(&offending)?;
        let size = entry.size;
        if size > limits.file_bytes {
            return Err(offending(&format!(
                "is {size} bytes, over the per-file limit of {} bytes",
                limits.file_bytes
            )));
        }
        budget.files += 1;
        if budget.files > limits.files {
            return Err(ChartError::Archive(format!(
                "archive has more than {} files",
                limits.files
            )));
        }
        budget.bytes = budget.bytes.saturating_add(size);
        if budget.bytes > limits.uncompressed_bytes {
            return Err(ChartError::Archive(format!(
                "archive expands to more than {} bytes",
                limits.uncompressed_bytes
            )));
        }
        let data = tar.read_data(size).map_err(|why| offending(&why))?;
        files.push(ArchiveFile { path, data });
    }
    Ok(files)
}

/// The decompressed tar stream holds the files plus, per file, a header, at
/// most one extension header and padding; anything beyond that is not a chart.
fn tar_stream_limit(limits: &ArchiveLimits) -> u64 {
    let per_file = 4 * 512 + MAX_PATH_BYTES;
    limits
        .uncompressed_bytes
        .saturating_add((limits.files as u64).saturating_mul(per_file))
}

/// A relative path with no `.`/`..`/empty segments, or why not.
fn normalise(raw: &str) -> Result<String, &'static str> {
    if raw.starts_with('/') || raw.starts_with('\\') {
        return Err("has an absolute path");
    }
    if raw.contains('\\') {
        return Err("contains a backslash");
    }
    if raw.contains('\0') {
        return Err("contains a NUL byte");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => continue,
            ".." => return Err("escapes the chart with '..'"),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("has an empty path");
    }
    Ok(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_harmless_paths_and_refuses_escapes() {
        assert_eq!(normalise("./kgst//Chart.yaml").unwrap(), "kgst/Chart.yaml");
        assert!(normalise("/etc/passwd").is_err());
        assert!(normalise("kgst/../../x").is_err());
        assert!(normalise("..").is_err());
        assert!(normalise("a\\b").is_err());
        assert!(normalise("./").is_err());
    }
}
