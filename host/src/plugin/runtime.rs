//! The plugin host: one wasmtime engine, an epoch ticker for CPU limits, and
//! loaded plugins that each get a fresh, limited instance per call.
//!
//! Instances are never reused: an instance that trapped cannot be re-entered,
//! and a fresh one costs tens of microseconds (see `benches/plugin_runtime.rs`
//! and docs/plugin-runtime.md), far below a render.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, Store};

use super::compiled_cache::{CacheOutcome, CompiledCache, load_error};
use super::contract::{
    self, ChartMetadata, ContractVersion, InstallIntent, PluginInfo, RenderError, RenderInput,
    RenderOutput, ValidateInput, Violation, World, renderer::RendererPre, v0_1, v0_2, v0_3,
    validator::ValidatorPre,
};
use super::legacy;
use super::limits::EPOCH_TICK;
use super::manifest::{PluginManifest, PluginSource};
use super::sandbox::{self, SandboxState};
use super::{Limits, PluginError};

#[derive(Debug, Clone, Default)]
pub struct HostOptions {
    pub limits: Limits,
    /// Where precompiled components are kept; `None` compiles on every start.
    /// A directory that fails [`CompiledCache::open`]'s checks is not used:
    /// the host logs why and compiles in memory.
    pub cache_dir: Option<PathBuf>,
}

/// Shared by the host and every plugin it loaded.
struct Shared {
    engine: Engine,
    linker: Linker<SandboxState>,
    limits: Limits,
    cache: Option<CompiledCache>,
    /// Why the configured cache directory is not used, if it is not.
    cache_refusal: Option<String>,
}

#[derive(Clone)]
pub struct PluginHost {
    shared: Arc<Shared>,
}

