//! Plugins as signed OCI artifacts, attacked through the real binary against
//! a real registry: unsigned, wrongly signed, replayed signatures, swapped
//! blobs, and a registry that goes away. Keys are generated here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use k0rdent_test_harness::registry::Registry;
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::{Digest, Sha256};

fn test_plugin_dir() -> PathBuf {
    PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"))
}

fn test_plugin(name: &str) -> PathBuf {
    test_plugin_dir().join(format!("{name}.plugin.json"))
}

/// A fresh key pair written as PEM files; returns (private, public, fingerprint).
fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf, String) {
    let key = loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).unwrap();
        if let Ok(key) = SigningKey::from_slice(&seed) {
            break key;
        }
    };
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    std::fs::write(
        &private,
        key.to_pkcs8_pem(LineEnding::LF).unwrap().as_bytes(),
    )
    .unwrap();
    let verifying = key.verifying_key();
    std::fs::write(
        &public,
        verifying.to_public_key_pem(LineEnding::LF).unwrap(),
    )
    .unwrap();
    let der = verifying.to_public_key_der().unwrap();
    let fingerprint = format!("sha256:{}", hex::encode(Sha256::digest(der.as_bytes())));
    (private, public, fingerprint)
}

struct Env {
    registry: Registry,
    work: tempfile::TempDir,
}

impl Env {
    fn start() -> Self {
        Env {
            registry: Registry::plain().expect("docker-registry is installed"),
            work: tempfile::tempdir().unwrap(),
        }
    }

    fn host(&self) -> String {
        self.registry.host()
    }

    fn path(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    /// `k0rdent-mcp <args>`, reaching the registry over plain HTTP, with a
    /// chart cache of this test and a shared precompiled plugin cache.
    fn run(&self, args: &[&str]) -> Output {
        self.run_with_cache(args, &self.path("charts"))
    }

    fn run_with_cache(&self, args: &[&str], chart_cache: &Path) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_k0rdent-mcp"));
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("K0RDENT_MCP_") {
                cmd.env_remove(key);
            }
        }
        cmd.env("K0RDENT_MCP_LOG_FORMAT", "text")
            .env("K0RDENT_MCP_PLAIN_HTTP", self.host())
            .env("K0RDENT_MCP_CHART_CACHE_DIR", chart_cache)
            .env(
                "K0RDENT_MCP_PLUGIN_CACHE_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-supply-cache"),
            )
            // No registry logins from the machine running the tests.
            .env("DOCKER_CONFIG", self.path("no-docker"))
            .env("HELM_REGISTRY_CONFIG", self.path("no-helm.json"));
        cmd.args(args).output().expect("running k0rdent-mcp")
    }

    /// Pushes a test plugin to `repo:tag`, signed when `key` is given; returns its digest.
    fn push(&self, plugin: &str, repo: &str, tag: &str, key: Option<&Path>) -> String {
        let reference = format!("oci://{}/{repo}:{tag}", self.host());
        let plugin = test_plugin(plugin);
        let mut args = vec![
            "plugins",
            "push",
            plugin.to_str().unwrap(),
            reference.as_str(),
        ];
        if let Some(key) = key {
            args.extend(["--sign-key", key.to_str().unwrap()]);
        }
        let report: serde_json::Value = serde_json::from_str(&ok(self.run(&args))).unwrap();
        let digest = report["digest"].as_str().unwrap().to_string();
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{report}"
        );
        assert_eq!(key.is_some(), report.get("signature").is_some(), "{report}");
        digest
    }

    fn pinned(&self, repo: &str, digest: &str) -> String {
        format!("oci://{}/{repo}@{digest}", self.host())
    }

    /// `plugins list` with `--plugin reference` and the given trust flags.
    fn list(&self, reference: &str, trust: &[&str]) -> Output {
        let mut args = vec!["plugins", "list", "--plugin", reference];
        args.extend_from_slice(trust);
        self.run(&args)
    }

    /// The registry's own file holding `digest`'s bytes.
    fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.registry
            .dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "k0rdent-mcp failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn refused(out: Output) -> String {
    assert!(
        !out.status.success(),
        "k0rdent-mcp should have refused:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The `plugins list` entry of `name`.
fn listed(stdout: &str, name: &str) -> serde_json::Value {
    let list: serde_json::Value = serde_json::from_str(stdout).unwrap();
    list["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not listed: {list}"))
        .clone()
}

