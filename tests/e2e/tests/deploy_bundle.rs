//! The in-cluster bundle in deploy/: the Helm chart passes real helm's lint and
//! renders; the plain manifests are exactly a fresh render (no drift); every
//! ConfigMap key is a variable the server reads; the Dockerfile passes
//! hadolint; and on the real kube-apiserver v1.20.2 the whole bundle applies
//! with server-side apply, reads back as applied, and its RBAC lets the
//! release engine install and uninstall kgst in a managed namespace and
//! nothing more (`kubectl auth can-i --list` shows exactly the shipped rules).
//!
//! A missing tool (helm, kubectl, hadolint, the apiserver) skips a test
//! outside CI and fails it under `CI=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, Parser};
use k0rdent_mcp::chart::{ArchiveLimits, load_chart_path};
use k0rdent_mcp::cluster::{Cluster, ClusterSource, connect};
use k0rdent_mcp::config::{LogArgs, PluginArgs};
use k0rdent_mcp::mcp::ServeArgs;
use k0rdent_mcp::release::engine::{
    Control, EngineOptions, InstallAction, InstallMode, InstallRequest, ReleaseEngine,
};
use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};
use serde_json::{Value, json};

const BUNDLE_NS: &str = "k0rdent-mcp";
const SERVICE_ACCOUNT: &str = "k0rdent-mcp";
const MANAGED_NS: &str = "kcm-system";
const UNMANAGED_NS: &str = "team-b";

// ---------------------------------------------------------------- paths and tools

/// The checkout running the tests (found at run time: build caches are shared
/// between clones).
fn repo_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.join("../..").canonicalize().unwrap()
}

fn chart_dir() -> PathBuf {
    repo_root().join("deploy/chart/k0rdent-mcp")
}

fn variant_values() -> PathBuf {
    chart_dir().join("ci/dev-tls-values.yaml")
}

fn cache_root() -> PathBuf {
    std::env::var_os("K0RDENT_MCP_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/k0rdent-mcp-cache"))
}

/// `$env_var`, else `cached` under the cache root; `None` (a skip) outside CI.
fn tool(env_var: &str, cached: &str, installer: &str) -> Option<PathBuf> {
    let path = std::env::var_os(env_var)
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_root().join(cached));
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing; CI must run {installer} (scripts/test does)",
            path.display()
        );
    }
    eprintln!("SKIPPED: no {} (run {installer})", path.display());
    None
}

fn helm_binary() -> Option<PathBuf> {
    tool("K0RDENT_MCP_HELM", "tools/helm", "scripts/install-helm")
}

fn kubectl_binary() -> Option<PathBuf> {
    tool(
        "K0RDENT_MCP_KUBECTL",
        "tools/kubectl",
        "scripts/install-helm",
    )
}

fn hadolint_binary() -> Option<PathBuf> {
    tool(
        "K0RDENT_MCP_HADOLINT",
        "venv-hadolint/bin/hadolint",
        "scripts/install-hadolint",
    )
}

