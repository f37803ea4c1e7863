//! What a client can find without calling a tool: the catalog and the
//! installed ServiceTemplates as resources, an `install-app` prompt that
//! walks a user from an app to an install, and completions for the prompt's
//! and the resource templates' arguments. Every answer goes through the same
//! catalog source, caller identity and namespace filter as the tools.

use rmcp::ErrorData;
use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, CompleteResult, CompletionInfo, GetPromptResult,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, Prompt, PromptArgument,
    PromptMessage, ReadResourceResult, Reference, Resource, ResourceContents, ResourceTemplate,
    Role,
};
use serde_json::Value;

use super::access::Caller;
use super::access::namespaces::visible_namespaces;
use super::catalog_tool::{self, CatalogApp, CatalogListArgs};
use super::context::Context;
use super::releases_tool::{self, TemplatesListArgs};
use crate::catalog::CatalogSnapshot;
use crate::quote::quote;

const CATALOG: &str = "k0rdent://catalog/";
const SERVICE_TEMPLATES: &str = "k0rdent://servicetemplates/";
const CATALOG_TEMPLATE: &str = "k0rdent://catalog/{app}";
const SERVICE_TEMPLATE_TEMPLATE: &str = "k0rdent://servicetemplates/{namespace}/{name}";
const JSON: &str = "application/json";
pub const INSTALL_APP: &str = "install-app";
/// Longer URIs and argument values are refused before any lookup.
const MAX_INPUT_BYTES: usize = 512;

/// A resource URI this server answers.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    CatalogApp(String),
    ServiceTemplate { namespace: String, name: String },
}

fn parse_uri(uri: &str) -> Result<Target, String> {
    let unknown = || {
        format!(
            "unknown resource {}: this server has {CATALOG_TEMPLATE} and {SERVICE_TEMPLATE_TEMPLATE}",
            quote(uri)
        )
    };
    if uri.len() > MAX_INPUT_BYTES {
        return Err(format!(
            "resource URI of {} bytes is over the limit of {MAX_INPUT_BYTES}",
            uri.len()
        ));
    }
    // Names here are Kubernetes and catalog names: no escapes, no empty parts.
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    };
    if let Some(app) = uri.strip_prefix(CATALOG) {
        return if plain(app) {
            Ok(Target::CatalogApp(app.to_string()))
        } else {
            Err(unknown())
        };
    }
    if let Some(rest) = uri.strip_prefix(SERVICE_TEMPLATES)
        && let Some((namespace, name)) = rest.split_once('/')
        && plain(namespace)
        && plain(name)
    {
        return Ok(Target::ServiceTemplate {
            namespace: namespace.to_string(),
            name: name.to_string(),
        });
    }
    Err(unknown())
}

async fn catalog(context: &Context) -> Result<CatalogSnapshot, ErrorData> {
    context
        .catalog
        .get(false)
        .await
        .map_err(|e| ErrorData::internal_error(e.to_string(), None))
}

/// Every catalog app; installed ServiceTemplates are reached through the
/// resource template, since listing them means asking the cluster.
pub async fn list_resources(context: &Context) -> Result<ListResourcesResult, ErrorData> {
    let snapshot = catalog(context).await?;
    let resources = snapshot
        .index
        .addons
        .iter()
        .map(|app| {
            Resource::new(format!("{CATALOG}{}", app.name), app.name.clone())
                .with_description(app.description.clone())
                .with_mime_type(JSON)
        })
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

pub fn list_resource_templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(CATALOG_TEMPLATE, "catalog-app")
            .with_description("A catalog app: its charts, versions and repository")
            .with_mime_type(JSON),
        ResourceTemplate::new(SERVICE_TEMPLATE_TEMPLATE, "service-template")
            .with_description(
                "An installed ServiceTemplate: chart, k0rdent's validity verdict, owning release",
            )
            .with_mime_type(JSON),
    ])
}

