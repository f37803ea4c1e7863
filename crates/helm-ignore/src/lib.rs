//! Chart folders are read the way `helm template DIR` reads them: the
//! folder's `.helmignore` (with Helm's default rule) decides which files are
//! part of the chart. Packaged charts are not filtered: `helm package`
//! already applied the rules. Shared by the host's chart loader and the
//! renderer's conformance tests, so both see the chart helm sees.

mod glob;
mod rules;

pub use glob::{BadPattern, go_match};
pub use rules::{HELMIGNORE, RuleError, Rules};

/// Helm drops a UTF-8 byte-order mark from the start of every chart file.
pub fn strip_bom(data: &[u8]) -> &[u8] {
    data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data)
}
