//! The rendering pipeline (Helm's `engine.Render` plus the parts of
//! `action.renderResources` that shape `helm template` output): load the
//! chart, coalesce values, parse every template into one set, execute the
//! non-partials in Helm's order, and format failures like Helm v4.

use std::rc::Rc;

use crate::chart::{self, Chart, ChartFile};
use crate::errors;
pub use crate::errors::RenderError;
use crate::files::Files;
use crate::output::{self, Manifest};
use crate::template::{Budget, ExecEnv, Limits, TemplateSet, execute};
use crate::value::{Map, Named, Object, Value};
use crate::values;

/// What `.Release` exposes.
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    pub name: String,
    pub namespace: String,
    pub revision: u32,
    pub is_install: bool,
    pub is_upgrade: bool,
    pub service: String,
}

/// What `.Capabilities` exposes.
#[derive(Debug, Clone)]
pub struct CapabilitiesInfo {
    /// For example `v1.33.0`.
    pub kube_version: String,
    pub api_versions: Vec<String>,
    /// For example `v4.1.4`.
    pub helm_version: String,
}

pub struct RenderRequest<'a> {
    pub files: Vec<ChartFile<'a>>,
    /// User values as a JSON object, already merged in Helm's precedence order.
    pub values_json: &'a str,
    pub release: ReleaseInfo,
    pub capabilities: CapabilitiesInfo,
    pub limits: Limits,
}

/// What the host tells a render about the world outside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderEnvironment {
    /// Secret random bytes for this render; they key `randAlphaNum`, `uuidv4`
    /// and the other random functions.
    pub entropy: Vec<u8>,
    /// What `now` returns, in Unix seconds.
    pub now_unix_seconds: i64,
}