pub async fn read_resource(
    context: &Context,
    caller: &Caller,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let target = parse_uri(uri).map_err(|m| ErrorData::resource_not_found(m, None))?;
    let body = match target {
        Target::CatalogApp(app) => {
            let found = catalog_app(context, &app).await?.ok_or_else(|| {
                ErrorData::resource_not_found(
                    format!(
                        "no catalog app named {}; resources/list shows every app",
                        quote(&app)
                    ),
                    None,
                )
            })?;
            serde_json::to_string_pretty(&found)
        }
        Target::ServiceTemplate { namespace, name } => {
            // The filter first: a namespace the server may not touch is never asked about.
            if !context.access.filter.allows(&namespace) {
                return Err(ErrorData::resource_not_found(
                    format!(
                        "namespace {} is outside the server's namespace filter {}",
                        quote(&namespace),
                        quote(context.access.filter.pattern())
                    ),
                    None,
                ));
            }
            let args = TemplatesListArgs {
                namespace: Some(namespace.clone()),
                all_namespaces: false,
            };
            let listed = releases_tool::list_templates(context, caller, args)
                .await
                .map_err(|m| ErrorData::internal_error(m, None))?;
            let found = listed
                .templates
                .into_iter()
                .find(|t| t.name == name)
                .ok_or_else(|| {
                    ErrorData::resource_not_found(
                        format!(
                            "no ServiceTemplate {} in namespace {}; k0rdent.mgmt.serviceTemplates.list shows them",
                            quote(&name),
                            quote(&namespace)
                        ),
                        None,
                    )
                })?;
            serde_json::to_string_pretty(&found)
        }
    }
    .map_err(|e| ErrorData::internal_error(e.to_string(), None))?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(body, uri).with_mime_type(JSON),
    ]))
}

/// The app exactly as `k0rdent.catalog.serviceTemplates.list` shows it.
async fn catalog_app(context: &Context, app: &str) -> Result<Option<CatalogApp>, ErrorData> {
    let args = CatalogListArgs {
        app: Some(app.to_string()),
        tag: None,
        refresh: false,
    };
    let listed = catalog_tool::list(context, args)
        .await
        .map_err(|m| ErrorData::internal_error(m, None))?;
    Ok(listed.apps.into_iter().find(|a| a.name == app))
}

pub fn list_prompts() -> ListPromptsResult {
    let argument = |name: &str, description: &str, required: bool| {
        PromptArgument::new(name)
            .with_description(description)
            .with_required(required)
    };
    ListPromptsResult::with_all_items(vec![Prompt::new(
        INSTALL_APP,
        Some("Install a k0rdent catalog app as a ServiceTemplate, step by step"),
        Some(vec![
            argument("app", "The catalog app, e.g. minio", true),
            argument(
                "template",
                "The app's chart (default: the app's only chart)",
                false,
            ),
            argument("version", "The chart version (default: the newest)", false),
            argument(
                "namespace",
                "Where to install (default: the server's)",
                false,
            ),
        ]),
    )])
}