struct Output {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run(program: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(program);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    Output {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Real helm with private state folders under `home`.
fn helm(helm: &Path, home: &Path, args: &[&str]) -> Output {
    run(
        helm,
        args,
        &[
            ("HELM_CONFIG_HOME", &home.join("config")),
            ("HELM_CACHE_HOME", &home.join("cache")),
            ("HELM_DATA_HOME", &home.join("data")),
        ],
    )
}

fn helm_ok(bin: &Path, home: &Path, args: &[&str]) -> String {
    let out = helm(bin, home, args);
    assert!(out.ok, "helm {args:?} failed:\n{}", out.stderr);
    out.stdout
}

/// Runs scripts/render-deploy-manifests into `out` (optionally for another
/// Kubernetes version): the very code that wrote deploy/kustomize.
fn render_plain(helm: &Path, out: &Path, kube_version: Option<&str>) {
    let mut cmd = Command::new(repo_root().join("scripts/render-deploy-manifests"));
    cmd.arg(out).env("K0RDENT_MCP_HELM", helm);
    if let Some(v) = kube_version {
        cmd.env("K0RDENT_MCP_RENDER_KUBE_VERSION", v);
    }
    let result = cmd
        .output()
        .expect("running scripts/render-deploy-manifests");
    assert!(
        result.status.success(),
        "scripts/render-deploy-manifests failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

// ---------------------------------------------------------------- YAML documents

/// The objects of a multi-document YAML stream (comment-only documents dropped).
fn documents(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut current = String::new();
    let mut flush = |current: &mut String| {
        let doc = helm_yaml::parse_values(current)
            .unwrap_or_else(|e| panic!("rendered YAML does not parse: {e}\n{current}"));
        if !doc.is_empty() {
            docs.push(Value::Object(doc));
        }
        current.clear();
    };
    for line in text.lines() {
        if line == "---" {
            flush(&mut current);
        } else {
            current.push_str(line);
            current.push('\n');
        }
    }
    flush(&mut current);
    docs
}

fn text<'a>(object: &'a Value, pointer: &str) -> &'a str {
    object
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// `Kind/namespace/name` of each object.
fn ids(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}/{}",
                text(o, "/kind"),
                text(o, "/metadata/namespace"),
                text(o, "/metadata/name")
            )
        })
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name_part: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| text(o, "/kind") == kind && text(o, "/metadata/name").contains(name_part))
        .unwrap_or_else(|| panic!("no {kind} *{name_part}* in {:?}", ids(objects)))
}

fn all_of<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects
        .iter()
        .filter(|o| text(o, "/kind") == kind)
        .collect()
}

/// Every field of `expected` is in `actual` with the same value (the server
/// adds defaults and status; it must not drop or change what we sent).
fn assert_subset(expected: &Value, actual: &Value, at: &str) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                let got = a
                    .get(k)
                    .unwrap_or_else(|| panic!("{at}/{k} was dropped by the server"));
                assert_subset(v, got, &format!("{at}/{k}"));
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            assert_eq!(e.len(), a.len(), "{at}: {expected} vs {actual}");
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                assert_subset(ev, av, &format!("{at}/{i}"));
            }
        }
        (Value::Number(e), Value::Number(a)) => {
            assert_eq!(e.as_f64(), a.as_f64(), "{at}");
        }
        _ => assert_eq!(expected, actual, "{at}"),
    }
}

// ---------------------------------------------------------------- chart

