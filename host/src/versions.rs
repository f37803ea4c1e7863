//! Version suggestions shared by the registry and the catalog: when a user
//! asks for a version that does not exist, name the ones they probably meant.

/// The `limit` versions closest to `wanted`: same major.minor first, then by
/// distance, newest first among equals; non-SemVer tags last.
pub fn closest_versions(wanted: &str, available: &[String], limit: usize) -> Vec<String> {
    let parse = |v: &str| semver::Version::parse(v.trim_start_matches('v')).ok();
    let target = parse(wanted);
    let mut scored: Vec<(u64, Option<semver::Version>, &String)> = available
        .iter()
        .map(|tag| {
            let v = parse(tag);
            let score = match (&target, &v) {
                (Some(t), Some(v)) => {
                    let major = t.major.abs_diff(v.major);
                    let minor = t.minor.abs_diff(v.minor);
                    major
                        .saturating_mul(1_000_000)
                        .saturating_add(minor.saturating_mul(1_000))
                        .saturating_add(t.patch.abs_diff(v.patch).min(999))
                }
                (None, Some(_)) => 0,
                _ => u64::MAX,
            };
            (score, v, tag)
        })
        .collect();
    scored.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| b.1.cmp(&a.1)));
    scored
        .into_iter()
        .take(limit)
        .map(|(_, _, t)| t.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_versions_prefer_the_same_minor_then_newest() {
        let tags: Vec<String> = ["17.0.21", "14.1.2", "14.1.0", "14.0.9", "latest", "13.9.9"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            closest_versions("14.1.5", &tags, 3),
            ["14.1.2", "14.1.0", "14.0.9"]
        );
        assert_eq!(closest_versions("99", &tags, 2), ["17.0.21", "14.1.2"]);
    }
}
