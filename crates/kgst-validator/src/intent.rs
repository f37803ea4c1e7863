//! From an install intent (a catalog app's chart, version and repository) to
//! the kgst values that install it, in the layout of the kgst version in use.
//!
//! This is the only place that knows how each kgst major spells "install
//! chart X from repository Y": the host hands the intent over and passes the
//! answer to [`crate::validate`] as the user values, as `helm upgrade
//! --install … --set chart=X:V` would.

use serde_json::{Map, Value, json};

use crate::layout::Layout;
use crate::repo_name::repository_name;
use crate::violation::{ValuePath, Violation};

/// The repository kgst's own `values.yaml` points at (every kgst 1.x and
/// 2.x): apps from it need no `repo` value.
pub const DEFAULT_REPOSITORY: &str = "oci://ghcr.io/k0rdent/catalog/charts";

/// What the host asks for (the WIT `install-intent`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intent {
    pub app: String,
    pub chart: String,
    pub version: String,
    pub repository: String,
    pub namespace: String,
}

/// The values that install `intent` with kgst `kgst_name` `kgst_version`, as
/// the layout `layout` spells them; violations when the layout cannot
/// express it.
pub fn values_for_intent(
    layout: Layout,
    intent: &Intent,
    kgst_name: &str,
    kgst_version: &str,
) -> Result<Map<String, Value>, Vec<Violation>> {
    if let Some(wrong) = crate::wrong_chart(layout, kgst_name, kgst_version) {
        return Err(vec![wrong]);
    }
    let chart = format!("{}:{}", intent.chart, intent.version);
    let repo = match layout {
        Layout::HelmCharts => {
            return Err(vec![Violation::new(
                &ValuePath::of("chart"),
                format!(
                    "kgst {kgst_version} predates the `chart` value (it lists charts under \
                     helm.charts[]), so it cannot install {chart} from the catalog"
                ),
                "run the server with --kgst-version 2.0.2 (any kgst 1.x or 2.x takes catalog apps)",
            )]);
        }
        _ if intent.repository == DEFAULT_REPOSITORY => None,
        Layout::RepoUrl => Some(json!({
            "name": repository_name(&intent.repository),
            "url": intent.repository,
        })),
        Layout::RepoSpec => Some(json!({
            "name": repository_name(&intent.repository),
            "spec": {"url": intent.repository, "type": "oci"},
        })),
    };
    let mut values = Map::new();
    values.insert("chart".into(), Value::String(chart));
    if let Some(repo) = repo {
        values.insert("repo".into(), repo);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(repository: &str) -> Intent {
        Intent {
            app: "minio".into(),
            chart: "minio".into(),
            version: "14.1.2".into(),
            repository: repository.into(),
            namespace: "kcm-system".into(),
        }
    }

    fn values(layout: Layout, version: &str, repository: &str) -> Value {
        Value::Object(values_for_intent(layout, &intent(repository), "kgst", version).unwrap())
    }

    #[test]
    fn the_catalog_repository_needs_only_the_chart() {
        let expected = json!({"chart": "minio:14.1.2"});
        assert_eq!(
            values(Layout::RepoSpec, "2.0.2", DEFAULT_REPOSITORY),
            expected
        );
        assert_eq!(
            values(Layout::RepoUrl, "1.2.0", DEFAULT_REPOSITORY),
            expected
        );
    }

    #[test]
    fn other_repositories_follow_the_layout() {
        let partner = "oci://registry.example.com/partner/charts";
        let name = repository_name(partner);
        assert_eq!(
            values(Layout::RepoSpec, "2.0.2", partner),
            json!({"chart": "minio:14.1.2", "repo": {"name": name, "spec": {"url": partner, "type": "oci"}}})
        );
        assert_eq!(
            values(Layout::RepoUrl, "1.2.0", partner),
            json!({"chart": "minio:14.1.2", "repo": {"name": name, "url": partner}})
        );
    }

    #[test]
    fn kgst_0_is_refused_with_the_fix() {
        for repository in [DEFAULT_REPOSITORY, "oci://r.example/c"] {
            let err = values_for_intent(Layout::HelmCharts, &intent(repository), "kgst", "0.2.0")
                .unwrap_err();
            assert_eq!(err.len(), 1);
            assert!(
                err[0]
                    .message
                    .contains("kgst 0.2.0 predates the `chart` value"),
                "{}",
                err[0].message
            );
            assert!(
                err[0].hint.contains("--kgst-version 2.0.2"),
                "{}",
                err[0].hint
            );
        }
    }

    #[test]
    fn a_kgst_version_of_another_layout_is_refused() {
        let err = values_for_intent(
            Layout::RepoSpec,
            &intent(DEFAULT_REPOSITORY),
            "kgst",
            "1.2.0",
        )
        .unwrap_err();
        assert!(
            err[0].message.contains("kgst >=2.0.0, <3.0.0"),
            "{}",
            err[0].message
        );
        let err = values_for_intent(
            Layout::RepoSpec,
            &intent(DEFAULT_REPOSITORY),
            "other",
            "2.0.2",
        )
        .unwrap_err();
        assert!(
            err[0].message.contains("not other 2.0.2"),
            "{}",
            err[0].message
        );
    }
}
