//! Runs the real `k0rdent-mcp` binary, and writes small charts for it to render.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A precompiled cache the CLI tests share (the renderer takes seconds to
/// compile in a debug build); concurrent runs are part of what it must bear.
pub fn shared_cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugin-sandbox-cache")
}

/// `k0rdent-mcp <args>` with the shared cache, no inherited configuration.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = command();
    cmd.env("K0RDENT_MCP_PLUGIN_CACHE_DIR", shared_cache_dir());
    cmd.args(args).envs(env.iter().copied());
    cmd.output().expect("running k0rdent-mcp")
}

/// The binary with every `K0RDENT_MCP_*` variable of this process removed.
pub fn command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_k0rdent-mcp"));
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("K0RDENT_MCP_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("K0RDENT_MCP_LOG_FORMAT", "text");
    cmd
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts success and returns stdout.
pub fn ok(out: Output) -> String {
    assert!(
        out.status.success(),
        "k0rdent-mcp failed ({}):\n{}",
        out.status,
        stderr(&out)
    );
    stdout(&out)
}

/// A chart folder `<parent>/<name>` with one template.
pub fn chart(parent: &Path, name: &str, version: &str, template: &str) -> PathBuf {
    let dir = parent.join(name);
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    std::fs::write(
        dir.join("Chart.yaml"),
        format!("apiVersion: v2\nname: {name}\nversion: {version}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("templates/cm.yaml"), template).unwrap();
    dir
}
