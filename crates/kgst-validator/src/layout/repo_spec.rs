//! kgst 2.x: `repo.name` + `repo.spec`, a Flux HelmRepositorySpec that kgst
//! copies verbatim (`toYaml`). `repo.spec.url` also goes into the verify Job's
//! shell script, and the type no longer follows the URL, so both are checked,
//! as is every other field, because a misspelt field would be silently pruned
//! by the API server.

use serde_json::Value;

use crate::names;
use crate::shared_rules::{self, Context};
use crate::violation::{ValuePath, Violation, show};

/// Flux `source.toolkit.fluxcd.io/v1` HelmRepositorySpec fields.
const SPEC_FIELDS: &[&str] = &[
    "url",
    "type",
    "secretRef",
    "certSecretRef",
    "passCredentials",
    "insecure",
    "interval",
    "timeout",
    "suspend",
    "accessFrom",
    "provider",
];
const PROVIDERS: &[&str] = &["generic", "aws", "azure", "gcp"];

pub fn check(ctx: &Context, out: &mut Vec<Violation>) {
    super::check_chart_and_names(ctx, out);
    let name_path = ValuePath::of("repo.name");
    let name = shared_rules::repo_name(ctx, &name_path, true, out);

    let spec_path = ValuePath::of("repo.spec");
    let url_path = ValuePath::of("repo.spec.url");
    let url = match ctx.get(&spec_path) {
        Some(Value::Object(_)) => {
            let url = shared_rules::repo_url(ctx, &url_path, out);
            shared_rules::repo_type(ctx, &ValuePath::of("repo.spec.type"), &url_path, url, out);
            spec_fields(ctx, &spec_path, out);
            url
        }
        other => {
            out.push(Violation::new(
                &spec_path,
                match other {
                    None | Some(Value::Null) => "repo.spec is not set; kgst needs it for the HelmRepository".to_string(),
                    Some(v) => format!("repo.spec must be a map (a Flux HelmRepositorySpec), got {}", show(v)),
                },
                "set at least the URL, for example repo.spec.url=oci://ghcr.io/k0rdent/catalog/charts and repo.spec.type=oci",
            ));
            None
        }
    };
    if let (Some(name), Some(url)) = (name, url) {
        shared_rules::reserved_repo_name(&name_path, name, &url_path, url, out);
    }
}

fn spec_fields(ctx: &Context, spec_path: &ValuePath, out: &mut Vec<Violation>) {
    let Some(Value::Object(spec)) = ctx.get(spec_path) else {
        return;
    };
    for (key, value) in spec {
        let path = spec_path.key(key);
        match key.as_str() {
            "url" | "type" => {}
            "secretRef" | "certSecretRef" => shared_rules::secret_reference(ctx, &path, out),
            "passCredentials" | "insecure" | "suspend" => shared_rules::optional_bool(ctx, &path, out),
            "interval" | "timeout" => duration(&path, value, out),
            "provider" => provider(&path, value, out),
            "accessFrom" => {}
            unknown => out.push(Violation::new(
                &path,
                format!("repo.spec has unknown field {unknown:?}; Flux's HelmRepositorySpec would drop it"),
                format!("check the spelling; known fields: {}", SPEC_FIELDS.join(", ")),
            )),
        }
    }
}

fn duration(path: &ValuePath, value: &Value, out: &mut Vec<Violation>) {
    let problem = match value {
        Value::Null => return,
        Value::String(s) => match names::flux_duration(s) {
            Ok(()) => return,
            Err(why) => why,
        },
        _ => "it is not a string".to_string(),
    };
    out.push(Violation::new(
        path,
        format!(
            "{} {} is not a duration: {problem}",
            path.dotted(),
            show(value)
        ),
        format!("use a Go duration, for example {}=10m", path.dotted()),
    ));
}

fn provider(path: &ValuePath, value: &Value, out: &mut Vec<Violation>) {
    if value.is_null() || value.as_str().is_some_and(|p| PROVIDERS.contains(&p)) {
        return;
    }
    out.push(Violation::new(
        path,
        format!("{} {} is not a Flux provider", path.dotted(), show(value)),
        format!(
            "use one of {}, for example {}=generic",
            PROVIDERS.join(", "),
            path.dotted()
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(values: Value) -> Vec<String> {
        let ctx = Context {
            values: &values,
            served_api_versions: vec!["v1beta1".into()],
            chart_api_versions: Vec::new(),
        };
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out.into_iter().map(|v| v.path).collect()
    }

    fn good() -> Value {
        json!({
            "repo": {"name": "k0rdent-catalog", "spec": {"url": "oci://ghcr.io/k0rdent/catalog/charts", "type": "oci"}},
            "chart": "minio:14.1.2", "prefix": "", "namespace": "", "k0rdentApiVersion": "v1beta1",
            "skipVerifyJob": false, "verifyJobImage": "alpine/helm:3.14.0"
        })
    }

    #[test]
    fn catalog_defaults_with_a_chart_pass() {
        assert!(paths(good()).is_empty());
    }

    #[test]
    fn full_flux_spec_passes() {
        let mut v = good();
        v["repo"] = json!({"name": "private-repo", "spec": {
            "url": "oci://registry.example.com/charts", "type": "oci", "interval": "5m",
            "secretRef": {"name": "registry-creds"}, "insecure": true, "provider": "generic",
            "timeout": "60s", "certSecretRef": null, "passCredentials": false
        }});
        assert!(paths(v).is_empty());
    }

    #[test]
    fn spec_problems_are_all_reported() {
        let mut v = good();
        v["repo"] = json!({"name": "mine", "spec": {
            "url": "https://charts.example.com", "type": "oci", "interval": "5 minutes",
            "secretref": {"name": "x"}, "provider": "ibm", "insecure": "true"
        }});
        assert_eq!(
            paths(v),
            vec![
                "repo.spec.type",
                "repo.spec.insecure",
                "repo.spec.interval",
                "repo.spec.provider",
                "repo.spec.secretref"
            ]
        );
    }

    #[test]
    fn spec_must_exist_and_reserved_names_need_their_url() {
        let mut v = good();
        v["repo"]["spec"] = Value::Null;
        assert_eq!(paths(v.clone()), vec!["repo.spec"]);
        v["repo"]["spec"] = json!({"url": "oci://evil.example.com/charts", "type": "oci"});
        assert_eq!(paths(v), vec!["repo.name"]);
    }

    #[test]
    fn api_version_must_be_served() {
        let mut v = good();
        v["k0rdentApiVersion"] = json!("v1alpha1");
        assert_eq!(paths(v), vec!["k0rdentApiVersion"]);
    }
}
