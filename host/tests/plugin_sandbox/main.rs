//! Hostile plugins against the real sandbox: each misbehaviour must end in a
//! clear error within its limit, and the same plugin must serve the next call.
//! The modules attack what surrounds the sandbox: the precompiled cache, the
//! randomness and time a render gets, contract versions and validator choice.

mod cache_trust;
mod cli;
mod contract_versions;
mod render_crypto;
mod render_entropy;
mod render_fidelity;
mod side_by_side;
mod validator_choice;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k0rdent_mcp::plugin::contract::{Capabilities, ReleaseInfo, RenderInput, Timestamp};
use k0rdent_mcp::plugin::manifest::{self, PluginSource};
use k0rdent_mcp::plugin::{HostOptions, Limits, Plugin, PluginError, PluginHost};

fn test_plugin_dir() -> PathBuf {
    PathBuf::from(env!("K0RDENT_MCP_TEST_PLUGIN_DIR"))
}

fn source(name: &str) -> PluginSource {
    manifest::read_plugin(&test_plugin_dir().join(format!("{name}.plugin.json")))
        .expect("test plugin manifest")
}

fn limits() -> Limits {
    Limits {
        cpu: Duration::from_millis(500),
        memory_bytes: 32 * 1024 * 1024,
        output_bytes: 4 * 1024 * 1024,
        ..Limits::default()
    }
}

fn hostile_with(limits: Limits) -> Plugin {
    let host = PluginHost::new(HostOptions {
        limits,
        cache_dir: None,
    })
    .unwrap();
    host.load(&source("hostile-plugin"))
        .expect("hostile plugin loads")
}

fn input(mode: &str) -> RenderInput {
    RenderInput {
        files: Vec::new(),
        values_json: format!(r#"{{"mode":"{mode}"}}"#),
        release: ReleaseInfo {
            name: "sandbox-test".into(),
            namespace: "default".into(),
            revision: 1,
            is_install: true,
            is_upgrade: false,
            service: "Helm".into(),
        },
        capabilities: Capabilities {
            kube_version: "v1.33.0".into(),
            api_versions: vec!["v1".into()],
            helm_version: "v4.1.4".into(),
        },
        entropy: vec![7; 32],
        now: Timestamp {
            seconds: 0,
            nanoseconds: 0,
        },
    }
}

/// Runs a hostile mode, then proves the plugin still answers a normal call.
fn misbehave(plugin: &Plugin, mode: &str) -> Result<String, PluginError> {
    let outcome = match plugin.render(&input(mode)) {
        Ok(Ok(out)) => Ok(out.manifests[0].content.clone()),
        Ok(Err(plugin_error)) => Ok(format!("plugin refused: {}", plugin_error.message)),
        Err(sandbox_error) => Err(sandbox_error),
    };
    let normal = plugin
        .render(&input("ok"))
        .expect("sandbox ok")
        .expect("render ok");
    assert_eq!(normal.manifests[0].content, "release: sandbox-test\n");
    outcome
}

#[test]
fn a_normal_call_renders() {
    let plugin = hostile_with(limits());
    let out = plugin.render(&input("ok")).unwrap().unwrap();
    assert_eq!(out.manifests.len(), 1);
    assert_eq!(out.manifests[0].source, "hostile/templates/out.yaml");
    assert_eq!(plugin.info().name, "hostile-plugin");
    assert_eq!(plugin.export(), "k0rdent:chart/render@0.4.0");
}

#[test]
fn an_endless_loop_hits_the_cpu_limit() {
    let plugin = hostile_with(limits());
    let started = Instant::now();
    let err = misbehave(&plugin, "loop").unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, PluginError::CpuLimit { .. }), "{err}");
    assert!(err.to_string().contains("hostile-plugin"), "{err}");
    assert!(err.to_string().contains("500 ms"), "{err}");
    assert!(
        elapsed < Duration::from_secs(3),
        "stopped after {elapsed:?}"
    );
}