#[test]
fn chart_lints_and_renders_with_default_and_variant_values() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let chart = chart_dir().display().to_string();
    let variant = variant_values().display().to_string();

    // `--strict` turns lint warnings into failures.
    helm_ok(&bin, home.path(), &["lint", "--strict", &chart]);
    helm_ok(
        &bin,
        home.path(),
        &["lint", "--strict", &chart, "-f", &variant],
    );

    let default = documents(&helm_ok(
        &bin,
        home.path(),
        &["template", "k0rdent-mcp", &chart, "-n", BUNDLE_NS],
    ));
    let kinds: BTreeSet<&str> = default.iter().map(|o| text(o, "/kind")).collect();
    assert_eq!(
        kinds,
        BTreeSet::from([
            "ClusterRole",
            "ClusterRoleBinding",
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "RoleBinding",
            "Service",
            "ServiceAccount",
        ]),
        "with helm install --create-namespace the chart leaves the Namespace to helm"
    );

    // Hardened pod.
    let deployment = find(&default, "Deployment", "k0rdent-mcp");
    let pod = &deployment["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], json!(true));
    assert_eq!(pod["securityContext"]["runAsUser"], json!(65532));
    assert_eq!(pod["securityContext"]["runAsGroup"], json!(65532));
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["automountServiceAccountToken"], json!(true));
    let sc = &container["securityContext"];
    assert_eq!(sc["readOnlyRootFilesystem"], json!(true));
    assert_eq!(sc["allowPrivilegeEscalation"], json!(false));
    assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(container["args"], json!(["serve"]));
    assert_eq!(
        container["resources"],
        json!({"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}})
    );
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(container["ports"][0]["containerPort"], json!(8080));
    let mounts: Vec<&str> = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["mountPath"].as_str().unwrap())
        .collect();
    assert_eq!(mounts, ["/var/cache/k0rdent-mcp", "/tmp"]);
    assert!(
        pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v.get("emptyDir").is_some())
    );
    let sa = find(&default, "ServiceAccount", "k0rdent-mcp");
    assert_eq!(sa["automountServiceAccountToken"], json!(false));

    // Secure by default: OIDC, the filter is exactly the managed namespace, JSON logs.
    let config = &find(&default, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "OIDC_REQUIRED");
    assert_eq!(config["K0RDENT_MCP_NAMESPACE_FILTER"], "^kcm-system$");
    assert_eq!(config["K0RDENT_MCP_HTTP"], "0.0.0.0:8080");
    assert_eq!(config["K0RDENT_MCP_LOG_FORMAT"], "json");
    assert_eq!(config["XDG_CACHE_HOME"], "/var/cache/k0rdent-mcp");
    assert!(config.get("K0RDENT_MCP_TLS_CERT").is_none());

    // The NetworkPolicy: default deny both ways, then only the listed flows.
    let np = &find(&default, "NetworkPolicy", "k0rdent-mcp")["spec"];
    assert_eq!(np["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(np["ingress"].as_array().unwrap().len(), 1);
    assert_eq!(
        np["ingress"][0]["ports"],
        json!([{"port": "mcp", "protocol": "TCP"}])
    );
    assert!(
        np["ingress"][0]["from"][0]
            .get("namespaceSelector")
            .is_some()
    );
    let egress_ports: BTreeSet<String> = np["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|rule| rule["ports"].as_array().unwrap().clone())
        .map(|p| format!("{}/{}", p["protocol"].as_str().unwrap(), p["port"]))
        .collect();
    assert_eq!(
        egress_ports,
        BTreeSet::from(["TCP/443", "TCP/53", "TCP/6443", "UDP/53"].map(String::from))
    );
    let bindings = all_of(&default, "RoleBinding");
    assert_eq!(bindings.len(), 1);
    assert_eq!(text(bindings[0], "/metadata/namespace"), MANAGED_NS);

    // The variant: dev mode, two namespaces, TLS, registry Secret and CA.
    let variant = documents(&helm_ok(
        &bin,
        home.path(),
        &[
            "template",
            "k0rdent-mcp",
            &chart,
            "-n",
            BUNDLE_NS,
            "-f",
            &variant,
        ],
    ));
    let config = &find(&variant, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "DEV_ALLOW_ANY");
    assert_eq!(
        config["K0RDENT_MCP_NAMESPACE_FILTER"],
        "^(kcm-system|team-a)$"
    );
    assert_eq!(
        config["K0RDENT_MCP_TLS_CERT"],
        "/etc/k0rdent-mcp/tls/tls.crt"
    );
    assert_eq!(
        config["K0RDENT_MCP_REGISTRY_CA_FILE"],
        "/etc/k0rdent-mcp/registry-ca/ca.crt"
    );
    assert_eq!(config["K0RDENT_MCP_LOG"], "debug", "extraEnv wins");
    assert!(config.get("K0RDENT_MCP_OIDC_AUDIENCE").is_none());
    let namespaces: BTreeSet<&str> = all_of(&variant, "RoleBinding")
        .iter()
        .map(|b| text(b, "/metadata/namespace"))
        .collect();
    assert_eq!(namespaces, BTreeSet::from([MANAGED_NS, "team-a"]));
    let container =
        &find(&variant, "Deployment", "k0rdent-mcp")["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["scheme"], "HTTPS");
    let secret_refs: Vec<(String, bool)> = container["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let r = &e["valueFrom"]["secretKeyRef"];
            assert_eq!(r["name"], "k0rdent-mcp-registry");
            (
                e["name"].as_str().unwrap().to_string(),
                r["optional"] == json!(true),
            )
        })
        .collect();
    assert_eq!(
        secret_refs,
        [
            ("K0RDENT_MCP_REGISTRY_PASSWORD".to_string(), true),
            ("K0RDENT_MCP_REGISTRY_TOKEN".to_string(), true),
            ("K0RDENT_MCP_REGISTRY_USERNAME".to_string(), true),
        ]
    );

    // Wrong values fail with a message that names them.
    for (set, message) in [
        ("auth.mode=ANY", "auth/mode"),
        ("tls.enabled=true", "tls.secretName"),
        ("managedNamespaces[0]=Bad_Name", "managedNamespaces"),
    ] {
        let out = helm(&bin, home.path(), &["template", "x", &chart, "--set", set]);
        assert!(!out.ok, "--set {set} rendered");
        assert!(out.stderr.contains(message), "{set}: {}", out.stderr);
    }

    // Kubernetes 1.20 has no policy/v1 PodDisruptionBudget: the chart asks the cluster's version.
    let old = documents(&helm_ok(
        &bin,
        home.path(),
        &[
            "template",
            "k0rdent-mcp",
            &chart,
            "--kube-version",
            "1.20.2",
        ],
    ));
    assert_eq!(
        text(
            find(&old, "PodDisruptionBudget", "k0rdent-mcp"),
            "/apiVersion"
        ),
        "policy/v1beta1"
    );
    assert_eq!(
        text(
            find(&default, "PodDisruptionBudget", "k0rdent-mcp"),
            "/apiVersion"
        ),
        "policy/v1"
    );
}

#[test]
fn plain_manifests_are_a_fresh_render_of_the_chart() {
    let (Some(helm), Some(kubectl)) = (helm_binary(), kubectl_binary()) else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    render_plain(&helm, out.path(), None);
    let committed = repo_root().join("deploy/kustomize");
    let names = |dir: &Path| -> BTreeSet<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names(out.path()), names(&committed));
    for name in names(&committed) {
        let fresh = std::fs::read_to_string(out.path().join(&name)).unwrap();
        let ours = std::fs::read_to_string(committed.join(&name)).unwrap();
        assert!(
            fresh == ours,
            "deploy/kustomize/{name} is not what the chart renders; run scripts/render-deploy-manifests \
             and commit the result"
        );
    }

    // The kustomization builds (real kubectl kustomize) to the same objects.
    let built = run(
        &kubectl,
        &["kustomize", &committed.display().to_string()],
        &[],
    );
    assert!(built.ok, "kubectl kustomize: {}", built.stderr);
    let bundle = std::fs::read_to_string(committed.join("k0rdent-mcp.yaml")).unwrap();
    let rendered = documents(&bundle);
    assert_eq!(ids(&documents(&built.stdout)), ids(&rendered));
    assert!(ids(&rendered).contains("Namespace//k0rdent-mcp"));

    // The overlay example the README shows sets the image and the OIDC issuer.
    let overlay = repo_root().join("deploy/examples/overlay");
    let built = run(
        &kubectl,
        &["kustomize", &overlay.display().to_string()],
        &[],
    );
    assert!(built.ok, "kubectl kustomize overlay: {}", built.stderr);
    let objects = documents(&built.stdout);
    assert_eq!(ids(&objects), ids(&rendered));
    assert_eq!(
        find(&objects, "Deployment", "k0rdent-mcp")["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/k0rdent-mcp:0.1.0"
    );
    assert_eq!(
        find(&objects, "ConfigMap", "k0rdent-mcp")["data"]["K0RDENT_MCP_OIDC_ISSUER"],
        "https://issuer.example.com"
    );
    assert_eq!(
        text(
            find(&rendered, "PodDisruptionBudget", "k0rdent-mcp"),
            "/apiVersion"
        ),
        "policy/v1"
    );
}

/// Every key of the ConfigMap is a variable of `k0rdent-mcp serve` (or
/// XDG_CACHE_HOME), and its value parses as that flag: the chart cannot set a
/// misspelt variable the server would silently ignore.
#[test]
fn config_map_keys_are_variables_the_server_reads() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let chart = chart_dir().display().to_string();
    let variant = variant_values().display().to_string();
    let command = || LogArgs::augment_args(ServeArgs::augment_args(clap::Command::new("serve")));
    let flags: BTreeMap<String, String> = command()
        .get_arguments()
        .filter_map(|a| {
            Some((
                a.get_env()?.to_string_lossy().into_owned(),
                a.get_long()?.to_string(),
            ))
        })
        .collect();
    for args in [vec![], vec!["-f", variant.as_str()]] {
        let mut all = vec!["template", "k0rdent-mcp", chart.as_str(), "-n", BUNDLE_NS];
        all.extend(args);
        let objects = documents(&helm_ok(&bin, home.path(), &all));
        let data = find(&objects, "ConfigMap", "k0rdent-mcp")["data"]
            .as_object()
            .unwrap()
            .clone();
        let mut argv = vec!["serve".to_string()];
        for (key, value) in &data {
            let value = value.as_str().unwrap();
            match flags.get(key) {
                Some(long) => argv.push(format!("--{long}={value}")),
                None if key == "XDG_CACHE_HOME" => {}
                None => panic!("the ConfigMap sets {key}, which `k0rdent-mcp serve` does not read"),
            }
        }
        if let Err(e) = command().try_get_matches_from(&argv) {
            panic!("the ConfigMap's values do not parse as flags {argv:?}:\n{e}");
        }
        let deployment = find(&objects, "Deployment", "k0rdent-mcp");
        for var in deployment
            .pointer("/spec/template/spec/containers/0/env")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = var["name"].as_str().unwrap();
            assert!(flags.contains_key(name), "{name} is not a server variable");
        }
    }
}