impl RenderEnvironment {
    /// A fixed, public seed and the Unix epoch: the same input always renders
    /// the same output. What [`render`] uses; the component is given the
    /// host's choice instead.
    pub fn deterministic() -> RenderEnvironment {
        RenderEnvironment {
            entropy: b"k0rdent-mcp deterministic render".to_vec(),
            now_unix_seconds: 0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedChart {
    /// One entry per YAML document, in `helm template` output order.
    pub manifests: Vec<Manifest>,
    /// The top-level chart's rendered `templates/NOTES.txt`.
    pub notes: Option<String>,
}

/// Stack reserved for a native render: deep `include` chains (Helm allows
/// 1000 levels) recurse through the executor. Optimized builds need about
/// 6 KiB per level; unoptimized frames are far larger.
#[cfg(not(target_family = "wasm"))]
const NATIVE_STACK_BYTES: usize = if cfg!(debug_assertions) {
    512 << 20
} else {
    32 << 20
};

/// Renders a chart the way `helm template` does, deterministically
/// ([`RenderEnvironment::deterministic`]).
///
/// Natively this runs on a scoped thread with a large stack so that hostile
/// recursion hits [`Limits::max_depth`] instead of the caller's stack guard;
/// use [`render_on_current_thread`] to measure the engine without that.
pub fn render(req: &RenderRequest) -> Result<RenderedChart, RenderError> {
    render_in(req, &RenderEnvironment::deterministic())
}

/// [`render`] with the host's entropy and time.
pub fn render_in(
    req: &RenderRequest,
    environment: &RenderEnvironment,
) -> Result<RenderedChart, RenderError> {
    #[cfg(not(target_family = "wasm"))]
    {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("helm-render".into())
                .stack_size(NATIVE_STACK_BYTES)
                .spawn_scoped(scope, || render_on_current_thread_in(req, environment))
                .map_err(|e| RenderError::plain(format!("cannot start render thread: {e}")))?
                .join()
                .map_err(|_| RenderError::plain("renderer panicked"))?
        })
    }
    #[cfg(target_family = "wasm")]
    {
        render_on_current_thread_in(req, environment)
    }
}

/// [`render`] without the native stack guard: the caller's stack must be
/// deep enough for [`Limits::max_depth`] nested template calls.
pub fn render_on_current_thread(req: &RenderRequest) -> Result<RenderedChart, RenderError> {
    render_on_current_thread_in(req, &RenderEnvironment::deterministic())
}

fn render_on_current_thread_in(
    req: &RenderRequest,
    environment: &RenderEnvironment,
) -> Result<RenderedChart, RenderError> {
    crate::funcs::begin_render(&environment.entropy, environment.now_unix_seconds);
    let mut chart = chart::load(&req.files).map_err(RenderError::plain)?;
    check_kube_version(&chart, &req.capabilities.kube_version)?;
    let user = parse_user_values(req.values_json)?;

    // Dependencies disabled by condition/tags are dropped before the final coalesce.
    let probe = values::coalesce(&chart, user.clone());
    let disabled = values::disabled_dependencies(&chart, &probe);
    chart.dependencies.retain(|d| !disabled.contains(&d.name));
    let coalesced = values::coalesce(&chart, user);

    let release = release_value(&req.release);
    let caps = capabilities_value(&req.capabilities);
    let mut templates: Vec<Renderable> = Vec::new();
    collect_templates(
        &chart,
        true,
        Value::map(coalesced),
        &release,
        &caps,
        &mut templates,
    );

    let order = execution_order(&templates);
    let mut set = TemplateSet::default();
    for &i in &order {
        let t = &templates[i];
        set.add_file(&t.name, &t.source)
            .map_err(|e| errors::parse_error(&t.name, &e.0))?;
    }

    let budget = Budget::default();
    let env = ExecEnv {
        limits: req.limits,
        budget: &budget,
    };
    let mut rendered: Vec<(String, String)> = Vec::new();
    for &i in &order {
        let t = &templates[i];
        if t.name
            .rsplit('/')
            .next()
            .is_some_and(|base| base.starts_with('_'))
            || !t.renderable
        {
            continue;
        }
        if let Value::Map(m) = &t.scope {
            let mut tm = Map::new();
            tm.insert("Name".into(), Value::str(&t.name));
            tm.insert("BasePath".into(), Value::str(&t.base_path));
            m.borrow_mut().insert("Template".into(), Value::map(tm));
        }
        let out = execute(&set, &env, &t.name, t.scope.clone())
            .map_err(|e| errors::exec_error(&t.name, &e))?;
        rendered.push((t.name.clone(), out.replace("<no value>", "")));
    }

    let notes_path = format!("{}/templates/NOTES.txt", chart.full_path);
    let mut notes = None;
    rendered.retain(|(name, text)| {
        if name.ends_with("NOTES.txt") {
            if *name == notes_path {
                notes = Some(text.clone());
            }
            return false;
        }
        true
    });
    let manifests = output::sort_manifests(rendered).map_err(RenderError::plain)?;
    Ok(RenderedChart { manifests, notes })
}

struct Renderable {
    name: String,
    source: String,
    base_path: String,
    /// The chart's top-level template data (`.Values`, `.Chart`, …).
    scope: Value,
    /// Library charts contribute defines only.
    renderable: bool,
}

fn parse_user_values(json: &str) -> Result<Map, RenderError> {
    let text = if json.trim().is_empty() { "{}" } else { json };
    let parsed: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| RenderError::plain(format!("invalid values JSON: {e}")))?;
    match crate::value::from_json(&parsed) {
        Value::Map(m) => Ok(m.borrow().clone()),
        Value::Nil => Ok(Map::new()),
        _ => Err(RenderError::plain(
            "invalid values JSON: the top level must be an object",
        )),
    }
}

fn check_kube_version(chart: &Chart, kube_version: &str) -> Result<(), RenderError> {
    let constraint = chart.meta_str("kubeVersion");
    if constraint.is_empty() {
        return Ok(());
    }
    let check = crate::funcs::lookup("semverCompare")
        .map(|f| (f.f)(&[Value::str(&constraint), Value::str(kube_version)]));
    match check {
        Some(Ok(Value::Bool(true))) => Ok(()),
        _ => Err(RenderError::plain(format!(
            "chart requires kubeVersion: {constraint} which is incompatible with Kubernetes {}",
            kube_version.trim_start_matches('v')
        ))),
    }
}

