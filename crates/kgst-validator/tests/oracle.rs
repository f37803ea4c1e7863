//! Every kgst version × every oracle case from real Helm (`../shared/fixtures/kgst`):
//! values Helm rejects (schema or a template `fail` caused by values) must be
//! rejected here too, values Helm accepts must be accepted with the effective
//! values Helm rendered with — except the deliberate divergences listed below,
//! where this validator is stricter than kgst on purpose.
//!
//! The oracle's `--set`/`--set-string`/`-f` arguments are turned into user
//! values by a minimal parser that is enough for these fixtures only; the host
//! owns the real `--set` parser.

use std::path::Path;

use kgst_validator::{Layout, Request, yaml};
use serde_json::{Map, Value};

/// Cases Helm renders (rc 0) that this validator rejects on purpose, with the
/// value path it must name. `min_major` limits a case to the layouts where the
/// value means what the case assumes.
const DIVERGENCES: &[(&str, u64, &str, &str)] = &[
    // (case, min_major, path, why)
    (
        "chart-uppercase",
        1,
        "chart",
        "MinIO is not a DNS-1123 name; kcm would reject the ServiceTemplate",
    ),
    (
        "chart-whitespace",
        1,
        "chart",
        "spaces end up in object names",
    ),
    (
        "chart-with-slash",
        1,
        "chart",
        "a repository prefix in the chart name breaks the object name",
    ),
    (
        "https-url-without-type",
        2,
        "repo.spec.type",
        "type oci with an https URL is refused by Flux",
    ),
];

/// User values from the oracle's helm arguments: `-f` files first, then
/// `--set`/`--set-string` in order (Helm's precedence).
fn user_values(args: &[String], values_dir: &Path) -> Map<String, Value> {
    let mut files = Map::new();
    let mut sets: Vec<(String, bool)> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "-f" | "--values" => {
                let file = Path::new(&args[i + 1]).file_name().expect("a file name");
                let text = std::fs::read_to_string(values_dir.join(file)).expect("values file");
                let parsed = yaml::parse_values(&text).expect("values file parses");
                files = kgst_validator::coalesce::coalesce(&files, &parsed);
                i += 2;
            }
            "--set" => {
                sets.push((args[i + 1].clone(), false));
                i += 2;
            }
            "--set-string" => {
                sets.push((args[i + 1].clone(), true));
                i += 2;
            }
            "-n" | "--namespace" => i += 2,
            _ => i += 1,
        }
    }
    let mut values = Value::Object(files);
    for (assignment, as_string) in sets {
        let (key, raw) = assignment.split_once('=').expect("k=v");
        let value = if as_string {
            Value::String(raw.into())
        } else {
            strval(raw)
        };
        set_path(&mut values, key, value);
    }
    match values {
        Value::Object(map) => map,
        _ => unreachable!(),
    }
}

/// Helm strvals typing for `--set`: true/false/null in any case, int64 without a
/// leading zero, anything else a string.
fn strval(raw: &str) -> Value {
    match raw.to_ascii_lowercase().as_str() {
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        "null" => return Value::Null,
        _ => {}
    }
    let digits = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !leading_zero
        && let Ok(n) = raw.parse::<i64>()
    {
        return Value::from(n);
    }
    Value::String(raw.into())
}

/// `a.b[1].c` → nested maps and lists.
fn set_path(root: &mut Value, key: &str, value: Value) {
    let mut here = root;
    let parts: Vec<&str> = key.split('.').collect();
    for (n, part) in parts.iter().enumerate() {
        let last = n == parts.len() - 1;
        let (name, index) = match part.split_once('[') {
            Some((name, rest)) => (
                name,
                Some(rest.trim_end_matches(']').parse::<usize>().unwrap()),
            ),
            None => (*part, None),
        };
        let map = here.as_object_mut().expect("map on the path");
        match index {
            None if last => {
                map.insert(name.to_string(), value);
                return;
            }
            None => {
                here = map.entry(name).or_insert_with(|| Value::Object(Map::new()));
                if !here.is_object() {
                    *here = Value::Object(Map::new());
                }
            }
            Some(i) => {
                let list = map.entry(name).or_insert_with(|| Value::Array(Vec::new()));
                let list = list.as_array_mut().expect("list on the path");
                while list.len() <= i {
                    list.push(Value::Object(Map::new()));
                }
                if last {
                    list[i] = value;
                    return;
                }
                here = &mut list[i];
            }
        }
    }
}

