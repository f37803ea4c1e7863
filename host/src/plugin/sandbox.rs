//! The store a plugin runs in: which WASI interfaces exist, how limits are
//! enforced, and how a failed call is turned into a [`PluginError`].
//!
//! A wasm32-wasip2 std guest imports wasi:io and wasi:cli even for pure string
//! work, and wasi:random once it builds a `HashMap`. Those are linked here with
//! nothing behind them: no environment, no arguments, closed stdin, discarded
//! stdout, a bounded in-memory stderr (to report panics) and a fixed-seed RNG
//! (enough for hash tables). Secrets never come from it: a renderer gets
//! per-render entropy and the time in its input (`k0rdent:chart@0.2`).
//! A renderer's one host import of substance is `k0rdent:chart/keys`
//! (`k0rdent:chart@0.4`, see [`super::keys`]), a pure function.
//! Everything else a component imports (filesystem, sockets, clocks, …) is
//! linked as a trap.

use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, HasData, Linker, ResourceTable, ResourceType};
use wasmtime::{Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::p2::bindings::{cli, random, sync::io};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::random::{WasiRandom, WasiRandomView as _};
use wasmtime_wasi::{Deterministic, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::contract::renderer::k0rdent::chart::keys as keys_import;
use super::keys::KeyService;
use super::{Limits, PluginError};

/// Seed for the guest's `wasi:random`. Fixed on purpose: a plugin must be a
/// pure function of its inputs, randomness included (`render-input.entropy`).
const RANDOM_SEED: [u8; 8] = *b"k0rdent!";

pub struct SandboxState {
    wasi: WasiCtx,
    table: ResourceTable,
    memory: MemoryLimiter,
    stderr: MemoryOutputPipe,
    keys: KeyService,
}

impl WasiView for SandboxState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

struct HasTable;

impl HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

struct HasKeys;

impl HasData for HasKeys {
    type Data<'a> = &'a mut KeyService;
}

/// Caps linear memory and tables, and remembers what tripped the cap so the
/// error can say so (wasmtime alone reports an opaque trap).
struct MemoryLimiter {
    limit: usize,
    exceeded_with: Option<usize>,
}

/// A table element costs a pointer; this bounds tables to the memory budget.
const TABLE_ELEMENT_BYTES: usize = std::mem::size_of::<usize>();

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            self.exceeded_with = Some(desired);
            wasmtime::bail!("memory limit of {} bytes reached", self.limit);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let bytes = desired.saturating_mul(TABLE_ELEMENT_BYTES);
        if bytes > self.limit {
            self.exceeded_with = Some(bytes);
            wasmtime::bail!("table limit of {} bytes reached", self.limit);
        }
        Ok(true)
    }
}

/// The interfaces every plugin may import (see module docs).
pub fn base_linker(engine: &Engine) -> wasmtime::Result<Linker<SandboxState>> {
    let mut linker = Linker::new(engine);
    let l = &mut linker;
    io::error::add_to_linker::<SandboxState, HasTable>(l, |s| &mut s.table)?;
    io::poll::add_to_linker::<SandboxState, HasTable>(l, |s| &mut s.table)?;
    io::streams::add_to_linker::<SandboxState, HasTable>(l, |s| &mut s.table)?;
    cli::environment::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::exit::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::stdin::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::stdout::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::stderr::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::terminal_input::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::terminal_output::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::terminal_stdin::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::terminal_stdout::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    cli::terminal_stderr::add_to_linker::<SandboxState, WasiCli>(l, SandboxState::cli)?;
    random::random::add_to_linker::<SandboxState, WasiRandom>(l, SandboxState::random)?;
    random::insecure::add_to_linker::<SandboxState, WasiRandom>(l, SandboxState::random)?;
    random::insecure_seed::add_to_linker::<SandboxState, WasiRandom>(l, SandboxState::random)?;
    keys_import::add_to_linker::<SandboxState, HasKeys>(l, |s| &mut s.keys)?;
    Ok(linker)
}

/// Interfaces [`base_linker`] provides; every other import is denied.
const GRANTED: &[&str] = &[
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "k0rdent:chart/keys",
];

/// Raised when a plugin calls an import the sandbox does not grant.
#[derive(Debug)]
struct DeniedImport(String);

impl std::fmt::Display for DeniedImport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "call to ungranted import {}", self.0)
    }
}

impl std::error::Error for DeniedImport {}