pub async fn get_prompt(
    context: &Context,
    name: &str,
    arguments: Option<&serde_json::Map<String, Value>>,
) -> Result<GetPromptResult, ErrorData> {
    if name != INSTALL_APP {
        return Err(ErrorData::invalid_params(
            format!(
                "unknown prompt {}; this server has {INSTALL_APP}",
                quote(name)
            ),
            None,
        ));
    }
    let text_arg = |key: &str| -> Result<Option<String>, ErrorData> {
        match arguments.and_then(|a| a.get(key)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= MAX_INPUT_BYTES => {
                Ok(Some(s.trim().to_string()).filter(|s| !s.is_empty()))
            }
            Some(other) => Err(ErrorData::invalid_params(
                format!(
                    "argument {key} must be a string of at most {MAX_INPUT_BYTES} bytes, got {}",
                    quote(&other.to_string())
                ),
                None,
            )),
        }
    };
    let app = text_arg("app")?.ok_or_else(|| {
        ErrorData::invalid_params(
            "argument app is required: the catalog app to install (completion/complete lists them)",
            None,
        )
    })?;
    let found = catalog_app(context, &app).await?.ok_or_else(|| {
        ErrorData::invalid_params(
            format!(
                "no catalog app named {}; completion/complete or resources/list shows them",
                quote(&app)
            ),
            None,
        )
    })?;
    let template = text_arg("template")?;
    let version = text_arg("version")?;
    let namespace = text_arg("namespace")?;
    let charts: Vec<String> = found
        .charts
        .iter()
        .map(|c| {
            let shown: Vec<&str> = c.versions.iter().take(5).map(String::as_str).collect();
            format!("- template `{}`: versions {}", c.name, shown.join(", "))
        })
        .collect();
    let pick = |what: Option<&String>, default: &str| {
        what.map_or_else(|| default.to_string(), |v| format!("`{v}`"))
    };
    let text = format!(
        "Install the k0rdent catalog app `{app}` ({description}).\n\n\
         Its charts (newest versions first):\n{charts}\n\n\
         1. Choose the template (asked: {template}) and the version (asked: {version}); \
         check the app's notes at resource {CATALOG}{app}.\n\
         2. Preview with `k0rdent.mgmt.serviceTemplates.install_from_catalog` and `dry_run: true` \
         (namespace: {namespace}); show the user what it would create.\n\
         3. After the user agrees, call it again without `dry_run` and report the release, \
         revision and the ServiceTemplate's validity.\n\
         4. If the ServiceTemplate is not valid, show `validation_error` and suggest \
         `k0rdent.mgmt.releases.rollback` or `k0rdent.mgmt.serviceTemplates.uninstall`.",
        description = found.description,
        charts = charts.join("\n"),
        template = pick(template.as_ref(), "the app's only chart, or ask"),
        version = pick(version.as_ref(), "the newest"),
        namespace = pick(namespace.as_ref(), "the server's default"),
    );
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(format!("Install {app} from the k0rdent catalog")),
    )
}

/// Values for one argument of the `install-app` prompt or a resource
/// template, starting with what the user typed.
pub async fn complete(
    context: &Context,
    caller: &Caller,
    request: &CompleteRequestParams,
) -> Result<CompleteResult, ErrorData> {
    let ArgumentInfo { name, value, .. } = &request.argument;
    if value.len() > MAX_INPUT_BYTES {
        return Err(ErrorData::invalid_params(
            format!(
                "argument value of {} bytes is over the limit of {MAX_INPUT_BYTES}",
                value.len()
            ),
            None,
        ));
    }
    if let Some((key, long)) = request
        .context
        .as_ref()
        .and_then(|c| c.arguments.as_ref())
        .and_then(|args| args.iter().find(|(_, v)| v.len() > MAX_INPUT_BYTES))
    {
        return Err(ErrorData::invalid_params(
            format!(
                "context argument {} of {} bytes is over the limit of {MAX_INPUT_BYTES}",
                quote(key),
                long.len()
            ),
            None,
        ));
    }
    let given = |key: &str| {
        request
            .context
            .as_ref()
            .and_then(|c| c.get_argument(key))
            .map(String::as_str)
    };
    let slot = match &request.r#ref {
        Reference::Prompt(p) if p.name == INSTALL_APP => name.as_str(),
        Reference::Resource(r) if r.uri == CATALOG_TEMPLATE && name == "app" => "app",
        Reference::Resource(r) if r.uri == SERVICE_TEMPLATE_TEMPLATE && name == "namespace" => {
            "namespace"
        }
        Reference::Resource(r) if r.uri == SERVICE_TEMPLATE_TEMPLATE && name == "name" => {
            "service-template"
        }
        other => {
            return Err(ErrorData::invalid_params(
                format!(
                    "nothing to complete for {} argument {}: this server completes the {INSTALL_APP} prompt's \
                     app, template, version and namespace, and the resource templates' arguments",
                    quote(&serde_json::to_string(other).unwrap_or_default()),
                    quote(name)
                ),
                None,
            ));
        }
    };
    let candidates: Vec<String> = match slot {
        "app" => {
            let snapshot = catalog(context).await?;
            snapshot
                .index
                .addons
                .iter()
                .map(|a| a.name.clone())
                .collect()
        }
        "template" | "version" => {
            let snapshot = catalog(context).await?;
            let charts = snapshot
                .index
                .addons
                .iter()
                .filter(|a| given("app").is_none_or(|app| a.name == app))
                .flat_map(|a| a.charts.iter());
            if slot == "template" {
                charts.map(|c| c.name.clone()).collect()
            } else {
                charts
                    .filter(|c| given("template").is_none_or(|t| c.name == t))
                    .flat_map(|c| c.versions.iter().cloned())
                    .collect()
            }
        }
        "namespace" => {
            let cluster = context
                .access
                .cluster_for(caller)
                .await
                .map_err(|m| ErrorData::internal_error(m, None))?;
            visible_namespaces(&context.access, &cluster)
                .await
                .map_err(|m| ErrorData::internal_error(m, None))?
        }
        "service-template" => {
            let args = TemplatesListArgs {
                namespace: given("namespace").map(str::to_string),
                all_namespaces: false,
            };
            releases_tool::list_templates(context, caller, args)
                .await
                .map_err(|m| ErrorData::invalid_params(m, None))?
                .templates
                .into_iter()
                .map(|t| t.name)
                .collect()
        }
        other => {
            return Err(ErrorData::invalid_params(
                format!(
                    "the {INSTALL_APP} prompt has no argument {}; it takes app, template, version, namespace",
                    quote(other)
                ),
                None,
            ));
        }
    };
    Ok(CompleteResult::new(matching(candidates, value)))
}

