//! Turning a chart folder or archive into the renderer's input: every file
//! of the chart and its subcharts under `<chart-name>/…`, nested subchart
//! archives expanded in place, all within [`ArchiveLimits`].

use std::path::Path;

use helm_ignore::{HELMIGNORE, Rules, strip_bom};

use super::archive::{ArchiveFile, Budget, read_archive_with_budget};
use super::{ArchiveLimits, ChartMetadata};
use crate::plugin::contract::ChartFile;
use crate::quote::quote;

#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("chart archive: {0}")]
    Archive(String),
    #[error("chart metadata: {0}")]
    Metadata(String),
    #[error("chart {path}: {message}")]
    Io { path: String, message: String },
}

/// A chart ready to validate and render.
#[derive(Debug, Clone)]
pub struct Chart {
    pub metadata: ChartMetadata,
    /// Files under `<name>/`, subcharts expanded under `<name>/charts/<sub>/`.
    pub files: Vec<ChartFile>,
}

impl Chart {
    /// A file of the top-level chart by its path inside the chart (`values.yaml`).
    pub fn file(&self, relative: &str) -> Option<&[u8]> {
        let wanted = format!("{}/{relative}", self.metadata.name);
        self.files
            .iter()
            .find(|f| f.path == wanted)
            .map(|f| f.data.as_slice())
    }

    pub fn file_text(&self, relative: &str) -> Option<String> {
        self.file(relative)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }

    /// Builds a chart from an archive's bytes (a `.tgz` as pulled or packaged).
    pub fn from_archive(tgz: &[u8], limits: &ArchiveLimits) -> Result<Self, ChartError> {
        let mut budget = Budget::default();
        let files = read_archive_with_budget(tgz, limits, &mut budget)?;
        let (metadata, files) = assemble(files, limits, &mut budget, 0)?;
        Ok(Chart { metadata, files })
    }
}

/// A folder (as `helm template DIR`) or a `.tgz` file.
pub fn load_chart_path(path: &Path, limits: &ArchiveLimits) -> Result<Chart, ChartError> {
    let io = |e: std::io::Error| ChartError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return load_chart_dir(path, limits);
    }
    if meta.len() > limits.compressed_bytes {
        return Err(ChartError::Archive(format!(
            "{} is {} bytes, over the limit of {} bytes",
            path.display(),
            meta.len(),
            limits.compressed_bytes
        )));
    }
    Chart::from_archive(&std::fs::read(path).map_err(io)?, limits)
}

/// Reads a chart folder as helm does: the folder's `.helmignore` (Helm's
/// rules, its default included) leaves files out. Links are not followed,
/// so a chart cannot pull in files from outside itself; an ignored link is
/// simply left out.
pub fn load_chart_dir(dir: &Path, limits: &ArchiveLimits) -> Result<Chart, ChartError> {
    let rules = helmignore_rules(dir, limits)?;
    let mut budget = Budget::default();
    let mut files = Vec::new();
    walk(dir, dir, &rules, limits, &mut budget, &mut files)?;
    // Present the folder as an archive would: under one top-level folder.
    let files = files
        .into_iter()
        .map(|f| ArchiveFile {
            path: format!("chart/{}", f.path),
            data: f.data,
        })
        .collect();
    let (metadata, files) = assemble(files, limits, &mut budget, 0)?;
    Ok(Chart { metadata, files })
}

/// The top folder's `.helmignore` (only that one: helm ignores subchart
/// folders' own files), or Helm's defaults without one.
fn helmignore_rules(dir: &Path, limits: &ArchiveLimits) -> Result<Rules, ChartError> {
    let path = dir.join(HELMIGNORE);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Rules::default()),
        Err(e) => {
            return Err(ChartError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            });
        }
    };
    if !meta.is_file() || meta.len() > limits.file_bytes {
        return Err(ChartError::Archive(format!(
            "{HELMIGNORE} must be a regular file of at most {} bytes",
            limits.file_bytes
        )));
    }
    let text = std::fs::read(&path).map_err(|e| ChartError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    Rules::parse(&String::from_utf8_lossy(&text)).map_err(|e| {
        ChartError::Archive(format!("{}: {e}; fix or remove the rule", path.display()))
    })
}

