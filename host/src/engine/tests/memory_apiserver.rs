//! An in-memory stand-in for the Kubernetes API, plugged into a real `kube::Client` as its HTTP
//! service (kube-rs's own mock-test seam), so the engine's logic runs in unit tests without an
//! apiserver. It serves only what the engine asks: discovery, `/version`, and create / get / list
//! (equality label selectors) / replace / merge patch / server-side apply (dry runs included) /
//! delete of a few kinds. Server-side apply here replaces the object's fields with the applied ones
//! (no field-manager merge), which is what a single manager sees.
//!
//! It plays the controllers the engine waits on: a Job completes on creation (or fails, when its name
//! was given to [`MemoryApiserver::fail_job`]) and a ServiceTemplate becomes valid. Every request is
//! logged, so tests can assert the order of writes. The real-apiserver suites under `host/tests` and
//! `tests/e2e` prove the wire behaviour; this seam exists to cover the engine's branches quickly.

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};

/// (group, version, plural, kind, namespaced)
const RESOURCES: &[(&str, &str, &str, &str, bool)] = &[
    ("", "v1", "namespaces", "Namespace", false),
    ("", "v1", "secrets", "Secret", true),
    ("", "v1", "configmaps", "ConfigMap", true),
    ("", "v1", "serviceaccounts", "ServiceAccount", true),
    ("", "v1", "pods", "Pod", true),
    ("batch", "v1", "jobs", "Job", true),
    ("apps", "v1", "deployments", "Deployment", true),
    (
        "source.toolkit.fluxcd.io",
        "v1",
        "helmrepositories",
        "HelmRepository",
        true,
    ),
    (
        "k0rdent.mirantis.com",
        "v1beta1",
        "servicetemplates",
        "ServiceTemplate",
        true,
    ),
];

/// One request as the engine sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Logged {
    pub method: Method,
    /// The path, without the query.
    pub path: String,
    /// `plural/name` of the object (the name from the body for a create), or the path.
    pub target: String,
    pub dry_run: bool,
}

impl Logged {
    pub fn is_write(&self) -> bool {
        self.method != Method::GET && !self.dry_run
    }
}

#[derive(Default)]
struct State {
    /// Collection path (e.g. `/api/v1/namespaces/ns/secrets`) → name → object.
    objects: BTreeMap<String, BTreeMap<String, Value>>,
    log: Vec<Logged>,
    resource_version: u64,
    failing_jobs: BTreeSet<String>,
    /// Writes (non-dry-run) to a path ending like this answer 500: a write that breaks mid-operation.
    failing_writes: BTreeSet<String>,
}

#[derive(Clone, Default)]
pub struct MemoryApiserver {
    state: Arc<Mutex<State>>,
}

impl MemoryApiserver {
    /// A `kube::Client` whose every request this server answers.
    pub fn client(&self) -> kube::Client {
        let server = self.clone();
        let service = tower::service_fn(move |request: Request<Body>| {
            let server = server.clone();
            async move { Ok::<_, Infallible>(server.answer(request).await) }
        });
        kube::Client::new(service, "default")
    }

    /// Jobs with this name fail instead of completing.
    pub fn fail_job(&self, name: &str) {
        self.state.lock().unwrap().failing_jobs.insert(name.into());
    }

    /// Writes to the object whose path ends with `suffix` (e.g. `configmaps/app`) fail with a 500;
    /// creates (a POST to the collection) do not.
    pub fn fail_writes_to(&self, suffix: &str) {
        self.state
            .lock()
            .unwrap()
            .failing_writes
            .insert(suffix.into());
    }

    pub fn heal(&self) {
        let mut state = self.state.lock().unwrap();
        state.failing_writes.clear();
        state.failing_jobs.clear();
    }

