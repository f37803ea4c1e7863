//! The host's own smoke cases: promises every plugin of a world keeps,
//! whatever its author's golden cases say.
//!
//! - a renderer that accepts the small chart below renders it exactly as
//!   Helm does (values, defaults, `include`, `quote`, `.Release`);
//! - a validator of kgst, for the oldest and newest published kgst versions
//!   it declares: every violation it reports says what is wrong and how to
//!   fix it, and `values-for-intent` (current contract) answers a JSON object
//!   or explained violations, the same twice over. The host knows no kgst
//!   layout (the validator owns it), so these check the contract, not values.

use std::collections::BTreeMap;

use semver::Version;
use serde_json::{Map, Value};

use super::golden::{ChartSpec, ExpectRender, ExpectedManifest, IntentSpec, ReleaseSpec};
use super::{capabilities, compare_render, intent_of, metadata_of};
use crate::plugin::contract::{ContractVersion, ValidateInput, Violation};
use crate::plugin::selection::ChartPattern;
use crate::plugin::{Plugin, World};

/// Published kgst versions (the k0rdent catalog's), oldest first.
const KGST_VERSIONS: &[&str] = &[
    "0.1.0", "0.1.1", "0.2.0", "1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.0.1", "2.0.2",
];

const SMOKE_CHART: &str = "selftest-smoke";
const SMOKE_VERSION: &str = "0.1.0";

pub(super) enum SmokeCase {
    Render,
    /// `validate` of empty values for kgst at this version.
    KgstValidate(&'static str),
    /// `values-for-intent` for kgst at this version, asked twice.
    KgstIntent(&'static str),
}

impl SmokeCase {
    pub(super) fn name(&self) -> String {
        match self {
            SmokeCase::Render => "helm-basics".into(),
            SmokeCase::KgstValidate(v) => format!("kgst-{v}-violations-explain"),
            SmokeCase::KgstIntent(v) => format!("kgst-{v}-intent-answer"),
        }
    }

    pub(super) fn call(&self) -> &'static str {
        match self {
            SmokeCase::Render => "render",
            SmokeCase::KgstValidate(_) => "validate",
            SmokeCase::KgstIntent(_) => "values-for-intent",
        }
    }

    pub(super) fn run(&self, plugin: &Plugin) -> Result<(), String> {
        match self {
            SmokeCase::Render => compare_render(
                plugin,
                &smoke_chart(),
                &Map::from_iter([("greeting".to_string(), Value::from("hi"))]),
                &ReleaseSpec {
                    name: "rel".into(),
                    namespace: "ns".into(),
                },
                &ExpectRender::Manifests(vec![ExpectedManifest {
                    source: format!("{SMOKE_CHART}/templates/configmap.yaml"),
                    content: EXPECTED_CONFIGMAP.into(),
                }]),
            ),
            SmokeCase::KgstValidate(version) => {
                let answer = plugin
                    .validate(&ValidateInput {
                        chart: metadata_of(&kgst(version)),
                        default_values_yaml: None,
                        values_schema_json: None,
                        values_json: "{}".into(),
                        capabilities: capabilities(),
                    })
                    .map_err(|e| e.to_string())?;
                match answer {
                    Ok(values) => json_object(&values).map(drop),
                    Err(violations) => explained(&violations),
                }
            }
            SmokeCase::KgstIntent(version) => kgst_intent_answer(plugin, version),
        }
    }
}

/// The smoke cases that apply to `plugin`.
pub(super) fn cases(plugin: &Plugin) -> Vec<SmokeCase> {
    let patterns: Vec<ChartPattern> = plugin
        .info()
        .charts
        .iter()
        .filter_map(|p| ChartPattern::parse(p).ok())
        .collect();
    let handles = |chart: &str, version: &str| {
        let version = Version::parse(version).ok();
        patterns.iter().any(|p| match p {
            ChartPattern::Any => true,
            ChartPattern::Chart { name, versions } => {
                name == chart && version.as_ref().is_some_and(|v| versions.matches(v))
            }
        })
    };
    match plugin.world() {
        World::Renderer => {
            if handles(SMOKE_CHART, SMOKE_VERSION) {
                vec![SmokeCase::Render]
            } else {
                Vec::new()
            }
        }
        World::Validator => {
            // Only validators that name kgst: a `*` validator checks
            // whatever charts its author meant, not kgst's layouts.
            let named_kgst = patterns
                .iter()
                .any(|p| matches!(p, ChartPattern::Chart { name, .. } if name == "kgst"));
            let versions: Vec<&'static str> = KGST_VERSIONS
                .iter()
                .copied()
                .filter(|v| named_kgst && handles("kgst", v))
                .collect();
            let mut picked: Vec<&'static str> = versions.first().copied().into_iter().collect();
            if let Some(last) = versions.last()
                && versions.len() > 1
            {
                picked.push(last);
            }
            let mut cases = Vec::new();
            for version in picked {
                cases.push(SmokeCase::KgstValidate(version));
                if plugin.contract() == ContractVersion::Current {
                    cases.push(SmokeCase::KgstIntent(version));
                }
            }
            cases
        }
    }
}

fn kgst(version: &str) -> ChartSpec {
    ChartSpec {
        name: "kgst".into(),
        version: version.into(),
        app_version: None,
        api_version: "v2".into(),
    }
}

fn kgst_intent_answer(plugin: &Plugin, version: &str) -> Result<(), String> {
    let intent = intent_of(&IntentSpec {
        app: "minio".into(),
        chart: "minio".into(),
        version: "14.1.2".into(),
        repository: "oci://ghcr.io/k0rdent/catalog/charts".into(),
        namespace: "kcm-system".into(),
    });
    let chart = metadata_of(&kgst(version));
    let first = plugin
        .values_for_intent(&intent, &chart)
        .map_err(|e| e.to_string())?;
    let second = plugin
        .values_for_intent(&intent, &chart)
        .map_err(|e| e.to_string())?;
    let values = match first {
        // A kgst too old to express the intent says so, with a fix.
        Err(violations) => return explained(&violations),
        Ok(values) => json_object(&values)?,
    };
    match second.as_deref().map(json_object) {
        Ok(Ok(again)) if again == values => Ok(()),
        _ => Err(
            "values-for-intent answered differently for the same intent; \
             a release must be reproducible from its intent"
                .into(),
        ),
    }
}

fn json_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(format!(
            "answered {} where the contract asks for a JSON object",
            helm_yaml::json_kind(&other)
        )),
        Err(e) => Err(format!("answered text that is not JSON: {e}")),
    }
}