#[test]
fn push_then_pull_gives_back_the_same_bytes_and_digest() {
    let env = Env::start();
    let (private, public, _) = key_pair(env.work.path(), "author");
    let digest = env.push("legacy-renderer", "plugins/legacy", "0.1.0", Some(&private));
    let out = env.path("pulled");
    let report: serde_json::Value = serde_json::from_str(&ok(env.run(&[
        "plugins",
        "pull",
        &env.pinned("plugins/legacy", &digest),
        "--output-dir",
        out.to_str().unwrap(),
        "--plugin-trusted-key",
        public.to_str().unwrap(),
    ])))
    .unwrap();
    assert_eq!(report["digest"], digest.as_str(), "{report}");
    assert!(
        report["signed_by"].as_str().unwrap().contains("author.pub"),
        "{report}"
    );
    let original = std::fs::read(test_plugin_dir().join("legacy_renderer.wasm")).unwrap();
    assert_eq!(
        std::fs::read(out.join("legacy_renderer.wasm")).unwrap(),
        original
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("legacy-renderer.plugin.json")).unwrap())
            .unwrap();
    let pushed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(test_plugin("legacy-renderer")).unwrap()).unwrap();
    assert_eq!(manifest, pushed);
}

#[test]
fn template_runs_the_pulled_plugin_and_the_list_names_its_digests() {
    let env = Env::start();
    let (private, public, _) = key_pair(env.work.path(), "author");
    let digest = env.push("legacy-renderer", "plugins/legacy", "0.1.0", Some(&private));
    let chart = env.path("legacy");
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: legacy\nversion: 1.0.0\n",
    )
    .unwrap();
    std::fs::write(
        chart.join("templates/cm.yaml"),
        "kind: ConfigMap\nmetadata:\n  name: from-the-template\n",
    )
    .unwrap();
    let pinned = env.pinned("plugins/legacy", &digest);
    let trust = ["--plugin-trusted-key", public.to_str().unwrap()];

    // Without the plugin the embedded renderer renders the template.
    let embedded = ok(env.run(&["template", "rel", chart.to_str().unwrap()]));
    assert!(embedded.contains("from-the-template"), "{embedded}");
    let mut args = vec![
        "template",
        "rel",
        chart.to_str().unwrap(),
        "--plugin",
        &pinned,
    ];
    args.extend(trust);
    let rendered = ok(env.run(&args));
    assert!(
        rendered.contains("renderer: legacy-renderer") && !rendered.contains("from-the-template"),
        "{rendered}"
    );

    // A tag resolves to the digest, which is logged and listed.
    let tagged = format!("oci://{}/plugins/legacy:0.1.0", env.host());
    let out = env.list(&tagged, &trust);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let entry = listed(&ok(out), "legacy-renderer");
    assert!(stderr.contains(&digest), "{stderr}");
    assert_eq!(entry["origin"], pinned.as_str(), "{entry}");
    let component = std::fs::read(test_plugin_dir().join("legacy_renderer.wasm")).unwrap();
    assert_eq!(
        entry["digest"],
        format!("sha256:{}", sha256_hex(&component)),
        "{entry}"
    );
}