    /// Requests so far, in order.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().unwrap().log.clone()
    }

    /// The stored object at `collection/name`, if any.
    pub fn object(&self, collection: &str, name: &str) -> Option<Value> {
        let state = self.state.lock().unwrap();
        state.objects.get(collection)?.get(name).cloned()
    }

    /// Names stored in `collection`.
    pub fn names(&self, collection: &str) -> Vec<String> {
        let state = self.state.lock().unwrap();
        state
            .objects
            .get(collection)
            .map(|items| items.keys().cloned().collect())
            .unwrap_or_default()
    }

    async fn answer(&self, request: Request<Body>) -> Response<Body> {
        let (parts, body) = request.into_parts();
        let body = body.collect_bytes().await.unwrap_or_default();
        let path = parts.uri.path().to_string();
        let query: BTreeMap<String, String> = parts
            .uri
            .query()
            .map(|q| {
                q.split('&')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.to_string(), percent_decode(v)))
                    .collect()
            })
            .unwrap_or_default();
        let content_type = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let dry_run = query.contains_key("dryRun");
        let body: Option<Value> = serde_json::from_slice(&body).ok();
        let target = match route(&path) {
            Route::Collection(collection) => format!(
                "{}/{}",
                collection.rsplit('/').next().unwrap_or_default(),
                body.as_ref()
                    .map(|b| text(b, "/metadata/name"))
                    .unwrap_or_default()
            ),
            Route::Item(collection, name) => {
                format!(
                    "{}/{name}",
                    collection.rsplit('/').next().unwrap_or_default()
                )
            }
            _ => path.clone(),
        };
        let mut state = self.state.lock().unwrap();
        state.log.push(Logged {
            method: parts.method.clone(),
            path: path.clone(),
            target: target.clone(),
            dry_run,
        });
        let write = parts.method != Method::GET && !dry_run;
        if write && state.failing_writes.iter().any(|s| path.ends_with(s)) {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "injected failure",
            );
        }
        match route(&path) {
            Route::Version => reply(
                StatusCode::OK,
                json!({
                    "major": "1", "minor": "33", "gitVersion": "v1.33.0", "gitCommit": "",
                    "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go",
                    "compiler": "gc", "platform": "linux/amd64"
                }),
            ),
            Route::CoreVersions => reply(
                StatusCode::OK,
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            ),
            Route::Groups => reply(StatusCode::OK, groups()),
            Route::Resources(group_version) => match resources(&group_version) {
                Some(list) => reply(StatusCode::OK, list),
                None => status(StatusCode::NOT_FOUND, "NotFound", "no such group version"),
            },
            Route::Collection(collection) => match parts.method {
                Method::GET => {
                    let selector = query.get("labelSelector").cloned().unwrap_or_default();
                    let items: Vec<Value> = state
                        .objects
                        .get(&collection)
                        .map(|items| {
                            items
                                .values()
                                .filter(|o| matches(o, &selector))
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    reply(
                        StatusCode::OK,
                        json!({"kind": "List", "apiVersion": "v1",
                               "metadata": {"resourceVersion": state.resource_version.to_string()},
                               "items": items}),
                    )
                }
                Method::POST => {
                    let Some(mut object) = body else {
                        return status(StatusCode::BAD_REQUEST, "BadRequest", "no object");
                    };
                    let name = text(&object, "/metadata/name");
                    if state
                        .objects
                        .get(&collection)
                        .is_some_and(|items| items.contains_key(&name))
                    {
                        return status(StatusCode::CONFLICT, "AlreadyExists", "already exists");
                    }
                    state.stamp(&mut object, None);
                    if !dry_run {
                        play_controllers(&state.failing_jobs, &mut object);
                        state.store(&collection, &name, object.clone());
                    }
                    reply(StatusCode::CREATED, object)
                }
                _ => status(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "MethodNotAllowed",
                    "collection",
                ),
            },
            Route::Item(collection, name) => {
                let stored = state
                    .objects
                    .get(&collection)
                    .and_then(|items| items.get(&name))
                    .cloned();
                match (parts.method.clone(), stored) {
                    (Method::GET, Some(object)) => reply(StatusCode::OK, object),
                    (Method::GET | Method::DELETE, None) => status(
                        StatusCode::NOT_FOUND,
                        "NotFound",
                        &format!("{name} not found"),
                    ),
                    (Method::DELETE, Some(object)) => {
                        let wanted = body
                            .as_ref()
                            .and_then(|b| b.pointer("/preconditions/resourceVersion"))
                            .and_then(Value::as_str);
                        if wanted.is_some_and(|rv| rv != text(&object, "/metadata/resourceVersion"))
                        {
                            return status(StatusCode::CONFLICT, "Conflict", "resourceVersion");
                        }
                        if !dry_run {
                            state.objects.get_mut(&collection).unwrap().remove(&name);
                        }
                        reply(StatusCode::OK, object)
                    }
                    (Method::PUT, None) => status(StatusCode::NOT_FOUND, "NotFound", "replace"),
                    (Method::PUT, Some(old)) => {
                        let Some(mut object) = body else {
                            return status(StatusCode::BAD_REQUEST, "BadRequest", "no object");
                        };
                        let wanted = text(&object, "/metadata/resourceVersion");
                        if !wanted.is_empty() && wanted != text(&old, "/metadata/resourceVersion") {
                            return status(StatusCode::CONFLICT, "Conflict", "resourceVersion");
                        }
                        state.stamp(&mut object, Some(&old));
                        if !dry_run {
                            state.store(&collection, &name, object.clone());
                        }
                        reply(StatusCode::OK, object)
                    }
                    (Method::PATCH, old) => {
                        let Some(patch) = body else {
                            return status(StatusCode::BAD_REQUEST, "BadRequest", "no patch");
                        };
                        let mut object = if content_type.starts_with("application/apply-patch") {
                            let mut applied = patch;
                            if let Some(status) = old.as_ref().and_then(|o| o.get("status")) {
                                applied["status"] = status.clone();
                            }
                            applied
                        } else if let Some(old) = old.clone() {
                            let mut merged = old;
                            merge_patch(&mut merged, &patch);
                            merged
                        } else {
                            return status(StatusCode::NOT_FOUND, "NotFound", "patch");
                        };
                        state.stamp(&mut object, old.as_ref());
                        if !dry_run {
                            if old.is_none() {
                                play_controllers(&state.failing_jobs, &mut object);
                            }
                            state.store(&collection, &name, object.clone());
                        }
                        let code = if old.is_some() {
                            StatusCode::OK
                        } else {
                            StatusCode::CREATED
                        };
                        reply(code, object)
                    }
                    _ => status(StatusCode::METHOD_NOT_ALLOWED, "MethodNotAllowed", "item"),
                }
            }
            Route::Unknown => status(StatusCode::NOT_FOUND, "NotFound", &path),
        }
    }
}