/// Links every import of `component` outside [`GRANTED`] as a function that
/// fails with [`DeniedImport`], so a component that merely links std (which
/// references files, sockets and clocks) instantiates, and only an actual use
/// fails. wasmtime's own `define_unknown_imports_as_traps` is not used: it
/// shadows the semver-compatible WASI definitions already in the linker.
pub fn deny_ungranted_imports(
    linker: &mut Linker<SandboxState>,
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<()> {
    let component_type = component.component_type();
    for (import, item) in component_type.imports(engine) {
        let unversioned = import.split('@').next().unwrap_or(import);
        if GRANTED.contains(&unversioned) {
            continue;
        }
        match &item.ty {
            ComponentItem::ComponentInstance(instance_type) => {
                let mut instance = linker.instance(import)?;
                for (name, export) in instance_type.exports(engine) {
                    match export.ty {
                        ComponentItem::ComponentFunc(_) => {
                            let qualified = format!("{import}#{name}");
                            instance.func_new(name, move |_, _, _, _| {
                                Err(wasmtime::Error::new(DeniedImport(qualified.clone())))
                            })?;
                        }
                        ComponentItem::Resource(_) => {
                            instance.resource(name, denied_resource_type(name), |_, _| Ok(()))?;
                        }
                        _ => {}
                    }
                }
            }
            ComponentItem::ComponentFunc(_) => {
                let qualified = import.to_string();
                linker.root().func_new(import, move |_, _, _, _| {
                    Err(wasmtime::Error::new(DeniedImport(qualified.clone())))
                })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Denied interfaces re-export wasi:io's resources (a clock's `pollable`, a
/// file's `input-stream`); those must keep the type the granted wasi:io uses
/// or linking fails. Every other resource of a denied interface is opaque.
fn denied_resource_type(name: &str) -> ResourceType {
    use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable};
    match name {
        "pollable" => ResourceType::host::<DynPollable>(),
        "input-stream" => ResourceType::host::<DynInputStream>(),
        "output-stream" => ResourceType::host::<DynOutputStream>(),
        "error" => ResourceType::host::<wasmtime_wasi::p2::IoError>(),
        _ => ResourceType::host::<()>(),
    }
}

/// A fresh store for one call, with the limits armed.
pub fn new_store(engine: &Engine, limits: &Limits) -> Store<SandboxState> {
    let stderr = MemoryOutputPipe::new(limits.stderr_bytes);
    let wasi = WasiCtxBuilder::new()
        .stderr(stderr.clone())
        .secure_random(Deterministic::new(RANDOM_SEED.to_vec()))
        .insecure_random(Deterministic::new(RANDOM_SEED.to_vec()))
        .insecure_random_seed(u128::from_le_bytes(*b"k0rdent-mcp-seed"))
        .build();
    let state = SandboxState {
        wasi,
        table: ResourceTable::new(),
        memory: MemoryLimiter {
            limit: usize::try_from(limits.memory_bytes).unwrap_or(usize::MAX),
            exceeded_with: None,
        },
        stderr,
        keys: KeyService::new(std::time::Instant::now() + limits.cpu),
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.memory);
    store.set_epoch_deadline(limits.epoch_ticks());
    store.epoch_deadline_trap();
    store
}

/// Explains why a call into `plugin` failed, in terms of the limit or
/// capability involved rather than wasmtime internals.
pub fn classify_failure(
    plugin: &str,
    limits: &Limits,
    store: &Store<SandboxState>,
    error: wasmtime::Error,
) -> PluginError {
    let plugin = plugin.to_string();
    if let Some(requested) = store.data().memory.exceeded_with {
        return PluginError::MemoryLimit {
            plugin,
            limit_bytes: limits.memory_bytes,
            requested_bytes: requested as u64,
        };
    }
    if matches!(error.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return PluginError::CpuLimit {
            plugin,
            limit: limits.cpu,
        };
    }
    if let Some(DeniedImport(import)) = error.downcast_ref::<DeniedImport>() {
        return PluginError::Denied {
            plugin,
            import: import.clone(),
        };
    }
    if let Some(exit) = error.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return PluginError::Trapped {
            plugin,
            message: format!("the plugin called exit({}) instead of returning", exit.0),
        };
    }
    let stderr = String::from_utf8_lossy(&store.data().stderr.contents()).into_owned();
    if let Some(message) = panic_message(&stderr) {
        return PluginError::Panicked { plugin, message };
    }
    let message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => first_line(&format!("{error:#}")).to_string(),
    };
    PluginError::Trapped { plugin, message }
}

/// Rust's panic hook prints `panicked at <file>:<line>:<col>:\n<message>`.
fn panic_message(stderr: &str) -> Option<String> {
    let after = stderr.split("panicked at ").nth(1)?;
    let mut lines = after.lines();
    let location = lines.next().unwrap_or("").trim_end_matches(':');
    let message: Vec<&str> = lines
        .take_while(|l| !l.starts_with("note: "))
        .filter(|l| !l.is_empty())
        .collect();
    Some(format!("{} (at {location})", message.join(" ")))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rusts_panic_output() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:71:24:\nboom here\nnote: run with `RUST_BACKTRACE=1`\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom here (at src/lib.rs:71:24)")
        );
        assert_eq!(panic_message("nothing"), None);
    }
}
