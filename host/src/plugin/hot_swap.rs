//! Hot swap: the server watches its plugin set file and, when it changes,
//! pulls → verifies → compiles → self-tests every plugin it lists, and only
//! when all of that passed swaps the new set in (see [`super::active`]).
//! Any failing step leaves the running set alone and is recorded with the
//! step, the plugin reference and its digest. Nothing about the file, not
//! even its absence, stops the server: a broken set file is a refused
//! reload, never an exit or a crash loop.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use clap::Args;

use super::active::{ActivePlugins, Refusal, ReloadStep};
use super::manifest::{self, PluginSource};
use super::oci_source::SupplyError;
use super::selection::PluginSet;
use super::self_test::{self, golden::GoldenBundle};
use super::set_file::{self, Fingerprint, PluginSetFile, SetEntry};
use super::{PluginError, PluginHost};
use crate::flags::{PluginTrustArgs, RegistryArgs};
use crate::oci::OciError;

#[derive(Debug, Clone, Args)]
pub struct PluginSetArgs {
    /// Plugin set file (YAML or JSON: `plugins:` oci://…@sha256:… references or folders, optional
    /// `trusted-keys:` and `signature-policy:`), loaded on top of the other plugins and watched: on a
    /// change its plugins are pulled, verified, compiled and self-tested, then swapped in without a
    /// restart. A set that fails any step is refused and the running one stays.
    #[arg(
        long = "plugin-set",
        env = "K0RDENT_MCP_PLUGIN_SET",
        value_name = "FILE"
    )]
    pub plugin_set: Option<PathBuf>,
    /// How often the plugin set file is checked for changes, in milliseconds.
    #[arg(
        long = "plugin-set-poll-ms",
        env = "K0RDENT_MCP_PLUGIN_SET_POLL_MS",
        default_value_t = 2000,
        value_parser = clap::value_parser!(u64).range(50..=600_000)
    )]
    pub poll_ms: u64,
}

impl PluginSetArgs {
    /// The active plugins: `base` alone, or, with `--plugin-set`, `base`
    /// plus the set file's plugins (when they pass), watched from now on.
    pub fn start(
        &self,
        host: &PluginHost,
        base: PluginSet,
        registry: &RegistryArgs,
        trust: &PluginTrustArgs,
    ) -> Arc<ActivePlugins> {
        let Some(path) = &self.plugin_set else {
            return ActivePlugins::new(base, None);
        };
        let active = ActivePlugins::new(base.clone(), Some(path.display().to_string()));
        let reloader = Reloader {
            path: path.clone(),
            base,
            host: host.clone(),
            registry: registry.clone(),
            trust: trust.clone(),
            active: Arc::downgrade(&active),
        };
        // The first load happens before the server answers anything, so a
        // good set file serves from the first call.
        let (fingerprint, parsed) = set_file::read(path);
        reloader.apply(parsed);
        reloader.watch(Duration::from_millis(self.poll_ms), fingerprint);
        active
    }
}

struct Reloader {
    path: PathBuf,
    /// The plugins from the command line (embedded, --plugin-dir, --plugin).
    base: PluginSet,
    host: PluginHost,
    registry: RegistryArgs,
    /// The server's --plugin-trusted-key and --plugin-signature-policy.
    trust: PluginTrustArgs,
    active: Weak<ActivePlugins>,
}

/// A plugin that passed every check, waiting for its set to activate.
struct Checked {
    plugin: super::Plugin,
}