#[test]
fn unsigned_plugins_need_a_pinned_digest_and_digest_only() {
    let env = Env::start();
    let (_, public, fingerprint) = key_pair(env.work.path(), "trusted");
    let digest = env.push("legacy-renderer", "plugins/unsigned", "0.1.0", None);
    let pinned = env.pinned("plugins/unsigned", &digest);
    let tagged = format!("oci://{}/plugins/unsigned:0.1.0", env.host());
    let key = public.to_str().unwrap();

    let err = refused(env.list(&pinned, &["--plugin-trusted-key", key]));
    assert!(
        err.contains("is unsigned") && err.contains(&digest) && err.contains(&fingerprint),
        "{err}"
    );
    let err = refused(env.list(&pinned, &[]));
    assert!(err.contains("no --plugin-trusted-key"), "{err}");

    let digest_only = ["--plugin-signature-policy", "digest-only"];
    ok(env.list(&pinned, &digest_only));
    let err = refused(env.list(&tagged, &digest_only));
    assert!(
        err.contains("no --plugin-trusted-key") && err.contains("pin the plugin by digest"),
        "{err}"
    );
    let err = refused(env.list(
        &tagged,
        &[
            "--plugin-signature-policy",
            "digest-only",
            "--plugin-trusted-key",
            key,
        ],
    ));
    assert!(err.contains("is unsigned"), "{err}");

    let out = env.list(&tagged, &["--plugin-signature-policy", "none"]);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(out);
    assert!(stderr.contains("INSECURE"), "{stderr}");
}