impl State {
    /// What the apiserver adds: a new resourceVersion; uid and creation time kept from `old`.
    fn stamp(&mut self, object: &mut Value, old: Option<&Value>) {
        self.resource_version += 1;
        let meta = object
            .as_object_mut()
            .expect("objects are JSON objects")
            .entry("metadata")
            .or_insert_with(|| json!({}));
        meta["resourceVersion"] = json!(self.resource_version.to_string());
        let uid = old
            .and_then(|o| o.pointer("/metadata/uid").cloned())
            .unwrap_or_else(|| json!(format!("uid-{}", self.resource_version)));
        meta["uid"] = uid;
        meta["creationTimestamp"] = old
            .and_then(|o| o.pointer("/metadata/creationTimestamp").cloned())
            .unwrap_or_else(|| json!("2026-01-01T00:00:00Z"));
    }

    fn store(&mut self, collection: &str, name: &str, object: Value) {
        self.objects
            .entry(collection.to_string())
            .or_default()
            .insert(name.to_string(), object);
    }
}

/// Jobs finish at once (Complete, or Failed when asked); ServiceTemplates are valid.
fn play_controllers(failing_jobs: &BTreeSet<String>, object: &mut Value) {
    match object.get("kind").and_then(Value::as_str) {
        Some("Job") => {
            let failed = failing_jobs.contains(&text(object, "/metadata/name"));
            let condition = if failed { "Failed" } else { "Complete" };
            object["status"] = json!({"conditions": [{"type": condition, "status": "True"}]});
        }
        Some("ServiceTemplate") => object["status"] = json!({"valid": true}),
        _ => {}
    }
}

