//! The plugin set calls run on, swappable while the server runs.
//!
//! A call takes the current set (`current()`, an `Arc`) once and keeps it to
//! the end, so a swap never changes plugins under a running call: calls
//! already running finish on the old set, the next call gets the new one.
//! Each activation bumps the generation; each reload, activated or refused,
//! is recorded for `k0rdent.plugins.list`, `/readyz` and `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use schemars::JsonSchema;
use serde::Serialize;

use super::selection::PluginSet;

/// The reload step that refused a plugin set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReloadStep {
    /// Reading or parsing the set file, a key or a plugin folder.
    Read,
    /// Fetching from the registry.
    Pull,
    /// Signature, digest or artifact-shape checks.
    Verify,
    /// Compiling, linking and the contract checks.
    Compile,
    /// The plugin's golden cases or the host's smoke cases.
    SelfTest,
    /// Assembling the new set.
    Activate,
}

/// `activated` or `refused`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReloadOutcome {
    Activated,
    Refused,
}

impl ReloadOutcome {
    fn label(self) -> &'static str {
        match self {
            ReloadOutcome::Activated => "activated",
            ReloadOutcome::Refused => "refused",
        }
    }
}

/// What the last reload of the plugin set did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LastReload {
    /// When it finished, RFC 3339 UTC.
    pub at: String,
    pub outcome: ReloadOutcome,
    /// The step that refused it (refused only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<ReloadStep>,
    /// The plugin reference (or the set file) at fault (refused only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The digest of the artifact at fault, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Why it was refused (refused only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a reload was refused, as the pipeline reports it.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub step: ReloadStep,
    pub reference: String,
    pub digest: Option<String>,
    pub error: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "plugin set refused at step {:?} for {}{}: {}",
            self.step,
            self.reference,
            self.digest
                .as_deref()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default(),
            self.error
        )
    }
}

/// The swap state readers see: the generation of the active set, the set
/// file, and the last reload.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReloadStatus {
    /// Increments on each activation; the start-up set is 1.
    pub generation: u64,
    /// The watched plugin set file, when the server has one.
    pub plugin_set: Option<String>,
    /// The last reload of the plugin set file, if any happened.
    pub last_reload: Option<LastReload>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

pub struct ActivePlugins {
    current: RwLock<Arc<PluginSet>>,
    generation: AtomicU64,
    plugin_set: Option<String>,
    last_reload: Mutex<Option<LastReload>>,
    reloads: Family<OutcomeLabel, Counter>,
    generation_gauge: Gauge,
}

impl ActivePlugins {
    /// `set` as generation 1; `plugin_set` names the watched file, if any.
    pub fn new(set: PluginSet, plugin_set: Option<String>) -> Arc<Self> {
        let generation_gauge = Gauge::default();
        generation_gauge.set(1);
        Arc::new(ActivePlugins {
            current: RwLock::new(Arc::new(set)),
            generation: AtomicU64::new(1),
            plugin_set,
            last_reload: Mutex::new(None),
            reloads: Family::default(),
            generation_gauge,
        })
    }

    /// The set a call should use from start to end.
    pub fn current(&self) -> Arc<PluginSet> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes `set` current for every call that starts from now on.
    pub fn activate(&self, set: PluginSet) -> u64 {
        let mut current = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *current = Arc::new(set);
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        drop(current);
        self.generation_gauge.set(generation as i64);
        self.record(LastReload {
            at: now_rfc3339(),
            outcome: ReloadOutcome::Activated,
            step: None,
            reference: None,
            digest: None,
            error: None,
        });
        generation
    }

    /// Records a refused reload; the current set stays.
    pub fn refuse(&self, refusal: Refusal) {
        self.record(LastReload {
            at: now_rfc3339(),
            outcome: ReloadOutcome::Refused,
            step: Some(refusal.step),
            reference: Some(refusal.reference),
            digest: refusal.digest,
            error: Some(refusal.error),
        });
    }

    fn record(&self, reload: LastReload) {
        self.reloads
            .get_or_create(&OutcomeLabel {
                outcome: reload.outcome.label(),
            })
            .inc();
        *self
            .last_reload
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(reload);
    }

    pub fn status(&self) -> ReloadStatus {
        ReloadStatus {
            generation: self.generation(),
            plugin_set: self.plugin_set.clone(),
            last_reload: self
                .last_reload
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .clone(),
        }
    }

    /// Adds `k0rdent_mcp_plugin_reloads_total{outcome}` and
    /// `k0rdent_mcp_plugin_generation` to `/metrics`.
    pub fn register_metrics(&self, registry: &mut Registry) {
        // Both outcomes exist from the start, so a rate() has a series to read.
        for outcome in [ReloadOutcome::Activated, ReloadOutcome::Refused] {
            drop(self.reloads.get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            }));
        }
        registry.register(
            "k0rdent_mcp_plugin_reloads",
            "Reloads of the plugin set file by outcome (activated, refused)",
            self.reloads.clone(),
        );
        registry.register(
            "k0rdent_mcp_plugin_generation",
            "Generation of the active plugin set; increments on each activation",
            self.generation_gauge.clone(),
        );
    }
}

/// RFC 3339 UTC with seconds, from the system clock.
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil, for a date without a date crate.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(20_513), (2026, 3, 1));
    }

    #[test]
    fn a_call_keeps_the_set_it_took_across_a_swap() {
        let active = ActivePlugins::new(PluginSet::default(), None);
        let taken = active.current();
        assert_eq!(active.generation(), 1);
        assert_eq!(active.activate(PluginSet::default()), 2);
        assert!(!Arc::ptr_eq(&taken, &active.current()));
        assert_eq!(
            Arc::strong_count(&taken),
            1,
            "the old set lives while a call holds it"
        );
        let status = active.status();
        assert_eq!(status.generation, 2);
        assert_eq!(
            status.last_reload.unwrap().outcome,
            ReloadOutcome::Activated
        );
    }

    #[test]
    fn a_refusal_keeps_the_set_and_is_counted() {
        let active = ActivePlugins::new(PluginSet::default(), Some("set.yaml".into()));
        let before = active.current();
        active.refuse(Refusal {
            step: ReloadStep::SelfTest,
            reference: "oci://r/p@sha256:1".into(),
            digest: Some("sha256:1".into()),
            error: "golden case x failed".into(),
        });
        assert!(Arc::ptr_eq(&before, &active.current()));
        let status = active.status();
        assert_eq!(status.generation, 1);
        let last = status.last_reload.unwrap();
        assert_eq!(last.step, Some(ReloadStep::SelfTest));
        let mut registry = Registry::default();
        active.register_metrics(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("k0rdent_mcp_plugin_reloads_total{outcome=\"refused\"} 1"),
            "{text}"
        );
        assert!(text.contains("k0rdent_mcp_plugin_generation 1"), "{text}");
    }
}