// ---------------------------------------------------------------- image

#[test]
fn dockerfile_passes_hadolint_and_matches_the_chart() {
    let dockerfile = repo_root().join("deploy/Dockerfile");
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    // The image runs as the UID/GID the chart's securityContext names, on its port, as `serve`.
    for line in [
        "FROM rust:1-bookworm AS build",
        "RUN rustup target add wasm32-wasip2",
        "FROM gcr.io/distroless/cc-debian12:nonroot",
        "USER 65532:65532",
        "EXPOSE 8080",
        r#"ENTRYPOINT ["/k0rdent-mcp"]"#,
        r#"CMD ["serve", "--http", "0.0.0.0:8080"]"#,
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "deploy/Dockerfile lacks {line:?}"
        );
    }
    assert!(text.contains("cargo build --release --locked -p k0rdent-mcp"));

    let Some(hadolint) = hadolint_binary() else {
        return;
    };
    // Fail on every finding, style included; base images only from Docker Hub and gcr.io.
    let lint = |file: &Path| {
        run(
            &hadolint,
            &[
                "--no-color",
                "--failure-threshold",
                "style",
                "--trusted-registry",
                "docker.io",
                "--trusted-registry",
                "gcr.io",
                &file.display().to_string(),
            ],
            &[],
        )
    };
    let out = lint(&dockerfile);
    assert!(
        out.ok,
        "hadolint deploy/Dockerfile:\n{}{}",
        out.stdout, out.stderr
    );
    // The linter really looks: a careless Dockerfile fails.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("Dockerfile");
    std::fs::write(&bad, "FROM debian\nRUN apt-get install curl\nUSER root\n").unwrap();
    let out = lint(&bad);
    assert!(!out.ok && out.stdout.contains("DL3006"), "{}", out.stdout);
}

