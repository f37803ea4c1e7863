//! Builds the wasm plugins (every workspace crate with
//! `[package.metadata.k0rdent-plugin]`) for wasm32-wasip2 and embeds the
//! default set into the host, so `cargo build` alone yields a complete binary.
//! Test-only plugins (`embed = false`) are built too and handed to the tests
//! through `K0RDENT_MCP_TEST_PLUGIN_DIR`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const WASM_TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "plugin";

struct PluginCrate {
    name: String,
    version: String,
    world: String,
    embed: bool,
    /// The crate's folder; golden cases in its `selftest/` go beside the plugin.
    dir: PathBuf,
}

fn main() {
    let manifest_dir = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ lives in the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env("OUT_DIR"));
    for watched in [
        "plugins",
        "crates",
        "tests/plugins",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        watch(&workspace.join(watched));
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let crates = plugin_crates(&cargo, &workspace);
    // One folder per checkout: cargo copies a plugin's final `.wasm` to a path that does not depend
    // on where its sources live, so two checkouts sharing CARGO_TARGET_DIR (the default cache is
    // shared on purpose) would otherwise embed each other's plugins.
    let checkout = hex::encode(&Sha256::digest(workspace.as_os_str().as_encoded_bytes())[..8]);
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"))
        .join("wasm-plugins")
        .join(checkout);
    if !crates.is_empty() {
        build_plugins(&cargo, &workspace, &target_dir, &crates);
    }

    let embedded_dir = out_dir.join("embedded-plugins");
    let test_dir = out_dir.join("test-plugins");
    for dir in [&embedded_dir, &test_dir] {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).expect("creating plugin output folder");
    }
    let mut table = String::from("&[\n");
    for c in &crates {
        let file = format!("{}.wasm", c.name.replace('-', "_"));
        let built = target_dir.join(WASM_TARGET).join(PROFILE).join(&file);
        let bytes = std::fs::read(&built).unwrap_or_else(|e| {
            panic!(
                "plugin {} was not produced at {}: {e}",
                c.name,
                built.display()
            )
        });
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let dir = if c.embed { &embedded_dir } else { &test_dir };
        let dest = dir.join(&file);
        std::fs::write(&dest, &bytes).expect("copying plugin");
        let manifest = format!(
            "{{\n  \"name\": \"{}\",\n  \"version\": \"{}\",\n  \"world\": \"{}\",\n  \"sha256\": \"{sha256}\",\n  \"component\": \"{file}\"\n}}\n",
            c.name, c.version, c.world
        );
        std::fs::write(dir.join(format!("{}.plugin.json", c.name)), &manifest)
            .expect("writing plugin manifest");
        copy_golden_cases(&c.dir.join("selftest"), &dir.join("selftest").join(&c.name));
        if c.embed {
            writeln!(
                table,
                "    EmbeddedPlugin {{ name: {:?}, version: {:?}, world: {:?}, sha256: {sha256:?}, component: {file:?}, bytes: include_bytes!({:?}) }},",
                c.name,
                c.version,
                c.world,
                dest.display().to_string()
            )
            .unwrap();
        }
    }
    table.push(']');
    std::fs::write(out_dir.join("embedded_plugins.rs"), table).expect("writing embedded table");
    println!(
        "cargo:rustc-env=K0RDENT_MCP_TEST_PLUGIN_DIR={}",
        test_dir.display()
    );
}

/// A plugin crate's `selftest/*.json` become its golden cases in the plugin
/// folder layout (`selftest/<name>/`), as `plugins push` and the server read them.
fn copy_golden_cases(from: &Path, to: &Path) {
    let Ok(entries) = std::fs::read_dir(from) else {
        return;
    };
    std::fs::create_dir_all(to).expect("creating golden case folder");
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&path, to.join(path.file_name().unwrap())).expect("copying golden case");
        }
    }
}

/// Cargo's own scan of a watched folder misses edits inside nested packages,
/// so every file (and folder, to catch additions) is named explicitly.
fn watch(path: &Path) {
    println!("cargo:rerun-if-changed={}", path.display());
    let Ok(entries) = std::fs::read_dir(path) else {
        return;
    };
    for entry in entries.flatten() {
        let child = entry.path();
        let skip = child
            .file_name()
            .is_some_and(|n| n == "target" || n.to_string_lossy().starts_with('.'));
        if !skip {
            watch(&child);
        }
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("cargo sets {name} for build scripts"))
}

/// A nested cargo must not inherit the outer build's settings (target dir,
/// flags meant for the host target, clippy's wrapper, the jobserver).
fn nested_cargo(cargo: &str, workspace: &Path) -> Command {
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace);
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        let inherited_build_setting = (key.starts_with("CARGO_") && key != "CARGO_HOME")
            || matches!(
                key.as_str(),
                "RUSTFLAGS" | "RUSTC_WRAPPER" | "RUSTC_WORKSPACE_WRAPPER" | "MAKEFLAGS" | "MFLAGS"
            );
        if inherited_build_setting {
            cmd.env_remove(&key);
        }
    }
    cmd
}

fn plugin_crates(cargo: &str, workspace: &Path) -> Vec<PluginCrate> {
    let output = nested_cargo(cargo, workspace)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .expect("running cargo metadata");
    if !output.status.success() {
        panic!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let mut crates = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let plugin = &package["metadata"]["k0rdent-plugin"];
        let Some(world) = plugin["world"].as_str() else {
            continue;
        };
        assert!(
            matches!(world, "renderer" | "validator"),
            "{}: k0rdent-plugin.world must be \"renderer\" or \"validator\"",
            package["name"]
        );
        crates.push(PluginCrate {
            name: package["name"].as_str().unwrap().to_string(),
            version: package["version"].as_str().unwrap().to_string(),
            world: world.to_string(),
            embed: plugin["embed"].as_bool().unwrap_or(true),
            dir: Path::new(package["manifest_path"].as_str().unwrap())
                .parent()
                .unwrap()
                .to_path_buf(),
        });
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    crates
}

fn build_plugins(cargo: &str, workspace: &Path, target_dir: &Path, crates: &[PluginCrate]) {
    let mut cmd = nested_cargo(cargo, workspace);
    cmd.args([
        "build",
        "--target",
        WASM_TARGET,
        "--profile",
        PROFILE,
        "--target-dir",
    ])
    .arg(target_dir);
    for c in crates {
        cmd.args(["-p", &c.name]);
    }
    let output = cmd.output().expect("running cargo for the wasm plugins");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains(WASM_TARGET) && stderr.contains("target may not be installed")
        {
            "\nhint: run `rustup target add wasm32-wasip2`"
        } else {
            ""
        };
        panic!("building the wasm plugins failed:\n{stderr}{hint}");
    }
}
