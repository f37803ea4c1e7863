//! The precompiled cache holds native code the host runs without further
//! checks, so every way of getting code into it is attacked here.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use k0rdent_mcp::plugin::compiled_cache::CacheOutcome;
use k0rdent_mcp::plugin::manifest::PluginSource;
use k0rdent_mcp::plugin::{HostOptions, PluginHost, embedded};

use super::{cli, input, limits, source};

fn host_with_cache(dir: &Path) -> PluginHost {
    PluginHost::new(HostOptions {
        limits: limits(),
        cache_dir: Some(dir.to_path_buf()),
    })
    .expect("a refused cache is not fatal")
}

fn helm_renderer() -> PluginSource {
    embedded::sources()
        .into_iter()
        .find(|s| s.manifest.name == "helm-renderer")
        .expect("helm-renderer is embedded")
}

/// The cache entry of the component with digest `sha256`.
fn entry_of(cache: &Path, sha256: &str) -> PathBuf {
    std::fs::read_dir(cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "cwasm")
                && p.file_name().unwrap().to_string_lossy().starts_with(sha256)
        })
        .unwrap_or_else(|| panic!("no cache entry for {sha256} in {}", cache.display()))
}

/// Loads the victim (the hostile test plugin in its `ok` mode) from a cache
/// where its entry was replaced, and proves its own code ran, freshly compiled.
fn assert_victim_runs_its_own_code(cache: &Path, planted: &str) {
    let victim = host_with_cache(cache)
        .load(&source("hostile-plugin"))
        .unwrap_or_else(|e| panic!("{planted}: the planted entry was loaded: {e}"));
    assert_eq!(
        victim.cache_outcome(),
        CacheOutcome::Compiled,
        "{planted}: the planted entry must be recompiled"
    );
    assert_eq!(victim.info().name, "hostile-plugin", "{planted}");
    let out = victim.render(&input("ok")).unwrap().unwrap();
    assert_eq!(
        out.manifests[0].content, "release: sandbox-test\n",
        "{planted}"
    );
}

#[test]
fn a_planted_cwasm_is_never_deserialized() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let host = host_with_cache(&cache);
    let victim_source = source("hostile-plugin");
    let other_source = helm_renderer();
    host.load(&victim_source).unwrap();
    host.load(&other_source).unwrap();
    let victim_entry = entry_of(&cache, &victim_source.manifest.sha256);
    let other_entry = entry_of(&cache, &other_source.manifest.sha256);
    // Native code of a different real component, compiled by the same engine
    // configuration, so only the integrity record can tell it apart.
    let other_native = host
        .engine()
        .precompile_component(&other_source.bytes)
        .unwrap();

    std::fs::write(&victim_entry, &other_native).unwrap();
    assert_victim_runs_its_own_code(&cache, "bare .cwasm of helm-renderer");

    // A genuine entry, with a genuine record, for the other component.
    std::fs::copy(&other_entry, &victim_entry).unwrap();
    assert_victim_runs_its_own_code(&cache, "helm-renderer's own entry, renamed");

    // A record forged without the host's key: the header layout, a digest of
    // the code where the MAC belongs.
    let mut forged = b"K0CWASM1".to_vec();
    forged.extend_from_slice(&sha2_digest(&other_native));
    forged.extend_from_slice(&other_native);
    std::fs::write(&victim_entry, &forged).unwrap();
    assert_victim_runs_its_own_code(&cache, "helm-renderer with a forged record");

    // And after all that, the recompiled entry is trusted again.
    let again = host_with_cache(&cache).load(&victim_source).unwrap();
    assert_eq!(again.cache_outcome(), CacheOutcome::Hit);
}

fn sha2_digest(bytes: &[u8]) -> Vec<u8> {
    hex_decode(&k0rdent_mcp::plugin::manifest::sha256_hex(bytes))
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn a_cache_below_a_shared_parent_is_refused_with_a_logged_reason() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let cache = shared.join("cache");

    let host = host_with_cache(&cache);
    let refusal = host.cache_refusal().expect("refused");
    assert!(
        refusal.contains(&shared.display().to_string())
            && refusal.contains("writable by group or others"),
        "{refusal}"
    );
    let plugin = host.load(&source("hostile-plugin")).unwrap();
    assert_eq!(plugin.cache_outcome(), CacheOutcome::Uncached);
    assert!(!cache.exists(), "nothing may be created below {shared:?}");

    // The same through the CLI: it still works, and the log says why.
    let out = cli::command()
        .args(["plugins", "list", "--plugin-cache-dir"])
        .arg(&cache)
        .output()
        .unwrap();
    let stderr = cli::stderr(&out);
    cli::ok(out);
    assert!(
        stderr.contains("not using the precompiled plugin cache")
            && stderr.contains("writable by group or others"),
        "{stderr}"
    );
    assert!(!cache.exists());
}

/// The CI runs as root: give the directory to `nobody`. Anyone else tests
/// against a directory root owns, which is just as foreign.
fn foreign_dir(parent: &Path) -> PathBuf {
    let dir = parent.join("foreign");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    if running_as_root() {
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        dir
    } else {
        PathBuf::from("/")
    }
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    // A file this process creates is owned by its effective uid.
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

#[test]
fn a_cache_dir_another_user_owns_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let foreign = foreign_dir(dir.path());
    for (cache, what) in [
        (foreign.clone(), "the cache directory itself"),
        (foreign.join("cache"), "a parent"),
    ] {
        let host = host_with_cache(&cache);
        let refusal = host
            .cache_refusal()
            .unwrap_or_else(|| panic!("{what} owned by another user was accepted"));
        // Without root the stand-in parent is `/`, where creating fails first.
        if running_as_root() || foreign == cache {
            assert!(refusal.contains("belongs to uid"), "{what}: {refusal}");
        }
        let plugin = host.load(&source("hostile-plugin")).unwrap();
        assert_eq!(plugin.cache_outcome(), CacheOutcome::Uncached, "{what}");
    }
}

#[test]
fn without_home_or_xdg_nothing_is_written_under_tmpdir() {
    let tmp = tempfile::tempdir().unwrap();
    let out = cli::command()
        .args(["plugins", "list"])
        .env_remove("HOME")
        .env_remove("XDG_CACHE_HOME")
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let listed = cli::ok(out);
    assert!(listed.contains("helm-renderer"), "{listed}");
    let written: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(written.is_empty(), "written under $TMPDIR: {written:?}");
}
