//! Rules every kgst values layout shares. They hold before
//! anything is rendered, so a bad value is reported with its path instead of
//! surfacing later as a template `fail`, an API-server rejection or a
//! ServiceTemplate that kcm marks invalid.

use serde_json::Value;

use crate::names;
use crate::violation::{ValuePath, Violation, show};

/// kgst's own example of a `chart` value (from its error messages).
pub const CHART_EXAMPLE: &str = "ingress-nginx:4.11.5";
const API_GROUP: &str = "k0rdent.mirantis.com";

/// Everything the rules look at besides the values themselves.
pub struct Context<'a> {
    /// The effective values (chart defaults coalesced with user values).
    pub values: &'a Value,
    /// ServiceTemplate API versions the cluster serves (`v1beta1`); empty when
    /// the host passed none.
    pub served_api_versions: Vec<String>,
    /// ServiceTemplate API versions the chart itself allows (its schema's enum,
    /// or its default value); used when the host passed no k0rdent versions.
    pub chart_api_versions: Vec<String>,
}

impl Context<'_> {
    pub fn get(&self, path: &ValuePath) -> Option<&Value> {
        path.lookup(self.values)
    }
}

/// The k0rdent API versions in `capabilities.api-versions`, from both the
/// `group/version` and the `group/version/ServiceTemplate` forms.
pub fn served_k0rdent_versions(api_versions: &[String]) -> Vec<String> {
    let mut out: Vec<String> = api_versions
        .iter()
        .filter_map(|gv| {
            let rest = gv.strip_prefix(API_GROUP)?.strip_prefix('/')?;
            match rest.split_once('/') {
                None => Some(rest.to_string()),
                Some((version, "ServiceTemplate")) => Some(version.to_string()),
                Some(_) => None,
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Go template truthiness (`if`, `not`): false, 0, "", null, empty list/map are false.
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// kgst's name suffix for a version: `14.1.2` → `14-1-2`.
pub fn dashed(version: &str) -> String {
    version.replace('.', "-")
}

/// The string at `path`. Missing or null is reported only when `required`;
/// a value of another type is always reported.
pub fn string_at<'v>(
    ctx: &'v Context,
    path: &ValuePath,
    required: bool,
    example: &str,
    out: &mut Vec<Violation>,
) -> Option<&'v str> {
    let name = path.dotted();
    match ctx.get(path) {
        Some(Value::String(s)) => Some(s),
        None | Some(Value::Null) => {
            if required {
                out.push(Violation::new(
                    path,
                    format!("{name} is not set (it is missing or null)"),
                    format!("set it, for example {name}={example}"),
                ));
            }
            None
        }
        Some(other) => {
            out.push(Violation::new(
                path,
                format!("{name} must be a string, got {}", show(other)),
                format!("set a string, for example {name}={example} (use --set-string for text that looks like a number)"),
            ));
            None
        }
    }
}

/// `chart` = `name:version`: exactly one colon, a DNS-1123 chart name and a
/// chart version. Returns the two parts when both are usable.
pub fn chart_reference<'v>(
    ctx: &'v Context,
    out: &mut Vec<Violation>,
) -> Option<(&'v str, &'v str)> {
    let path = ValuePath::of("chart");
    let chart = string_at(ctx, &path, true, CHART_EXAMPLE, out)?;
    let shown = show(&Value::String(chart.to_string()));
    let hint =
        format!("set chart to <chart name>:<chart version>, for example chart={CHART_EXAMPLE}");
    let parts: Vec<&str> = chart.split(':').collect();
    let [name, version] = parts.as_slice() else {
        let why = if chart.is_empty() {
            "is empty".to_string()
        } else if parts.len() == 1 {
            "has no ':'".to_string()
        } else {
            format!("has {} ':' separators, not one", parts.len() - 1)
        };
        out.push(Violation::new(
            &path,
            format!("chart {shown} is not in the form name:version: it {why}"),
            hint,
        ));
        return None;
    };
    let mut usable = true;
    if let Err(why) = names::dns1123_label(name) {
        usable = false;
        let suggestion = suggest_chart(name, version);
        out.push(Violation::new(
            &path,
            format!("chart {shown} has chart name {:?}, which is not a valid Kubernetes name: {why}", name),
            format!("use the chart's name as published (lower case, digits, '-'; no repository prefix){suggestion}, for example chart={CHART_EXAMPLE}"),
        ));
    }
    if let Err(why) = names::chart_version(version) {
        usable = false;
        out.push(Violation::new(
            &path,
            format!("chart {shown} has chart version {:?}, which is not a chart version (SemVer): {why}", version),
            format!("use the exact published version, for example chart={CHART_EXAMPLE}"),
        ));
    }
    usable.then_some((*name, *version))
}

fn suggest_chart(name: &str, version: &str) -> String {
    let name = name.trim().to_ascii_lowercase();
    let name = name.rsplit('/').next().unwrap_or(&name);
    let version = version.trim();
    if names::dns1123_label(name).is_ok() && names::chart_version(version).is_ok() {
        format!("; did you mean chart={name}:{version}?")
    } else {
        String::new()
    }
}

/// `prefix` is pasted in front of the ServiceTemplate name, so it may only hold
/// what a DNS-1123 label holds and must start with a letter or digit.
pub fn prefix<'v>(ctx: &'v Context, out: &mut Vec<Violation>) -> Option<&'v str> {
    let path = ValuePath::of("prefix");
    let prefix = match ctx.get(&path) {
        None | Some(Value::Null) => return Some(""),
        _ => string_at(ctx, &path, false, "istio-", out)?,
    };
    let bad_char = prefix
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'));
    let problem = if let Some(c) = bad_char {
        Some(format!("contains {}", names::describe_char(c)))
    } else if prefix.starts_with('-') {
        Some("starts with '-'".to_string())
    } else {
        None
    };
    if let Some(problem) = problem {
        out.push(Violation::new(
            &path,
            format!(
                "prefix {} {problem}, so the ServiceTemplate name would not be a valid Kubernetes name",
                show(&Value::String(prefix.to_string()))
            ),
            "use lower-case letters, digits and '-', starting with a letter or digit, for example prefix=istio-",
        ));
        return None;
    }
    Some(prefix)
}