/// Candidates starting with `typed` (case-insensitive), in order, without
/// repeats, at most the 100 MCP allows; `total` and `hasMore` tell the rest.
fn matching(candidates: Vec<String>, typed: &str) -> CompletionInfo {
    let typed = typed.to_lowercase();
    let mut seen = std::collections::HashSet::new();
    let all: Vec<String> = candidates
        .into_iter()
        .filter(|c| c.to_lowercase().starts_with(&typed) && seen.insert(c.clone()))
        .collect();
    let total = all.len();
    let shown: Vec<String> = all.into_iter().take(CompletionInfo::MAX_VALUES).collect();
    let more = total > shown.len();
    CompletionInfo::with_pagination(shown, Some(total.min(u32::MAX as usize) as u32), more)
        .expect("at most MAX_VALUES values")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_uris_parse_strictly() {
        assert_eq!(
            parse_uri("k0rdent://catalog/minio"),
            Ok(Target::CatalogApp("minio".into()))
        );
        assert_eq!(
            parse_uri("k0rdent://servicetemplates/kcm-system/minio-14-1-2"),
            Ok(Target::ServiceTemplate {
                namespace: "kcm-system".into(),
                name: "minio-14-1-2".into()
            })
        );
        for bad in [
            "k0rdent://catalog/",
            "k0rdent://catalog/a/b",
            "k0rdent://catalog/%2e%2e",
            "k0rdent://servicetemplates/kcm-system",
            "k0rdent://servicetemplates/kcm-system/a/b",
            "k0rdent://servicetemplates//x",
            "file:///etc/passwd",
        ] {
            let err = parse_uri(bad).unwrap_err();
            assert!(err.contains(CATALOG_TEMPLATE), "{bad}: {err}");
        }
        assert!(parse_uri(&format!("k0rdent://catalog/{}", "a".repeat(600))).is_err());
    }

    #[test]
    fn completions_match_the_typed_prefix_capped_at_100() {
        let names = |n: usize| (0..n).map(|i| format!("app-{i:03}")).collect::<Vec<_>>();
        let got = matching(names(150), "APP-1");
        assert_eq!(
            (got.values.len(), got.total, got.has_more),
            (50, Some(50), Some(false))
        );
        assert_eq!(got.values[0], "app-100");
        let got = matching(names(150), "");
        assert_eq!(
            (got.values.len(), got.total, got.has_more),
            (100, Some(150), Some(true))
        );
        let got = matching(vec!["b".into(), "a".into(), "b".into()], "");
        assert_eq!(got.values, ["b", "a"]);
    }
}
