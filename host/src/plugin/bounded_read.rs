//! Reading a plugin-side file (manifest, component, plugin set, trusted key, golden case) with a size cap,
//! so an oversized or endless file stops at the cap instead of filling memory.

use std::fmt::Display;
use std::io::Read;
use std::path::Path;

/// The whole of `path`, refused past `limit` bytes; the refusal names `label` (usually the path).
pub(crate) fn read_bounded(
    path: &Path,
    limit: u64,
    label: impl Display,
) -> Result<Vec<u8>, String> {
    let file =
        std::fs::File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if bytes.len() as u64 > limit {
        return Err(format!("{label} is larger than {limit} bytes"));
    }
    Ok(bytes)
}