fn chart_version(chart_dir: &Path) -> String {
    let chart_yaml = std::fs::read_to_string(chart_dir.join("Chart.yaml")).expect("Chart.yaml");
    chart_yaml
        .lines()
        .find_map(|l| l.strip_prefix("version:"))
        .expect("Chart.yaml has a version")
        .trim()
        .to_string()
}

/// Why Helm failed, when it was not because of the values.
fn non_values_failure(stderr: &str) -> bool {
    stderr.contains("release name check failed")
}

/// The Helm v4 schema items (`- at '/x': …`) in a stderr, if it is a schema failure.
fn schema_items(stderr: &str) -> Vec<String> {
    if !stderr.contains("values don't meet the specifications of the schema") {
        return Vec::new();
    }
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("- at "))
        .map(|l| format!("at {l}"))
        .collect()
}

/// What kgst rendered must agree with the effective values we returned.
fn check_rendering(version: &str, case: &kgst_oracle::OracleCase, values: &Map<String, Value>) {
    let major = Layout::for_chart_version(version);
    if major == Some(Layout::HelmCharts) {
        for chart in values["helm"]["charts"].as_array().into_iter().flatten() {
            let name = format!(
                "{}-{}",
                chart["name"].as_str().unwrap(),
                chart["version"].as_str().unwrap().replace('.', "-")
            );
            assert!(
                case.stdout.contains(&name),
                "{version}/{}: {name} not rendered",
                case.name
            );
        }
        return;
    }
    let chart = values["chart"].as_str().unwrap();
    let (name, chart_ver) = chart.split_once(':').unwrap();
    let prefix = values.get("prefix").and_then(Value::as_str).unwrap_or("");
    let st_name = format!("name: {prefix}{name}-{}", chart_ver.replace('.', "-"));
    assert!(
        case.stdout.contains(&st_name),
        "{version}/{}: {st_name:?} not rendered",
        case.name
    );
    let api = format!(
        "apiVersion: k0rdent.mirantis.com/{}",
        values["k0rdentApiVersion"].as_str().unwrap()
    );
    assert!(
        case.stdout.contains(&api),
        "{version}/{}: {api:?} not rendered",
        case.name
    );
    let job_rendered = case.stdout.contains("kind: Job");
    let skip = values
        .get("skipVerifyJob")
        .is_some_and(|v| v == &Value::Bool(true));
    assert_eq!(
        job_rendered, !skip,
        "{version}/{}: verify Job rendering vs skipVerifyJob",
        case.name
    );
    let repo = format!("name: {}", values["repo"]["name"].as_str().unwrap());
    assert!(
        case.stdout.contains(&repo),
        "{version}/{}: {repo:?} not rendered",
        case.name
    );
}