enum Route {
    Version,
    CoreVersions,
    Groups,
    Resources(String),
    Collection(String),
    Item(String, String),
    Unknown,
}

fn route(path: &str) -> Route {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group_version, rest) = match parts.as_slice() {
        ["version"] => return Route::Version,
        ["api"] => return Route::CoreVersions,
        ["apis"] => return Route::Groups,
        ["api", version, rest @ ..] => (version.to_string(), rest),
        ["apis", group, version, rest @ ..] => (format!("{group}/{version}"), rest),
        _ => return Route::Unknown,
    };
    let prefix = if group_version.contains('/') {
        format!("/apis/{group_version}")
    } else {
        format!("/api/{group_version}")
    };
    match rest {
        [] => Route::Resources(group_version),
        ["namespaces", ns, plural] => {
            Route::Collection(format!("{prefix}/namespaces/{ns}/{plural}"))
        }
        ["namespaces", ns, plural, name] => Route::Item(
            format!("{prefix}/namespaces/{ns}/{plural}"),
            name.to_string(),
        ),
        [plural] => Route::Collection(format!("{prefix}/{plural}")),
        [plural, name] => Route::Item(format!("{prefix}/{plural}"), name.to_string()),
        _ => Route::Unknown,
    }
}

fn groups() -> Value {
    let mut seen = BTreeSet::new();
    let groups: Vec<Value> = RESOURCES
        .iter()
        .filter(|(group, ..)| !group.is_empty())
        .filter(|(group, version, ..)| seen.insert(format!("{group}/{version}")))
        .map(|(group, version, ..)| {
            let gv = json!({"groupVersion": format!("{group}/{version}"), "version": version});
            json!({"name": group, "versions": [gv.clone()], "preferredVersion": gv})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resources(group_version: &str) -> Option<Value> {
    let list: Vec<Value> = RESOURCES
        .iter()
        .filter(|(group, version, ..)| {
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            gv == group_version
        })
        .map(|(_, _, plural, kind, namespaced)| {
            json!({"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind,
                   "verbs": ["create", "delete", "get", "list", "patch", "update"]})
        })
        .collect();
    (!list.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version,
               "resources": list})
    })
}

/// Equality-based label selectors (`a=b,c=d`, `a==b`, `a!=b`), the kinds the engine sends.
fn matches(object: &Value, selector: &str) -> bool {
    let labels = object.pointer("/metadata/labels");
    let label = |key: &str| labels.and_then(|l| l.get(key)).and_then(Value::as_str);
    selector.split(',').filter(|s| !s.is_empty()).all(|term| {
        if let Some((key, value)) = term.split_once("!=") {
            label(key) != Some(value)
        } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
            label(key) == Some(value)
        } else {
            label(term).is_some()
        }
    })
}

/// RFC 7386 JSON merge patch.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    let target = target.as_object_mut().unwrap();
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

fn text(object: &Value, pointer: &str) -> String {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => out.push(b),
                    Err(_) => out.extend_from_slice(&bytes[i..i + 3]),
                }
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn reply(code: StatusCode, body: Value) -> Response<Body> {
    Response::builder()
        .status(code)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(serde_json::to_vec(&body).unwrap()))
        .unwrap()
}

fn status(code: StatusCode, reason: &str, message: &str) -> Response<Body> {
    reply(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code.as_u16()}),
    )
}
