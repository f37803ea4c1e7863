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
use std::time::{Duration, Instant};

use clap::{Args, FromArgMatches, Parser};
use k0rdent_mcp::chart::{ArchiveLimits, load_chart_path};
use k0rdent_mcp::cli::serve::{ServeArgs, build_context};
use k0rdent_mcp::cluster::{Cluster, ClusterSource, ObjectKey, connect};
use k0rdent_mcp::engine::{
    Control, EngineOptions, InstallAction, InstallMode, InstallRequest, ReleaseEngine,
};
use k0rdent_mcp::flags::{LogArgs, PluginArgs};
use k0rdent_mcp::mcp::K0rdentMcp;
use k0rdent_mcp::mcp::access::{Access, AuthMode, AuthnError, Caller};
use k0rdent_mcp::mcp::confirm::ConfirmMode;
use k0rdent_test_harness::cluster::{ControlPlane, TEST_IDENTITIES};
use k0rdent_test_harness::{free_port, require_program};
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
    manifest.join("..").canonicalize().unwrap()
}

fn chart_dir() -> PathBuf {
    repo_root().join("deploy/chart/k0rdent-mcp")
}

/// DEV_ALLOW_ANY (confirmed), two namespaces, TLS, registry Secret and CA.
fn variant_values() -> PathBuf {
    chart_dir().join("ci/dev-tls-values.yaml")
}

/// OIDC_REQUIRED with an issuer, behind a mesh that terminates TLS.
fn mesh_values() -> PathBuf {
    chart_dir().join("ci/oidc-mesh-values.yaml")
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
    for values in [variant_values(), mesh_values()] {
        let values = values.display().to_string();
        helm_ok(
            &bin,
            home.path(),
            &["lint", "--strict", &chart, "-f", &values],
        );
    }

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
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "Service",
            "ServiceAccount",
        ]),
        "with helm install --create-namespace the chart leaves the Namespace to helm; \
         OIDC_REQUIRED binds nothing to the ServiceAccount"
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
    assert_eq!(pod["automountServiceAccountToken"], json!(false));
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
    assert_eq!(
        mounts,
        [
            "/var/cache/k0rdent-mcp",
            "/tmp",
            "/var/run/secrets/kubernetes.io/serviceaccount",
            "/etc/k0rdent-mcp/tls"
        ]
    );
    let writable: Vec<&str> = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v.get("emptyDir").is_some())
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(writable, ["cache", "tmp"]);
    let sa = find(&default, "ServiceAccount", "k0rdent-mcp");
    assert_eq!(sa["automountServiceAccountToken"], json!(false));

    // Secure by default: OIDC, the filter is exactly the managed namespace, JSON logs.
    let config = &find(&default, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "OIDC_REQUIRED");
    assert_eq!(config["K0RDENT_MCP_NAMESPACE_FILTER"], "^kcm-system$");
    assert_eq!(config["K0RDENT_MCP_HTTP"], "0.0.0.0:8080");
    assert_eq!(config["K0RDENT_MCP_LOG_FORMAT"], "json");
    assert_eq!(config["XDG_CACHE_HOME"], "/var/cache/k0rdent-mcp");

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

/// `helm template` of the chart as release k0rdent-mcp in BUNDLE_NS with `extra` arguments: the objects,
/// or helm's error.
fn render(bin: &Path, home: &Path, extra: &[&str]) -> Result<Vec<Value>, String> {
    let chart = chart_dir().display().to_string();
    let mut args = vec!["template", "k0rdent-mcp", chart.as_str(), "-n", BUNDLE_NS];
    args.extend(extra);
    let out = helm(bin, home, &args);
    if out.ok {
        Ok(documents(&out.stdout))
    } else {
        Err(out.stderr)
    }
}

/// The chart refuses `--set <set>` with an error that says `expected`.
fn assert_refused(bin: &Path, home: &Path, set: &str, expected: &str) {
    match render(bin, home, &["--set", set]) {
        Ok(objects) => panic!(
            "the chart rendered --set {set} instead of refusing it: {:?}",
            ids(&objects)
        ),
        Err(stderr) => assert!(stderr.contains(expected), "--set {set}: {stderr}"),
    }
}

/// Namespace/name of every ServiceAccount some binding in `objects` grants a role to.
fn bound_service_accounts(objects: &[Value]) -> BTreeSet<String> {
    objects
        .iter()
        .filter(|o| matches!(text(o, "/kind"), "RoleBinding" | "ClusterRoleBinding"))
        .flat_map(|b| b["subjects"].as_array().cloned().unwrap_or_default())
        .filter(|s| s["kind"] == "ServiceAccount")
        .map(|s| format!("{}/{}", text(&s, "/namespace"), text(&s, "/name")))
        .collect()
}

