//! kgst's values layouts. The layout changed twice (0.x `helm.*`, 1.x
//! `repo.url`, 2.x `repo.spec`), each time with a new major version, so a
//! layout is chosen by the chart's major version and each component exports
//! exactly one of them.

mod helm_charts;
mod repo_spec;
mod repo_url;

use serde_json::Value;

use crate::shared_rules::Context;
use crate::violation::Violation;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// kgst 0.x: `helm.repository.*` and a `helm.charts[]` list.
    HelmCharts,
    /// kgst 1.x: `repo.name`, `repo.url`, `chart: name:version`.
    RepoUrl,
    /// kgst 2.x: `repo.name`, `repo.spec` (a Flux HelmRepositorySpec).
    RepoSpec,
}

impl Layout {
    pub const ALL: [Layout; 3] = [Layout::HelmCharts, Layout::RepoUrl, Layout::RepoSpec];

    /// `plugin-info.charts`: what the component exporting this layout handles.
    pub fn chart_patterns(self) -> &'static [&'static str] {
        match self {
            Layout::HelmCharts => &["kgst >=0.1.0, <1.0.0"],
            Layout::RepoUrl => &["kgst >=1.0.0, <2.0.0"],
            Layout::RepoSpec => &["kgst >=2.0.0, <3.0.0"],
        }
    }

    fn major(self) -> u64 {
        match self {
            Layout::HelmCharts => 0,
            Layout::RepoUrl => 1,
            Layout::RepoSpec => 2,
        }
    }

    /// The layout of a kgst chart version (`2.0.2`), if one is known.
    pub fn for_chart_version(version: &str) -> Option<Layout> {
        let major: u64 = version
            .strip_prefix('v')
            .unwrap_or(version)
            .split(['.', '-', '+'])
            .next()?
            .parse()
            .ok()?;
        Layout::ALL.into_iter().find(|l| l.major() == major)
    }

    /// Every contract rule of this layout, in the order of the values file.
    pub(crate) fn check(self, ctx: &Context, chart_version: &str, out: &mut Vec<Violation>) {
        match self {
            Layout::HelmCharts => helm_charts::check(ctx, chart_version, out),
            Layout::RepoUrl => repo_url::check(ctx, out),
            Layout::RepoSpec => repo_spec::check(ctx, out),
        }
    }

    /// ServiceTemplate API versions the chart allows, for when the host passes
    /// none: the schema's enum for `k0rdentApiVersion`, else its default.
    pub(crate) fn chart_api_versions(
        schema_enum: Option<Vec<Value>>,
        defaults: &Value,
    ) -> Vec<String> {
        let from_schema = schema_enum
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| v.as_str().map(String::from));
        let from_default = defaults
            .get("k0rdentApiVersion")
            .and_then(Value::as_str)
            .map(String::from);
        let mut all: Vec<String> = from_schema.chain(from_default).collect();
        all.sort();
        all.dedup();
        all
    }
}

/// Rules shared by the 1.x and 2.x layouts, which differ only in `repo`.
fn check_chart_and_names(ctx: &Context, out: &mut Vec<Violation>) {
    use crate::shared_rules;
    use crate::violation::ValuePath;

    let chart = shared_rules::chart_reference(ctx, out);
    let prefix = shared_rules::prefix(ctx, out);
    if let (Some((name, version)), Some(prefix)) = (chart, prefix) {
        shared_rules::service_template_name(&ValuePath::of("chart"), prefix, name, version, out);
    }
    if let Some((name, version)) = chart {
        shared_rules::verify_job_name(ctx, name, version, out);
    }
    shared_rules::k0rdent_api_version(ctx, out);
    shared_rules::namespace(ctx, out);
    shared_rules::optional_bool(ctx, &ValuePath::of("skipVerifyJob"), out);
    shared_rules::verify_job_image(ctx, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn layout_follows_the_major_version() {
        assert_eq!(Layout::for_chart_version("0.2.0"), Some(Layout::HelmCharts));
        assert_eq!(Layout::for_chart_version("1.0.0"), Some(Layout::RepoUrl));
        assert_eq!(Layout::for_chart_version("2.0.2"), Some(Layout::RepoSpec));
        assert_eq!(
            Layout::for_chart_version("v2.1.0-rc.1"),
            Some(Layout::RepoSpec)
        );
        assert_eq!(Layout::for_chart_version("3.0.0"), None);
        assert_eq!(Layout::for_chart_version("x"), None);
    }

    #[test]
    fn chart_patterns_cover_one_major_each() {
        for layout in Layout::ALL {
            let pattern = layout.chart_patterns()[0];
            let major = layout.major();
            let first = if major == 0 {
                "0.1.0".to_string()
            } else {
                format!("{major}.0.0")
            };
            assert_eq!(pattern, format!("kgst >={first}, <{}.0.0", major + 1));
        }
    }

    #[test]
    fn chart_api_versions_come_from_schema_enum_or_default() {
        let defaults = json!({"k0rdentApiVersion": "v1beta1"});
        assert_eq!(
            Layout::chart_api_versions(Some(vec![json!("v1alpha1"), json!("v1beta1")]), &defaults),
            vec!["v1alpha1", "v1beta1"]
        );
        assert_eq!(Layout::chart_api_versions(None, &defaults), vec!["v1beta1"]);
        assert!(Layout::chart_api_versions(None, &json!({})).is_empty());
    }
}