impl Reloader {
    /// Polls the file on a thread of its own (reloads block on pulls and
    /// compiles) until the server drops its plugins.
    fn watch(self, interval: Duration, mut last: Fingerprint) {
        let spawned = std::thread::Builder::new()
            .name("plugin-set-watch".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(interval);
                    if self.active.strong_count() == 0 {
                        break;
                    }
                    let (fingerprint, parsed) = set_file::read(&self.path);
                    if fingerprint == last {
                        continue;
                    }
                    last = fingerprint;
                    tracing::info!(plugin_set = %self.path.display(), "plugin set file changed; reloading");
                    self.apply(parsed);
                }
            });
        if let Err(e) = spawned {
            tracing::error!(
                error = %e,
                "cannot start watching the plugin set file; it will not be reloaded"
            );
        }
    }

    /// Reloads from a parsed set file and records the outcome.
    fn apply(&self, parsed: Result<(String, PluginSetFile), String>) {
        let Some(active) = self.active.upgrade() else {
            return;
        };
        let started = Instant::now();
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
            let (_, file) = parsed.map_err(|error| Refusal {
                step: ReloadStep::Read,
                reference: self.path.display().to_string(),
                digest: None,
                error,
            })?;
            self.build(&file)
        }))
        .unwrap_or_else(|_| {
            Err(Refusal {
                step: ReloadStep::Activate,
                reference: self.path.display().to_string(),
                digest: None,
                error: "the reload panicked; the running plugin set stays".into(),
            })
        });
        match outcome {
            Ok(set) => {
                let generation = active.activate(set);
                tracing::info!(
                    generation,
                    took_ms = started.elapsed().as_millis() as u64,
                    plugin_set = %self.path.display(),
                    "activated the plugin set"
                );
            }
            Err(refusal) => {
                tracing::warn!(
                    step = ?refusal.step,
                    reference = %refusal.reference,
                    digest = refusal.digest.as_deref().unwrap_or("unknown"),
                    error = %refusal.error,
                    "refused the plugin set; the running set stays"
                );
                active.refuse(refusal);
            }
        }
    }

    /// Every step but the swap: the new set, or the first refusal.
    fn build(&self, file: &PluginSetFile) -> Result<PluginSet, Refusal> {
        // Whoever may edit the set file (a ConfigMap in-cluster) may tighten the server's signature
        // policy, never loosen it: a weaker one needs the server's own flag, which is logged INSECURE.
        if let Some(asked) = file.policy.filter(|p| p.is_weaker_than(self.trust.policy)) {
            return Err(Refusal {
                step: ReloadStep::Read,
                reference: self.path.display().to_string(),
                digest: None,
                error: format!(
                    "signature-policy {} in the plugin set is weaker than the server's {}; fix: \
                     remove it from the set, or start the server with --plugin-signature-policy {}",
                    asked.name(),
                    self.trust.policy.name(),
                    asked.name()
                ),
            });
        }
        let trust = PluginTrustArgs {
            trusted_keys: if file.trusted_keys.is_empty() {
                self.trust.trusted_keys.clone()
            } else {
                file.trusted_keys.clone()
            },
            policy: file.policy.unwrap_or(self.trust.policy),
        };
        let mut checked = Vec::new();
        for entry in &file.plugins {
            match entry {
                SetEntry::Oci(reference) => {
                    let pulled = trust
                        .pull(std::slice::from_ref(reference), &self.registry)
                        .map_err(|e| supply_refusal(reference, e))?
                        .remove(0);
                    let digest = Some(pulled.digest.clone());
                    checked.push(self.check(&pulled.source, &pulled.golden, reference, digest)?);
                }
                SetEntry::Dir(dir) => {
                    let reference = dir.display().to_string();
                    let read_refusal = |error: String, digest| Refusal {
                        step: ReloadStep::Read,
                        reference: reference.clone(),
                        digest,
                        error,
                    };
                    let sources = manifest::read_plugin_dir(dir)
                        .map_err(|e| read_refusal(e.to_string(), None))?;
                    for source in sources {
                        let digest = Some(format!("sha256:{}", source.manifest.sha256));
                        let golden = GoldenBundle::read_dir(dir, &source.manifest.name)
                            .map_err(|e| read_refusal(e, digest.clone()))?;
                        checked.push(self.check(&source, &golden, &reference, digest)?);
                    }
                }
            }
        }
        let mut set = self.base.clone();
        for Checked { plugin } in checked {
            let name = plugin.manifest().name.clone();
            let digest = format!("sha256:{}", plugin.manifest().sha256);
            set.insert(plugin).map_err(|e| Refusal {
                step: ReloadStep::Activate,
                reference: name,
                digest: Some(digest),
                error: e.to_string(),
            })?;
        }
        Ok(set)
    }

    /// Compiles a verified plugin and runs its self-test.
    fn check(
        &self,
        source: &PluginSource,
        golden: &GoldenBundle,
        reference: &str,
        digest: Option<String>,
    ) -> Result<Checked, Refusal> {
        let plugin = self.host.load(source).map_err(|e| Refusal {
            step: match e {
                PluginError::DigestMismatch { .. } | PluginError::Manifest { .. } => {
                    ReloadStep::Verify
                }
                _ => ReloadStep::Compile,
            },
            reference: reference.to_string(),
            digest: digest.clone(),
            error: e.to_string(),
        })?;
        let report = self_test::run(&plugin, golden);
        if !report.passed() {
            return Err(Refusal {
                step: ReloadStep::SelfTest,
                reference: reference.to_string(),
                digest,
                error: format!(
                    "plugin {} failed its self-test: {}",
                    plugin.manifest().name,
                    report.failures()
                ),
            });
        }
        tracing::info!(
            plugin = %plugin.manifest().name,
            reference,
            cases = report.cases.len(),
            "plugin passed its self-test"
        );
        Ok(Checked { plugin })
    }
}

/// Which step refused a pull, and the digest it concerned when known.
fn supply_refusal(reference: &str, error: PluginError) -> Refusal {
    let pinned = reference
        .split_once('@')
        .map(|(_, digest)| digest.to_string());
    let (step, digest) = match &error {
        PluginError::Supply(supply) => match supply.as_ref() {
            SupplyError::Unsigned { digest, .. }
            | SupplyError::Untrusted { digest, .. }
            | SupplyError::SignatureDigestMismatch { digest, .. } => {
                (ReloadStep::Verify, Some(digest.clone()))
            }
            SupplyError::NoTrustedKeys { .. } | SupplyError::NotAPlugin { .. } => {
                (ReloadStep::Verify, pinned)
            }
            SupplyError::Registry {
                error: OciError::DigestMismatch { .. },
                ..
            } => (ReloadStep::Verify, pinned),
            SupplyError::Registry { .. } | SupplyError::Setup { .. } => (ReloadStep::Pull, pinned),
        },
        // A trusted key file that cannot be read.
        PluginError::Manifest { .. } => (ReloadStep::Read, pinned),
        _ => (ReloadStep::Pull, pinned),
    };
    Refusal {
        step,
        reference: reference.to_string(),
        digest,
        error: error.to_string(),
    }
}