fn pod_spec(objects: &[Value]) -> &Value {
    &find(objects, "Deployment", "k0rdent-mcp")["spec"]["template"]["spec"]
}

/// The pod's volume mounted at `path`, if any.
fn volume_at<'a>(pod: &'a Value, path: &str) -> Option<&'a Value> {
    let mount = pod["containers"][0]["volumeMounts"]
        .as_array()?
        .iter()
        .find(|m| m["mountPath"] == path)?;
    pod["volumes"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == mount["name"])
}

const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Item 7 and item 1 on the chart side: with default values the server is OIDC_REQUIRED, its
/// ServiceAccount holds no grant at all (before, it could read every Secret and create Jobs in
/// kcm-system) and the pod gets no token, only the CA and namespace the in-cluster client needs, and
/// callers' tokens travel over TLS. The committed plain manifests are checked the same way.
#[test]
fn default_render_is_oidc_over_tls_with_a_service_account_that_has_no_token_and_no_grants() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let helm_render = render(&bin, home.path(), &[]).unwrap();
    let plain = documents(
        &std::fs::read_to_string(repo_root().join("deploy/kustomize/k0rdent-mcp.yaml")).unwrap(),
    );
    for (what, objects) in [("the chart", &helm_render), ("deploy/kustomize", &plain)] {
        let config = &find(objects, "ConfigMap", "k0rdent-mcp")["data"];
        assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "OIDC_REQUIRED", "{what}");
        for absent in [
            "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK",
            "K0RDENT_MCP_TLS_TERMINATED_UPSTREAM",
        ] {
            assert!(config.get(absent).is_none(), "{what} sets {absent}");
        }

        // No binding hands the ServiceAccount anything: not the engine's Secret and Job rights, not
        // the namespace reader. The ClusterRoles stay, for callers' RoleBindings.
        assert_eq!(bound_service_accounts(objects), BTreeSet::new(), "{what}");
        assert!(all_of(objects, "RoleBinding").is_empty(), "{what}");
        assert!(all_of(objects, "ClusterRoleBinding").is_empty(), "{what}");
        assert_eq!(all_of(objects, "ClusterRole").len(), 2, "{what}");

        // No token in the pod: not automounted, and no projected serviceAccountToken anywhere.
        let pod = pod_spec(objects);
        assert_eq!(pod["automountServiceAccountToken"], json!(false), "{what}");
        assert_eq!(
            find(objects, "ServiceAccount", "k0rdent-mcp")["automountServiceAccountToken"],
            json!(false),
            "{what}"
        );
        let volumes = serde_json::to_string(&pod["volumes"]).unwrap();
        assert!(
            !volumes.contains("serviceAccountToken"),
            "{what}: {volumes}"
        );
        // What kube-rs's in-cluster configuration reads there, the token excepted.
        let api = volume_at(pod, SERVICE_ACCOUNT_DIR)
            .unwrap_or_else(|| panic!("{what}: nothing mounted at {SERVICE_ACCOUNT_DIR}"));
        assert_eq!(
            api["projected"]["sources"],
            json!([
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
            ]),
            "{what}"
        );

        // TLS by default, from a named Secret; the probes and the Service follow.
        assert_eq!(
            config["K0RDENT_MCP_TLS_CERT"], "/etc/k0rdent-mcp/tls/tls.crt",
            "{what}"
        );
        assert_eq!(
            config["K0RDENT_MCP_TLS_KEY"], "/etc/k0rdent-mcp/tls/tls.key",
            "{what}"
        );
        let tls = volume_at(pod, "/etc/k0rdent-mcp/tls").expect("the TLS Secret is mounted");
        assert_eq!(tls["secret"]["secretName"], "k0rdent-mcp-tls", "{what}");
        let container = &pod["containers"][0];
        for probe in ["livenessProbe", "readinessProbe"] {
            assert_eq!(container[probe]["httpGet"]["scheme"], "HTTPS", "{what}");
        }
        let service = find(objects, "Service", "k0rdent-mcp");
        assert_eq!(service["spec"]["ports"][0]["name"], "https", "{what}");
    }

    // The Certificate example issues exactly that Secret for exactly the names the server accepts.
    let example = documents(
        &std::fs::read_to_string(repo_root().join("deploy/examples/certificate.yaml")).unwrap(),
    );
    let certificate = find(&example, "Certificate", "k0rdent-mcp");
    assert_eq!(certificate["spec"]["secretName"], "k0rdent-mcp-tls");
    assert_eq!(text(certificate, "/metadata/namespace"), BUNDLE_NS);
    let hosts = text(
        &find(&plain, "ConfigMap", "k0rdent-mcp")["data"],
        "/K0RDENT_MCP_HTTP_ALLOWED_HOSTS",
    )
    .to_string();
    for name in certificate["spec"]["dnsNames"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert!(hosts.split(',').any(|h| h == name), "{name} not in {hosts}");
    }
}

