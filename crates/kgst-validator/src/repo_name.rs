//! The HelmRepository name kgst is given for a repository other than the
//! catalog's own.
//!
//! kgst recreates its HelmRepository on every install, so two repositories
//! sharing a name would repoint each other's apps: the name must be one per
//! repository. `oci://<host>/<path>` made of lower-case letters, digits and
//! `-` alone is its own name; any other is cut to fit a DNS label and ends in
//! `-<hash of the URL>`. A plain name never ends the way a hashed one does,
//! so none collide.

use sha2::Digest;

/// Hex digits of the repository hash a name ends with when the plain name
/// would lose information (64 bits: no one finds another URL with the same
/// suffix).
const NAME_HASH_HEX: usize = 16;

/// HelmRepository names kgst reserves for its own catalogs.
const RESERVED_NAMES: [&str; 2] = ["k0rdent-catalog", "k0rdent-enterprise-catalog"];

/// The HelmRepository name for `repository` (a URL as the catalog gives it).
pub fn repository_name(repository: &str) -> String {
    let plain: String = repository
        .trim_start_matches("oci://")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let lossless = repository.strip_prefix("oci://") == Some(plain.as_str())
        && crate::names::dns1123_label(&plain).is_ok()
        && !looks_hashed(&plain)
        && !RESERVED_NAMES.contains(&plain.as_str());
    if lossless {
        return plain;
    }
    let digest = hex::encode(sha2::Sha256::digest(repository.as_bytes()));
    let hash = &digest[..NAME_HASH_HEX];
    let mut prefix = plain;
    prefix.truncate(63 - NAME_HASH_HEX - 1);
    let prefix = prefix.trim_matches('-');
    if prefix.is_empty() {
        hash.to_string()
    } else {
        format!("{prefix}-{hash}")
    }
}

/// Ends as [`repository_name`]'s hashed names do: `-` (or nothing) and
/// [`NAME_HASH_HEX`] hex digits.
fn looks_hashed(name: &str) -> bool {
    let Some(split) = name.len().checked_sub(NAME_HASH_HEX) else {
        return false;
    };
    let (head, tail) = name.split_at(split);
    tail.bytes().all(|b| b.is_ascii_hexdigit()) && (head.is_empty() || head.ends_with('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_label(name: &str) -> bool {
        crate::names::dns1123_label(name).is_ok()
    }

    #[test]
    fn repository_names_are_one_per_repository() {
        // Lossless: the repository is its own name.
        assert_eq!(repository_name("oci://charts-internal"), "charts-internal");
        let colliding = [
            "oci://a.b/c",
            "oci://a-b/c",
            "oci://A-b/c",
            "oci://a-b-c",
            "https://a-b/c",
            "oci://k0rdent-catalog",
        ];
        let names: Vec<String> = colliding.iter().map(|r| repository_name(r)).collect();
        let mut unique = names.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        assert_eq!(names[3], "a-b-c");
        assert!(names[0].starts_with("a-b-c-"), "{}", names[0]);
        assert_ne!(names[5], "k0rdent-catalog", "reserved by kgst");
        // A plain name shaped like a hashed one is hashed, so it cannot take another's name.
        let hashed = repository_name("oci://a.b/c");
        assert_ne!(repository_name(&format!("oci://{hashed}")), hashed);
        // Long URLs that differ only past the cut still differ, and fit a DNS label.
        let long = |tail: &str| {
            repository_name(&format!(
                "oci://registry.example.com/{}/{tail}",
                "x".repeat(80)
            ))
        };
        let (a, b) = (long("a"), long("b"));
        assert_ne!(a, b);
        for name in names.iter().chain([&a, &b]) {
            assert!(is_label(name), "{name}");
        }
        assert_eq!(
            repository_name("oci://a.b/c"),
            repository_name("oci://a.b/c")
        );
    }

    #[test]
    fn hashed_names_are_stable() {
        // Releases installed before the layout moved into the validator carry
        // these names; a change would repoint their HelmRepository.
        assert_eq!(
            repository_name("oci://registry.example.com/partner/charts"),
            format!(
                "registry-example-com-partner-charts-{}",
                &hex::encode(sha2::Sha256::digest(
                    b"oci://registry.example.com/partner/charts"
                ))[..16]
            )
        );
    }
}