impl PluginHost {
    pub fn new(options: HostOptions) -> Result<Self, PluginError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(true);
        let engine = Engine::new(&config)
            .map_err(|e| PluginError::Runtime(format!("cannot create engine: {e:#}")))?;
        let linker = sandbox::base_linker(&engine)
            .map_err(|e| PluginError::Runtime(format!("cannot link WASI: {e:#}")))?;
        let (cache, cache_refusal) = match options.cache_dir.as_deref() {
            None => (None, None),
            Some(dir) => match CompiledCache::open(dir, &engine) {
                Ok(cache) => (Some(cache), None),
                Err(refusal) => {
                    // Not fatal: compiling in memory is slower, never less safe.
                    tracing::warn!(
                        reason = %refusal,
                        "not using the precompiled plugin cache; compiling plugins in memory"
                    );
                    (None, Some(refusal.to_string()))
                }
            },
        };
        spawn_epoch_ticker(&engine);
        Ok(PluginHost {
            shared: Arc::new(Shared {
                engine,
                linker,
                limits: options.limits,
                cache,
                cache_refusal,
            }),
        })
    }

    /// Why the configured precompiled cache is not in use (`None` when it is,
    /// or when none was configured).
    pub fn cache_refusal(&self) -> Option<&str> {
        self.shared.cache_refusal.as_deref()
    }

    pub fn limits(&self) -> &Limits {
        &self.shared.limits
    }

    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Verifies, compiles (or loads from cache), checks the contract version
    /// and links a plugin, then asks it to describe itself and checks that the
    /// description matches its manifest.
    pub fn load(&self, source: &PluginSource) -> Result<Plugin, PluginError> {
        self.load_checked(source, true)
    }

    /// Loads a bare component that came without a manifest (`plugins test
    /// x.wasm`): its world is whichever it exports, its name and version
    /// whatever it describes itself as. Never for serving: only a manifest
    /// pins what a plugin claims to be.
    pub fn load_bare(&self, bytes: Vec<u8>, origin: &str) -> Result<Plugin, PluginError> {
        let mut refusal = None;
        for world in [World::Validator, World::Renderer] {
            let source = PluginSource {
                manifest: PluginManifest {
                    name: "unnamed".into(),
                    version: "0".into(),
                    world,
                    sha256: super::manifest::sha256_hex(&bytes),
                    component: "component.wasm".into(),
                },
                bytes: bytes.clone(),
                origin: origin.to_string(),
            };
            match self.load_checked(&source, false) {
                Ok(plugin) => return Ok(plugin),
                Err(e) => refusal = Some(e),
            }
        }
        Err(refusal.expect("two worlds were tried"))
    }

    fn load_checked(
        &self,
        source: &PluginSource,
        check_identity: bool,
    ) -> Result<Plugin, PluginError> {
        let manifest = &source.manifest;
        let name = manifest.name.as_str();
        manifest
            .validate()
            .map_err(|message| PluginError::Manifest {
                path: source.origin.clone(),
                message,
            })?;
        manifest.verify(&source.bytes)?;

        let started = Instant::now();
        let (component, cache) = self.compile(name, &manifest.sha256, &source.bytes)?;
        let compile_time = started.elapsed();

        let component_type = component.component_type();
        let engine = &self.shared.engine;
        let (export, contract) = contract::check_exports(
            name,
            manifest.world,
            component_type.exports(engine).map(|(n, _)| n),
        )?;

        // Imports the sandbox does not provide become traps that name
        // themselves, so a plugin that merely links std still instantiates.
        let mut linker = self.shared.linker.clone();
        sandbox::deny_ungranted_imports(&mut linker, engine, &component)
            .map_err(|e| load_error(name, e))?;
        let pre = linker
            .instantiate_pre(&component)
            .map_err(|e| load_error(name, e))?;
        let bad = |e| load_error(name, e);
        let kind = match (manifest.world, contract) {
            (World::Renderer, ContractVersion::Current) => {
                PluginKind::Renderer(RendererPre::new(pre).map_err(bad)?)
            }
            (World::Validator, ContractVersion::Current) => {
                PluginKind::Validator(ValidatorPre::new(pre).map_err(bad)?)
            }
            (World::Renderer, ContractVersion::V0_3) => {
                PluginKind::RendererV0_3(v0_3::renderer::RendererPre::new(pre).map_err(bad)?)
            }
            (World::Validator, ContractVersion::V0_3) => {
                PluginKind::ValidatorV0_3(v0_3::validator::ValidatorPre::new(pre).map_err(bad)?)
            }
            (World::Renderer, ContractVersion::V0_2) => {
                PluginKind::RendererV0_2(v0_2::renderer::RendererPre::new(pre).map_err(bad)?)
            }
            (World::Validator, ContractVersion::V0_2) => {
                PluginKind::ValidatorV0_2(v0_2::validator::ValidatorPre::new(pre).map_err(bad)?)
            }
            (World::Renderer, ContractVersion::V0_1) => {
                PluginKind::RendererV0_1(v0_1::renderer::RendererPre::new(pre).map_err(bad)?)
            }
            (World::Validator, ContractVersion::V0_1) => {
                PluginKind::ValidatorV0_1(v0_1::validator::ValidatorPre::new(pre).map_err(bad)?)
            }
        };
        let mut plugin = Plugin {
            manifest: manifest.clone(),
            info: PluginInfo {
                name: String::new(),
                version: String::new(),
                charts: Vec::new(),
            },
            export,
            contract,
            origin: source.origin.clone(),
            cache,
            compile_time,
            kind,
            shared: self.shared.clone(),
        };
        let info = plugin.call_info()?;
        if !check_identity {
            plugin.manifest.name = info.name.clone();
            plugin.manifest.version = info.version.clone();
            plugin
                .manifest
                .validate()
                .map_err(|message| PluginError::Contract {
                    plugin: name.to_string(),
                    message: format!("its self-description is not a valid identity: {message}"),
                })?;
        } else if info.name != manifest.name || info.version != manifest.version {
            return Err(PluginError::Contract {
                plugin: name.to_string(),
                message: format!(
                    "it describes itself as {} {}, but its manifest says {} {}",
                    info.name, info.version, manifest.name, manifest.version
                ),
            });
        }
        plugin.info = info;
        Ok(plugin)
    }

    fn compile(
        &self,
        name: &str,
        sha256: &str,
        bytes: &[u8],
    ) -> Result<(Component, CacheOutcome), PluginError> {
        let engine = &self.shared.engine;
        match &self.shared.cache {
            Some(cache) => cache.load_or_compile(engine, name, sha256, bytes),
            None => Component::new(engine, bytes)
                .map(|c| (c, CacheOutcome::Uncached))
                .map_err(|e| load_error(name, e)),
        }
    }
}