/// A name kgst derives from values must be a DNS-1123 label: kcm reuses the
/// ServiceTemplate name for its HelmChart and labels, and a Job's name becomes
/// its `job-name` label, both limited to 63 characters.
pub fn derived_name(
    path: &ValuePath,
    object: &str,
    name: &str,
    parts: &str,
    out: &mut Vec<Violation>,
) {
    if let Err(why) = names::dns1123_label(name) {
        out.push(Violation::new(
            path,
            format!("the {object} name {name:?} (from {parts}) is not a valid Kubernetes name: {why}"),
            format!(
                "shorten the chart name, version or prefix so that the name fits {} characters, for example chart={CHART_EXAMPLE}",
                names::LABEL_MAX
            ),
        ));
    }
}

/// `<prefix><name>-<version with dots as dashes>`.
pub fn service_template_name(
    path: &ValuePath,
    prefix: &str,
    name: &str,
    version: &str,
    out: &mut Vec<Violation>,
) {
    let full = format!("{prefix}{name}-{}", dashed(version));
    let parts = if prefix.is_empty() {
        format!("chart {name}:{version}")
    } else {
        format!("prefix {prefix:?} and chart {name}:{version}")
    };
    derived_name(path, "ServiceTemplate", &full, &parts, out);
}

/// `verify-job-<name>-<version with dots as dashes>`, checked only when the
/// chart renders the Job (`skipVerifyJob` false or unset).
pub fn verify_job_name(ctx: &Context, name: &str, version: &str, out: &mut Vec<Violation>) {
    if truthy(ctx.get(&ValuePath::of("skipVerifyJob"))) {
        return;
    }
    let full = format!("verify-job-{name}-{}", dashed(version));
    let before = out.len();
    derived_name(
        &ValuePath::of("chart"),
        "verify Job",
        &full,
        &format!("chart {name}:{version}"),
        out,
    );
    if let Some(v) = out.get_mut(before) {
        v.hint
            .push_str(", or set skipVerifyJob=true to skip the Job");
    }
}