#[test]
fn validator_agrees_with_helm_on_every_kgst_version_and_oracle_case() {
    let Some(kgst) = kgst_oracle::fixtures() else {
        return;
    };
    let (mut accepted, mut rejected, mut diverged, mut not_ours) = (0, 0, 0, 0);
    let mut versions: Vec<String> = std::fs::read_dir(kgst.join("charts"))
        .expect("charts dir")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    versions.sort();
    assert_eq!(
        versions.len(),
        10,
        "every published kgst shape: {versions:?}"
    );
    for dir in &versions {
        let chart_dir = kgst.join("charts").join(dir);
        let version = chart_version(&chart_dir);
        let layout = Layout::for_chart_version(&version).expect("a layout for every kgst version");
        let read = |f: &str| std::fs::read_to_string(chart_dir.join(f)).ok();
        let values_dir = kgst.join("oracle/_values");
        let cases = kgst_oracle::cases(&kgst, dir);
        for case in &cases {
            let request = Request {
                chart_name: "kgst".into(),
                chart_version: version.clone(),
                default_values_yaml: read("values.yaml"),
                values_schema_json: read("values.schema.json"),
                values_json: Value::Object(user_values(&case.args, &values_dir)).to_string(),
                api_versions: Vec::new(),
            };
            let result = kgst_validator::validate(layout, &request);
            let label = format!("kgst {dir} case {}", case.name);
            let divergence = DIVERGENCES.iter().find(|(name, min_major, ..)| {
                *name == case.name
                    && version.split('.').next().unwrap().parse::<u64>().unwrap() >= *min_major
            });

            if let Some((_, _, path, why)) = divergence {
                assert_eq!(
                    case.rc, 0,
                    "{label}: listed as a divergence but Helm rejects it too"
                );
                let violations =
                    result.expect_err(&format!("{label}: deliberately stricter than Helm ({why})"));
                assert!(
                    violations.iter().any(|v| v.path == *path),
                    "{label}: expected a violation at {path}: {violations:#?}"
                );
                diverged += 1;
            } else if non_values_failure(&case.stderr) {
                // Helm stopped before looking at the values (the release name is
                // the host's check); the values must get the verdict of the case
                // with the same values that Helm did evaluate.
                let twin = cases
                    .iter()
                    .find(|c| {
                        !non_values_failure(&c.stderr)
                            && user_values(&c.args, &values_dir)
                                == user_values(&case.args, &values_dir)
                    })
                    .unwrap_or_else(|| panic!("{label}: no case with the same values"));
                assert_eq!(
                    result.is_ok(),
                    twin.rc == 0,
                    "{label}: verdict differs from case {}",
                    twin.name
                );
                not_ours += 1;
            } else if case.rc == 0 {
                let values = result.unwrap_or_else(|v| {
                    panic!("{label}: Helm accepts these values, we rejected: {v:#?}")
                });
                check_rendering(&version, case, &values);
                accepted += 1;
            } else {
                let violations = result
                    .err()
                    .unwrap_or_else(|| panic!("{label}: Helm rejects these values, we accepted"));
                for item in schema_items(&case.stderr) {
                    assert!(
                        violations.iter().any(|v| v.message.starts_with(&item)),
                        "{label}: Helm's schema message {item:?} not reproduced: {violations:#?}"
                    );
                }
                if let Some(fail) = case
                    .stderr
                    .lines()
                    .find_map(|l| l.split("): Please set").nth(1))
                {
                    let text = format!("Please set{fail}");
                    assert!(
                        violations.iter().any(|v| v.message.starts_with(&text)),
                        "{label}: {text:?} not reproduced: {violations:#?}"
                    );
                }
                for v in &violations {
                    assert!(
                        !v.message.is_empty() && !v.hint.is_empty(),
                        "{label}: empty message or hint: {v:?}"
                    );
                }
                rejected += 1;
            }
        }
    }
    eprintln!(
        "oracle: {accepted} accepted like Helm, {rejected} rejected like Helm, {diverged} deliberately stricter, {not_ours} Helm failures that are not about values"
    );
    assert!(
        accepted > 100 && rejected > 100,
        "the oracle was not really exercised"
    );
}

#[test]
fn the_minimal_set_parser_types_like_helm() {
    assert_eq!(strval("true"), Value::Bool(true));
    assert_eq!(strval("NULL"), Value::Null);
    assert_eq!(strval("123"), Value::from(123));
    assert_eq!(strval("007"), Value::String("007".into()));
    assert_eq!(strval("14.1.2"), Value::String("14.1.2".into()));
    assert_eq!(strval(""), Value::String(String::new()));
    let args = kgst_oracle::shell_words(
        "helm template x . --set 'chart= minio : 1 ' --set 'a.b[1].c=2' --set-string s=true",
    );
    let values = user_values(&args, Path::new("/nonexistent"));
    assert_eq!(values["chart"], Value::String(" minio : 1 ".into()));
    assert_eq!(values["a"]["b"][1]["c"], Value::from(2));
    assert_eq!(values["s"], Value::String("true".into()));
}
