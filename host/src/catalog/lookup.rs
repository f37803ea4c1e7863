//! Finding apps, charts and versions in the index, with "did you mean"
//! suggestions when a name or version is wrong.

use super::{Addon, CatalogChart, CatalogIndex};
use crate::quote::quote;
use crate::versions::closest_versions;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LookupError {
    #[error(
        "app {} is not in the catalog{}",
        quote(app),
        did_you_mean(suggestions)
    )]
    UnknownApp {
        app: String,
        suggestions: Vec<String>,
    },
    #[error("app {app} has no chart {}; its charts: {}", quote(chart), available.join(", "))]
    UnknownChart {
        app: String,
        chart: String,
        available: Vec<String>,
    },
    #[error("chart {chart}:{version} is not in the catalog; available: {}", available.join(", "))]
    UnknownVersion {
        chart: String,
        version: String,
        available: Vec<String>,
    },
}

fn did_you_mean(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

impl CatalogIndex {
    /// Apps whose name, description or chart names contain `query`
    /// (case-insensitive), optionally only those carrying `tag`.
    pub fn search(&self, query: Option<&str>, tag: Option<&str>) -> Vec<&Addon> {
        let query = query.map(str::to_lowercase);
        self.addons
            .iter()
            .filter(|a| {
                query.as_deref().is_none_or(|q| {
                    a.name.to_lowercase().contains(q)
                        || a.description.to_lowercase().contains(q)
                        || a.charts.iter().any(|c| c.name.to_lowercase().contains(q))
                })
            })
            .filter(|a| tag.is_none_or(|t| a.tags.iter().any(|have| have.eq_ignore_ascii_case(t))))
            .collect()
    }

    pub fn app(&self, app: &str) -> Result<&Addon, LookupError> {
        self.addons
            .iter()
            .find(|a| a.name == app)
            .ok_or_else(|| LookupError::UnknownApp {
                app: app.to_string(),
                suggestions: closest_names(app, self.addons.iter().map(|a| a.name.as_str()), 3),
            })
    }

    /// The chart of `app` at `version`, or what exists instead.
    pub fn chart_version(
        &self,
        app: &str,
        chart: &str,
        version: &str,
    ) -> Result<(&Addon, &CatalogChart), LookupError> {
        let addon = self.app(app)?;
        let found = addon
            .charts
            .iter()
            .find(|c| c.name == chart)
            .ok_or_else(|| LookupError::UnknownChart {
                app: app.to_string(),
                chart: chart.to_string(),
                available: addon.charts.iter().map(|c| c.name.clone()).collect(),
            })?;
        if !found.versions.iter().any(|v| v == version) {
            return Err(LookupError::UnknownVersion {
                chart: chart.to_string(),
                version: version.to_string(),
                available: closest_versions(version, &found.versions, 5),
            });
        }
        Ok((addon, found))
    }
}

/// Up to `limit` candidates close to `wanted`: containing it first, then by
/// edit distance (at most a third of the name's length).
pub fn closest_names<'a>(
    wanted: &str,
    candidates: impl Iterator<Item = &'a str>,
    limit: usize,
) -> Vec<String> {
    let wanted_lower = wanted.to_lowercase();
    let budget = (wanted.chars().count() / 3).max(2);
    let mut scored: Vec<(usize, &str)> = candidates
        .filter_map(|c| {
            let lower = c.to_lowercase();
            if lower.contains(&wanted_lower) || wanted_lower.contains(&lower) {
                return Some((0, c));
            }
            let d = edit_distance(&wanted_lower, &lower);
            (d <= budget).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(limit)
        .map(|(_, c)| c.to_string())
        .collect()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> CatalogIndex {
        let chart = |name: &str, versions: &[&str]| CatalogChart {
            name: name.into(),
            versions: versions.iter().map(|v| v.to_string()).collect(),
            app_versions: vec![],
            repository: super::super::DEFAULT_REPOSITORY.into(),
        };
        let addon = |name: &str, tags: &[&str], charts: Vec<CatalogChart>| Addon {
            name: name.into(),
            description: format!("{name} for k0rdent"),
            logo: None,
            docs_url: None,
            support_type: "community".into(),
            deprecated: false,
            charts,
            owner: None,
            last_updated: None,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            tested: None,
            security_scanned: None,
        };
        CatalogIndex {
            generated: "now".into(),
            version: "1.10.0".into(),
            addons: vec![
                addon(
                    "minio",
                    &["Storage"],
                    vec![chart("minio", &["17.0.21", "14.1.2"])],
                ),
                addon("valkey", &["Database"], vec![chart("valkey", &["0.1.0"])]),
                addon(
                    "prometheus",
                    &["Monitoring"],
                    vec![chart("prometheus", &["27.5.1"])],
                ),
            ],
        }
    }

    #[test]
    fn searches_by_substring_and_tag() {
        let index = index();
        let names = |v: Vec<&Addon>| v.into_iter().map(|a| a.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(index.search(Some("MIN"), None)), ["minio"]);
        assert_eq!(names(index.search(None, Some("database"))), ["valkey"]);
        assert_eq!(index.search(None, None).len(), 3);
    }

    #[test]
    fn wrong_names_and_versions_get_suggestions() {
        let index = index();
        assert_eq!(
            index.app("mini0").unwrap_err().to_string(),
            "app \"mini0\" is not in the catalog; did you mean minio?"
        );
        assert_eq!(
            index
                .chart_version("minio", "minio", "99")
                .unwrap_err()
                .to_string(),
            "chart minio:99 is not in the catalog; available: 17.0.21, 14.1.2"
        );
        assert!(
            index
                .chart_version("minio", "mino", "1")
                .unwrap_err()
                .to_string()
                .contains("its charts: minio")
        );
        index.chart_version("valkey", "valkey", "0.1.0").unwrap();
    }

    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