fn walk(
    root: &Path,
    dir: &Path,
    rules: &Rules,
    limits: &ArchiveLimits,
    budget: &mut Budget,
    out: &mut Vec<ArchiveFile>,
) -> Result<(), ChartError> {
    let io = |p: &Path, e: std::io::Error| ChartError::Io {
        path: p.display().to_string(),
        message: e.to_string(),
    };
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(dir, e))?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let kind = entry.file_type().map_err(|e| io(&path, e))?;
        let relative = path
            .strip_prefix(root)
            .expect("walked path is under root")
            .to_string_lossy()
            .replace('\\', "/");
        // Helm decides on what a link points to; we only look, never read through it.
        let is_dir = if kind.is_symlink() {
            std::fs::metadata(&path).is_ok_and(|m| m.is_dir())
        } else {
            kind.is_dir()
        };
        if rules.ignores(&relative, is_dir) {
            continue;
        }
        if kind.is_dir() {
            walk(root, &path, rules, limits, budget, out)?;
        } else if kind.is_file() {
            let size = entry.metadata().map_err(|e| io(&path, e))?.len();
            if size > limits.file_bytes {
                return Err(ChartError::Archive(format!(
                    "file {} is {size} bytes, over the per-file limit of {} bytes",
                    quote(&relative),
                    limits.file_bytes
                )));
            }
            budget.files += 1;
            budget.bytes += size;
            if budget.files > limits.files || budget.bytes > limits.uncompressed_bytes {
                return Err(ChartError::Archive(format!(
                    "chart folder exceeds {} files or {} bytes",
                    limits.files, limits.uncompressed_bytes
                )));
            }
            let data = std::fs::read(&path).map_err(|e| io(&path, e))?;
            out.push(ArchiveFile {
                path: relative,
                data,
            });
        } else {
            return Err(ChartError::Archive(format!(
                "{} is a link or special file; charts may only contain regular files (list it in .helmignore to leave it out)",
                quote(&relative)
            )));
        }
    }
    Ok(())
}

/// Re-roots an archive's files under the chart's own name and expands
/// `charts/*.tgz` subcharts in place.
fn assemble(
    files: Vec<ArchiveFile>,
    limits: &ArchiveLimits,
    budget: &mut Budget,
    depth: usize,
) -> Result<(ChartMetadata, Vec<ChartFile>), ChartError> {
    let top = files
        .first()
        .map(|f| f.path.split('/').next().unwrap_or("").to_string())
        .ok_or_else(|| ChartError::Archive("archive is empty".into()))?;
    let mut inside = Vec::with_capacity(files.len());
    for mut f in files {
        match f.path.strip_prefix(&format!("{top}/")) {
            Some(rest) => {
                // Helm drops a byte-order mark from every file it loads.
                if strip_bom(&f.data).len() != f.data.len() {
                    f.data.drain(..3);
                }
                inside.push((rest.to_string(), f.data))
            }
            None => {
                return Err(ChartError::Archive(format!(
                    "entry {} is outside the chart folder {}; a chart archive holds one top-level folder",
                    quote(&f.path),
                    quote(&top)
                )));
            }
        }
    }
    let chart_yaml = inside
        .iter()
        .find(|(p, _)| p == "Chart.yaml")
        .ok_or_else(|| {
            ChartError::Metadata(format!(
                "{} is missing",
                quote(&format!("{top}/Chart.yaml"))
            ))
        })?;
    let metadata = ChartMetadata::parse(&chart_yaml.1)?;
    let name = metadata.name.clone();
    let mut out = Vec::with_capacity(inside.len());
    for (path, data) in inside {
        let nested_archive = path.starts_with("charts/")
            && path.matches('/').count() == 1
            && (path.ends_with(".tgz") || path.ends_with(".tar.gz"));
        if nested_archive {
            if depth + 1 > limits.subchart_depth {
                return Err(ChartError::Archive(format!(
                    "subcharts nest deeper than {} levels at {}",
                    limits.subchart_depth,
                    quote(&format!("{name}/{path}"))
                )));
            }
            // Say which subchart is at fault: the archive's own words do not.
            let in_subchart = |e: ChartError| match e {
                ChartError::Archive(m) => ChartError::Archive(format!(
                    "subchart {}: {m}",
                    quote(&format!("{name}/{path}"))
                )),
                ChartError::Metadata(m) => ChartError::Metadata(format!(
                    "subchart {}: {m}",
                    quote(&format!("{name}/{path}"))
                )),
                other => other,
            };
            let sub_files = read_archive_with_budget(&data, limits, budget).map_err(in_subchart)?;
            let (sub_meta, sub) =
                assemble(sub_files, limits, budget, depth + 1).map_err(in_subchart)?;
            let prefix = format!("{name}/charts/");
            out.extend(sub.into_iter().map(|f| ChartFile {
                path: format!("{prefix}{}", f.path),
                data: f.data,
            }));
            tracing::debug!(chart = %name, subchart = %sub_meta.name, "expanded subchart archive");
        } else {
            out.push(ChartFile {
                path: format!("{name}/{path}"),
                data,
            });
        }
    }
    Ok((metadata, out))
}