// ---------------------------------------------------------------- on the apiserver

#[derive(Parser)]
struct PluginCli {
    #[command(flatten)]
    plugins: PluginArgs,
}

/// `kubectl auth can-i --list` as rows `resource` (or `url:/path`) → verbs.
fn can_i_list(
    plane: &ControlPlane,
    kubeconfig: &Path,
    namespace: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let out = plane
        .kubectl_as(
            kubeconfig,
            &["auth", "can-i", "--list", "--no-headers", "-n", namespace],
        )
        .expect("kubectl auth can-i --list");
    let mut rules: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        // `resource   [urls]   [names]   [verbs]`; resource is blank for URL rows.
        let (resource, rest) = line.split_at(line.find('[').unwrap_or_else(|| panic!("{line}")));
        let groups: Vec<&str> = rest
            .split(']')
            .map(|g| g.trim().trim_start_matches('['))
            .take(3)
            .collect();
        assert_eq!(groups[1], "", "no rule names resources: {line}");
        let verbs = groups[2].split_whitespace().map(String::from);
        let keys: Vec<String> = if resource.trim().is_empty() {
            groups[0]
                .split_whitespace()
                .map(|u| format!("url:{u}"))
                .collect()
        } else {
            vec![resource.trim().to_string()]
        };
        for key in keys {
            rules.entry(key).or_default().extend(verbs.clone());
        }
    }
    rules
}

fn rules(entries: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
    entries
        .iter()
        .map(|(r, verbs)| {
            (
                r.to_string(),
                verbs.split_whitespace().map(String::from).collect(),
            )
        })
        .collect()
}