/// DEV_ALLOW_ANY is refused until confirmed by a loudly named value; confirmed, it renders the
/// server flag the server demands on a network address, the token mount and the LAB ONLY grant.
#[test]
fn dev_mode_needs_the_insecure_value_and_renders_the_lab_only_grant() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    assert_refused(
        &bin,
        home.path(),
        "auth.mode=DEV_ALLOW_ANY",
        "set auth.insecureAllowAnyOnNetwork=true to confirm",
    );
    assert_refused(
        &bin,
        home.path(),
        "auth.insecureAllowAnyOnNetwork=true",
        "only applies to auth.mode=DEV_ALLOW_ANY",
    );

    let values = variant_values().display().to_string();
    let objects = render(&bin, home.path(), &["-f", &values]).unwrap();
    let config = &find(&objects, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "DEV_ALLOW_ANY");
    assert_eq!(config["K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK"], "true");
    let sa = format!("{BUNDLE_NS}/k0rdent-mcp");
    assert_eq!(bound_service_accounts(&objects), BTreeSet::from([sa]));
    let namespaces: BTreeSet<&str> = all_of(&objects, "RoleBinding")
        .iter()
        .map(|b| text(b, "/metadata/namespace"))
        .collect();
    assert_eq!(namespaces, BTreeSet::from([MANAGED_NS, "team-a"]));
    let pod = pod_spec(&objects);
    assert_eq!(pod["automountServiceAccountToken"], json!(true));
    assert!(
        volume_at(pod, SERVICE_ACCOUNT_DIR).is_none(),
        "the kubelet mounts the token there"
    );
    let rbac = helm_ok(
        &bin,
        home.path(),
        &[
            "template",
            "k0rdent-mcp",
            &chart_dir().display().to_string(),
            "-f",
            &values,
            "--show-only",
            "templates/rbac.yaml",
        ],
    );
    assert!(rbac.contains("# LAB ONLY (DEV_ALLOW_ANY)"), "{rbac}");
}

/// Bearer tokens never cross the pod network in plaintext by accident: OIDC_REQUIRED without TLS
/// renders only when a mesh or proxy is said to terminate TLS, and then passes that to the server.
/// The chart's security switches cannot be bypassed through config.extraEnv.
#[test]
fn plaintext_oidc_is_refused_unless_tls_is_terminated_upstream() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    for (set, expected) in [
        (
            "tls.enabled=false",
            "bearer tokens in plaintext across the pod network",
        ),
        ("tls.terminatedUpstream=true", "set only one of them"),
        (
            "serviceAccount.automountToken=true",
            "serviceAccount.automountToken is gone",
        ),
    ] {
        assert_refused(&bin, home.path(), set, expected);
    }

    let values = mesh_values().display().to_string();
    let objects = render(&bin, home.path(), &["-f", &values]).unwrap();
    let config = &find(&objects, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(config["K0RDENT_MCP_AUTH_MODE"], "OIDC_REQUIRED");
    assert_eq!(config["K0RDENT_MCP_TLS_TERMINATED_UPSTREAM"], "true");
    assert_eq!(
        config["K0RDENT_MCP_OIDC_ISSUER"],
        "https://issuer.example.test"
    );
    assert_eq!(config["K0RDENT_MCP_OIDC_AUDIENCE"], "k0rdent-mcp-test");
    assert!(config.get("K0RDENT_MCP_TLS_CERT").is_none());
    assert!(volume_at(pod_spec(&objects), "/etc/k0rdent-mcp/tls").is_none());
    assert_eq!(bound_service_accounts(&objects), BTreeSet::new());

    for key in [
        "K0RDENT_MCP_AUTH_MODE=DEV_ALLOW_ANY",
        "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK=true",
        "K0RDENT_MCP_TLS_TERMINATED_UPSTREAM=true",
        "K0RDENT_MCP_TLS_CERT=/x",
    ] {
        let name = key.split('=').next().unwrap();
        assert_refused(
            &bin,
            home.path(),
            &format!("config.extraEnv.{key}"),
            &format!("config.extraEnv must not set {name}"),
        );
    }
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
    let config = &find(&objects, "ConfigMap", "k0rdent-mcp")["data"];
    assert_eq!(
        config["K0RDENT_MCP_OIDC_ISSUER"],
        "https://issuer.example.com"
    );
    assert_eq!(config["K0RDENT_MCP_OIDC_AUDIENCE"], "k0rdent-mcp");
    assert_eq!(
        text(
            find(&rendered, "PodDisruptionBudget", "k0rdent-mcp"),
            "/apiVersion"
        ),
        "policy/v1"
    );
}

/// `k0rdent-mcp serve`'s command line, with the global log flags.
fn serve_command() -> clap::Command {
    LogArgs::augment_args(ServeArgs::augment_args(clap::Command::new("serve")))
}