/// `k0rdentApiVersion` must name a ServiceTemplate version the cluster serves,
/// or, when the host passed none, one the chart allows.
pub fn k0rdent_api_version(ctx: &Context, out: &mut Vec<Violation>) {
    let path = ValuePath::of("k0rdentApiVersion");
    let Some(version) = string_at(ctx, &path, true, "v1beta1", out) else {
        return;
    };
    let (allowed, source) = if ctx.served_api_versions.is_empty() {
        (&ctx.chart_api_versions, "this kgst version allows")
    } else {
        (&ctx.served_api_versions, "the cluster serves")
    };
    if allowed.iter().any(|a| a == version) {
        return;
    }
    let example = allowed
        .iter()
        .rev()
        .find(|v| v.as_str() == "v1beta1")
        .or(allowed.last());
    out.push(Violation::new(
        &path,
        format!(
            "k0rdentApiVersion {} is not a ServiceTemplate version {source} ({API_GROUP}: {})",
            show(&Value::String(version.to_string())),
            if allowed.is_empty() {
                "none".to_string()
            } else {
                allowed.join(", ")
            }
        ),
        match example {
            Some(v) => format!("set a served version, for example k0rdentApiVersion={v}"),
            None => "the cluster serves no ServiceTemplate version; install k0rdent first".into(),
        },
    ));
}

/// A fixed ServiceTemplate API version (kgst 0.x hard-codes it) must be served.
pub fn fixed_api_version_served(
    ctx: &Context,
    version: &str,
    chart_version: &str,
    out: &mut Vec<Violation>,
) {
    if ctx.served_api_versions.is_empty() || ctx.served_api_versions.iter().any(|v| v == version) {
        return;
    }
    out.push(Violation::new(
        &ValuePath::root(),
        format!(
            "kgst {chart_version} creates ServiceTemplates as {API_GROUP}/{version}, which the cluster does not serve (it serves {})",
            ctx.served_api_versions.join(", ")
        ),
        "use a kgst version that matches the cluster, for example kgst 2.0.2 with chart=ingress-nginx:4.11.5",
    ));
}

/// `namespace` (empty means the release namespace) must be a namespace name.
pub fn namespace(ctx: &Context, out: &mut Vec<Violation>) {
    let path = ValuePath::of("namespace");
    let Some(ns) = string_at(ctx, &path, false, "kcm-system", out) else {
        return;
    };
    if ns.is_empty() {
        return;
    }
    if let Err(why) = names::dns1123_label(ns) {
        out.push(Violation::new(
            &path,
            format!("namespace {} is not a valid namespace name: {why}", show(&Value::String(ns.to_string()))),
            "use an existing namespace name, or leave it empty for the release namespace, for example namespace=kcm-system",
        ));
    }
}

/// A HelmRepository name: required (kgst `required`s it) and a valid object name.
pub fn repo_name<'v>(
    ctx: &'v Context,
    path: &ValuePath,
    required: bool,
    out: &mut Vec<Violation>,
) -> Option<&'v str> {
    let name = path.dotted();
    let value = string_at(ctx, path, required, "k0rdent-catalog", out)?;
    if value.is_empty() {
        if required {
            out.push(Violation::new(
                path,
                format!("{name} is empty; kgst requires a HelmRepository name"),
                format!("set {name}=k0rdent-catalog for the k0rdent catalog, or a name of your own for another repository"),
            ));
        }
        return None;
    }
    if let Err(why) = names::dns1123_subdomain(value) {
        out.push(Violation::new(
            path,
            format!(
                "{name} {} is not a valid HelmRepository name: {why}",
                show(&Value::String(value.to_string()))
            ),
            format!("use lower-case letters, digits and '-', for example {name}=my-charts"),
        ));
        return None;
    }
    Some(value)
}

/// The two catalog repository names kgst reserves for their own URLs.
const RESERVED_REPOS: &[(&str, &str)] = &[
    ("k0rdent-catalog", "oci://ghcr.io/k0rdent/catalog/charts"),
    (
        "k0rdent-enterprise-catalog",
        "oci://registry.mirantis.com/k0rdent-enterprise-catalog",
    ),
];

