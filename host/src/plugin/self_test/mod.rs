//! The self-test gate: before a plugin is trusted with real calls (a hot
//! swap, or `plugins test` before publishing), it answers its own golden
//! cases ([`golden`]) and the host's smoke cases ([`smoke`]) in the sandbox,
//! under the same limits as any other call. A plugin that disagrees with its
//! author's golden answers, or breaks a promise every plugin of its kind
//! makes, is not activated.

pub mod diff;
pub mod golden;
mod smoke;

use std::time::Instant;

use serde::Serialize;
use serde_json::{Map, Value};

use super::contract::{
    ChartFile, ChartMetadata, InstallIntent, ReleaseInfo, RenderInput, Timestamp, ValidateInput,
};
use super::{Plugin, World};
use golden::{
    ChartSpec, ExpectRender, ExpectValues, GoldenBundle, GoldenCall, IntentSpec, ReleaseSpec,
};

/// Who wrote a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseKind {
    /// Shipped by the plugin's author.
    Golden,
    /// Built into the host: what every plugin of its world must do.
    HostSmoke,
}

impl std::fmt::Display for CaseKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaseKind::Golden => "golden",
            CaseKind::HostSmoke => "host-smoke",
        })
    }
}

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub plugin: String,
    pub case: String,
    pub kind: CaseKind,
    /// The plugin call the case made (`render`, `validate`, `values-for-intent`).
    pub call: &'static str,
    pub passed: bool,
    /// Why it failed: the first difference, or the plugin's error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub millis: u64,
}

/// Every case run against one or more plugins.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SelfTestReport {
    pub cases: Vec<CaseResult>,
}

impl SelfTestReport {
    pub fn passed(&self) -> bool {
        self.cases.iter().all(|c| c.passed)
    }

    pub fn extend(&mut self, other: SelfTestReport) {
        self.cases.extend(other.cases);
    }