/// Each variable `k0rdent-mcp serve` reads → its long flag.
fn server_flags() -> BTreeMap<String, String> {
    serve_command()
        .get_arguments()
        .filter_map(|a| {
            Some((
                a.get_env()?.to_string_lossy().into_owned(),
                a.get_long()?.to_string(),
            ))
        })
        .collect()
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
    let mesh = mesh_values().display().to_string();
    let command = serve_command;
    let flags = server_flags();
    for args in [
        vec![],
        vec!["-f", variant.as_str()],
        vec!["-f", mesh.as_str()],
    ] {
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
        "ENV K0RDENT_MCP_AUTH_MODE=OIDC_REQUIRED",
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

/// The final build stage's `ENV KEY=VALUE` settings and its CMD (JSON form).
fn image_defaults(dockerfile: &str) -> (Vec<(String, String)>, Vec<String>) {
    let last_stage = dockerfile
        .rsplit_once("\nFROM ")
        .map_or(dockerfile, |(_, stage)| stage);
    let mut env = Vec::new();
    let mut cmd = Vec::new();
    for line in last_stage.lines() {
        if let Some(rest) = line.strip_prefix("ENV ") {
            for pair in rest.split_whitespace() {
                let (key, value) = pair
                    .split_once('=')
                    .unwrap_or_else(|| panic!("deploy/Dockerfile: `ENV {rest}`: use KEY=VALUE"));
                env.push((key.to_string(), value.to_string()));
            }
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            cmd = serde_json::from_str(rest).expect("deploy/Dockerfile: CMD in JSON form");
        }
    }
    (env, cmd)
}

/// Starts `k0rdent-mcp serve` in this process the way its `main` does, and waits until `port`
/// accepts connections; `Err` is the server's refusal to start.
async fn start_http_server(
    args: ServeArgs,
    port: u16,
) -> Result<tokio::task::JoinHandle<anyhow::Result<()>>, String> {
    args.check().map_err(|e| format!("{e:#}"))?;
    let context = build_context(&args).map_err(|e| format!("{e:#}"))?;
    let server = K0rdentMcp::new(context);
    let task = tokio::spawn(async move { k0rdent_mcp::mcp::http::serve(server, &args.http).await });
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if task.is_finished() {
            return Err(match task.await {
                Ok(Err(e)) => format!("{e:#}"),
                Ok(Ok(())) => "the server stopped".to_string(),
                Err(e) => e.to_string(),
            });
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(task);
        }
        assert!(
            Instant::now() < deadline,
            "the server did not listen on {port} within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An MCP `initialize` POSTed to /mcp without credentials: (HTTP status, body).
async fn unauthenticated_initialize(port: u16) -> (String, String) {
    let out = tokio::task::spawn_blocking(move || {
        Command::new("curl")
            .args([
                "-sS",
                "--max-time",
                "30",
                "-w",
                "\n%{http_code}",
                "-H",
                "content-type: application/json",
                "-H",
                "accept: application/json, text/event-stream",
                "--data",
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"attacker","version":"1"}}}"#,
                &format!("http://127.0.0.1:{port}/mcp"),
            ])
            .output()
            .expect("running curl")
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.to_string(), body.to_string())
}

/// `k0rdent-mcp serve` as the image starts it (its CMD and final-stage ENV, `docker run -p
/// 8080:8080 <image>`), plus `extra_env` as `docker run -e` would add, listening on `port` instead
/// of the container's 8080 (the address stays the image's).
fn image_serve_args(extra_env: &[(&str, &str)], port: u16, cache: &Path) -> ServeArgs {
    let dockerfile = std::fs::read_to_string(repo_root().join("deploy/Dockerfile")).unwrap();
    let (mut env, cmd) = image_defaults(&dockerfile);
    assert_eq!(cmd.first().map(String::as_str), Some("serve"), "{cmd:?}");
    env.extend(
        extra_env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    let flags = server_flags();
    let mut argv = vec!["serve".to_string()];
    argv.extend(
        cmd[1..]
            .iter()
            .map(|a| a.replace(":8080", &format!(":{port}"))),
    );
    for (key, value) in &env {
        let long = flags.get(key).unwrap_or_else(|| {
            panic!("the image sets {key}, which `k0rdent-mcp serve` does not read")
        });
        argv.push(format!("--{long}={value}"));
    }
    // Test-only: caches in a temporary folder instead of the user's.
    argv.push("--plugin-cache-dir=none".to_string());
    argv.push(format!("--catalog-cache-dir={}", cache.display()));
    let matches = serve_command()
        .try_get_matches_from(&argv)
        .unwrap_or_else(|e| panic!("the image's CMD and ENV do not parse {argv:?}:\n{e}"));
    ServeArgs::from_arg_matches(&matches).unwrap()
}

/// Item 1, image side: the image's own defaults give a caller without credentials nothing. Bare
/// (`docker run -p 8080:8080 <image>`), the server refuses to start: OIDC_REQUIRED over plain HTTP
/// on 0.0.0.0 would take bearer tokens in plaintext. Behind a TLS-terminating proxy
/// (`-e K0RDENT_MCP_TLS_TERMINATED_UPSTREAM=true`) it starts and answers an unauthenticated MCP
/// `initialize` with 401. Before, the image's defaults were DEV_ALLOW_ANY on 0.0.0.0, and the same
/// request opened an MCP session acting as the pod's identity (install and uninstall for anyone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_defaults_refuse_unauthenticated_callers() {
    for var in [
        "K0RDENT_MCP_AUTH_MODE",
        "K0RDENT_MCP_INSECURE_ALLOW_ANY_ON_NETWORK",
        "K0RDENT_MCP_TLS_TERMINATED_UPSTREAM",
    ] {
        assert!(
            std::env::var_os(var).is_none(),
            "unset {var}: this test starts the server with the image's defaults only"
        );
    }
    let cache = tempfile::tempdir().unwrap();

    let port = free_port();
    let bare = image_serve_args(&[], port, cache.path());
    assert_eq!(bare.access.auth_mode, AuthMode::OidcRequired);
    match start_http_server(bare, port).await {
        Ok(server) => {
            let (status, body) = unauthenticated_initialize(port).await;
            server.abort();
            panic!(
                "the bare image serves plain HTTP on the network; unauthenticated: {status} {body}"
            );
        }
        Err(refusal) => assert!(
            refusal.contains("OIDC_REQUIRED") && refusal.contains("--tls-terminated-upstream"),
            "the bare image refused to start for another reason: {refusal}"
        ),
    }

    let port = free_port();
    let proxied = image_serve_args(
        &[("K0RDENT_MCP_TLS_TERMINATED_UPSTREAM", "true")],
        port,
        cache.path(),
    );
    let mode = proxied.access.auth_mode;
    let server = start_http_server(proxied, port)
        .await
        .unwrap_or_else(|e| panic!("the image behind a TLS proxy does not start: {e}"));
    let (status, body) = unauthenticated_initialize(port).await;
    server.abort();
    assert_eq!(
        status, "401",
        "the image's defaults ({mode:?}) answered an unauthenticated initialize with {status}: {body}"
    );
    assert!(body.contains("OIDC_REQUIRED"), "{body}");
}

// ---------------------------------------------------------------- on the apiserver

#[derive(Parser)]
struct PluginCli {
    #[command(flatten)]
    plugins: PluginArgs,
    #[command(flatten)]
    registry: k0rdent_mcp::flags::RegistryArgs,
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

    let token_of = |account: &str, namespace: &str| {
        plane
            .kubectl(&["create", "token", account, "-n", namespace, "--duration=1h"])
            .trim()
            .to_string()
    };

    // ---- The default (OIDC_REQUIRED) bundle's ServiceAccount: whoever gets hold of its token (the pod
    // has none, but the account exists) can do nothing beyond what every identity may. Before, it read
    // every Secret of kcm-system and created Jobs there (which run as any ServiceAccount of it).
    let as_oidc_sa = plane.kubeconfig_for(&token_of(SERVICE_ACCOUNT, BUNDLE_NS));
    assert_eq!(
        can_i_list(&plane, &as_oidc_sa, MANAGED_NS),
        rules(&default_rules()),
        "in OIDC_REQUIRED mode the ServiceAccount has no grant at all"
    );
    for args in [
        vec!["get", "secrets", "-n", MANAGED_NS],
        vec![
            "create",
            "job",
            "steal",
            "--image=busybox",
            "-n",
            MANAGED_NS,
        ],
        vec!["get", "namespaces"],
    ] {
        let err = plane.kubectl_as(&as_oidc_sa, &args).unwrap_err();
        assert!(err.contains("forbidden"), "{args:?}: {err}");
    }

    // ---- RBAC of the lab-only DEV_ALLOW_ANY grant: a token of the variant's ServiceAccount
    // (TokenRequest) may do what the engine needs in the managed namespaces, and nothing else.
    let as_sa = plane.kubeconfig_for(&token_of("variant-k0rdent-mcp", "k0rdent-mcp-variant"));
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

    // The release engine as the DEV ServiceAccount: kgst installs and uninstalls in the managed namespace.
    let client = connect(&ClusterSource::Kubeconfig(as_sa.clone()), None)
        .await
        .expect("client for the ServiceAccount");
    let cluster = Cluster::new(client);
    let cli = PluginCli::parse_from(["test", "--plugin-cache-dir", "none"]);
    let (_host, plugins) = cli
        .plugins
        .load(&cli.registry)
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

/// Set in the child process that plays the server's pod: the caller's and a stranger's tokens.
const POD_PROBE: &str = "K0RDENT_MCP_TEST_POD_PROBE";
const POD_PROBE_TEST: &str =
    "an_oidc_pod_reaches_the_api_server_with_callers_tokens_and_holds_none";
const POD_PROBE_PASSED: &str = "POD PROBE PASSED";

/// This process's effective UID (from /proc: no libc binding needed).
fn effective_uid() -> Option<u32> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Item 7's catch: with no token mounted, the OIDC_REQUIRED server must still reach the API server
/// (to authenticate callers and to act with their tokens). kube-rs's in-cluster configuration, which
/// `connect` uses, reads the CA and the namespace from the service-account folder and the address
/// from KUBERNETES_SERVICE_HOST/PORT; the token file is only read for a client without a caller
/// token. This test plays the kubelet: it materialises exactly what the committed Deployment
/// projects there (the kube-root-ca.crt ConfigMap, published here as kube-controller-manager would,
/// and the namespace), mounts it at that path in a private mount namespace, and runs itself as the
/// pod with the ConfigMap as its environment: the server's `Access` authenticates a caller's token
/// with the API server over TLS verified with the projected CA and refuses a bad one, the caller's
/// RBAC decides, and the pod has no identity of its own to fall back on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oidc_pod_reaches_the_api_server_with_callers_tokens_and_holds_none() {
    if let Ok(tokens) = std::env::var(POD_PROBE) {
        return probe_as_the_pod(&tokens).await;
    }
    let Some(helm) = helm_binary() else {
        return;
    };
    let Some(unshare) = require_program("unshare", "apt-get install util-linux") else {
        return;
    };
    let Some(plane) = ControlPlane::start() else {
        return;
    };
    for ns in [MANAGED_NS, UNMANAGED_NS] {
        plane.kubectl(&["create", "namespace", ns]);
    }
    let out = plane.dir.path().join("bundle-1.20");
    render_plain(&helm, &out, Some("1.20.2"));
    let bundle = out.join("k0rdent-mcp.yaml");
    plane.kubectl(&[
        "apply",
        "--server-side",
        "-f",
        &bundle.display().to_string(),
    ]);
    let (alice_token, _, alice_group) = TEST_IDENTITIES[0];
    let (stranger_token, _, _) = TEST_IDENTITIES[2];
    let example =
        std::fs::read_to_string(repo_root().join("deploy/examples/caller-rolebinding.yaml"))
            .unwrap();
    plane.apply(&example.replace("oidc:platform-team", alice_group));
    plane.kubectl(&[
        "create",
        "configmap",
        "kube-root-ca.crt",
        "-n",
        BUNDLE_NS,
        &format!("--from-file=ca.crt={}", plane.ca_cert.display()),
    ]);

    // The kubelet's part: the Deployment's volume at the service-account path, file by file.
    let objects = documents(&std::fs::read_to_string(&bundle).unwrap());
    let pod = pod_spec(&objects);
    assert_eq!(pod["automountServiceAccountToken"], json!(false));
    let volume = volume_at(pod, SERVICE_ACCOUNT_DIR)
        .unwrap_or_else(|| panic!("the pod mounts nothing at {SERVICE_ACCOUNT_DIR}: without the CA and namespace there the server cannot build its in-cluster client"));
    let projected = plane.dir.path().join("pod-serviceaccount");
    std::fs::create_dir(&projected).unwrap();
    for source in volume["projected"]["sources"].as_array().unwrap() {
        if let Some(config_map) = source.get("configMap") {
            let name = config_map["name"].as_str().unwrap();
            let live: Value = serde_json::from_str(&plane.kubectl(&[
                "get",
                "configmap",
                name,
                "-n",
                BUNDLE_NS,
                "-o",
                "json",
            ]))
            .unwrap();
            for item in config_map["items"].as_array().unwrap() {
                let key = item["key"].as_str().unwrap();
                let data = live["data"][key].as_str().unwrap();
                std::fs::write(projected.join(item["path"].as_str().unwrap()), data).unwrap();
            }
        } else if let Some(downward) = source.get("downwardAPI") {
            for item in downward["items"].as_array().unwrap() {
                assert_eq!(item["fieldRef"]["fieldPath"], "metadata.namespace");
                std::fs::write(projected.join(item["path"].as_str().unwrap()), BUNDLE_NS).unwrap();
            }
        } else {
            panic!(
                "the service-account volume projects {source}: only the CA and the namespace belong there"
            );
        }
    }
    assert!(!projected.join("token").exists());
    // envFrom: the ConfigMap.
    let pod_env: BTreeMap<String, String> = find(&objects, "ConfigMap", "k0rdent-mcp")["data"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect();

    // Run as the pod: /run (where /var/run points) replaced in a private mount namespace, the
    // projected files bound at the service-account path, the Service variables the kubelet always
    // sets, no kubeconfig, no inherited environment.
    let run_dir = std::fs::canonicalize("/var/run").unwrap();
    let sa_dir = Path::new(SERVICE_ACCOUNT_DIR)
        .strip_prefix("/var/run")
        .map(|rest| run_dir.join(rest))
        .unwrap();
    let home = tempfile::tempdir().unwrap();
    let script = r#"set -e
mount -t tmpfs tmpfs "$1"
mkdir -p "$2"
mount --bind "$3" "$2"
shift 3
exec "$@""#;
    let mut command = Command::new(unshare);
    command.args(["--mount", "--propagation", "private"]);
    if effective_uid() != Some(0) {
        command.arg("--map-root-user");
    }
    let output = command
        .args(["sh", "-c", script, "sh"])
        .arg(&run_dir)
        .arg(&sa_dir)
        .arg(&projected)
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", POD_PROBE_TEST, "--nocapture", "--test-threads=1"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", plane.port.to_string())
        .envs(pod_env)
        .env(POD_PROBE, format!("{alice_token},{stranger_token}"))
        .output()
        .expect("running unshare");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains(POD_PROBE_PASSED),
        "the pod probe failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// Inside the simulated pod, with the ConfigMap as its environment: the server's own `Access`
/// (what every MCP request goes through) authenticates callers and acts as them.
async fn probe_as_the_pod(tokens: &str) {
    let (caller, stranger) = tokens.split_once(',').expect("two tokens");
    let matches = serve_command()
        .try_get_matches_from(["serve"])
        .expect("the pod's environment parses as `k0rdent-mcp serve` flags");
    let args = ServeArgs::from_arg_matches(&matches).unwrap();
    assert_eq!(args.access.auth_mode, AuthMode::OidcRequired);
    let access = Access::from_args(&args.access).expect("the server's access settings");
    let secret = |namespace: &str| ObjectKey {
        api_version: "v1".into(),
        kind: "Secret".into(),
        namespace: Some(namespace.into()),
        name: "k0rdent-mcp-probe".into(),
    };

    // No issuer: the API server authenticates each token, reached over TLS verified with the
    // projected CA.
    access
        .authenticate(caller)
        .await
        .expect("the API server accepts the caller's token");
    let refused = access.authenticate("not-a-token").await.unwrap_err();
    assert!(matches!(refused, AuthnError::Rejected(_)), "{refused}");

    // No identity of its own: a client without a caller's token cannot even be built.
    let Err(err) = access.cluster_for(&Caller::Server).await else {
        panic!("the pod built a client of its own: it holds a credential");
    };
    assert!(err.to_string().contains("token"), "{err}");

    // The caller's RBAC decides.
    let as_caller = access
        .cluster_for(&Caller::Token(caller.to_string()))
        .await
        .expect("an in-cluster client from the projected CA and namespace");
    let found = as_caller
        .get(&secret(MANAGED_NS))
        .await
        .expect("the caller, bound in kcm-system, reads there");
    assert!(found.is_none());
    let err = as_caller
        .get(&secret(UNMANAGED_NS))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("forbidden") && err.contains(UNMANAGED_NS),
        "{err}"
    );
    let as_stranger = access
        .cluster_for(&Caller::Token(stranger.to_string()))
        .await
        .unwrap();
    let err = as_stranger
        .get(&secret(MANAGED_NS))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("forbidden"), "{err}");
    println!("{POD_PROBE_PASSED}");
}

/// The chart's read-only and confirmation values reach the server as settings it parses, with the
/// secure defaults; a value the server would not take is refused at render time.
#[test]
fn read_only_and_confirmation_values_configure_the_server() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let settings = |extra: &[&str]| -> (String, String) {
        let objects = render(&bin, home.path(), extra).unwrap();
        let config = &find(&objects, "ConfigMap", "k0rdent-mcp")["data"];
        (
            config["K0RDENT_MCP_READ_ONLY"]
                .as_str()
                .unwrap()
                .to_string(),
            config["K0RDENT_MCP_CONFIRM_DESTRUCTIVE"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let parsed = |(read_only, confirm): &(String, String)| {
        image_serve_args(
            &[
                ("K0RDENT_MCP_TLS_TERMINATED_UPSTREAM", "true"),
                ("K0RDENT_MCP_READ_ONLY", read_only),
                ("K0RDENT_MCP_CONFIRM_DESTRUCTIVE", confirm),
            ],
            free_port(),
            cache.path(),
        )
    };

    let defaults = settings(&[]);
    assert_eq!(defaults, ("false".into(), "when-supported".into()));
    let serve = parsed(&defaults);
    assert!(!serve.read_only);
    assert_eq!(serve.confirm_destructive, ConfirmMode::WhenSupported);

    let locked = settings(&[
        "--set",
        "config.readOnly=true",
        "--set",
        "config.confirmDestructive=require",
    ]);
    let serve = parsed(&locked);
    assert!(serve.read_only);
    assert_eq!(serve.confirm_destructive, ConfirmMode::Require);

    assert_refused(
        &bin,
        home.path(),
        "config.confirmDestructive=sometimes",
        "confirmDestructive",
    );
}

// ---------------------------------------------------------------- plugin set

/// Plugin references and trusted keys as values: a ConfigMap the pods mount
/// (whole folders, which the kubelet updates in place) as their
/// `--plugin-set` file, which the server parses; keys as a ConfigMap beside
/// it. A new plugin reference changes neither the server's ConfigMap nor the
/// pods' checksum, so running pods hot-swap it instead of being rolled. The
/// default render has none of it, and a tag reference is refused.
#[test]
fn plugin_set_values_render_a_mounted_plugin_set_file() {
    let Some(bin) = helm_binary() else {
        return;
    };
    let home = tempfile::tempdir().unwrap();
    let variant = variant_values().display().to_string();
    let objects = render(&bin, home.path(), &["-f", &variant]).unwrap();
    let config = &find(&objects, "ConfigMap", "k0rdent-mcp")["data"];
    let set_path = "/etc/k0rdent-mcp/plugin-set/plugin-set.yaml";
    assert_eq!(config["K0RDENT_MCP_PLUGIN_SET"], set_path, "{config}");
    assert_eq!(config["K0RDENT_MCP_PLUGIN_SET_POLL_MS"], "2000", "{config}");

    let set_text = find(&objects, "ConfigMap", "plugin-set")["data"]["plugin-set.yaml"]
        .as_str()
        .unwrap()
        .to_string();
    let set = k0rdent_mcp::plugin::set_file::PluginSetFile::parse(Path::new(set_path), &set_text)
        .unwrap_or_else(|e| panic!("the server refuses the rendered set: {e}\n{set_text}"));
    assert_eq!(set.plugins.len(), 1, "{set_text}");
    assert!(
        set.plugins[0]
            .reference()
            .ends_with(&format!("@sha256:{}", "0".repeat(64)))
    );
    assert_eq!(
        set.trusted_keys,
        [PathBuf::from("/etc/k0rdent-mcp/plugin-keys/release.pub")]
    );
    let keys = &find(&objects, "ConfigMap", "plugin-keys")["data"];
    assert!(
        keys["release.pub"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PUBLIC KEY-----"),
        "{keys}"
    );

    let pod = pod_spec(&objects);
    let set_volume =
        volume_at(pod, "/etc/k0rdent-mcp/plugin-set").expect("the set file is mounted");
    assert_eq!(
        set_volume["configMap"]["name"], "k0rdent-mcp-plugin-set",
        "{set_volume}"
    );
    let keys_volume = volume_at(pod, "/etc/k0rdent-mcp/plugin-keys").expect("the keys are mounted");
    assert_eq!(
        keys_volume["configMap"]["name"], "k0rdent-mcp-plugin-keys",
        "{keys_volume}"
    );
    let mounts = pod["containers"][0]["volumeMounts"].as_array().unwrap();
    assert!(
        mounts.iter().all(|m| m.get("subPath").is_none()),
        "subPath mounts never update"
    );

    // Another plugin: same server ConfigMap, same pod template checksum.
    let other = format!(
        "pluginSet.plugins[0]=oci://registry.local:5000/k0rdent/kgst-validator@sha256:{}",
        "1".repeat(64)
    );
    let swapped = render(&bin, home.path(), &["-f", &variant, "--set", &other]).unwrap();
    let checksum = |objects: &[Value]| {
        find(objects, "Deployment", "k0rdent-mcp")["spec"]["template"]["metadata"]["annotations"]
            ["checksum/config"]
            .clone()
    };
    assert_eq!(checksum(&objects), checksum(&swapped));
    assert_ne!(
        find(&objects, "ConfigMap", "plugin-set")["data"],
        find(&swapped, "ConfigMap", "plugin-set")["data"]
    );

    let defaults = render(&bin, home.path(), &[]).unwrap();
    assert!(
        !ids(&defaults).iter().any(|id| id.contains("plugin-set")),
        "{:?}",
        ids(&defaults)
    );
    assert!(
        find(&defaults, "ConfigMap", "k0rdent-mcp")["data"]
            .get("K0RDENT_MCP_PLUGIN_SET")
            .is_none()
    );
    assert_refused(
        &bin,
        home.path(),
        "pluginSet.plugins[0]=oci://registry.local:5000/p:latest",
        "does not match pattern",
    );
}