/// Advances the engine's epoch so running plugins hit their deadline. Stops
/// when the engine is dropped.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("plugin-epoch".into())
        .spawn(move || {
            loop {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .expect("spawning the epoch ticker thread");
}

enum PluginKind {
    Renderer(RendererPre<SandboxState>),
    Validator(ValidatorPre<SandboxState>),
    RendererV0_3(v0_3::renderer::RendererPre<SandboxState>),
    ValidatorV0_3(v0_3::validator::ValidatorPre<SandboxState>),
    RendererV0_2(v0_2::renderer::RendererPre<SandboxState>),
    ValidatorV0_2(v0_2::validator::ValidatorPre<SandboxState>),
    RendererV0_1(v0_1::renderer::RendererPre<SandboxState>),
    ValidatorV0_1(v0_1::validator::ValidatorPre<SandboxState>),
}

/// A loaded, verified plugin. Cheap to share; every call runs in a new instance.
pub struct Plugin {
    manifest: PluginManifest,
    info: PluginInfo,
    export: String,
    contract: ContractVersion,
    origin: String,
    cache: CacheOutcome,
    compile_time: Duration,
    kind: PluginKind,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("manifest", &self.manifest)
            .field("export", &self.export)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Plugin {
    pub fn manifest(&self) -> &PluginManifest {
        &self.manifest
    }

    pub fn info(&self) -> &PluginInfo {
        &self.info
    }

    pub fn world(&self) -> World {
        self.manifest.world
    }

    /// The contract interface the component exports, with its version.
    pub fn export(&self) -> &str {
        &self.export
    }

    /// The contract version the plugin was built against.
    pub fn contract(&self) -> ContractVersion {
        self.contract
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn cache_outcome(&self) -> CacheOutcome {
        self.cache
    }

    pub fn compile_time(&self) -> Duration {
        self.compile_time
    }

    fn name(&self) -> &str {
        &self.manifest.name
    }

    /// Runs `f` against a fresh instance under this host's limits.
    fn with_instance<R>(
        &self,
        f: impl FnOnce(&mut Store<SandboxState>, &Instance) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        let limits = &self.shared.limits;
        let mut store = sandbox::new_store(&self.shared.engine, limits);
        let instance = match &self.kind {
            PluginKind::Renderer(pre) => pre.instantiate(&mut store).map(Instance::Renderer),
            PluginKind::Validator(pre) => pre.instantiate(&mut store).map(Instance::Validator),
            PluginKind::RendererV0_3(pre) => {
                pre.instantiate(&mut store).map(Instance::RendererV0_3)
            }
            PluginKind::ValidatorV0_3(pre) => {
                pre.instantiate(&mut store).map(Instance::ValidatorV0_3)
            }
            PluginKind::RendererV0_2(pre) => {
                pre.instantiate(&mut store).map(Instance::RendererV0_2)
            }
            PluginKind::ValidatorV0_2(pre) => {
                pre.instantiate(&mut store).map(Instance::ValidatorV0_2)
            }
            PluginKind::RendererV0_1(pre) => {
                pre.instantiate(&mut store).map(Instance::RendererV0_1)
            }
            PluginKind::ValidatorV0_1(pre) => {
                pre.instantiate(&mut store).map(Instance::ValidatorV0_1)
            }
        };
        let result = instance.and_then(|instance| f(&mut store, &instance));
        result.map_err(|e| sandbox::classify_failure(self.name(), limits, &store, e))
    }

    /// Calls the plugin's `info` export in a fresh instance.
    pub fn call_info(&self) -> Result<PluginInfo, PluginError> {
        let info = self.with_instance(|store, instance| instance.call_info(store))?;
        let size = info.name.len()
            + info.version.len()
            + info.charts.iter().map(String::len).sum::<usize>();
        self.check_output(size)?;
        Ok(info)
    }

    /// Renders a chart. The outer error is the sandbox's (limits, traps); the
    /// inner one is the plugin's answer (a template error, as Helm words it).
    pub fn render(
        &self,
        input: &RenderInput,
    ) -> Result<Result<RenderOutput, RenderError>, PluginError> {
        if self.world() != World::Renderer {
            return Err(self.wrong_world(World::Renderer));
        }
        let result = self.with_instance(|store, instance| match instance {
            Instance::Renderer(r) => r.k0rdent_chart_render().call_render(store, input),
            Instance::RendererV0_3(r) => r
                .k0rdent_chart_render()
                .call_render(store, &legacy::v0_3::render_input(input))
                .map(legacy::v0_3::render_result),
            Instance::RendererV0_2(r) => r
                .k0rdent_chart_render()
                .call_render(store, &legacy::v0_2::render_input(input))
                .map(legacy::v0_2::render_result),
            Instance::RendererV0_1(r) => r
                .k0rdent_chart_render()
                .call_render(store, &legacy::v0_1::render_input(input))
                .map(legacy::v0_1::render_result),
            Instance::Validator(_)
            | Instance::ValidatorV0_3(_)
            | Instance::ValidatorV0_2(_)
            | Instance::ValidatorV0_1(_) => unreachable!("checked above"),
        })?;
        let size = match &result {
            Ok(out) => {
                out.manifests
                    .iter()
                    .map(|m| m.source.len() + m.content.len())
                    .sum::<usize>()
                    + out.notes.as_ref().map_or(0, String::len)
            }
            Err(e) => e.message.len() + e.template.as_ref().map_or(0, String::len),
        };
        self.check_output(size)?;
        Ok(result)
    }

    /// Validates values. On success, the effective values as JSON text.
    pub fn validate(
        &self,
        input: &ValidateInput,
    ) -> Result<Result<String, Vec<Violation>>, PluginError> {
        if self.world() != World::Validator {
            return Err(self.wrong_world(World::Validator));
        }
        let result = self.with_instance(|store, instance| match instance {
            Instance::Validator(v) => v.k0rdent_chart_validate().call_validate(store, input),
            Instance::ValidatorV0_3(v) => v
                .k0rdent_chart_validate()
                .call_validate(store, &legacy::v0_3::validate_input(input))
                .map(legacy::v0_3::validate_result),
            Instance::ValidatorV0_2(v) => v
                .k0rdent_chart_validate()
                .call_validate(store, &legacy::v0_2::validate_input(input))
                .map(legacy::v0_2::validate_result),
            Instance::ValidatorV0_1(v) => v
                .k0rdent_chart_validate()
                .call_validate(store, &legacy::v0_1::validate_input(input))
                .map(legacy::v0_1::validate_result),
            Instance::Renderer(_)
            | Instance::RendererV0_3(_)
            | Instance::RendererV0_2(_)
            | Instance::RendererV0_1(_) => unreachable!("checked above"),
        })?;
        self.check_output(values_answer_size(&result))?;
        Ok(result)
    }

    /// Asks a validator for the values that install `intent` with the chart
    /// `chart` (a kgst version): on success a JSON object as text. Validators
    /// built before `k0rdent:chart@0.3.0` have no such export and are refused
    /// with [`PluginError::NoValuesForIntent`]; the host never builds the
    /// values itself.
    pub fn values_for_intent(
        &self,
        intent: &InstallIntent,
        chart: &ChartMetadata,
    ) -> Result<Result<String, Vec<Violation>>, PluginError> {
        self.require_values_for_intent()?;
        let result = self.with_instance(|store, instance| match instance {
            Instance::Validator(v) => v
                .k0rdent_chart_validate()
                .call_values_for_intent(store, intent, chart),
            Instance::ValidatorV0_3(v) => v
                .k0rdent_chart_validate()
                .call_values_for_intent(
                    store,
                    &legacy::v0_3::install_intent(intent),
                    &legacy::v0_3::chart_metadata(chart),
                )
                .map(legacy::v0_3::validate_result),
            _ => unreachable!("checked above: a validator of contract 0.3 or later"),
        })?;
        self.check_output(values_answer_size(&result))?;
        Ok(result)
    }

    /// Whether this plugin can answer [`Plugin::values_for_intent`]: a
    /// validator built against contract 0.3 or later. Lets the host refuse a
    /// catalog install before it pulls or renders anything else.
    pub fn require_values_for_intent(&self) -> Result<(), PluginError> {
        if self.world() != World::Validator {
            return Err(self.wrong_world(World::Validator));
        }
        if !self.contract.has_values_for_intent() {
            return Err(PluginError::NoValuesForIntent {
                plugin: self.name().to_string(),
                contract: format!("{}@{}", contract::PACKAGE, self.contract.package_version()),
                current: format!("{}@{}", contract::PACKAGE, contract::CONTRACT_VERSION),
            });
        }
        Ok(())
    }

    /// Benchmark support: `calls` calls of `info` on one instance, to price
    /// instance reuse against the fresh instance per call that the host uses.
    #[doc(hidden)]
    pub fn time_calls_on_one_instance(&self, calls: u32) -> Result<Duration, PluginError> {
        self.with_instance(|store, instance| {
            let started = Instant::now();
            for _ in 0..calls {
                drop(instance.call_info(&mut *store)?);
            }
            Ok(started.elapsed())
        })
    }

    fn check_output(&self, size: usize) -> Result<(), PluginError> {
        let limit = self.shared.limits.output_bytes;
        if size as u64 > limit {
            return Err(PluginError::OutputLimit {
                plugin: self.name().to_string(),
                size: size as u64,
                limit,
            });
        }
        Ok(())
    }

    fn wrong_world(&self, wanted: World) -> PluginError {
        PluginError::Contract {
            plugin: self.name().to_string(),
            message: format!("it is a {}, not a {wanted}", self.world()),
        }
    }
}

/// What a validator's answer weighs against the output limit.
fn values_answer_size(answer: &Result<String, Vec<Violation>>) -> usize {
    match answer {
        Ok(values) => values.len(),
        Err(violations) => violations
            .iter()
            .map(|v| v.path.len() + v.message.len() + v.hint.len())
            .sum(),
    }
}

enum Instance {
    Renderer(contract::renderer::Renderer),
    Validator(contract::validator::Validator),
    RendererV0_3(v0_3::renderer::Renderer),
    ValidatorV0_3(v0_3::validator::Validator),
    RendererV0_2(v0_2::renderer::Renderer),
    ValidatorV0_2(v0_2::validator::Validator),
    RendererV0_1(v0_1::renderer::Renderer),
    ValidatorV0_1(v0_1::validator::Validator),
}

impl Instance {
    fn call_info(&self, store: &mut Store<SandboxState>) -> wasmtime::Result<PluginInfo> {
        match self {
            Instance::Renderer(r) => r.k0rdent_chart_render().call_info(store),
            Instance::Validator(v) => v.k0rdent_chart_validate().call_info(store),
            Instance::RendererV0_3(r) => r.k0rdent_chart_render().call_info(store),
            Instance::ValidatorV0_3(v) => v.k0rdent_chart_validate().call_info(store),
            Instance::RendererV0_2(r) => r.k0rdent_chart_render().call_info(store),
            Instance::ValidatorV0_2(v) => v.k0rdent_chart_validate().call_info(store),
            Instance::RendererV0_1(r) => r.k0rdent_chart_render().call_info(store),
            Instance::ValidatorV0_1(v) => v.k0rdent_chart_validate().call_info(store),
        }
    }
}
