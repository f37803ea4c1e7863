//! A kgst layout validator to copy: the kgst 2.x layout spelled out by hand,
//! so the one function a new kgst version changes, [`values_for_intent`], is
//! in front of you. Checking values (`validate`) reuses the shared
//! `kgst-validator` rules for 2.x; a layout with new rules adds them there or
//! here. The step-by-step guide is in wit/README.md, "Writing a kgst layout
//! validator"; the golden cases `selftest/*.json` are the answers this
//! component vouches for, checked by `cargo test` here and by the host before
//! it activates the plugin.

use kgst_validator::Layout;
use kgst_validator::component::{
    ChartMetadata, Guest, InstallIntent, PluginInfo, ValidateInput, WitViolation,
};
use kgst_validator::intent::DEFAULT_REPOSITORY;
use kgst_validator::repo_name::repository_name;
use serde_json::{Map, Value, json};

/// The layout whose value checks this validator reuses, and whose chart
/// patterns (`kgst >=2.0.0, <3.0.0`) it declares in `info()`.
const LAYOUT: Layout = Layout::RepoSpec;

pub struct TemplateValidator;

impl Guest for TemplateValidator {
    fn info() -> PluginInfo {
        // The host checks that name and version match the plugin manifest,
        // which the build writes from Cargo.toml: rename the crate, not this.
        kgst_validator::component::plugin_info(
            env!("CARGO_PKG_NAME"),
            env!("CARGO_PKG_VERSION"),
            LAYOUT,
        )
    }

    fn validate(input: ValidateInput) -> Result<String, Vec<WitViolation>> {
        kgst_validator::component::validate(input, LAYOUT)
    }

    fn values_for_intent(
        intent: InstallIntent,
        chart: ChartMetadata,
    ) -> Result<String, Vec<WitViolation>> {
        values_for_intent(&intent, &chart).map(|values| Value::Object(values).to_string())
    }
}

/// The kgst values that install `intent`'s chart with the kgst `chart`.
/// Everything the host knows about the install is in `intent`; it takes the
/// answer as the release's values, then calls `validate` on them.
pub fn values_for_intent(
    intent: &InstallIntent,
    chart: &ChartMetadata,
) -> Result<Map<String, Value>, Vec<WitViolation>> {
    if chart.name != "kgst" {
        return Err(vec![WitViolation {
            path: String::new(),
            message: format!(
                "this validator handles the kgst chart, not {:?}",
                chart.name
            ),
            hint: "install it with the kgst chart (--kgst-chart)".into(),
        }]);
    }
    let mut values = Map::new();
    values.insert(
        "chart".into(),
        format!("{}:{}", intent.chart, intent.version).into(),
    );
    // kgst's own values.yaml already points at the default catalog.
    if intent.repository != DEFAULT_REPOSITORY {
        values.insert(
            "repo".into(),
            json!({
                "name": repository_name(&intent.repository),
                "spec": {"url": intent.repository, "type": "oci"},
            }),
        );
    }
    Ok(values)
}

// Export symbols carry WIT names a native linker rejects; they only exist in the component.
#[cfg(target_family = "wasm")]
kgst_validator::component::export_validator_world!(TemplateValidator with_types_in kgst_validator::component);

#[cfg(test)]
mod golden_cases {
    //! Runs `selftest/*.json` natively, so a golden case that disagrees with
    //! the code fails `cargo test -p <crate>` before anything is built to wasm.

    use super::*;
    use kgst_validator::component::sample_input;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct ChartSpec {
        name: String,
        version: String,
    }

    #[derive(Deserialize)]
    struct IntentSpec {
        app: String,
        chart: String,
        version: String,
        repository: String,
        #[serde(default = "kcm_system")]
        namespace: String,
    }

    fn kcm_system() -> String {
        "kcm-system".into()
    }

    #[derive(Deserialize)]
    struct Expect {
        #[serde(default)]
        values: Option<Value>,
        #[serde(default)]
        violations: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    #[serde(tag = "kind", rename_all = "kebab-case")]
    enum Case {
        ValuesForIntent {
            intent: IntentSpec,
            chart: ChartSpec,
            expect: Expect,
        },
        Validate {
            chart: ChartSpec,
            values: Map<String, Value>,
            expect: Expect,
        },
    }

    fn metadata(chart: &ChartSpec) -> ChartMetadata {
        let mut input = sample_input(&chart.version, "{}");
        input.chart.name = chart.name.clone();
        input.chart
    }

    /// The answer as the expectation states it: values, or violation paths.
    fn check(name: &str, answer: Result<String, Vec<WitViolation>>, expect: &Expect) {
        match (answer, &expect.values, &expect.violations) {
            (Ok(values), Some(wanted), _) => {
                let got: Value = serde_json::from_str(&values).unwrap();
                assert_eq!(&got, wanted, "{name}: the whole answer");
            }
            (Err(violations), _, Some(paths)) => {
                let got: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
                assert_eq!(got, *paths, "{name}");
            }
            (answer, _, _) => panic!("{name}: the expectation does not match {answer:?}"),
        }
    }

    #[test]
    fn every_golden_case_passes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/selftest");
        let mut ran = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let case: Case = serde_json::from_slice(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            match case {
                Case::ValuesForIntent {
                    intent,
                    chart,
                    expect,
                } => {
                    let intent = InstallIntent {
                        app: intent.app,
                        chart: intent.chart,
                        version: intent.version,
                        repository: intent.repository,
                        namespace: intent.namespace,
                    };
                    let answer = TemplateValidator::values_for_intent(intent, metadata(&chart));
                    check(&name, answer, &expect);
                }
                Case::Validate {
                    chart,
                    values,
                    expect,
                } => {
                    let mut input =
                        sample_input(&chart.version, &Value::Object(values).to_string());
                    input.chart = metadata(&chart);
                    check(&name, TemplateValidator::validate(input), &expect);
                }
            }
            ran += 1;
        }
        assert!(ran >= 3, "the template ships at least three golden cases");
    }

    #[test]
    fn agrees_with_the_shared_2x_layout() {
        for repository in [DEFAULT_REPOSITORY, "oci://charts-internal", "oci://a.b/c"] {
            let (intent, chart) = kgst_validator::component::sample_intent("2.0.2", repository);
            let ours = TemplateValidator::values_for_intent(intent.clone(), chart.clone());
            let shared = kgst_validator::component::values_for_intent(intent, chart, LAYOUT);
            assert_eq!(ours.unwrap(), shared.unwrap(), "{repository}");
        }
    }
}