/// kgst ≥ 1.0.0 refuses a reserved repository name with a foreign URL. (A
/// missing or unusable URL is already reported by [`repo_url`].)
pub fn reserved_repo_name(
    name_path: &ValuePath,
    name: &str,
    url_path: &ValuePath,
    url: &str,
    out: &mut Vec<Violation>,
) {
    let Some((_, reserved_url)) = RESERVED_REPOS.iter().find(|(n, _)| *n == name) else {
        return;
    };
    if url == *reserved_url {
        return;
    }
    out.push(Violation::new(
        name_path,
        format!(
            "Please set '{}' as '{name}' is reserved for '{reserved_url}' ({} is {})",
            name_path.dotted(),
            url_path.dotted(),
            show(&Value::String(url.to_string()))
        ),
        format!(
            "give your repository its own name, for example {}=my-charts, or set {}={reserved_url}",
            name_path.dotted(),
            url_path.dotted()
        ),
    ));
}

/// A repository URL: required, http/https/oci, and inert in YAML and shell.
pub fn repo_url<'v>(
    ctx: &'v Context,
    path: &ValuePath,
    out: &mut Vec<Violation>,
) -> Option<&'v str> {
    let name = path.dotted();
    let url = string_at(ctx, path, true, "oci://ghcr.io/k0rdent/catalog/charts", out)?;
    if let Err(why) = names::repo_url(url) {
        out.push(Violation::new(
            path,
            format!("{name} {} is not a usable Helm repository URL: {why}", show(&Value::String(url.to_string()))),
            format!("use an http(s):// or oci:// URL, for example {name}=https://kubernetes.github.io/ingress-nginx"),
        ));
        return None;
    }
    Some(url)
}

/// A Flux repository `type`: `default` or `oci`, matching the URL's scheme
/// (Flux refuses `oci` with an http(s) URL and `default` with an oci:// URL).
pub fn repo_type(
    ctx: &Context,
    path: &ValuePath,
    url_path: &ValuePath,
    url: Option<&str>,
    out: &mut Vec<Violation>,
) {
    let name = path.dotted();
    let value = match ctx.get(path) {
        None | Some(Value::Null) => "",
        _ => match string_at(ctx, path, false, "oci", out) {
            Some(v) => v,
            None => return,
        },
    };
    if !matches!(value, "" | "default" | "oci") {
        out.push(Violation::new(
            path,
            format!(
                "{name} {} is not a Flux HelmRepository type",
                show(&Value::String(value.to_string()))
            ),
            format!("use {name}=oci for oci:// URLs or {name}=default for http(s):// URLs"),
        ));
        return;
    }
    let Some(url) = url else { return };
    let oci_url = url.starts_with("oci://");
    let oci_type = value == "oci";
    if oci_url != oci_type {
        let shown_type = if value.is_empty() {
            "unset (default)".to_string()
        } else {
            format!("{value:?}")
        };
        out.push(Violation::new(
            path,
            format!(
                "{name} is {shown_type} but {} is {}; Flux needs type oci exactly for oci:// URLs",
                url_path.dotted(),
                show(&Value::String(url.to_string()))
            ),
            format!("set {name}={}", if oci_url { "oci" } else { "default" }),
        ));
    }
}

/// An optional boolean (kgst tests it with `if`, where "false" is true).
pub fn optional_bool(ctx: &Context, path: &ValuePath, out: &mut Vec<Violation>) {
    match ctx.get(path) {
        None | Some(Value::Null) | Some(Value::Bool(_)) => {}
        Some(other) => out.push(Violation::new(
            path,
            format!("{} must be a boolean, got {}", path.dotted(), show(other)),
            format!(
                "set true or false, for example {}=true (with --set, not --set-string; unquoted in a values file)",
                path.dotted()
            ),
        )),
    }
}

/// The verify Job's image, when set.
pub fn verify_job_image(ctx: &Context, out: &mut Vec<Violation>) {
    let path = ValuePath::of("verifyJobImage");
    let Some(image) = string_at(ctx, &path, false, "alpine/helm:3.14.0", out) else {
        return;
    };
    if let Err(why) = names::image_reference(image) {
        out.push(Violation::new(
            &path,
            format!(
                "verifyJobImage {} is not a container image reference: {why}",
                show(&Value::String(image.to_string()))
            ),
            "use an image with helm inside, for example verifyJobImage=alpine/helm:3.14.0",
        ));
    }
}

