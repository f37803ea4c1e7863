//! Sprig's crypto functions checked with real tools, since their output is random: the
//! `tests/fixtures/crypto-tls` chart (the TLS bootstrapping idioms charts use) is rendered with a
//! real clock, then `openssl` parses every certificate and key, verifies the chains, the CN, SANs
//! and validity days, that each key matches its certificate, decrypts `encryptAES` output, and
//! Apache's `htpasswd` verifies the bcrypt hash. Byte-exact parts (derivePassword, decryptAES of
//! helm's ciphertext, error texts) are conformance cases recorded from helm.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use helm_renderer::{
    CapabilitiesInfo, ChartFile, Limits, ReleaseInfo, RenderEnvironment, RenderRequest, render_in,
};

const CN: &str = "tls.example.com";
const DAYS: i64 = 30;

fn fixture_files() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crypto-tls");
    ["Chart.yaml", "values.yaml", "templates/secret.yaml"]
        .iter()
        .map(|f| {
            let data = std::fs::read(dir.join(f)).expect("fixture file");
            (format!("crypto-tls/{f}"), data)
        })
        .collect()
}

/// Renders the fixture and returns its `stringData`.
fn render_secret(values_json: &str, env: &RenderEnvironment) -> BTreeMap<String, String> {
    let files = fixture_files();
    let request = RenderRequest {
        files: files
            .iter()
            .map(|(p, d)| ChartFile { path: p, data: d })
            .collect(),
        values_json,
        release: ReleaseInfo {
            name: "rel".into(),
            namespace: "ns".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: CapabilitiesInfo {
            kube_version: "v1.35.0".into(),
            api_versions: vec!["v1".into()],
            helm_version: "v4.1.4".into(),
        },
        limits: Limits::default(),
    };
    let out = render_in(&request, env).unwrap_or_else(|e| panic!("render failed: {}", e.message));
    let doc = helm_renderer::yaml::parse_document(&out.manifests[0].content).expect("yaml");
    let data = doc.map_get("stringData").expect("stringData");
    data.map_entries()
        .expect("a map")
        .into_iter()
        .map(|(k, v)| (k, v.as_str().expect("string").to_string()))
        .collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

fn fresh_environment(now: i64) -> RenderEnvironment {
    let mut entropy = now.to_le_bytes().to_vec();
    entropy.extend(std::process::id().to_le_bytes());
    RenderEnvironment {
        entropy,
        now_unix_seconds: now,
    }
}

fn tool(program: &str, args: &[&str], dir: &Path) -> (bool, String) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn openssl(args: &[&str], dir: &Path) -> String {
    let (ok, text) = tool("openssl", args, dir);
    assert!(ok, "openssl {args:?} failed: {text}");
    text
}

/// The public key of a certificate and of a private key, as openssl prints them.
fn assert_key_matches(cert: &str, key: &str, dir: &Path) {
    let from_cert = openssl(&["x509", "-in", cert, "-noout", "-pubkey"], dir);
    let from_key = openssl(&["pkey", "-in", key, "-pubout"], dir);
    assert_eq!(from_cert, from_key, "{key} is not the key of {cert}");
}

/// Valid a minute before `now + days` and expired a minute after.
fn assert_valid_for(cert: &str, ca: &str, now: i64, days: i64, dir: &Path) {
    let end = now + days * 86_400;
    let at = |t: i64| {
        let t = t.to_string();
        tool(
            "openssl",
            &["verify", "-attime", &t, "-CAfile", ca, cert],
            dir,
        )
    };
    let (ok, text) = at(now + 60);
    assert!(ok, "{cert} not valid right after issue: {text}");
    let (ok, text) = at(end - 60);
    assert!(ok, "{cert} not valid until day {days}: {text}");
    let (ok, text) = at(end + 60);
    assert!(
        !ok && text.contains("expired"),
        "{cert} still valid after day {days}: {text}"
    );
    let (ok, _) = at(now - 60);
    assert!(!ok, "{cert} valid before it was issued");
}

#[test]
fn generated_certificates_chain_and_carry_what_the_template_asked_for() {
    let now = unix_now();
    let data = render_secret("", &fresh_environment(now));
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in &data {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let d = dir.path();

    // Every certificate parses; the CA is a CA with the asked CN; the leaf has the CN and SANs.
    let ca = openssl(&["x509", "-in", "ca.crt", "-noout", "-text"], d);
    assert!(
        ca.contains("CN = crypto-test-ca") && ca.contains("CA:TRUE"),
        "{ca}"
    );
    assert!(
        ca.contains("Certificate Sign") && ca.contains("rsaEncryption"),
        "{ca}"
    );
    assert!(
        ca.contains("Public-Key: (2048 bit)"),
        "Sprig's genCA uses 2048-bit RSA: {ca}"
    );
    let leaf = openssl(&["x509", "-in", "tls.crt", "-noout", "-text"], d);
    assert!(leaf.contains(&format!("Subject: CN = {CN}")), "{leaf}");
    assert!(
        leaf.contains("Issuer: CN = crypto-test-ca") && leaf.contains("CA:FALSE"),
        "{leaf}"
    );
    assert!(
        leaf.contains(&format!(
            "DNS:{CN}, DNS:alt.example.com, IP Address:10.0.0.1, IP Address:0:0:0:0:0:0:0:1"
        )),
        "{leaf}"
    );
    assert!(leaf.contains("TLS Web Server Authentication, TLS Web Client Authentication"));
    // The leaf names its CA's key, as Go does.
    let ski = openssl(
        &[
            "x509",
            "-in",
            "ca.crt",
            "-noout",
            "-ext",
            "subjectKeyIdentifier",
        ],
        d,
    );
    let aki = openssl(
        &[
            "x509",
            "-in",
            "tls.crt",
            "-noout",
            "-ext",
            "authorityKeyIdentifier",
        ],
        d,
    );
    let key_id = ski.lines().nth(1).expect("key id").trim();
    assert!(aki.contains(key_id), "AKI {aki} does not name SKI {key_id}");

    // Chains and validity windows, with the days asked for.
    assert_valid_for("tls.crt", "ca.crt", now, DAYS, d);
    assert_valid_for("ca.crt", "ca.crt", now, DAYS, d);
    assert_valid_for("self.crt", "self.crt", now, DAYS, d);
    assert_valid_for("ed-leaf.crt", "ecdsa-ca.crt", now, DAYS, d);
    assert_valid_for("self-ec.crt", "self-ec.crt", now, DAYS, d);
    let (ok, text) = tool("openssl", &["verify", "-CAfile", "self.crt", "tls.crt"], d);
    assert!(!ok, "a leaf verified against the wrong CA: {text}");

    // Keys are what was asked for and belong to their certificates.
    for (cert, key) in [
        ("ca.crt", "ca.key"),
        ("tls.crt", "tls.key"),
        ("self.crt", "self.key"),
        ("ecdsa-ca.crt", "ecdsa-ca.key"),
        ("ed-leaf.crt", "ed-leaf.key"),
        ("self-ec.crt", "self-ec.key"),
    ] {
        assert_key_matches(cert, key, d);
    }
    assert!(data["tls.key"].starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
    assert!(data["ecdsa.key"].starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert!(data["ed25519.key"].starts_with("-----BEGIN PRIVATE KEY-----\n"));
    let ec = openssl(&["pkey", "-in", "ecdsa.key", "-noout", "-text"], d);
    assert!(ec.contains("NIST CURVE: P-256"), "{ec}");
    let ed = openssl(&["pkey", "-in", "ed25519.key", "-noout", "-text"], d);
    assert!(ed.contains("ED25519 Private-Key"), "{ed}");
    let ed_leaf = openssl(&["x509", "-in", "ed-leaf.crt", "-noout", "-text"], d);
    assert!(
        ed_leaf.contains("ecdsa-with-SHA256") && ed_leaf.contains("ED25519"),
        "{ed_leaf}"
    );
    let self_ec = openssl(
        &[
            "x509",
            "-in",
            "self-ec.crt",
            "-noout",
            "-ext",
            "subjectAltName",
        ],
        d,
    );
    assert!(self_ec.contains("IP Address:192.168.1.1"), "{self_ec}");
    assert_eq!(data["custom-same"], "true");
}

#[test]
fn htpasswd_and_aes_output_is_readable_by_the_real_tools() {
    let data = render_secret("", &fresh_environment(unix_now()));
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    std::fs::write(d.join("htpasswd"), format!("{}\n", data["htpasswd"])).expect("write");
    assert!(
        data["htpasswd"].starts_with("admin:$2a$10$"),
        "{}",
        data["htpasswd"]
    );
    let (ok, text) = tool("htpasswd", &["-vb", "htpasswd", "admin", "s3cret pass"], d);
    assert!(ok, "htpasswd rejects the right password: {text}");
    let (ok, _) = tool("htpasswd", &["-vb", "htpasswd", "admin", "wrong"], d);
    assert!(!ok, "htpasswd accepts a wrong password");

    // encryptAES: base64(IV ‖ AES-256-CBC(PKCS#7)), key = password zero-padded to 32 bytes.
    assert_eq!(data["aes.dec"], "attack at dawn");
    let raw = openssl_base64_decode(&data["aes.enc"], d);
    assert_eq!(raw.len(), 32, "one IV block and one data block");
    let key_hex: String = b"aes-password"
        .iter()
        .chain(std::iter::repeat(&0u8))
        .take(32)
        .map(|b| format!("{b:02x}"))
        .collect();
    let iv_hex: String = raw[..16].iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(d.join("body"), &raw[16..]).expect("write");
    let plain = openssl(
        &[
            "enc",
            "-d",
            "-aes-256-cbc",
            "-K",
            &key_hex,
            "-iv",
            &iv_hex,
            "-in",
            "body",
        ],
        d,
    );
    assert_eq!(plain, "attack at dawn");
}

fn openssl_base64_decode(text: &str, dir: &Path) -> Vec<u8> {
    std::fs::write(dir.join("b64"), format!("{text}\n")).expect("write");
    let out = Command::new("openssl")
        .args(["base64", "-d", "-A", "-in", "b64"])
        .current_dir(dir)
        .output()
        .expect("openssl base64");
    out.stdout
}

#[test]
fn the_same_entropy_renders_the_same_keys_and_other_entropy_does_not() {
    // Only what needs no RSA keygen, to keep the test quick; RSA draws from the same generator.
    let values = r#"{"parts":["withKey","ecdsa","ed25519","htpasswd","aes"]}"#;
    let env = || RenderEnvironment {
        entropy: b"fixed entropy for this test".to_vec(),
        now_unix_seconds: 1_800_000_000,
    };
    let first = render_secret(values, &env());
    assert_eq!(
        first,
        render_secret(values, &env()),
        "same entropy, different output"
    );
    let other = render_secret(
        values,
        &RenderEnvironment {
            entropy: b"other entropy".to_vec(),
            now_unix_seconds: 1_800_000_000,
        },
    );
    for key in [
        "ecdsa.key",
        "ed25519.key",
        "ecdsa-ca.crt",
        "htpasswd",
        "aes.enc",
    ] {
        assert_ne!(
            first[key], other[key],
            "{key} does not depend on the entropy"
        );
    }
    // Two keys in one render differ (the generator moves on).
    assert_ne!(first["ecdsa.key"], first["ecdsa-ca.key"]);
}