fn explained(violations: &[Violation]) -> Result<(), String> {
    if violations.is_empty() {
        return Err("refused with an empty list of violations".into());
    }
    match violations
        .iter()
        .find(|v| v.message.trim().is_empty() || v.hint.trim().is_empty())
    {
        None => Ok(()),
        Some(v) => Err(format!(
            "the violation at {:?} lacks a message or a hint; every violation must say what is wrong and how to fix it",
            v.path
        )),
    }
}

fn smoke_chart() -> BTreeMap<String, String> {
    [
        (
            "Chart.yaml",
            "apiVersion: v2\nname: selftest-smoke\nversion: 0.1.0\n",
        ),
        ("values.yaml", "greeting: hello\nreplicas: 1\n"),
        (
            "templates/_helpers.tpl",
            "{{- define \"smoke.name\" -}}\n{{ .Release.Name }}-{{ .Chart.Name }}\n{{- end -}}\n",
        ),
        (
            "templates/configmap.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"smoke.name\" . }}\n  \
             namespace: {{ .Release.Namespace }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  \
             replicas: {{ .Values.replicas | default 3 | quote }}\n  \
             missing: {{ .Values.missing | default \"fallback\" }}\n  \
             upper: {{ upper .Values.greeting }}\n",
        ),
    ]
    .into_iter()
    .map(|(path, text)| (format!("{SMOKE_CHART}/{path}"), text.to_string()))
    .collect()
}

/// What helm v4 `template rel . -n ns --set greeting=hi` prints for the chart above.
const EXPECTED_CONFIGMAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rel-selftest-smoke\n  \
namespace: ns\ndata:\n  greeting: \"hi\"\n  replicas: \"1\"\n  missing: fallback\n  upper: HI\n";
