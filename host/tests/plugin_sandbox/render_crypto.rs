//! Charts that bootstrap TLS with Sprig (`genCA`, `genSignedCert`, `genPrivateKey`, `htpasswd`,
//! `encryptAES`, …) used to fail in the sandbox. Through `k0rdent-mcp template` (the sandboxed
//! plugin) they must render, with keys drawn from the host's entropy (different on every render
//! unless `--deterministic`), and real `openssl`/`htpasswd` must accept what they produce.
//!
//! RSA key generation (Sprig's `genCA`, `genSignedCert`, `genSelfSignedCert`) costs about a second of
//! CPU per key in wasm, so the RSA parts run with a raised `--plugin-cpu-ms` (the budget is wall
//! time, and test machines are loaded); the EC/Ed25519, bcrypt and AES parts run with the defaults.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::cli::{ok, run};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/helm-renderer/tests/fixtures/crypto-tls")
}

/// `k0rdent-mcp template` of the fixture; its Secret's `stringData`.
fn render(extra: &[&str]) -> BTreeMap<String, String> {
    let chart = fixture();
    let mut args = vec!["template", "rel", chart.to_str().unwrap()];
    args.extend(extra);
    let out = ok(run(&args, &[]));
    let body = out.split("\n---\n").last().unwrap_or(&out);
    let doc = helm_renderer::yaml::parse_document(body).expect("rendered YAML");
    doc.map_get("stringData")
        .and_then(|d| d.map_entries())
        .expect("stringData")
        .into_iter()
        .map(|(k, v)| (k, v.as_str().expect("a string").to_string()))
        .collect()
}

fn tool(dir: &Path, program: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Enough for the fixture's three 2048-bit RSA keys and scrypt on a loaded machine.
const RSA_BUDGET: &[&str] = &["--plugin-cpu-ms", "120000"];

#[test]
fn a_tls_bootstrapping_chart_renders_in_the_sandbox_and_real_tools_accept_its_output() {
    let data = render(RSA_BUDGET);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, text) in &data {
        std::fs::write(d.join(name), format!("{text}\n")).unwrap();
    }
    for (ca, leaf) in [
        ("ca.crt", "tls.crt"),
        ("ecdsa-ca.crt", "ed-leaf.crt"),
        ("self.crt", "self.crt"),
    ] {
        let (verified, text) = tool(d, "openssl", &["verify", "-CAfile", ca, leaf]);
        assert!(
            verified,
            "openssl does not verify {leaf} against {ca}: {text}"
        );
    }
    let (_, cert_key) = tool(
        d,
        "openssl",
        &["x509", "-in", "tls.crt", "-noout", "-pubkey"],
    );
    let (_, key) = tool(d, "openssl", &["pkey", "-in", "tls.key", "-pubout"]);
    assert_eq!(cert_key, key, "tls.key is not the key of tls.crt");
    let (_, san) = tool(
        d,
        "openssl",
        &["x509", "-in", "tls.crt", "-noout", "-ext", "subjectAltName"],
    );
    assert!(
        san.contains("DNS:tls.example.com") && san.contains("IP Address:10.0.0.1"),
        "{san}"
    );
    let (verified, text) = tool(d, "htpasswd", &["-vb", "htpasswd", "admin", "s3cret pass"]);
    assert!(verified, "htpasswd rejects the generated entry: {text}");
    assert_eq!(data["aes.dec"], "attack at dawn");
    assert_eq!(
        data["derived"], "BusaHoze7!Cohg",
        "helm's derivePassword for these inputs"
    );
}

#[test]
fn ec_and_ed25519_certificates_bcrypt_and_aes_fit_the_default_limits() {
    let data = render(&["--set", "parts={withKey,htpasswd,aes}"]);
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, text) in &data {
        std::fs::write(d.join(name), format!("{text}\n")).unwrap();
    }
    let (verified, text) = tool(
        d,
        "openssl",
        &["verify", "-CAfile", "ecdsa-ca.crt", "ed-leaf.crt"],
    );
    assert!(verified, "{text}");
    let (verified, text) = tool(d, "htpasswd", &["-vb", "htpasswd", "admin", "s3cret pass"]);
    assert!(verified, "{text}");
}

#[test]
fn generated_keys_come_from_the_hosts_entropy_and_only_deterministic_mode_repeats_them() {
    let parts = ["--set", "parts={withKey,ecdsa,ed25519,htpasswd,aes}"];
    let (a, b) = (render(&parts), render(&parts));
    for key in [
        "ecdsa.key",
        "ed25519.key",
        "ecdsa-ca.crt",
        "htpasswd",
        "aes.enc",
    ] {
        assert_ne!(a[key], b[key], "{key} repeated across two renders");
    }
    let mut fixed = parts.to_vec();
    fixed.push("--deterministic");
    assert_eq!(
        render(&fixed),
        render(&fixed),
        "--deterministic output differs between runs"
    );
}
