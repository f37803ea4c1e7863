//! kgst 0.x: `helm.repository.{name,url,type}` and a list `helm.charts[]` of
//! `{name, version}`, one ServiceTemplate per item, with a ServiceTemplate API
//! version fixed by the chart (v1alpha1 up to 0.1.1, v1beta1 from 0.2.0).

use serde_json::Value;

use crate::names;
use crate::shared_rules::{self, Context};
use crate::violation::{ValuePath, Violation, show};

pub fn check(ctx: &Context, chart_version: &str, out: &mut Vec<Violation>) {
    let name_path = ValuePath::of("helm.repository.name");
    let url_path = ValuePath::of("helm.repository.url");
    // An empty name means "use the release name", which Helm checks itself.
    shared_rules::repo_name(ctx, &name_path, false, out);
    let url = shared_rules::repo_url(ctx, &url_path, out);
    shared_rules::repo_type(
        ctx,
        &ValuePath::of("helm.repository.type"),
        &url_path,
        url,
        out,
    );
    let prefix = shared_rules::prefix(ctx, out);
    charts(ctx, prefix, out);
    shared_rules::namespace(ctx, out);
    shared_rules::fixed_api_version_served(
        ctx,
        fixed_api_version(chart_version),
        chart_version,
        out,
    );
}

/// kgst 0.2.0 moved its ServiceTemplates from v1alpha1 to v1beta1.
fn fixed_api_version(chart_version: &str) -> &'static str {
    let minor = chart_version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u64>().ok())
        .unwrap_or(0);
    if minor >= 2 { "v1beta1" } else { "v1alpha1" }
}

fn charts(ctx: &Context, prefix: Option<&str>, out: &mut Vec<Violation>) {
    let list_path = ValuePath::of("helm.charts");
    let items = match ctx.get(&list_path) {
        None | Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(other) => {
            out.push(Violation::new(
                &list_path,
                format!("helm.charts must be a list of {{name, version}}, got {}", show(other)),
                "for example --set 'helm.charts[0].name=minio' --set 'helm.charts[0].version=14.1.2'",
            ));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let item_path = list_path.index(i);
        let example =
            format!("--set 'helm.charts[{i}].name=minio' --set 'helm.charts[{i}].version=14.1.2'");
        let Value::Object(item) = item else {
            out.push(Violation::new(
                &item_path,
                format!(
                    "{} must be a map with name and version, got {}",
                    item_path.dotted(),
                    show(item)
                ),
                format!("for example {example}"),
            ));
            continue;
        };
        let name = chart_field(
            &item_path,
            item.get("name"),
            "name",
            names::dns1123_label,
            &example,
            out,
        );
        let version = chart_field(
            &item_path,
            item.get("version"),
            "version",
            names::chart_version,
            &example,
            out,
        );
        if let (Some(name), Some(version), Some(prefix)) = (name, version, prefix) {
            shared_rules::service_template_name(&item_path, prefix, name, version, out);
        }
    }
}

fn chart_field<'v>(
    item_path: &ValuePath,
    value: Option<&'v Value>,
    field: &str,
    rule: fn(&str) -> Result<(), String>,
    example: &str,
    out: &mut Vec<Violation>,
) -> Option<&'v str> {
    let path = item_path.key(field);
    let problem = match value {
        None | Some(Value::Null) => "is not set".to_string(),
        Some(Value::String(s)) => match rule(s) {
            Ok(()) => return Some(s),
            Err(why) => format!("{} is not valid: {why}", show(&Value::String(s.clone()))),
        },
        Some(other) => format!("must be a string, got {}", show(other)),
    };
    out.push(Violation::new(
        &path,
        format!("{} {problem}", path.dotted()),
        format!("for example {example}"),
    ));
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(values: Value, served: &[&str], chart_version: &str) -> Vec<String> {
        let ctx = Context {
            values: &values,
            served_api_versions: served.iter().map(|s| s.to_string()).collect(),
            chart_api_versions: Vec::new(),
        };
        let mut out = Vec::new();
        check(&ctx, chart_version, &mut out);
        out.into_iter().map(|v| v.path).collect()
    }

    fn good() -> Value {
        json!({"helm": {
            "repository": {"name": "", "url": "oci://ghcr.io/k0rdent/catalog/charts", "type": "oci"},
            "charts": [{"name": "minio", "version": "14.1.2"}, {"name": "valkey", "version": "0.1.0"}]
        }, "prefix": "", "namespace": ""})
    }

    #[test]
    fn two_charts_pass() {
        assert!(paths(good(), &[], "0.2.0").is_empty());
    }

    #[test]
    fn chart_defaults_without_url_fail_like_kgst_required() {
        let v = json!({"helm": {"repository": {"name": "", "url": null, "type": "default"}, "charts": []}, "prefix": ""});
        assert_eq!(paths(v, &[], "0.1.0"), vec!["helm.repository.url"]);
    }

    #[test]
    fn chart_items_are_checked_one_by_one() {
        let mut v = good();
        v["helm"]["charts"] = json!([{"name": "MinIO", "version": "14.1.2"}, {"name": "x"}, "y", {"name": "a".repeat(60), "version": "1.0.0"}]);
        assert_eq!(
            paths(v, &[], "0.2.0"),
            vec![
                "helm.charts[0].name",
                "helm.charts[1].version",
                "helm.charts[2]",
                "helm.charts[3]"
            ]
        );
    }

    #[test]
    fn fixed_api_version_must_be_served() {
        assert_eq!(paths(good(), &["v1beta1"], "0.1.1"), vec![""]);
        assert!(paths(good(), &["v1beta1"], "0.2.0").is_empty());
    }

    #[test]
    fn repository_type_must_match_the_url() {
        let mut v = good();
        v["helm"]["repository"]["type"] = json!("default");
        assert_eq!(paths(v, &[], "0.2.0"), vec!["helm.repository.type"]);
    }
}
