//! kgst 1.x: `repo.name` + `repo.url`; the repository type is derived from the
//! URL (`oci` prefix), so there is no type to check. 1.2.0 added
//! `repo.insecure`, `repo.secretRef` and `repo.certSecretRef`.

use crate::shared_rules::{self, Context};
use crate::violation::{ValuePath, Violation};

pub fn check(ctx: &Context, out: &mut Vec<Violation>) {
    super::check_chart_and_names(ctx, out);
    let name_path = ValuePath::of("repo.name");
    let url_path = ValuePath::of("repo.url");
    let name = shared_rules::repo_name(ctx, &name_path, true, out);
    let url = shared_rules::repo_url(ctx, &url_path, out);
    if let (Some(name), Some(url)) = (name, url) {
        shared_rules::reserved_repo_name(&name_path, name, &url_path, url, out);
    }
    shared_rules::optional_bool(ctx, &ValuePath::of("repo.insecure"), out);
    shared_rules::secret_reference(ctx, &ValuePath::of("repo.secretRef"), out);
    shared_rules::secret_reference(ctx, &ValuePath::of("repo.certSecretRef"), out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn paths(values: Value) -> Vec<String> {
        let ctx = Context {
            values: &values,
            served_api_versions: Vec::new(),
            chart_api_versions: vec!["v1alpha1".into(), "v1beta1".into()],
        };
        let mut out = Vec::new();
        check(&ctx, &mut out);
        out.into_iter().map(|v| v.path).collect()
    }

    fn good() -> Value {
        json!({
            "repo": {"name": "k0rdent-catalog", "url": "oci://ghcr.io/k0rdent/catalog/charts"},
            "chart": "minio:14.1.2", "prefix": "", "namespace": "", "k0rdentApiVersion": "v1beta1",
            "skipVerifyJob": false
        })
    }

    #[test]
    fn catalog_defaults_with_a_chart_pass() {
        assert!(paths(good()).is_empty());
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut v = good();
        v["chart"] = json!("MinIO:14.1.2");
        v["prefix"] = json!("Bad");
        v["namespace"] = json!("a b");
        v["repo"]["url"] = json!("oci://evil.example.com/charts");
        v["repo"]["insecure"] = json!("yes");
        v["repo"]["secretRef"] = json!("creds");
        assert_eq!(
            paths(v),
            vec![
                "chart",
                "prefix",
                "namespace",
                "repo.name",
                "repo.insecure",
                "repo.secretRef"
            ]
        );
    }

    #[test]
    fn repo_url_is_required_and_checked() {
        let mut v = good();
        v["repo"] = json!({"name": "mine", "url": null});
        assert_eq!(paths(v.clone()), vec!["repo.url"]);
        v["repo"]["url"] = json!("https://x/\"$(id)\"");
        assert_eq!(paths(v), vec!["repo.url"]);
    }
}