#[test]
fn unbounded_allocation_hits_the_memory_limit() {
    let plugin = hostile_with(limits());
    let err = misbehave(&plugin, "alloc").unwrap_err();
    assert!(matches!(err, PluginError::MemoryLimit { .. }), "{err}");
    assert!(err.to_string().contains("memory limit of 32 MiB"), "{err}");
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let plugin = hostile_with(limits());
    let err = misbehave(&plugin, "panic").unwrap_err();
    assert!(matches!(err, PluginError::Panicked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("hostile plugin panicked on purpose"),
        "{err}"
    );
}

#[test]
fn deep_recursion_traps_cleanly() {
    // A Rust guest's stack lives in linear memory: overflowing it surfaces as
    // an out-of-bounds access, which must stay inside the sandbox.
    let plugin = hostile_with(limits());
    let err = misbehave(&plugin, "recurse").unwrap_err();
    assert!(matches!(err, PluginError::Trapped { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("plugin hostile-plugin trapped: "),
        "{err}"
    );
}

#[test]
fn an_oversized_result_hits_the_output_limit() {
    let plugin = hostile_with(limits());
    let err = misbehave(&plugin, "oversize").unwrap_err();
    assert!(matches!(err, PluginError::OutputLimit { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("over the output limit of 4194304 bytes"),
        "{err}"
    );
}

/// Either the import is a trap that names itself, or the guest's own std
/// reports the operation as unavailable; both are clear, and nothing leaks.
fn assert_denied(outcome: Result<String, PluginError>, what: &str) {
    match outcome {
        Err(PluginError::Denied { import, .. }) => {
            assert!(import.starts_with(what), "denied {import}, expected {what}")
        }
        Err(other) => panic!("expected a denial of {what}, got: {other}"),
        Ok(text) => assert!(
            text.starts_with("plugin refused:")
                && !text.contains("stolen")
                && !text.contains("connected"),
            "{what} was not denied: {text}"
        ),
    }
}

#[test]
fn files_are_not_reachable() {
    let plugin = hostile_with(limits());
    assert_denied(misbehave(&plugin, "read-file"), "wasi:filesystem");
}

#[test]
fn sockets_are_not_reachable() {
    let plugin = hostile_with(limits());
    assert_denied(misbehave(&plugin, "socket"), "wasi:sockets");
}

#[test]
fn the_environment_is_empty() {
    // SAFETY: set before any plugin runs in this test process.
    unsafe { std::env::set_var("K0RDENT_MCP_SECRET_FOR_TEST", "must-not-leak") };
    let plugin = hostile_with(limits());
    let outcome = misbehave(&plugin, "env").unwrap();
    assert!(!outcome.contains("must-not-leak"), "{outcome}");
    assert_eq!(
        outcome,
        "plugin refused: env failed: no environment variables are visible"
    );
}

#[test]
fn there_is_no_clock() {
    let plugin = hostile_with(limits());
    assert_denied(misbehave(&plugin, "clock"), "wasi:clocks");
}

#[test]
fn exit_is_an_error_not_a_host_exit() {
    let plugin = hostile_with(limits());
    let err = misbehave(&plugin, "exit").unwrap_err();
    // wasi:cli/exit in 0.2 carries only success or failure, so 3 arrives as 1.
    assert!(
        err.to_string()
            .contains("called exit(1) instead of returning"),
        "{err}"
    );
}

#[test]
fn a_tampered_component_is_refused() {
    let mut tampered = source("hostile-plugin");
    let last = tampered.bytes.len() - 1;
    tampered.bytes[last] ^= 0xff;
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let err = host.load(&tampered).unwrap_err();
    assert!(matches!(err, PluginError::DigestMismatch { .. }), "{err}");
    assert!(err.to_string().contains(&tampered.manifest.sha256), "{err}");
}

#[test]
fn a_tampered_component_on_disk_is_refused_when_read() {
    let dir = tempfile::tempdir().unwrap();
    copy_plugin(
        &test_plugin_dir(),
        dir.path(),
        "hostile-plugin",
        "hostile_plugin.wasm",
    );
    let wasm = dir.path().join("hostile_plugin.wasm");
    let mut bytes = std::fs::read(&wasm).unwrap();
    bytes.push(0);
    std::fs::write(&wasm, bytes).unwrap();
    let err = manifest::read_plugin_dir(dir.path()).unwrap_err();
    assert!(matches!(err, PluginError::DigestMismatch { .. }), "{err}");
}

#[test]
fn an_unsupported_contract_version_is_refused() {
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let err = host.load(&source("future-contract")).unwrap_err();
    assert!(
        matches!(err, PluginError::UnsupportedContract { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("built against k0rdent:chart@0.5.0")
            && text.contains("supports k0rdent:chart@0.4.0"),
        "{text}"
    );
}

#[test]
fn a_renderer_declared_as_a_validator_is_refused() {
    let mut wrong = source("hostile-plugin");
    wrong.manifest.world = k0rdent_mcp::plugin::World::Validator;
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let err = host.load(&wrong).unwrap_err();
    assert!(matches!(err, PluginError::WrongWorld { .. }), "{err}");
}

#[test]
fn the_precompiled_cache_is_used_on_the_second_load() {
    use k0rdent_mcp::plugin::compiled_cache::CacheOutcome;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let options = HostOptions {
        limits: limits(),
        cache_dir: Some(cache.clone()),
    };
    let first = PluginHost::new(options.clone())
        .unwrap()
        .load(&source("hostile-plugin"))
        .unwrap();
    assert_eq!(first.cache_outcome(), CacheOutcome::Compiled);
    let second = PluginHost::new(options.clone())
        .unwrap()
        .load(&source("hostile-plugin"))
        .unwrap();
    assert_eq!(second.cache_outcome(), CacheOutcome::Hit);
    second.render(&input("ok")).unwrap().unwrap();

    // A corrupted entry is recompiled, never trusted.
    let entry = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .unwrap();
    std::fs::write(&entry, b"garbage").unwrap();
    let third = PluginHost::new(options)
        .unwrap()
        .load(&source("hostile-plugin"))
        .unwrap();
    assert_eq!(third.cache_outcome(), CacheOutcome::Compiled);
    third.render(&input("ok")).unwrap().unwrap();
}

#[test]
fn plugins_load_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    copy_plugin(
        &test_plugin_dir(),
        dir.path(),
        "hostile-plugin",
        "hostile_plugin.wasm",
    );
    let sources = manifest::read_plugin_dir(dir.path()).unwrap();
    assert_eq!(sources.len(), 1);
    let host = PluginHost::new(HostOptions::default()).unwrap();
    let set = k0rdent_mcp::plugin::selection::PluginSet::load(&host, &sources).unwrap();
    let chosen = set
        .select(k0rdent_mcp::plugin::World::Renderer, "anything", "1.0.0")
        .unwrap();
    assert_eq!(chosen.manifest().name, "hostile-plugin");
    let err = set
        .select(k0rdent_mcp::plugin::World::Validator, "kgst", "2.0.2")
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("no validator plugin handles chart kgst 2.0.2"),
        "{err}"
    );
}

fn copy_plugin(from: &Path, to: &Path, name: &str, wasm: &str) {
    let manifest = format!("{name}.plugin.json");
    std::fs::copy(from.join(&manifest), to.join(&manifest)).unwrap();
    std::fs::copy(from.join(wasm), to.join(wasm)).unwrap();
}