    /// The failed cases in one line each, for errors and logs.
    pub fn failures(&self) -> String {
        self.cases
            .iter()
            .filter(|c| !c.passed)
            .map(|c| {
                format!(
                    "{} case {} ({}): {}",
                    c.kind,
                    c.case,
                    c.call,
                    c.detail.as_deref().unwrap_or("failed")
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Runs the host's smoke cases for `plugin`'s world and then its `golden` cases.
pub fn run(plugin: &Plugin, golden: &GoldenBundle) -> SelfTestReport {
    let name = plugin.manifest().name.clone();
    let mut report = SelfTestReport::default();
    let mut record = |case: String, kind, call, outcome: Result<(), String>, started: Instant| {
        report.cases.push(CaseResult {
            plugin: name.clone(),
            case,
            kind,
            call,
            passed: outcome.is_ok(),
            detail: outcome.err(),
            millis: started.elapsed().as_millis() as u64,
        });
    };
    for case in smoke::cases(plugin) {
        let started = Instant::now();
        let outcome = case.run(plugin);
        record(
            case.name(),
            CaseKind::HostSmoke,
            case.call(),
            outcome,
            started,
        );
    }
    for case in &golden.cases {
        let started = Instant::now();
        let outcome = run_call(plugin, &case.call);
        record(
            case.name.clone(),
            CaseKind::Golden,
            case.call.call_name(),
            outcome,
            started,
        );
    }
    report
}

/// Makes the call a case describes and compares the answer.
fn run_call(plugin: &Plugin, call: &GoldenCall) -> Result<(), String> {
    let wanted = match call {
        GoldenCall::Render { .. } => World::Renderer,
        _ => World::Validator,
    };
    if plugin.world() != wanted {
        return Err(format!(
            "a {} case, but this plugin is a {}",
            call.call_name(),
            plugin.world()
        ));
    }
    match call {
        GoldenCall::ValuesForIntent {
            intent,
            chart,
            expect,
        } => {
            let answer = plugin
                .values_for_intent(&intent_of(intent), &metadata_of(chart))
                .map_err(|e| e.to_string())?;
            compare_values(expect, answer)
        }
        GoldenCall::Validate {
            chart,
            values,
            default_values_yaml,
            values_schema_json,
            expect,
        } => {
            let input = ValidateInput {
                chart: metadata_of(chart),
                default_values_yaml: default_values_yaml.clone(),
                values_schema_json: values_schema_json.clone(),
                values_json: Value::Object(values.clone()).to_string(),
                capabilities: capabilities(),
            };
            let answer = plugin.validate(&input).map_err(|e| e.to_string())?;
            compare_values(expect, answer)
        }
        GoldenCall::Render {
            files,
            values,
            release,
            expect,
        } => compare_render(plugin, files, values, release, expect),
    }
}

fn compare_values(
    expect: &ExpectValues,
    answer: Result<String, Vec<super::contract::Violation>>,
) -> Result<(), String> {
    match (expect, answer) {
        (ExpectValues::Values(want), Ok(text)) => {
            let got: Value = serde_json::from_str(&text)
                .map_err(|e| format!("the plugin answered values that are not JSON: {e}"))?;
            match diff::json(&Value::Object(want.clone()), &got) {
                None => Ok(()),
                Some(difference) => Err(difference),
            }
        }
        (ExpectValues::Values(_), Err(violations)) => Err(format!(
            "expected values, got violations: {}",
            describe_violations(&violations)
        )),
        (ExpectValues::Violations(want), Err(violations)) => {
            let got: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
            if got == want.iter().map(String::as_str).collect::<Vec<_>>() {
                Ok(())
            } else {
                Err(format!(
                    "expected violations at {want:?}, got {}",
                    describe_violations(&violations)
                ))
            }
        }
        (ExpectValues::Violations(want), Ok(text)) => Err(format!(
            "expected violations at {want:?}, got values {}",
            diff_cut(&text)
        )),
    }
}

fn describe_violations(violations: &[super::contract::Violation]) -> String {
    let listed: Vec<String> = violations
        .iter()
        .take(5)
        .map(|v| {
            format!(
                "{}: {}",
                if v.path.is_empty() { "(root)" } else { &v.path },
                v.message
            )
        })
        .collect();
    diff_cut(&listed.join("; "))
}

fn diff_cut(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

fn compare_render(
    plugin: &Plugin,
    files: &std::collections::BTreeMap<String, String>,
    values: &Map<String, Value>,
    release: &ReleaseSpec,
    expect: &ExpectRender,
) -> Result<(), String> {
    let input = RenderInput {
        files: files
            .iter()
            .map(|(path, text)| ChartFile {
                path: path.clone(),
                data: text.as_bytes().to_vec(),
            })
            .collect(),
        values_json: Value::Object(values.clone()).to_string(),
        release: ReleaseInfo {
            name: release.name.clone(),
            namespace: release.namespace.clone(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: capabilities(),
        // Fixed, as `template --deterministic` fixes them: a golden answer
        // cannot depend on chance or the clock.
        entropy: vec![0; 32],
        now: Timestamp {
            seconds: 0,
            nanoseconds: 0,
        },
    };
    let answer = plugin.render(&input).map_err(|e| e.to_string())?;
    match (expect, answer) {
        (ExpectRender::Manifests(want), Ok(output)) => {
            let got: Vec<(&str, &str)> = output
                .manifests
                .iter()
                .map(|m| (m.source.as_str(), m.content.trim_end()))
                .collect();
            let wanted: Vec<(&str, &str)> = want
                .iter()
                .map(|m| (m.source.as_str(), m.content.trim_end()))
                .collect();
            if got.len() != wanted.len() {
                return Err(format!(
                    "expected {} manifests ({}), got {} ({})",
                    wanted.len(),
                    wanted.iter().map(|m| m.0).collect::<Vec<_>>().join(", "),
                    got.len(),
                    got.iter().map(|m| m.0).collect::<Vec<_>>().join(", ")
                ));
            }
            for ((want_source, want_content), (got_source, got_content)) in wanted.iter().zip(&got)
            {
                if want_source != got_source {
                    return Err(format!(
                        "expected manifest {want_source:?}, got {got_source:?}"
                    ));
                }
                if let Some(difference) = diff::text(want_content, got_content) {
                    return Err(format!("{want_source}: {difference}"));
                }
            }
            Ok(())
        }
        (ExpectRender::Manifests(_), Err(error)) => Err(format!(
            "expected manifests, got the template error {}",
            diff_cut(&error.message)
        )),
        (ExpectRender::ErrorContains(text), Err(error)) => {
            if error.message.contains(text.as_str()) {
                Ok(())
            } else {
                Err(format!(
                    "expected a template error containing {text:?}, got {}",
                    diff_cut(&error.message)
                ))
            }
        }
        (ExpectRender::ErrorContains(text), Ok(_)) => Err(format!(
            "expected a template error containing {text:?}, but the chart rendered"
        )),
    }
}

fn intent_of(spec: &IntentSpec) -> InstallIntent {
    InstallIntent {
        app: spec.app.clone(),
        chart: spec.chart.clone(),
        version: spec.version.clone(),
        repository: spec.repository.clone(),
        namespace: spec.namespace.clone(),
    }
}

fn metadata_of(spec: &ChartSpec) -> ChartMetadata {
    ChartMetadata {
        name: spec.name.clone(),
        version: spec.version.clone(),
        app_version: spec.app_version.clone(),
        api_version: spec.api_version.clone(),
    }
}

/// What a self-test call sees of the cluster: the offline defaults, serving
/// k0rdent's API as kgst needs.
fn capabilities() -> super::contract::Capabilities {
    crate::capabilities::offline(
        crate::defaults::DEFAULT_KUBE_VERSION.into(),
        vec!["k0rdent.mirantis.com/v1beta1".into()],
    )
}