/// What every ServiceAccount may do on this apiserver (v1.20.2) through the
/// default bindings, before the bundle grants anything: system:basic-user
/// (ask what you may do), system:discovery (the API discovery documents the
/// engine resolves kinds with), system:public-info-viewer (health and
/// version), and system:service-account-issuer-discovery, bound to the group
/// system:serviceaccounts (the token issuer's OIDC discovery documents).
fn default_rules() -> Vec<(&'static str, &'static str)> {
    vec![
        ("url:/.well-known/openid-configuration", "get"),
        ("url:/openid/v1/jwks", "get"),
        ("selfsubjectaccessreviews.authorization.k8s.io", "create"),
        ("selfsubjectrulesreviews.authorization.k8s.io", "create"),
        ("url:/api", "get"),
        ("url:/api/*", "get"),
        ("url:/apis", "get"),
        ("url:/apis/*", "get"),
        ("url:/healthz", "get"),
        ("url:/livez", "get"),
        ("url:/openapi", "get"),
        ("url:/openapi/*", "get"),
        ("url:/readyz", "get"),
        ("url:/version", "get"),
        ("url:/version/", "get"),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bundle_applies_on_the_real_apiserver_and_its_rbac_is_least_privilege() {
    let Some(helm) = helm_binary() else {
        return;
    };
    let Some(kgst_dir) = kgst_oracle::fixtures().map(|d| d.join("charts/2.0.2")) else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    let home = plane.dir.path().join("helm-home");
    for ns in [MANAGED_NS, UNMANAGED_NS, "team-a"] {
        plane.kubectl(&["create", "namespace", ns]);
    }

    // The plain bundle, rendered for this apiserver by the script that wrote deploy/kustomize. The only
    // difference from the committed files is the PodDisruptionBudget's API version (1.20 has no
    // policy/v1).
    let out = plane.dir.path().join("bundle-1.20");
    render_plain(&helm, &out, Some("1.20.2"));
    let for_old = std::fs::read_to_string(out.join("k0rdent-mcp.yaml")).unwrap();
    let committed =
        std::fs::read_to_string(repo_root().join("deploy/kustomize/k0rdent-mcp.yaml")).unwrap();
    let differing: Vec<(&str, &str)> = committed
        .lines()
        .zip(for_old.lines())
        .filter(|(a, b)| a != b)
        .collect();
    assert_eq!(
        differing,
        [("apiVersion: policy/v1", "apiVersion: policy/v1beta1")]
    );
    assert_eq!(committed.lines().count(), for_old.lines().count());

    let bundle = out.join("k0rdent-mcp.yaml").display().to_string();
    let applied = plane.kubectl(&[
        "apply",
        "--server-side",
        "--field-manager=k0rdent-mcp-bundle",
        "-f",
        &bundle,
    ]);
    let expected = documents(&for_old);
    assert_eq!(
        applied.lines().count(),
        expected.len(),
        "every object applied:\n{applied}"
    );
    // Read each back: present, with every field we sent.
    let back: Value = serde_json::from_str(&plane.kubectl(&[
        "get",
        "-f",
        &bundle,
        "-o",
        "json",
        "--show-managed-fields",
    ]))
    .unwrap();
    let back = back["items"].as_array().unwrap().clone();
    assert_eq!(ids(&back), ids(&expected));
    for object in &expected {
        let id = ids(std::slice::from_ref(object));
        let got = back
            .iter()
            .find(|b| ids(std::slice::from_ref(b)) == id)
            .unwrap();
        let managers = got["metadata"]["managedFields"].as_array();
        if let Some(managers) = managers {
            assert!(
                managers
                    .iter()
                    .any(|m| m["manager"] == "k0rdent-mcp-bundle" && m["operation"] == "Apply"),
                "{id:?} was not server-side applied: {managers:?}"
            );
        }
        assert_subset(object, got, &format!("{id:?}"));
    }

    // The chart itself, installed by real helm v4 against this apiserver (its version picks the PDB's
    // API), with the variant values under another release name.
    helm_ok(
        &helm,
        &home,
        &[
            "install",
            "variant",
            &chart_dir().display().to_string(),
            "-f",
            &variant_values().display().to_string(),
            "-n",
            "k0rdent-mcp-variant",
            "--create-namespace",
            &format!("--kubeconfig={}", plane.kubeconfig.display()),
        ],
    );
    let pdb = plane.kubectl(&[
        "get",
        "poddisruptionbudgets.v1beta1.policy",
        "-n",
        "k0rdent-mcp-variant",
        "-o",
        "name",
    ]);
    assert_eq!(pdb.trim(), "poddisruptionbudget.policy/variant-k0rdent-mcp");
    for ns in [MANAGED_NS, "team-a"] {
        plane.kubectl(&["get", "rolebinding", "variant-k0rdent-mcp-engine", "-n", ns]);
    }

    // ---- RBAC: a token of the shipped ServiceAccount (TokenRequest), and nothing else.
    let token = plane
        .kubectl(&[
            "create",
            "token",
            SERVICE_ACCOUNT,
            "-n",
            BUNDLE_NS,
            "--duration=1h",
        ])
        .trim()
        .to_string();
    let as_sa = plane.kubeconfig_for(&token);
    let may_list = plane
        .kubectl_as(
            &as_sa,
            &["auth", "can-i", "list", "secrets", "-n", MANAGED_NS],
        )
        .unwrap();
    assert_eq!(may_list.trim(), "yes");

    let shipped = [
        ("secrets", "get list create update delete"),
        (
            "helmrepositories.source.toolkit.fluxcd.io",
            "get list create patch delete",
        ),
        ("helmcharts.source.toolkit.fluxcd.io", "get list"),
        (
            "servicetemplates.k0rdent.mirantis.com",
            "get list watch create patch delete",
        ),
        ("jobs.batch", "get list watch create patch delete"),
        ("pods", "get list"),
        ("pods/log", "get list"),
        ("events", "get list"),
    ];
    let cluster_read = ("namespaces", "get list");
    let mut want = default_rules();
    want.extend(shipped);
    want.push(cluster_read);
    assert_eq!(
        can_i_list(&plane, &as_sa, MANAGED_NS),
        rules(&want),
        "in {MANAGED_NS} the ServiceAccount may do exactly the shipped rules and the defaults"
    );
    let mut want = default_rules();
    want.push(cluster_read);
    assert_eq!(
        can_i_list(&plane, &as_sa, UNMANAGED_NS),
        rules(&want),
        "outside the managed namespaces only the defaults and reading namespaces"
    );

    // Cluster-scoped writes and reads outside the rules are denied.
    for args in [
        vec!["create", "namespace", "intruder"],
        vec![
            "create",
            "clusterrole",
            "intruder",
            "--verb=get",
            "--resource=pods",
        ],
        vec![
            "create",
            "clusterrolebinding",
            "intruder",
            "--clusterrole=cluster-admin",
            "--user=alice",
        ],
        vec!["get", "secrets", "-n", UNMANAGED_NS],
        vec!["get", "configmaps", "-n", MANAGED_NS],
        vec![
            "get",
            "secrets",
            "-n",
            MANAGED_NS,
            "--watch",
            "--request-timeout=2s",
        ],
    ] {
        let err = plane.kubectl_as(&as_sa, &args).unwrap_err();
        assert!(
            err.contains("Forbidden") || err.contains("forbidden"),
            "{args:?}: {err}"
        );
    }

    // The release engine as the ServiceAccount: kgst installs and uninstalls in the managed namespace.
    let client = connect(&ClusterSource::Kubeconfig(as_sa.clone()), None)
        .await
        .expect("client for the ServiceAccount");
    let cluster = Cluster::new(client);
    let (_host, plugins) = PluginCli::parse_from(["test", "--plugin-cache-dir", "none"])
        .plugins
        .load()
        .expect("embedded plugins load");
    let chart = load_chart_path(&kgst_dir, &ArchiveLimits::default()).expect("kgst 2.0.2 loads");
    let engine = ReleaseEngine::new(&cluster, &plugins, EngineOptions::default());
    let request = |release: &str, app: &str, namespace: &str| InstallRequest {
        release: release.into(),
        namespace: namespace.into(),
        chart: &chart,
        values: json!({ "chart": app }).as_object().unwrap().clone(),
        mode: InstallMode::UpgradeInstall,
    };
    let controllers = plane.play_controllers("missing");
    let installed = engine
        .upgrade_install(
            request("kgst-minio", "minio:14.1.2", MANAGED_NS),
            &Control::default(),
        )
        .await
        .expect("the ServiceAccount installs kgst in the managed namespace");
    assert_eq!(
        (installed.action, installed.revision),
        (InstallAction::Installed, 1)
    );
    plane.kubectl(&[
        "get",
        "servicetemplates.k0rdent.mirantis.com",
        "minio-14-1-2",
        "-n",
        MANAGED_NS,
    ]);
    let gone = engine
        .uninstall("kgst-minio", MANAGED_NS, &Control::default())
        .await
        .expect("the ServiceAccount uninstalls it");
    assert_eq!(gone.secrets_deleted.len(), 1);
    assert!(
        engine
            .history("kgst-minio", MANAGED_NS)
            .await
            .unwrap()
            .is_empty()
    );

    // A failing verify Job is explained from its pods (pods list, pods/log get): no RBAC error inside.
    let failed = engine
        .upgrade_install(
            request("kgst-missing", "missing:1.0.0", MANAGED_NS),
            &Control::default(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(failed.contains("INSTALLATION FAILED"), "{failed}");
    assert!(
        failed.contains("no pods of the Job were found") && !failed.contains("forbidden"),
        "{failed}"
    );
    engine
        .uninstall("kgst-missing", MANAGED_NS, &Control::default())
        .await
        .expect("the ServiceAccount uninstalls the failed release");

    // Anywhere else: denied, with an error that says so and names the namespace.
    let err = engine
        .upgrade_install(
            request("kgst-minio", "minio:14.1.2", UNMANAGED_NS),
            &Control::default(),
        )
        .await
        .unwrap_err()
        .to_string();
    eprintln!("install outside the managed namespaces reports:\n{err}");
    assert!(
        err.to_lowercase().contains("forbidden") || err.contains("RBAC"),
        "{err}"
    );
    assert!(err.contains(UNMANAGED_NS), "{err}");
    let leftovers = plane.kubectl(&[
        "get",
        "secrets,jobs.batch",
        "-n",
        UNMANAGED_NS,
        "-o",
        "name",
    ]);
    assert!(!leftovers.contains("sh.helm.release"), "{leftovers}");
    // OIDC_REQUIRED callers: deploy/examples/caller-rolebinding.yaml, with its group set to the test
    // group, lets alice (a token the apiserver knows, as it would know an OIDC caller) run the same
    // engine with her own token in kcm-system, and nowhere else.
    let (alice_token, _, alice_group) = TEST_IDENTITIES[0];
    let example =
        std::fs::read_to_string(repo_root().join("deploy/examples/caller-rolebinding.yaml"))
            .unwrap();
    assert!(example.contains("oidc:platform-team"));
    plane.apply(&example.replace("oidc:platform-team", alice_group));
    let client = connect(
        &ClusterSource::Kubeconfig(plane.kubeconfig.clone()),
        Some(alice_token),
    )
    .await
    .unwrap();
    let as_alice = Cluster::new(client);
    let engine = ReleaseEngine::new(&as_alice, &plugins, EngineOptions::default());
    let installed = engine
        .upgrade_install(
            request("kgst-alice", "nginx:1.0.0", MANAGED_NS),
            &Control::default(),
        )
        .await
        .expect("a caller bound by the example installs in kcm-system");
    assert_eq!(installed.action, InstallAction::Installed);
    engine
        .uninstall("kgst-alice", MANAGED_NS, &Control::default())
        .await
        .expect("and uninstalls");
    let err = engine
        .upgrade_install(
            request("kgst-alice", "nginx:1.0.0", UNMANAGED_NS),
            &Control::default(),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("forbidden") && err.contains(UNMANAGED_NS),
        "{err}"
    );
    let alice = plane.kubeconfig_for(alice_token);
    assert_eq!(
        plane
            .kubectl_as(&alice, &["auth", "can-i", "list", "namespaces"])
            .unwrap()
            .trim(),
        "yes"
    );
    drop(controllers);
}