#[test]
fn a_signature_by_an_untrusted_key_is_refused_naming_key_and_digest() {
    let env = Env::start();
    let (stranger, _, _) = key_pair(env.work.path(), "stranger");
    let (_, trusted, fingerprint) = key_pair(env.work.path(), "trusted");
    let digest = env.push(
        "legacy-renderer",
        "plugins/legacy",
        "0.1.0",
        Some(&stranger),
    );
    let err = refused(env.list(
        &env.pinned("plugins/legacy", &digest),
        &["--plugin-trusted-key", trusted.to_str().unwrap()],
    ));
    assert!(
        err.contains("not signed by a trusted key")
            && err.contains(&fingerprint)
            && err.contains(&digest),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signature_copied_from_another_plugin_is_a_digest_mismatch() {
    let env = Env::start();
    let (private, public, _) = key_pair(env.work.path(), "author");
    let signed = env.push("legacy-renderer", "plugins/p", "renderer", Some(&private));
    let unsigned = env.push("legacy-validator", "plugins/p", "validator", None);

    // The attacker copies the renderer's valid signature beside the validator.
    let client = oci_client::Client::new(oci_client::client::ClientConfig {
        protocol: oci_client::client::ClientProtocol::Http,
        ..Default::default()
    });
    let auth = oci_client::secrets::RegistryAuth::Anonymous;
    let at = |digest: &str| {
        oci_client::Reference::with_tag(
            env.host(),
            "plugins/p".into(),
            format!("{}.sig", digest.replace(':', "-")),
        )
    };
    let (sig, _) = client
        .pull_manifest_raw(
            &at(&signed),
            &auth,
            &["application/vnd.oci.image.manifest.v1+json"],
        )
        .await
        .unwrap();
    client
        .auth(&at(&unsigned), &auth, oci_client::RegistryOperation::Push)
        .await
        .unwrap();
    client
        .push_manifest_raw(
            &at(&unsigned),
            sig,
            http::HeaderValue::from_static("application/vnd.oci.image.manifest.v1+json"),
        )
        .await
        .unwrap();

    let err = refused(env.list(
        &env.pinned("plugins/p", &unsigned),
        &["--plugin-trusted-key", public.to_str().unwrap()],
    ));
    assert!(
        err.contains("digest mismatch") && err.contains(&signed) && err.contains(&unsigned),
        "{err}"
    );
}

#[test]
fn a_swapped_component_blob_is_refused_before_anything_is_compiled() {
    let env = Env::start();
    let (private, public, _) = key_pair(env.work.path(), "author");
    let digest = env.push("legacy-renderer", "plugins/legacy", "0.1.0", Some(&private));
    let component = std::fs::read(test_plugin_dir().join("legacy_renderer.wasm")).unwrap();
    let blob = env.blob_file(&format!("sha256:{}", sha256_hex(&component)));
    let mut evil = std::fs::read(&blob).unwrap();
    assert_eq!(evil, component);
    let last = evil.len() - 1;
    evil[last] ^= 0xff;
    std::fs::write(&blob, &evil).unwrap();

    // A plugin cache of its own: had anything been compiled, it would exist.
    let compiled = env.path("compiled");
    let cmd_args = [
        "plugins".to_string(),
        "list".into(),
        "--plugin".into(),
        env.pinned("plugins/legacy", &digest),
        "--plugin-trusted-key".into(),
        public.display().to_string(),
        "--plugin-cache-dir".into(),
        compiled.display().to_string(),
    ];
    let args: Vec<&str> = cmd_args.iter().map(String::as_str).collect();
    let err = refused(env.run(&args));
    assert!(
        err.contains("hash to") && err.contains(&sha256_hex(&component)),
        "{err}"
    );
    assert!(!compiled.exists(), "nothing may be compiled");
    let cached = env
        .path("charts")
        .join("blobs/sha256")
        .join(sha256_hex(&component));
    assert!(!cached.exists(), "the swapped blob must not be cached");
}

#[test]
fn a_verified_plugin_loads_from_the_cache_when_the_registry_is_down() {
    let mut env = Env::start();
    let (private, public, _) = key_pair(env.work.path(), "author");
    let (_, other, _) = key_pair(env.work.path(), "other");
    let digest = env.push("legacy-renderer", "plugins/legacy", "0.1.0", Some(&private));
    let pinned = env.pinned("plugins/legacy", &digest);
    let tagged = format!("oci://{}/plugins/legacy:0.1.0", env.host());
    let trust = ["--plugin-trusted-key", public.to_str().unwrap()];
    ok(env.list(&pinned, &trust));
    ok(env.list(&tagged, &trust));

    env.registry.stop();
    let entry = listed(&ok(env.list(&pinned, &trust)), "legacy-renderer");
    assert_eq!(entry["origin"], pinned.as_str());
    let out = env.list(&tagged, &trust);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    ok(out);
    assert!(stderr.contains("registry unreachable"), "{stderr}");
    // The cached signature is checked again, under the keys given now.
    let err = refused(env.list(&pinned, &["--plugin-trusted-key", other.to_str().unwrap()]));
    assert!(err.contains("not signed by a trusted key"), "{err}");
}

#[test]
fn signatures_are_plain_ecdsa_sha256_over_the_payload_as_openssl_checks_them() {
    let env = Env::start();
    // openssl's own key format (SEC1 "EC PRIVATE KEY") signs too.
    let private = env.path("openssl.key");
    let public = env.path("openssl.pub");
    let status = Command::new("openssl")
        .args([
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
        ])
        .arg(&private)
        .status()
        .expect("openssl is installed");
    assert!(status.success());
    let status = Command::new("openssl")
        .args(["ec", "-pubout", "-in"])
        .arg(&private)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap();
    assert!(status.success());
    let digest = env.push("legacy-renderer", "plugins/legacy", "0.1.0", Some(&private));
    ok(env.list(
        &env.pinned("plugins/legacy", &digest),
        &["--plugin-trusted-key", public.to_str().unwrap()],
    ));

    // The stored signature verifies with openssl over the stored payload.
    let sig_manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            env.path("charts/manifests/sha256").join(
                std::fs::read_to_string(
                    env.path("charts/tags")
                        .join(env.host().replace(':', "_"))
                        .join("plugins/legacy")
                        .join(format!("{}.sig.json", digest.replace(':', "-"))),
                )
                .map(|t| {
                    let entry: serde_json::Value = serde_json::from_str(&t).unwrap();
                    entry["manifest_digest"].as_str().unwrap()[7..].to_string()
                })
                .unwrap(),
            ),
        )
        .unwrap(),
    )
    .unwrap();
    let layer = &sig_manifest["layers"][0];
    let payload_file = env.blob_file(layer["digest"].as_str().unwrap());
    let payload: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&payload_file).unwrap()).unwrap();
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        digest.as_str()
    );
    assert_eq!(
        payload["critical"]["type"],
        "cosign container image signature"
    );
    use base64::Engine as _;
    let der = base64::engine::general_purpose::STANDARD
        .decode(
            layer["annotations"]["dev.cosignproject.cosign/signature"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    let sig_file = env.path("sig.der");
    std::fs::write(&sig_file, der).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&public)
        .arg("-signature")
        .arg(&sig_file)
        .arg(&payload_file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