fn release_value(r: &ReleaseInfo) -> Value {
    let mut m = Map::new();
    m.insert("Name".into(), Value::str(&r.name));
    m.insert("Namespace".into(), Value::str(&r.namespace));
    m.insert("IsUpgrade".into(), Value::Bool(r.is_upgrade));
    m.insert("IsInstall".into(), Value::Bool(r.is_install));
    m.insert("Revision".into(), Value::Int(i64::from(r.revision)));
    m.insert("Service".into(), Value::str(&r.service));
    Value::map(m)
}

fn capabilities_value(c: &CapabilitiesInfo) -> Value {
    let digits: Vec<String> = c
        .kube_version
        .trim_start_matches('v')
        .split(|ch: char| !ch.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_start_matches('0').to_string())
        .map(|p| if p.is_empty() { "0".into() } else { p })
        .collect();
    let major = digits.first().cloned().unwrap_or_else(|| "0".into());
    let minor = digits.get(1).cloned().unwrap_or_else(|| "0".into());
    let patch = digits.get(2).cloned().unwrap_or_else(|| "0".into());
    let git_version = if c.kube_version.starts_with('v') {
        c.kube_version.clone()
    } else {
        format!("v{}", c.kube_version)
    };
    let normalized = format!("v{major}.{minor}.{patch}");
    let mut m = Map::new();
    m.insert(
        "KubeVersion".into(),
        Value::Object(Rc::new(Object::KubeVersion {
            version: git_version,
            normalized,
            major,
            minor,
        })),
    );
    m.insert(
        "APIVersions".into(),
        Value::Object(Rc::new(Object::VersionSet(c.api_versions.clone()))),
    );
    let mut helm = Map::new();
    helm.insert("Version".into(), Value::str(&c.helm_version));
    helm.insert("GitCommit".into(), Value::str(""));
    helm.insert("GitTreeState".into(), Value::str(""));
    helm.insert("GoVersion".into(), Value::str(""));
    m.insert(
        "HelmVersion".into(),
        Value::named_map(Named::BuildInfo, helm),
    );
    Value::named_map(Named::Capabilities, m)
}

/// Helm's `recAllTpls`: one scope per chart, subcharts see their own values table.
fn collect_templates(
    chart: &Chart,
    is_root: bool,
    values: Value,
    release: &Value,
    caps: &Value,
    out: &mut Vec<Renderable>,
) -> Value {
    let subcharts = Value::map(Map::new());
    let mut scope = Map::new();
    scope.insert("Chart".into(), chart.metadata_value(is_root));
    scope.insert(
        "Files".into(),
        Value::Object(Rc::new(Object::Files(Files::clone(&chart.files)))),
    );
    scope.insert("Release".into(), release.clone());
    scope.insert("Capabilities".into(), caps.clone());
    scope.insert("Values".into(), values.converted(Named::HelmValues));
    scope.insert("Subcharts".into(), subcharts.clone());
    let scope = Value::map(scope);
    for dep in &chart.dependencies {
        let sub_values = match values.map_get(&dep.name) {
            Some(v @ Value::Map(_)) => v,
            _ => Value::map(Map::new()),
        };
        let sub_scope = collect_templates(dep, false, sub_values, release, caps, out);
        if let Value::Map(m) = &subcharts {
            m.borrow_mut().insert(dep.name.clone(), sub_scope);
        }
    }
    for (path, source) in &chart.templates {
        out.push(Renderable {
            name: format!("{}/{}", chart.full_path, path),
            source: source.clone(),
            base_path: format!("{}/templates", chart.full_path),
            scope: scope.clone(),
            renderable: !chart.is_library(),
        });
    }
    scope
}

/// Helm's `sortTemplates`: deeper paths first, then reverse byte order.
fn execution_order(templates: &[Renderable]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..templates.len()).collect();
    idx.sort_by(|&a, &b| {
        let (na, nb) = (&templates[a].name, &templates[b].name);
        let (ca, cb) = (na.matches('/').count(), nb.matches('/').count());
        cb.cmp(&ca).then_with(|| nb.cmp(na))
    });
    idx
}