/// A Flux `LocalObjectReference` (`secretRef`, `certSecretRef`): null or `{name}`.
pub fn secret_reference(ctx: &Context, path: &ValuePath, out: &mut Vec<Violation>) {
    let name = path.dotted();
    let hint = format!(
        "set {name}.name=<secret in the same namespace>, for example {name}.name=registry-creds"
    );
    match ctx.get(path) {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            if let Some(extra) = map.keys().find(|k| *k != "name") {
                out.push(Violation::new(
                    &path.key(extra),
                    format!(
                        "{name} has unknown field {extra:?}; a secret reference only has 'name'"
                    ),
                    hint.clone(),
                ));
            }
            match map.get("name") {
                Some(Value::String(s)) if names::dns1123_subdomain(s).is_ok() => {}
                Some(other) => out.push(Violation::new(
                    &path.key("name"),
                    format!("{name}.name {} is not a valid Secret name", show(other)),
                    hint,
                )),
                None => out.push(Violation::new(path, format!("{name} has no 'name'"), hint)),
            }
        }
        Some(other) => out.push(Violation::new(
            path,
            format!("{name} must be a map with a 'name', got {}", show(other)),
            hint,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx(values: &Value) -> Context<'_> {
        Context {
            values,
            served_api_versions: Vec::new(),
            chart_api_versions: vec!["v1alpha1".into(), "v1beta1".into()],
        }
    }

    fn chart_violations(chart: Value) -> Vec<Violation> {
        let values = json!({ "chart": chart });
        let mut out = Vec::new();
        chart_reference(&ctx(&values), &mut out);
        out
    }

    #[test]
    fn chart_must_be_exactly_name_colon_version() {
        assert!(chart_violations(json!("minio:14.1.2")).is_empty());
        assert!(chart_violations(json!("minio:14")).is_empty());
        for (bad, why) in [
            ("minio", "has no ':'"),
            ("a:b:c", "2 ':' separators"),
            ("", "is empty"),
            (":1.0", "chart name \"\""),
            ("minio:", "chart version \"\""),
        ] {
            let v = chart_violations(json!(bad));
            assert_eq!(v.len(), 1, "{bad}: {v:?}");
            assert!(v[0].message.contains(why), "{bad}: {}", v[0].message);
            assert_eq!(v[0].path, "chart");
            assert!(v[0].hint.contains(CHART_EXAMPLE));
        }
    }

    #[test]
    fn chart_name_must_be_a_dns_label_and_suggests_a_fix() {
        let v = chart_violations(json!("MinIO:14.1.2"));
        assert!(v[0].message.contains("\"MinIO\""), "{}", v[0].message);
        assert!(
            v[0].hint.contains("did you mean chart=minio:14.1.2?"),
            "{}",
            v[0].hint
        );
        let v = chart_violations(json!("bitnami/minio:14.1.2"));
        assert!(v[0].hint.contains("chart=minio:14.1.2?"), "{}", v[0].hint);
        let v = chart_violations(json!(" minio : 14.1.2 "));
        assert_eq!(v.len(), 2, "{v:?}");
        assert!(v[0].hint.contains("chart=minio:14.1.2?"));
    }

    #[test]
    fn chart_must_be_a_set_string() {
        let v = chart_violations(json!(123));
        assert!(v[0].message.contains("must be a string, got 123"));
        let v = chart_violations(Value::Null);
        assert!(v[0].message.contains("not set"));
    }

    #[test]
    fn yaml_breaking_chart_values_never_pass() {
        for bad in [
            "minio:1.0\n---\nkind: Secret",
            "minio:\"1.0\"",
            "minio:1.0 # x",
            "min'io:1.0",
        ] {
            assert!(!chart_violations(json!(bad)).is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn prefix_rules() {
        let check = |p: Value| {
            let values = json!({ "prefix": p });
            let mut out = Vec::new();
            let got = prefix(&ctx(&values), &mut out).map(String::from);
            (got, out)
        };
        assert_eq!(check(json!("istio-")).0.as_deref(), Some("istio-"));
        assert_eq!(check(json!("")).0.as_deref(), Some(""));
        assert_eq!(check(Value::Null).0.as_deref(), Some(""));
        for bad in [
            json!("Istio-"),
            json!("-x"),
            json!("a b"),
            json!("a\n"),
            json!(5),
        ] {
            let (got, out) = check(bad.clone());
            assert!(got.is_none() && out.len() == 1, "{bad}");
        }
    }

    #[test]
    fn derived_names_must_fit_63_characters() {
        let mut out = Vec::new();
        let path = ValuePath::of("chart");
        service_template_name(&path, "", "minio", "14.1.2", &mut out);
        assert!(out.is_empty());
        let long = "a".repeat(57); // 57 + "-14-1-2" = 64
        service_template_name(&path, "", &long, "14.1.2", &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0].message.contains("64 characters"),
            "{}",
            out[0].message
        );
        let mut out = Vec::new();
        service_template_name(&path, "x-", &"a".repeat(56), "1.0.0", &mut out);
        assert!(
            out[0].message.contains("prefix \"x-\""),
            "{}",
            out[0].message
        );
        let mut out = Vec::new();
        service_template_name(&path, "", "minio", "1.0.0-RC1", &mut out);
        assert!(out[0].message.contains("'R'"));
    }

    #[test]
    fn verify_job_name_only_matters_when_the_job_renders() {
        let name = "a".repeat(45); // verify-job- (11) + 45 + -1-0-0 (6) = 62
        let mut out = Vec::new();
        let values = json!({});
        verify_job_name(&ctx(&values), &name, "1.0.0", &mut out);
        assert!(out.is_empty());
        verify_job_name(&ctx(&values), &format!("{name}bb"), "1.0.0", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].hint.contains("skipVerifyJob=true"));
        let skipped = json!({"skipVerifyJob": true});
        let mut out = Vec::new();
        verify_job_name(&ctx(&skipped), &format!("{name}bb"), "1.0.0", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn api_version_must_be_served_or_chart_allowed() {
        let values = json!({"k0rdentApiVersion": "v1alpha1"});
        let mut out = Vec::new();
        k0rdent_api_version(&ctx(&values), &mut out);
        assert!(
            out.is_empty(),
            "chart allows v1alpha1 when the host passes nothing"
        );

        let served = Context {
            served_api_versions: served_k0rdent_versions(&[
                "k0rdent.mirantis.com/v1beta1".into(),
                "k0rdent.mirantis.com/v1alpha1/ClusterDeployment".into(),
                "v1".into(),
            ]),
            ..ctx(&values)
        };
        assert_eq!(served.served_api_versions, vec!["v1beta1"]);
        k0rdent_api_version(&served, &mut out);
        assert_eq!(out.len(), 1);
        assert!(
            out[0]
                .message
                .contains("\"v1alpha1\" is not a ServiceTemplate version the cluster serves")
        );
        assert!(out[0].hint.contains("k0rdentApiVersion=v1beta1"));

        let missing = json!({});
        let mut out = Vec::new();
        k0rdent_api_version(&ctx(&missing), &mut out);
        assert!(out[0].message.contains("not set"));
    }

    #[test]
    fn served_versions_accept_the_kind_form() {
        let v = served_k0rdent_versions(&["k0rdent.mirantis.com/v1beta1/ServiceTemplate".into()]);
        assert_eq!(v, vec!["v1beta1"]);
    }

    #[test]
    fn fixed_api_version_for_old_kgst() {
        let values = json!({});
        let served = Context {
            served_api_versions: vec!["v1beta1".into()],
            ..ctx(&values)
        };
        let mut out = Vec::new();
        fixed_api_version_served(&served, "v1beta1", "0.2.0", &mut out);
        assert!(out.is_empty());
        fixed_api_version_served(&served, "v1alpha1", "0.1.1", &mut out);
        assert!(out[0].message.contains("kgst 0.1.1"));
        let mut out = Vec::new();
        fixed_api_version_served(&ctx(&values), "v1alpha1", "0.1.1", &mut out);
        assert!(out.is_empty(), "unknown cluster: nothing to compare with");
    }

    #[test]
    fn namespace_rules() {
        for (ns, ok) in [
            (json!(""), true),
            (json!("tenant-a"), true),
            (json!("Tenant"), false),
            (json!("a\nb: c"), false),
            (json!(1), false),
        ] {
            let values = json!({ "namespace": ns });
            let mut out = Vec::new();
            namespace(&ctx(&values), &mut out);
            assert_eq!(out.is_empty(), ok, "{ns}");
        }
    }

    #[test]
    fn repo_name_and_reserved_names() {
        let path = ValuePath::of("repo.name");
        for (name, ok) in [
            (json!("grafana"), true),
            (json!(""), false),
            (Value::Null, false),
            (json!("A b"), false),
        ] {
            let values = json!({ "repo": { "name": name } });
            let mut out = Vec::new();
            repo_name(&ctx(&values), &path, true, &mut out);
            assert_eq!(out.is_empty(), ok, "{name}");
        }
        let url_path = ValuePath::of("repo.url");
        let mut out = Vec::new();
        reserved_repo_name(
            &path,
            "k0rdent-catalog",
            &url_path,
            "oci://ghcr.io/k0rdent/catalog/charts",
            &mut out,
        );
        reserved_repo_name(
            &path,
            "grafana",
            &url_path,
            "oci://evil.example.com",
            &mut out,
        );
        assert!(out.is_empty());
        reserved_repo_name(
            &path,
            "k0rdent-enterprise-catalog",
            &url_path,
            "oci://evil.example.com",
            &mut out,
        );
        assert!(out[0].message.starts_with(
            "Please set 'repo.name' as 'k0rdent-enterprise-catalog' is reserved for 'oci://registry.mirantis.com/k0rdent-enterprise-catalog'"
        ));
    }

    #[test]
    fn repo_url_and_type_rules() {
        let url_path = ValuePath::of("repo.spec.url");
        let type_path = ValuePath::of("repo.spec.type");
        let run = |spec: Value| {
            let values = json!({ "repo": { "spec": spec } });
            let c = ctx(&values);
            let mut out = Vec::new();
            let url = repo_url(&c, &url_path, &mut out);
            repo_type(&c, &type_path, &url_path, url, &mut out);
            out
        };
        assert!(run(json!({"url": "oci://r/c", "type": "oci"})).is_empty());
        assert!(run(json!({"url": "https://r/c", "type": "default"})).is_empty());
        assert!(run(json!({"url": "https://r/c"})).is_empty());
        let v = run(json!({"url": "https://r/c", "type": "oci"}));
        assert!(
            v[0].message
                .contains("Flux needs type oci exactly for oci:// URLs"),
            "{v:?}"
        );
        assert_eq!(v[0].hint, "set repo.spec.type=default");
        assert!(
            run(json!({"url": "oci://r/c"}))[0]
                .hint
                .contains("type=oci")
        );
        assert!(
            run(json!({"url": "oci://r/c", "type": "OCI"}))[0]
                .message
                .contains("not a Flux")
        );
        assert!(run(json!({}))[0].message.contains("not set"));
        assert!(
            run(json!({"url": "https://r/$(id)"}))[0]
                .message
                .contains("'$'")
        );
    }

    #[test]
    fn booleans_images_and_secret_references() {
        let values = json!({
            "skipVerifyJob": "false", "verifyJobImage": "alpine/helm:3.14.0\"",
            "repo": {"secretRef": {"name": "creds"}, "certSecretRef": {"nam": "x"}, "other": "s"}
        });
        let c = ctx(&values);
        let mut out = Vec::new();
        optional_bool(&c, &ValuePath::of("skipVerifyJob"), &mut out);
        verify_job_image(&c, &mut out);
        secret_reference(&c, &ValuePath::of("repo.secretRef"), &mut out);
        secret_reference(&c, &ValuePath::of("repo.certSecretRef"), &mut out);
        secret_reference(&c, &ValuePath::of("repo.other"), &mut out);
        let paths: Vec<&str> = out.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "skipVerifyJob",
                "verifyJobImage",
                "repo.certSecretRef.nam",
                "repo.certSecretRef",
                "repo.other"
            ]
        );
    }

    #[test]
    fn truthiness_is_go_templates() {
        assert!(!truthy(None));
        assert!(!truthy(Some(&json!(0))));
        assert!(!truthy(Some(&json!(""))));
        assert!(!truthy(Some(&json!([]))));
        assert!(truthy(Some(&json!("false"))));
        assert!(truthy(Some(&json!(true))));
    }
}
